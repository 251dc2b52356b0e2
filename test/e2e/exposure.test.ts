/**
 * What a published service sends, whichever path a request takes, and whom its peers gossip
 * with, on the releases the stack deploys (127.0.0.1 only, every process bounded and stopped).
 *
 * Traefik's routes add a security-headers Middleware; the Cloudflare tunnel goes straight to
 * the Services, so each service sets the same headers itself. Prometheus and Alertmanager run
 * here with their rendered web config, and their responses carry the Middleware's headers,
 * but Referrer-Policy, which their web server cannot send (checked with promtool). Grafana's
 * server is not built here: its rendered grafana.ini is read the way Grafana turns those
 * settings into headers, offline.
 *
 * Alertmanager peers of two stacks, each with its rendered --cluster.label, given each
 * other's addresses: each stack's peers form their own cluster; a peer with the other
 * stack's label joins it, so the label is what keeps them apart.
 */
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { WEB_CONFIG_FILE } from "../../components/kit/web";
import type { Rendered } from "../../cli/render";
import { localAlertmanagerArgs, writeAlertmanagerFiles } from "../../lab/local/alertmanager";
import { promtool, stackBinary } from "../../lab/local/binaries";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { waitFor } from "../../lab/processes/supervision";
import { httpGetJson } from "../../lab/local/http";
import { objectOf, render } from "../support/render";
import { localRun } from "./support/local-run";

type Headers = Record<string, string>;

/** The headers of a GET on the loopback, names in lower case. */
function responseHeaders(url: string): Promise<{ status: number; headers: Headers }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
  });
}

/** The values compared: X-Frame-Options' case means nothing to browsers (Traefik sends DENY). */
function comparable(headers: Headers, names: string[]): Headers {
  return Object.fromEntries(names.map((n) => [n, n === "x-frame-options" ? (headers[n] ?? "").toLowerCase() : (headers[n] ?? "")]));
}

/** The response headers Traefik's security-headers Middleware sets, from the rendered Middleware's settings. */
function middlewareHeaders(rendered: Rendered): Headers {
  const h = (objectOf(rendered, "Middleware", "security-headers").spec as { headers: Record<string, unknown> }).headers;
  const out: Headers = {};
  if (typeof h.stsSeconds === "number" && h.stsSeconds > 0) {
    out["strict-transport-security"] =
      `max-age=${h.stsSeconds}${h.stsIncludeSubdomains ? "; includeSubDomains" : ""}${h.stsPreload ? "; preload" : ""}`;
  }
  if (h.contentTypeNosniff) out["x-content-type-options"] = "nosniff";
  if (h.frameDeny) out["x-frame-options"] = "deny";
  if (typeof h.referrerPolicy === "string") out["referrer-policy"] = h.referrerPolicy;
  return out;
}

