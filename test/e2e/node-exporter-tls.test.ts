/**
 * node-exporter behind TLS and basic auth, on the deployed releases: the real node_exporter with
 * the rendered flags and web config (certificate, key, bcrypt hash of its Secret) on 127.0.0.1
 * refuses a request without credentials or with a wrong password (401) and serves the metrics
 * over TLS to the right one; the real Prometheus, with the rendered node-exporter job (its files
 * laid out as the container sees them, discovery pointed at the local exporter), scrapes it with
 * up == 1, and the same job with another server name or another password does not.
 * (The render itself is checked without a binary in test/components/exporters.test.ts.)
 */
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { NODE_EXPORTER_USER } from "../../components/exporters/node-exporter";
import { PROMETHEUS_PATHS } from "../../components/prometheus/args";
import type { Rendered } from "../../cli/render";
import { stackBinary } from "../../lab/local/binaries";
import { httpGetJson } from "../../lab/local/http";
import { localNodeExporterArgs, nodeExporterGet, renderedNodeExporterWeb, renderedScrapePassword } from "../../lab/local/node-exporter";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { CheckableJob, fileDiscovery, layOutContainer, renderedEndpoints, rerooted } from "../../lab/local/prometheus";
import { render } from "../support/render";
import { localRun } from "./support/local-run";
import { startRenderedPrometheus } from "./support/rendered-prometheus";

jest.setTimeout(240_000);

const AGENTS = "monitoring-staging-agents";
const SERVER_NAME = `node-exporter.${AGENTS}.svc`;

interface Reply {
  status: number;
  body: string;
}

/** A GET over TLS that trusts only `ca` and checks the certificate against `servername`. */
function tlsGet(url: string, ca: string, auth?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, servername: SERVER_NAME, auth, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
  });
}

