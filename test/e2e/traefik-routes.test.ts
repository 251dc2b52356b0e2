/**
 * The basic-auth routes as Traefik runs them, the release k3s bundles, on 127.0.0.1: the
 * rendered IngressRoutes and Middlewares of the staging stack with backups on, given to Traefik's
 * file provider as its Kubernetes provider would read them (the htpasswd Secret's lines inline),
 * in front of the real Prometheus (its OTLP and remote-write receivers on, so that a write that
 * got through would land, and its admin API as the backups render it) and the real Alertmanager
 * with its rendered args. Reads and silences go through; Prometheus' receivers and admin API and
 * Alertmanager's POST /api/v2/alerts get Traefik's 404, however the path is spelt, while the same
 * requests to the processes themselves are taken. A client
 * address past its burst gets 429, whatever header it sends, and another address does not.
 */
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { basicAuthHash, htpasswd } from "../../components/traefik";
import type { Rendered } from "../../cli/render";
import { traefikArgs } from "../../lab/catalog/traefik";
import { localAlertmanagerArgs, writeAlertmanagerFiles } from "../../lab/local/alertmanager";
import { stackBinary } from "../../lab/local/binaries";
import { getOk, httpRequest, selfSignedCertificate } from "../../lab/local/http";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { containerArgs } from "../../lab/local/rendered";
import { objectOf, render } from "../support/render";
import { localRun } from "./support/local-run";
import { BACKUPS_ON } from "../support/backups";

const USER = { user: "e2e-admin", password: "e2e-password-0123" };
const SALT = Buffer.alloc(32, 9);
const BACKUPS = BACKUPS_ON;

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

interface RenderedRoute {
  metadata: { name: string };
  spec: { routes: Array<{ match: string; middlewares: Array<{ name: string }>; services: Array<{ name: string }> }> };
}

/**
 * The rendered routes of the exposure component as a file provider's dynamic config: each
 * router, Middleware and service prefixed (two renders share one Traefik), the basic-auth
 * Middleware with the test's user inline instead of the Secret, each Service pointed at the
 * local process. Nothing else of a route is changed: its rule and its Middlewares are the render's.
 */
function dynamicConfig(rendered: Rendered, prefix: string, backends: Record<string, number>, hostOf: (h: string) => string) {
  const exposure = rendered.kubernetes.filter((o) => o.component === "traefik-exposure").map((o) => o.object);
  const middlewares: Record<string, unknown> = {};
  for (const mw of exposure.filter((o) => o.kind === "Middleware")) {
    const spec = mw.spec as Record<string, Record<string, unknown>>;
    middlewares[`${prefix}-${mw.metadata.name}`] = spec.basicAuth
      ? { basicAuth: { realm: spec.basicAuth.realm, removeHeader: spec.basicAuth.removeHeader, users: usersLines() } }
      : spec;
  }
  const routers: Record<string, unknown> = {};
  const services: Record<string, unknown> = {};
  for (const route of exposure.filter((o) => o.kind === "IngressRoute") as unknown as RenderedRoute[]) {
    const [rule] = route.spec.routes;
    const service = rule.services[0].name;
    if (backends[service] === undefined) continue;
    routers[`${prefix}-${route.metadata.name}`] = {
      rule: rule.match.replace(/Host\(`([^`]+)`\)/, (_m, h: string) => `Host(\`${hostOf(h)}\`)`),
      entryPoints: ["websecure"],
      middlewares: rule.middlewares.map((m) => `${prefix}-${m.name}`),
      service: `${prefix}-${service}`,
      tls: {},
    };
    services[`${prefix}-${service}`] = { loadBalancer: { servers: [{ url: `http://${LOOPBACK}:${backends[service]}` }] } };
  }
  return { routers, middlewares, services };
}

function usersLines(): string[] {
  return htpasswd([{ user: USER.user, hash: basicAuthHash(USER.user, USER.password, SALT) }])
    .split("\n")
    .filter(Boolean);
}

