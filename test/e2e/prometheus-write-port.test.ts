/**
 * Prometheus' write port (components/prometheus/admin-proxy.ts), on the exact binaries: the staging stack rendered
 * with monitors and tracing on (its collector scrapes tenants' monitors and forwards apps' OTLP metrics), its
 * Prometheus pod run in a network of its own (lab/local/prometheus-pod.ts): Prometheus and the proxy (Traefik, the
 * release of its image) with their rendered args and routes, only their paths made local.
 *
 * Through the pod's address: a remote write sent to the rendered collector's own URL (its port, its path) by promtool
 * is stored and queried back on 9090, and an OTLP export reaches Prometheus' receiver; every other request a tenant's
 * monitor could have the collector send to the write port (a query, /debug/pprof, the admin API, a reload, the same
 * paths by GET, spelt otherwise) gets the proxy's 404 or 400. 9090 still serves Grafana's queries.
 * docs/reachability.yml holds who reaches 9096 (the collectors that write here).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Rendered } from "../../cli/render";
import { stackBinary } from "../../lab/local/binaries";
import { POD_ADDRESS, PodNetwork, PodReply } from "../../lab/local/pod-network";
import { startPrometheusPod } from "../../lab/local/prometheus-pod";
import { render } from "../support/render";
import { localRun } from "./support/local-run";

jest.setTimeout(240_000);

const status = (r: PodReply) => ("status" in r ? r.status : r.error);

describe("Prometheus' write port, as rendered (the exact Prometheus and Traefik, in a pod's network)", () => {
  const run = localRun();
  let rendered: Rendered;
  let root = "";
  let pod: PodNetwork;
  const at = (port: number, p: string) => `http://${POD_ADDRESS}:${port}${p}`;
  /** The rendered collector's URL to Prometheus with that path, its host made the pod's address. */
  const collectorUrl = (suffix: string) => {
    const alloy = rendered.files.get("log-collector/config.alloy") ?? "";
    const url = new URL(new RegExp(`"(http://prometheus\\.[^"]+${suffix.replace(/\//g, "\\/")})"`).exec(alloy)?.[1] ?? "http://missing");
    return { url: `http://${POD_ADDRESS}:${url.port}${url.pathname}`, port: Number(url.port) };
  };

  beforeAll(async () => {
    rendered = await render("staging", ["monitors.enabled=true", "tracing.enabled=true"]);
    root = fs.mkdtempSync(path.join(os.tmpdir(), "write-port-e2e-"));
    ({ pod } = await startPrometheusPod(run, rendered, root));
  });

  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  test("the pod listens where it is rendered to: Prometheus on the loopback alone, the proxy on 9090 and 9096", async () => {
    expect(await pod.listening()).toEqual(["*:9090", "*:9096", "127.0.0.1:9091"]);
    expect(collectorUrl("/api/v1/write").port).toBe(9096);
    expect(collectorUrl("/api/v1/otlp").port).toBe(9096);
  });

  test("a remote write to the collector's URL is stored, and queried back on 9090", async () => {
    const file = path.join(root, "samples.prom");
    fs.writeFileSync(file, "# TYPE write_port_probe gauge\nwrite_port_probe 42\n");
    // promtool (3.13) takes the server's base URL and adds the receiver's path, /api/v1/write: the collector's.
    const target = new URL(collectorUrl("/api/v1/write").url);
    expect(target.pathname).toBe("/api/v1/write");
    const pushed = await pod.exec(stackBinary("promtool"), ["push", "metrics", "--label=job=write-port-e2e", target.origin, file]);
    expect([pushed.status, `${pushed.stdout}${pushed.stderr}`]).toEqual([0, expect.stringContaining("SUCCESS")]);
    const query = await pod.request("GET", at(9090, "/api/v1/query?query=write_port_probe"));
    expect(JSON.parse((query as { body: string }).body)).toMatchObject({
      status: "success",
      data: { result: [{ metric: { job: "write-port-e2e" }, value: [expect.any(Number), "42"] }] },
    });
  });

  test("an OTLP export to the collector's URL reaches Prometheus' receiver (its answer, not the proxy's 404)", async () => {
    const reply = await pod.request("POST", `${collectorUrl("/api/v1/otlp").url}/v1/metrics`, "x", "application/x-protobuf");
    // Prometheus' receiver refuses a body that is not OTLP; the proxy's refusal is Traefik's 404 page.
    expect([status(reply), "body" in reply ? reply.body : ""]).not.toEqual([404, "404 page not found\n"]);
    expect(status(reply)).toBe(400);
  });

  test.each([
    ["GET", "/api/v1/query?query=count(up)"],
    ["POST", "/api/v1/query?query=count(up)"],
    ["GET", "/api/v1/query_range?query=up&start=0&end=1&step=1"],
    ["GET", "/api/v1/series?match[]=up"],
    ["GET", "/debug/pprof/"],
    ["GET", "/debug/pprof/profile?seconds=1"],
    ["POST", "/debug/pprof/trace?seconds=1"],
    ["GET", "/api/v1/write"],
    ["GET", "/api/v1/otlp/v1/metrics"],
    ["POST", "/api/v1/admin/tsdb/snapshot"],
    ["POST", "/-/reload"],
    ["POST", "/-/quit"],
    ["GET", "/metrics"],
    ["GET", "/"],
    ["POST", "/api/v1/write/../query?query=up"],
    ["POST", "/api/v1/write/%2e%2e/query?query=up"],
    ["POST", "/api/v1/write%2F..%2Fquery?query=up"],
    ["POST", "//api/v1/query?query=up"],
    ["POST", "/api/v1/write/"],
  ])("on the write port, %s %s gets the proxy's refusal", async (method, p) => {
    const got = status(await pod.request(method, at(9096, p)));
    // Refused by the rule (404) or, for an encoded character, by the entry point (400); any other answer is shown.
    expect([method, p, got === 404 || got === 400 ? "refused" : got]).toEqual([method, p, "refused"]);
  });

  test("9090 still serves every client's reads", async () => {
    for (const p of ["/api/v1/query?query=vector(1)", "/api/v1/labels", "/-/ready", "/metrics"])
      expect([p, status(await pod.request("GET", at(9090, p)))]).toEqual([p, 200]);
  });
});