/** An INI file as go-ini reads it: sections of keys, backquoted values unquoted. */
function parseIni(text: string): Record<string, Record<string, string>> {
  const doc: Record<string, Record<string, string>> = {};
  let section = "";
  for (const line of text.split("\n")) {
    const header = /^\[(.+)\]$/.exec(line.trim());
    if (header) section = header[1];
    const entry = /^([^=#;]+?)\s*=\s*(.*)$/.exec(line.trim());
    if (!header && entry) (doc[section] ??= {})[entry[1]] = entry[2].replace(/^`(.*)`$/, "$1");
  }
  return doc;
}

/**
 * The headers Grafana adds to every response for these settings: HSTS as max-age, then
 * preload and includeSubDomains when set; nosniff unless x_content_type_options is false;
 * X-Frame-Options deny unless allow_embedding; [server.custom_response_headers] as given.
 */
function grafanaHeaders(ini: Record<string, Record<string, string>>): Headers {
  const security = ini.security ?? {};
  const on = (key: string, byDefault: boolean) => (security[key] === undefined ? byDefault : security[key] === "true");
  const out: Headers = {};
  if (on("strict_transport_security", false)) {
    out["strict-transport-security"] = [
      `max-age=${security.strict_transport_security_max_age_seconds ?? "86400"}`,
      ...(on("strict_transport_security_preload", false) ? ["preload"] : []),
      ...(on("strict_transport_security_subdomains", false) ? ["includeSubDomains"] : []),
    ].join("; ");
  }
  if (on("x_content_type_options", true)) out["x-content-type-options"] = "nosniff";
  if (!on("allow_embedding", false)) out["x-frame-options"] = "deny";
  for (const [name, value] of Object.entries(ini["server.custom_response_headers"] ?? {})) out[name.toLowerCase()] = value;
  return out;
}

describe("the services' own security headers, for the tunnel (the releases deployed, on 127.0.0.1)", () => {
  const run = localRun();
  let production: Rendered;
  let traefik: Headers;
  let tmp = "";

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "exposure-e2e-"));
    // Production publishes Grafana through the tunnel; staging publishes all three through Traefik.
    production = await render("production");
    traefik = middlewareHeaders(await render("staging"));
    expect(Object.keys(traefik).sort()).toEqual([
      "referrer-policy",
      "strict-transport-security",
      "x-content-type-options",
      "x-frame-options",
    ]);
  }, 120_000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("Grafana: its rendered settings make it send every header of Traefik's Middleware (offline: Grafana is not built here)", () => {
    const ini = parseIni(production.files.get("grafana/grafana.ini") ?? "");
    expect(ini.server.root_url).toMatch(/^https:\/\//);
    const sent = grafanaHeaders(ini);
    expect(comparable(sent, Object.keys(traefik))).toEqual(traefik);
  });

  test("their web server cannot send Referrer-Policy: promtool refuses a web config that sets it, and accepts the rendered one", () => {
    const rendered = path.join(tmp, WEB_CONFIG_FILE);
    fs.writeFileSync(rendered, production.files.get(`prometheus/${WEB_CONFIG_FILE}`) ?? "");
    const ok = promtool(["check", "web-config", rendered]);
    expect(ok.output).not.toMatch(/FAILED/);
    expect(ok.ok).toBe(true);
    const withReferrer = path.join(tmp, "with-referrer.yaml");
    fs.writeFileSync(withReferrer, "http_server_config:\n  headers:\n    Referrer-Policy: strict-origin-when-cross-origin\n");
    const refused = promtool(["check", "web-config", withReferrer]);
    expect(refused.ok).toBe(false);
    expect(refused.output).toMatch(/Referrer-Policy.*can not be configured/);
  });

  test("Prometheus, with its rendered args' web config, sends the Middleware's headers but Referrer-Policy", async () => {
    const [port] = await freePorts(1);
    const sts = objectOf(production, "StatefulSet", "prometheus").spec as { template: { spec: { containers: Array<{ args: string[] }> } } };
    const flag = sts.template.spec.containers[0].args.find((a) => a.startsWith("--web.config.file="));
    expect(flag).toBe(`--web.config.file=/etc/prometheus/config/${WEB_CONFIG_FILE}`);
    const webConfig = path.join(tmp, "prometheus-web.yaml");
    fs.writeFileSync(webConfig, production.files.get(`prometheus/${path.basename(flag ?? "")}`) ?? "");
    const config = path.join(tmp, "prometheus.yml");
    fs.writeFileSync(config, "scrape_configs: []\n");
    const prometheus = run.start("prometheus", stackBinary("prometheus"), [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(tmp, "prometheus-data")}`,
      `--web.listen-address=${LOOPBACK}:${port}`,
      `--web.config.file=${webConfig}`,
    ]);
    const ready = await run.explain(
      waitFor(
        "Prometheus to be ready",
        async () => {
          const r = await responseHeaders(`http://${LOOPBACK}:${port}/-/ready`);
          return r.status === 200 ? r : undefined;
        },
        60_000,
      ),
    );
    const expected = Object.fromEntries(Object.entries(traefik).filter(([name]) => name !== "referrer-policy"));
    expect(comparable(ready.headers, Object.keys(expected))).toEqual(expected);
    // The UI and the API too: the web server sets them on every response.
    for (const p of ["/query", "/api/v1/status/buildinfo"]) {
      const r = await responseHeaders(`http://${LOOPBACK}:${port}${p}`);
      expect([p, comparable(r.headers, Object.keys(expected))]).toEqual([p, expected]);
    }
    await prometheus.stop();
  });

  test("Alertmanager, with its rendered args and files, sends the Middleware's headers but Referrer-Policy", async () => {
    const [web] = await freePorts(1);
    const files = writeAlertmanagerFiles(production, "exposure-e2e-am-");
    const sts = objectOf(production, "StatefulSet", "alertmanager").spec as {
      template: { spec: { containers: Array<{ name: string; args: string[] }> } };
    };
    const renderedArgs = sts.template.spec.containers.find((c) => c.name === "alertmanager")?.args ?? [];
    expect(renderedArgs).toContain(`--web.config.file=/etc/alertmanager/config/${WEB_CONFIG_FILE}`);
    const storage = path.join(tmp, "alertmanager");
    fs.mkdirSync(storage);
    const alertmanager = run.start(
      "alertmanager",
      stackBinary("alertmanager"),
      localAlertmanagerArgs(renderedArgs, { config: files.config, storage, web, mesh: 0, peers: [] }),
    );
    try {
      const ready = await run.explain(
        waitFor(
          "Alertmanager to be ready",
          async () => {
            const r = await responseHeaders(`http://${LOOPBACK}:${web}/-/ready`);
            return r.status === 200 ? r : undefined;
          },
          60_000,
        ),
      );
      const expected = Object.fromEntries(Object.entries(traefik).filter(([name]) => name !== "referrer-policy"));
      expect(comparable(ready.headers, Object.keys(expected))).toEqual(expected);
      const status = await responseHeaders(`http://${LOOPBACK}:${web}/api/v2/status`);
      expect(comparable(status.headers, Object.keys(expected))).toEqual(expected);
    } finally {
      await alertmanager.stop();
      fs.rmSync(files.dir, { recursive: true, force: true });
    }
  });
});