describe("the basic-auth routes under Traefik (the release k3s bundles, on 127.0.0.1)", () => {
  const run = localRun();
  let tmp = "";
  let websecure = 0;
  let prometheusPort = 0;
  let alertmanagerPort = 0;
  let staging: Rendered;
  let amDir = "";

  /** A request through Traefik's websecure entry point to `host`, from `localAddress` (127.0.0.1 unless given). */
  function through(
    host: string,
    method: string,
    urlPath: string,
    opts: { auth?: { user: string; password: string } | null; body?: string; headers?: Record<string, string>; localAddress?: string } = {},
  ): Promise<Reply> {
    const auth = opts.auth === null ? undefined : (opts.auth ?? USER);
    const headers: Record<string, string> = {
      Host: host,
      ...(auth ? { Authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}` } : {}),
      ...(opts.body !== undefined ? { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(opts.body)) } : {}),
      ...opts.headers,
    };
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: LOOPBACK,
          port: websecure,
          method,
          path: urlPath,
          servername: host,
          headers,
          rejectUnauthorized: false,
          timeout: 15_000,
          ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} https://${host}${urlPath} timed out`)));
      req.on("error", reject);
      req.end(opts.body);
    });
  }

  /** A request to a process itself, as a client inside the cluster reaches its Service. */
  async function direct(port: number, method: string, urlPath: string, body?: string, contentType = "application/json"): Promise<Reply> {
    const reply = await httpRequest(method, `http://${LOOPBACK}:${port}${urlPath}`, {
      ...(body !== undefined ? { body, headers: { "Content-Type": contentType } } : {}),
      timeoutMs: 10_000,
    });
    return { status: reply.status, body: reply.body, headers: {} };
  }

  const HOSTS = {
    prometheus: "prometheus.staging.example.com",
    alertmanager: "alertmanager.staging.example.com",
    tightPrometheus: "prometheus.tight.example.com",
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "traefik-routes-e2e-"));
    // The staging stack with backups on, and the same with a rate limit small enough to spend in a test.
    staging = await render("staging", BACKUPS);
    const tight = await render("staging", ["traefik.rateLimit={average: 1, period: 1m, burst: 5}"]);
    let traefikPort = 0;
    let metrics = 0;
    let web = 0;
    let mesh = 0;
    [websecure, web, metrics, traefikPort, prometheusPort, alertmanagerPort, mesh] = await freePorts(7);

    // Prometheus with both receivers on: a write that reached it would be taken; its admin API as rendered.
    const adminApi = containerArgs(staging, "StatefulSet", "prometheus").filter((a) => a === "--web.enable-admin-api");
    expect(adminApi).toEqual(["--web.enable-admin-api"]);
    const promConfig = path.join(tmp, "prometheus.yml");
    fs.writeFileSync(promConfig, "scrape_configs: []\n");
    run.start("prometheus", stackBinary("prometheus"), [
      `--config.file=${promConfig}`,
      `--storage.tsdb.path=${path.join(tmp, "prometheus-data")}`,
      `--web.listen-address=${LOOPBACK}:${prometheusPort}`,
      "--web.enable-otlp-receiver",
      "--web.enable-remote-write-receiver",
      ...adminApi,
    ]);
    // Alertmanager with the staging stack's rendered args and files.
    const files = writeAlertmanagerFiles(staging, "traefik-routes-e2e-am-");
    amDir = files.dir;
    const sts = objectOf(staging, "StatefulSet", "alertmanager").spec as {
      template: { spec: { containers: Array<{ name: string; args: string[] }> } };
    };
    const amArgs = sts.template.spec.containers.find((c) => c.name === "alertmanager")?.args ?? [];
    const storage = path.join(tmp, "alertmanager-data");
    fs.mkdirSync(storage);
    run.start(
      "alertmanager",
      stackBinary("alertmanager"),
      localAlertmanagerArgs(amArgs, { config: files.config, storage, web: alertmanagerPort, mesh, peers: [] }),
    );

    const backends = { prometheus: prometheusPort, alertmanager: alertmanagerPort };
    const plain = dynamicConfig(staging, "staging", backends, (h) => h);
    const limited = dynamicConfig(tight, "tight", { prometheus: prometheusPort }, () => HOSTS.tightPrometheus);
    const tls = selfSignedCertificate(tmp, "traefik", 2, [`IP:${LOOPBACK}`, ...Object.values(HOSTS).map((h) => `DNS:${h}`)]);
    const dynamic = {
      http: {
        routers: { ...plain.routers, ...limited.routers },
        middlewares: { ...plain.middlewares, ...limited.middlewares },
        services: { ...plain.services, ...limited.services },
      },
      tls: { certificates: [{ certFile: tls.certFile, keyFile: tls.keyFile }] },
    };
    const file = path.join(tmp, "dynamic.yml");
    fs.writeFileSync(file, YAML.stringify(dynamic));
    run.start(
      "traefik",
      stackBinary("traefik"),
      traefikArgs({ web, websecure, metrics, traefik: traefikPort }, [`--providers.file.filename=${file}`]),
    );
    await run.waitFor(
      "Prometheus and Alertmanager to be ready",
      async () => {
        const ready = await Promise.all(
          [prometheusPort, alertmanagerPort].map((p) => getOk(`http://${LOOPBACK}:${p}/-/ready`).catch(() => "")),
        );
        return ready.every(Boolean) ? true : undefined;
      },
      90_000,
    );
    await run.waitFor(
      "Traefik to route to Prometheus",
      async () => {
        const r = await through(HOSTS.prometheus, "GET", "/-/ready").catch(() => undefined);
        return r?.status === 200 ? true : undefined;
      },
      60_000,
    );
  }, 240_000);

  afterAll(() => {
    for (const dir of [tmp, amDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("the staging routes Traefik runs are the rendered ones: rate limit then basic auth in front of Prometheus and Alertmanager", () => {
    for (const name of ["prometheus", "alertmanager"]) {
      const route = objectOf(staging, "IngressRoute", name) as unknown as RenderedRoute;
      expect(route.spec.routes[0].middlewares.map((m) => m.name)).toEqual(["security-headers", "rate-limit", "basic-auth"]);
    }
    expect((objectOf(staging, "Middleware", "rate-limit").spec as Record<string, unknown>).rateLimit).toEqual({
      average: 10,
      burst: 50,
      period: "1s",
    });
  });

  test("Prometheus: queries go through with the password, and nothing without it", async () => {
    expect((await through(HOSTS.prometheus, "GET", "/api/v1/query?query=up", { auth: null })).status).toBe(401);
    const query = await through(HOSTS.prometheus, "GET", "/api/v1/query?query=vector(1)");
    expect([query.status, JSON.parse(query.body).status]).toEqual([200, "success"]);
    // The route's Middlewares ran: what tells a routed request from Traefik's own 404 below.
    expect(query.headers["strict-transport-security"]).toMatch(/^max-age=/);
    // Grafana and the UI query with POST too.
    const posted = await through(HOSTS.prometheus, "POST", "/api/v1/query", {
      body: "query=vector(2)",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": "15" },
    });
    expect([posted.status, JSON.parse(posted.body).status]).toEqual([200, "success"]);
    // Its reads beyond queries too (the binaries here are built without the UI's assets: the API stands in).
    for (const p of ["/api/v1/labels", "/api/v1/series?match[]=up", "/api/v1/status/buildinfo"]) {
      expect([p, (await through(HOSTS.prometheus, "GET", p)).status]).toEqual([p, 200]);
    }
  });

  test("Prometheus' receivers answer the process itself, and Traefik's 404 on the public route, however the path is spelt", async () => {
    // Reached directly (inside the cluster), each receiver takes the request: not a 404.
    const otlpDirect = await direct(prometheusPort, "POST", "/api/v1/otlp/v1/metrics", "", "application/x-protobuf");
    const writeDirect = await direct(prometheusPort, "POST", "/api/v1/write", "", "application/x-protobuf");
    expect([otlpDirect.status, writeDirect.status].filter((s) => s === 404)).toEqual([]);
    const spellings = [
      "/api/v1/write",
      "/api/v1/otlp/v1/metrics",
      "/api/v1/%77rite",
      "/api/v1/%6Ftlp/v1/metrics",
      "/api//v1/write",
      "/api/v1/./write",
      "/api/v1/x/../write",
      "/api/v1/write/",
    ];
    for (const p of spellings) {
      const reply = await through(HOSTS.prometheus, "POST", p, {
        body: "",
        headers: { "Content-Type": "application/x-protobuf", "Content-Length": "0" },
      });
      // Traefik's own 404: no route took it, so no Middleware ran (no security headers), and Prometheus never saw it.
      expect([p, reply.status, reply.headers["strict-transport-security"]]).toEqual([p, 404, undefined]);
    }
  });

  test("Prometheus' admin API (on for the backups) answers the process itself, and Traefik's 404 on the public route", async () => {
    // Reached directly (the backup job inside the cluster), the snapshot is taken.
    const inside = await direct(prometheusPort, "POST", "/api/v1/admin/tsdb/snapshot", "");
    expect([inside.status, JSON.parse(inside.body).status]).toEqual([200, "success"]);
    const spellings = [
      "/api/v1/admin/tsdb/snapshot",
      "/api/v1/admin/tsdb/delete_series?match[]=up",
      "/api/v1/admin/tsdb/clean_tombstones",
      "/api/v1/%61dmin/tsdb/snapshot",
      "/api//v1/admin/tsdb/snapshot",
      "/api/v1/./admin/tsdb/snapshot",
      "/api/v1/x/../admin/tsdb/snapshot",
    ];
    for (const p of spellings) {
      const reply = await through(HOSTS.prometheus, "POST", p, { body: "", headers: { "Content-Length": "0" } });
      expect([p, reply.status, reply.headers["strict-transport-security"]]).toEqual([p, 404, undefined]);
    }
    // The rest of the route still answers (the rule leaves out the admin API, not the host).
    expect((await through(HOSTS.prometheus, "GET", "/api/v1/status/buildinfo")).status).toBe(200);
  });

  test("Alertmanager: alerts are listed and silences set through the route; alerts are posted only from inside", async () => {
    const alert = (name: string) => JSON.stringify([{ labels: { alertname: name, severity: "info" }, annotations: {} }]);
    // Inside the cluster, Prometheus posts alerts to the Service.
    expect((await direct(alertmanagerPort, "POST", "/api/v2/alerts", alert("PostedInside"))).status).toBe(200);
    for (const p of ["/api/v2/alerts", "/api/v2/%61lerts", "/api/v2/alerts/"]) {
      const refused = await through(HOSTS.alertmanager, "POST", p, { body: alert("PostedOutside") });
      expect([p, refused.status, refused.headers["strict-transport-security"]]).toEqual([p, 404, undefined]);
    }
    expect((await through(HOSTS.alertmanager, "POST", "/-/reload")).status).toBe(404);
    const listed = await through(HOSTS.alertmanager, "GET", "/api/v2/alerts");
    expect(listed.status).toBe(200);
    const names = (JSON.parse(listed.body) as Array<{ labels: { alertname: string } }>).map((a) => a.labels.alertname);
    expect(names).toContain("PostedInside");
    expect(names).not.toContain("PostedOutside");
    // Silencing is what the route is for.
    const now = Date.now();
    const silence = JSON.stringify({
      matchers: [{ name: "alertname", value: "PostedInside", isRegex: false, isEqual: true }],
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
      createdBy: "e2e",
      comment: "through the public route",
    });
    const created = await through(HOSTS.alertmanager, "POST", "/api/v2/silences", { body: silence });
    expect([created.status, typeof JSON.parse(created.body).silenceID]).toEqual([200, "string"]);
  });

  test("a client address past its burst gets 429, whatever header it sends; another address has its own", async () => {
    const ready = (opts: Parameters<typeof through>[3] = {}) =>
      through(HOSTS.tightPrometheus, "GET", "/-/ready", opts).then((r) => r.status);
    // Failed logins count: the limit comes before basic auth. Burst 5, then 1 a minute.
    const spent = [
      await ready({ auth: { user: USER.user, password: "not-the-password" } }),
      await ready({ auth: { user: USER.user, password: "not-the-password" } }),
      await ready(),
      await ready(),
      await ready(),
    ];
    expect(spent).toEqual([401, 401, 200, 200, 200]);
    expect(await ready()).toBe(429);
    // A header is the client's own word: a new value is not a new bucket.
    for (const ip of ["203.0.113.7", "198.51.100.23"]) {
      expect(await ready({ headers: { "CF-Connecting-IP": ip, "X-Forwarded-For": ip, "X-Real-IP": ip } })).toBe(429);
    }
    // Another address (the loopback is all of 127.0.0.0/8) has a bucket of its own.
    expect(await ready({ localAddress: "127.0.0.2" })).toBe(200);
    // The staging route's own limit (50 at once) is far from spent by these tests.
    expect((await through(HOSTS.prometheus, "GET", "/-/ready")).status).toBe(200);
  });
});
