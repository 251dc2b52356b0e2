/**
 * Loki's push port for a collector that scrapes tenants' monitors (components/loki/push-proxy.ts), on the exact
 * binaries: staging rendered with monitors.enabled, its Loki pod run in a network of its own (lab/local/loki-pod.ts:
 * Loki with its rendered args and config, the proxy, Traefik of its image's release, with its rendered args and
 * routes; only paths made local).
 *
 * The threat: a tenant's monitor points the collector's GET at Loki's pod, path `/ingester/shutdown`. Through the push
 * port, at the rendered collector's own URLs: Loki's push API and its OTLP logs receiver take the logs, and Loki's
 * other paths (the shutdown, a flush, its config, a query), however spelt, get the proxy's 404 and Loki stays up.
 * On Loki's own port, which the collector no longer reaches (docs/reachability.yml), the same GET stops Loki: the
 * last test, so that the path is shown to be what the proxy keeps out.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Rendered } from "../../cli/render";
import { LokiPod, lokiPodContainer, lokiPodPort, startLokiPod } from "../../lab/local/loki-pod";
import { POD_ADDRESS, PodReply } from "../../lab/local/pod-network";
import { render } from "../support/render";
import { localRun } from "./support/local-run";

jest.setTimeout(240_000);

/** The two streams the tests push: by loki.write's API, and by OTLP. */
const PUSHED = '{job="push-proxy-e2e"}';
const SENT = '{namespace="shop-staging", pod="otlp-e2e"}';

const status = (r: PodReply) => ("status" in r ? r.status : r.error);
const body = (r: PodReply) => ("body" in r ? r.body : "");

/** A URL of the rendered collector's config (`url = "…"` of loki.write, `endpoint = "…"` of the OTLP exporter to Loki). */
function renderedUrl(config: string, pattern: RegExp): URL {
  const found = pattern.exec(config)?.[1];
  if (!found) throw new Error(`config.alloy has no ${pattern}`);
  return new URL(found);
}