describe("node-exporter with the rendered web config", () => {
  const run = localRun();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "node-exporter-tls-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  let rendered: Rendered;
  let web: Record<string, string>;
  let password: string;
  let port: number;
  let prometheusPort: number;

  beforeAll(async () => {
    // A staging stack alone on its cluster, which watches the cluster and so runs node-exporter (watch.cluster).
    rendered = await render("staging", ["watch.cluster=true"]);
    web = renderedNodeExporterWeb(rendered);
    const root = path.join(dir, "prometheus-root");
    layOutContainer(rendered, root);
    password = fs.readFileSync(path.join(root, PROMETHEUS_PATHS.scrapeSecretsDir, "node-exporter-password"), "utf8");
    [port, prometheusPort] = await freePorts(2);
    run.start("node_exporter", stackBinary("node_exporter"), localNodeExporterArgs(rendered, path.join(dir, "node-exporter"), port));
    const base = `https://${LOOPBACK}:${port}`;
    await run.waitFor("node_exporter answering over TLS", () => tlsGet(`${base}/`, web["tls.crt"]).catch(() => undefined), 60_000, 250);
  });

  const url = () => `https://${LOOPBACK}:${port}/metrics`;

  test("without credentials: 401", async () => {
    expect((await tlsGet(url(), web["tls.crt"])).status).toBe(401);
  });

  test("with a wrong password, or another user with the right one: 401", async () => {
    expect((await tlsGet(url(), web["tls.crt"], `${NODE_EXPORTER_USER}:${password}x`)).status).toBe(401);
    expect((await tlsGet(url(), web["tls.crt"], `admin:${password}`)).status).toBe(401);
  });

  test("with Prometheus' password, over TLS checked against the rendered certificate and name: 200 and the node's metrics", async () => {
    const reply = await tlsGet(url(), web["tls.crt"], `${NODE_EXPORTER_USER}:${password}`);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatch(/^node_cpu_seconds_total\{/m);
    // The helper the lab and the benchmark read it with: the same, from the render alone.
    expect(renderedScrapePassword(rendered)).toBe(password);
    expect((await nodeExporterGet(rendered, port)).status).toBe(200);
    expect((await nodeExporterGet(rendered, port, "/metrics", `${password}x`)).status).toBe(401);
  });

  test("no plain HTTP, and no TLS below 1.3", async () => {
    const plain = await fetch(`http://${LOOPBACK}:${port}/metrics`).then(
      (r) => r.status,
      () => 0,
    );
    // Go's TLS server answers a plain HTTP request with 400 (or drops it): never the metrics.
    expect([0, 400]).toContain(plain);
    const old = new Promise<number>((resolve) => {
      const req = https.get(url(), { ca: web["tls.crt"], servername: SERVER_NAME, maxVersion: "TLSv1.2" }, (res) =>
        resolve(res.statusCode ?? 0),
      );
      req.on("error", () => resolve(-1));
    });
    expect(await old).toBe(-1);
  });

  test("the real Prometheus scrapes it with the rendered job: up == 1; with another server name or password: down", async () => {
    const root = path.join(dir, "prometheus-root");
    const config = rerooted(rendered.files.get("prometheus/prometheus.yml") ?? "", root);
    const job = config.scrape_configs.find((j) => j.job_name === "node-exporter");
    if (!job) throw new Error("no node-exporter job in the render");
    const fast = { scrape_interval: "1s", scrape_timeout: "1s" };
    const tls = job.tls_config as Record<string, unknown>;
    const auth = job.basic_auth as Record<string, unknown>;
    const wrongPassword = path.join(dir, "wrong-password");
    fs.writeFileSync(wrongPassword, `${password}x`);
    // The two wrong jobs relabel to the same job and instance as the rendered one; a label of their own keeps
    // their `up` series apart, else the three would write one series and the last scrape would win.
    const marked = (name: string) => ({
      job_name: name,
      relabel_configs: [...((job.relabel_configs as unknown[]) ?? []), { target_label: "check", replacement: name }],
    });
    config.scrape_configs = [
      { ...job, ...fast },
      { ...job, ...fast, ...marked("wrong-name"), tls_config: { ...tls, server_name: "node-exporter.elsewhere.svc" } },
      { ...job, ...fast, ...marked("wrong-password"), basic_auth: { ...auth, password_file: wrongPassword } },
    ] as CheckableJob[];
    delete (config as { alerting?: unknown }).alerting;
    config.rule_files = [];
    const local = { [`${AGENTS}/node-exporter/metrics`]: { address: `${LOOPBACK}:${port}`, pod: "node-exporter-abcde", node: "node-1" } };
    fileDiscovery(config, path.join(dir, "discovery"), { endpoints: renderedEndpoints(rendered, local), pod: [], node: [] });
    const base = await startRenderedPrometheus(run, rendered, config, prometheusPort, dir);

    type Target = { scrapePool: string; health: string; lastError: string; labels: Record<string, string>; scrapeUrl: string };
    const targets = await run.waitFor(
      "every job scraped once",
      async () => {
        const reply = await httpGetJson<{ data: { activeTargets: Target[] } }>(`${base}/api/v1/targets`);
        const active = reply.data.activeTargets;
        return active.length === 3 && active.every((t) => t.health !== "unknown") ? active : undefined;
      },
      60_000,
      500,
    );
    const byPool = Object.fromEntries(targets.map((t) => [t.scrapePool, t]));
    expect(byPool["node-exporter"]).toMatchObject({ health: "up", lastError: "", scrapeUrl: `https://${LOOPBACK}:${port}/metrics` });
    expect(byPool["node-exporter"].labels).toMatchObject({ job: "node-exporter", instance: "node-1", node: "node-1" });
    expect(byPool["wrong-name"].health).toBe("down");
    expect(byPool["wrong-name"].lastError).toMatch(/x509|certificate/);
    expect(byPool["wrong-password"].health).toBe("down");
    expect(byPool["wrong-password"].lastError).toMatch(/401/);

    const up = await run.waitFor(
      "up of the rendered job",
      async () => {
        const reply = await httpGetJson<{ data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(
          `${base}/api/v1/query?query=${encodeURIComponent('up{job="node-exporter"} == 1')}`,
        );
        return reply.data.result.length > 0 ? reply.data.result : undefined;
      },
      30_000,
      500,
    );
    // One series at 1, the rendered job's (no check label); the two others are down (0).
    expect(up.map((r) => [r.metric.check ?? "", r.value[1]])).toEqual([["", "1"]]);
    const down = await httpGetJson<{ data: { result: Array<{ metric: Record<string, string> }> } }>(
      `${base}/api/v1/query?query=${encodeURIComponent('up{job="node-exporter"} == 0')}`,
    );
    expect(down.data.result.map((r) => r.metric.check).sort()).toEqual(["wrong-name", "wrong-password"]);
  });
});