interface AmStatus {
  cluster: { status: string; name: string; peers: Array<{ name: string }> };
}

describe("Alertmanager peers of two stacks that reach each other (the release deployed, on 127.0.0.1)", () => {
  const run = localRun();
  const dirs: string[] = [];
  let mesh: number[] = [];
  const status = (web: number) => httpGetJson<AmStatus>(`http://${LOOPBACK}:${web}/api/v2/status`);
  /** Waits until a peer has settled with `count` members, then checks it stays so. */
  const settled = (web: number, count: number) =>
    run.explain(
      waitFor(
        `the peer on port ${web} to settle with ${count} member(s)`,
        async () => {
          const s = await status(web);
          return s.cluster.status === "ready" && s.cluster.peers.length === count ? true : undefined;
        },
        60_000,
      ),
    );

  /** Starts a peer from a stack's rendered args, given every peer's mesh address; `label` replaces the rendered one. */
  const startPeer = (rendered: Rendered, stack: string, web: number, own: number, label?: string) => {
    const files = writeAlertmanagerFiles(rendered, `exposure-e2e-${stack}-`);
    dirs.push(files.dir);
    const sts = objectOf(rendered, "StatefulSet", "alertmanager").spec as {
      template: { spec: { containers: Array<{ name: string; args: string[] }> } };
    };
    const renderedArgs = (sts.template.spec.containers.find((c) => c.name === "alertmanager")?.args ?? []).map((a) =>
      label !== undefined && a.startsWith("--cluster.label=") ? `--cluster.label=${label}` : a,
    );
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), `exposure-e2e-${stack}-data-`));
    dirs.push(storage);
    run.start(
      `alertmanager-${stack}-${web}`,
      stackBinary("alertmanager"),
      // Every peer is told every address, as if both stacks' peers were one list.
      localAlertmanagerArgs(renderedArgs, { config: files.config, storage, web, mesh: own, peers: mesh }),
    );
    return { args: renderedArgs };
  };

  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("each stack's peers form their own cluster; with the other stack's label, a peer joins it", async () => {
    // Both stacks clustered on a three-node cluster: two peers of production, one of staging.
    const production = await render("production", ["nodes=3"]);
    const staging = await render("staging", ["nodes=3", "alertmanager.replicas=2"]);
    const ports = await freePorts(8);
    const web = ports.slice(0, 4);
    mesh = ports.slice(4, 7);
    const started = [
      startPeer(production, "production", web[0], mesh[0]),
      startPeer(production, "production", web[1], mesh[1]),
      startPeer(staging, "staging", web[2], mesh[2]),
    ];
    expect(started.map((p) => p.args.find((a) => a.startsWith("--cluster.label=")))).toEqual([
      "--cluster.label=monitoring-production",
      "--cluster.label=monitoring-production",
      "--cluster.label=monitoring-staging",
    ]);
    await Promise.all([settled(web[0], 2), settled(web[1], 2), settled(web[2], 1)]);
    // Settled is not the end of it: peers keep retrying the addresses they were given.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect((await Promise.all(web.slice(0, 3).map(status))).map((s) => s.cluster.peers.length)).toEqual([2, 2, 1]);

    // The same staging peer, but with production's label: it merges with production's peers.
    mesh = [...mesh, ports[7]];
    startPeer(staging, "staging-relabelled", web[3], ports[7], "monitoring-production");
    await Promise.all([settled(web[0], 3), settled(web[3], 3)]);
    expect((await status(web[2])).cluster.peers).toHaveLength(1);
  }, 180_000);
});