describe("Loki's push port, as rendered for a collector that scrapes monitors (the exact Loki and Traefik, in a pod's network)", () => {
  const run = localRun();
  let rendered: Rendered;
  let root = "";
  let loki: LokiPod;
  let push: URL;
  let otlp: URL;
  let own = 0;
  const at = (port: number | string, p: string) => `http://${POD_ADDRESS}:${port}${p}`;
  const nowNs = () => `${BigInt(Date.now()) * 1_000_000n}`;

  /** The lines of a stream selector in the last hour, read on Loki's own port (Grafana's). */
  async function lines(selector: string): Promise<string[]> {
    const q = encodeURIComponent(selector);
    const start = `${BigInt(Date.now() - 3_600_000) * 1_000_000n}`;
    const r = await loki.pod.request("GET", at(own, `/loki/api/v1/query_range?query=${q}&start=${start}&limit=100`));
    const result = (JSON.parse(body(r)) as { data: { result: Array<{ values: Array<[string, string]> }> } }).data.result;
    return result.flatMap((s) => s.values.map((v) => v[1])).sort();
  }

  beforeAll(async () => {
    rendered = await render("staging", ["monitors.enabled=true", "apps[0].otlp=true"]);
    const config = rendered.files.get("log-collector/config.alloy") ?? "";
    push = renderedUrl(config, /^\t\turl\s+= "(http:\/\/loki\.[^"]+)"$/m);
    otlp = renderedUrl(config, /^otelcol\.exporter\.otlphttp "loki" \{[\s\S]*?endpoint = "([^"]+)"/m);
    root = fs.mkdtempSync(path.join(os.tmpdir(), "loki-push-proxy-e2e-"));
    loki = await startLokiPod(run, rendered, root);
    own = lokiPodPort(rendered, "loki", "http");
  });

  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  test("the collector pushes to the push port, which the proxy serves; Loki keeps its own port", async () => {
    const pushPort = lokiPodPort(rendered, "proxy", "push");
    expect([push.port, otlp.port]).toEqual([String(pushPort), String(pushPort)]);
    expect(pushPort).not.toBe(own);
    const listening = await loki.pod.listening();
    expect(listening).toEqual(expect.arrayContaining([`*:${own}`, `*:${pushPort}`]));
  });

  test("loki.write's push and the OTLP exporter's logs pass the push port and are stored", async () => {
    const stream = { stream: { job: "push-proxy-e2e" }, values: [[nowNs(), "pushed through the proxy"]] };
    const pushed = await loki.pod.request("POST", at(push.port, push.pathname), JSON.stringify({ streams: [stream] }), "application/json");
    expect([status(pushed), body(pushed)]).toEqual([204, ""]);
    // otelcol.exporter.otlphttp sends logs to its endpoint + /v1/logs (the OTLP/HTTP exporter's signal path).
    const record = {
      resourceLogs: [
        {
          // The attributes the rendered Loki indexes (limits_config.otlp_config), as the collector's pipeline sets them.
          resource: {
            attributes: [
              { key: "namespace", value: { stringValue: "shop-staging" } },
              { key: "pod", value: { stringValue: "otlp-e2e" } },
            ],
          },
          scopeLogs: [{ logRecords: [{ timeUnixNano: nowNs(), body: { stringValue: "sent over OTLP through the proxy" } }] }],
        },
      ],
    };
    const sent = await loki.pod.request("POST", at(otlp.port, `${otlp.pathname}/v1/logs`), JSON.stringify(record), "application/json");
    // Loki answers an OTLP export with a 2xx (its body an empty export response).
    const code = status(sent);
    expect([typeof code === "number" && code >= 200 && code < 300 ? "taken" : code, body(sent)]).toEqual(["taken", expect.any(String)]);
    await run.waitFor(
      "the pushed lines",
      async () => ((await lines(PUSHED)).length > 0 && (await lines(SENT)).length > 0 ? true : undefined),
      30_000,
      500,
    );
    expect(await lines(PUSHED)).toEqual(["pushed through the proxy"]);
    expect(await lines(SENT)).toEqual(["sent over OTLP through the proxy"]);
  });

  test.each([
    ["GET", "/ingester/shutdown"],
    ["POST", "/ingester/shutdown"],
    ["DELETE", "/ingester/shutdown"],
    ["GET", "//ingester/shutdown"],
    ["GET", "/loki/api/v1/push/../../../../ingester/shutdown"],
    ["POST", "/loki/api/v1/push/../../../../ingester/shutdown"],
    ["POST", "/otlp/v1/logs/../../../ingester/shutdown"],
    ["GET", "/ingester%2Fshutdown"],
    ["POST", "/loki/api/v1/push%2F..%2F..%2F..%2F..%2Fingester%2Fshutdown"],
    ["POST", "/loki/api/v1/push/%2E%2E/%2E%2E/%2E%2E/%2E%2E/ingester/shutdown"],
    ["GET", "/loki/api/v1/push/%2e%2e/%2e%2e/%2e%2e/%2e%2e/ingester/shutdown"],
    ["GET", "/flush"],
    ["POST", "/flush"],
    ["GET", "/ingester/prepare_shutdown"],
    ["GET", "/config"],
    ["GET", "/loki/api/v1/query?query=%7Bjob%3D%22push-proxy-e2e%22%7D"],
    ["GET", "/loki/api/v1/push"],
    ["GET", "/metrics"],
  ])("on the push port, %s %s gets the proxy's refusal and Loki stays up", async (method, p) => {
    const reply = await loki.pod.request(method, at(push.port, p));
    // Refused by the rule (404) or, for an encoded character, by the entry point (400); any other answer is shown.
    const got = status(reply);
    expect([method, p, got === 404 || got === 400 ? "refused" : got]).toEqual([method, p, "refused"]);
    expect(status(await loki.pod.request("GET", at(own, "/ready")))).toBe(200);
  });

  test("the rendered probes answer: Loki's on its own port, the proxy's /ping on the push port", async () => {
    for (const name of ["loki", "proxy"]) {
      const container = lokiPodContainer(rendered, name);
      for (const probe of [container.readinessProbe, container.livenessProbe]) {
        const { port, path: p } = probe.httpGet ?? { port: "none", path: "none" };
        const number = typeof port === "number" ? port : container.ports?.find((x) => x.name === port)?.containerPort;
        expect([name, p, number !== undefined && status(await loki.pod.request("GET", at(number, p)))]).toEqual([name, p, 200]);
      }
    }
  });

  test("after every refusal the pushed lines are still there, and a GET of /ingester/shutdown on Loki's own port stops it", async () => {
    expect(await lines(PUSHED)).toEqual(["pushed through the proxy"]);
    // What the push port keeps out: Loki takes the GET, flushes and exits (the threat, on the port the collector no longer reaches).
    const reply = await loki.pod.request("GET", at(own, "/ingester/shutdown"));
    expect(status(reply)).toBe(204);
    await run.waitFor(
      "Loki stopped",
      async () => (status(await loki.pod.request("GET", at(own, "/ready"))) === 200 ? undefined : true),
      60_000,
      500,
    );
  });
});
