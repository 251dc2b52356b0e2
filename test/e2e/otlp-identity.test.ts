/**
 * Who an OTLP sender is, under the deployed Alloy, on the rendered pipeline (staging with an app that
 * sends OTLP): its claims of a pod are deleted before the lookup, data whose pod the lookup does not
 * find is dropped, and a service named like a job of the stack's gets its pod's namespace. The
 * pipeline runs as rendered but for its listen addresses, its exporters (to a sink on 127.0.0.1, in
 * uncompressed OTLP/JSON) and the lookup: no Kubernetes API answers here, so the k8sattributes processor passes
 * through (it still records the connection's address as `k8s.pod.ip`, as in the cluster), and where a
 * pod should be found a stand-in between it and the filter gives the attributes the API would give
 * for that address (`billing/web-1`), exactly what the processor fills in when the sender's own are gone.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stackBinary } from "../../lab/local/binaries";
import { httpGet, isReady, postJson, sinkHandler } from "../../lab/local/http";
import { alloyRunArgs } from "../../lab/local/logs";
import { OTLP_RECEIVER_BLOCK } from "../../lab/local/tracing";
import { LOOPBACK, freePort } from "../../lab/ports";
import { OTLP_PORTS } from "../../components/kit/services";
import { render } from "../support/render";
import { localRun } from "./support/local-run";

/** Attributes as OTLP/JSON writes them. */
type Attributes = Array<{ key: string; value: { stringValue?: string } }>;
const attrs = (map: Record<string, string>): Attributes => Object.entries(map).map(([key, v]) => ({ key, value: { stringValue: v } }));
const asMap = (list: Attributes | undefined) => Object.fromEntries((list ?? []).map((a) => [a.key, a.value.stringValue]));

/** What a pod of `billing` sends, claiming to be shop's web-0 and node-exporter's node1, in its resource and in its data point. */
const CLAIMS = {
  "service.name": "node-exporter",
  "service.instance.id": "node1",
  "k8s.namespace.name": "shop",
  "k8s.pod.name": "web-0",
  "k8s.pod.ip": "10.42.0.9",
  namespace: "shop",
  pod: "web-0",
  node: "node-9",
};
const now = () => `${Date.now()}000000`;
const metricsBody = () => ({
  resourceMetrics: [
    {
      resource: { attributes: attrs(CLAIMS) },
      scopeMetrics: [
        {
          metrics: [
            {
              name: "node_memory_MemAvailable_bytes",
              gauge: {
                dataPoints: [{ timeUnixNano: now(), asDouble: 1e12, attributes: attrs({ job: "node-exporter", instance: "node1" }) }],
              },
            },
          ],
        },
      ],
    },
  ],
});
const logsBody = () => ({
  resourceLogs: [
    { resource: { attributes: attrs(CLAIMS) }, scopeLogs: [{ logRecords: [{ timeUnixNano: now(), body: { stringValue: "hello" } }] }] },
  ],
});

/** The pod the stand-in says the connection's address (127.0.0.1) is. */
const POD = { namespace: "billing", pod: "web-1", node: "node-1" };

let pipeline: string;
let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "otlp-identity-"));
  const rendered = await render("staging", ["tracing.enabled=false", "apps[2]={name: web2, namespace: billing, otlp: true}"]);
  const alloy = rendered.files.get("log-collector/config.alloy") ?? "";
  pipeline = alloy.slice(alloy.indexOf(OTLP_RECEIVER_BLOCK));
  expect(pipeline).toContain('otelcol.processor.transform "client_claims"');
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The rendered pipeline made local; `standIn`: the API's answer for 127.0.0.1 between the lookup and the filter. */
async function startPipeline(run: ReturnType<typeof localRun>, standIn: boolean) {
  const received: Array<{ path: string; body: Record<string, unknown> }> = [];
  const sinkPort = await freePort();
  await run.serve(
    sinkPort,
    sinkHandler((req) => {
      received.push({ path: req.path, body: JSON.parse(req.body) as Record<string, unknown> });
      return { status: 200, body: "{}" };
    }),
  );
  const [grpcPort, httpPort, alloyPort] = [await freePort(), await freePort(), await freePort()];
  const stand = (signal: string) =>
    `\t${signal}_statements {\n\t\tcontext = "resource"\n\t\tstatements = [${Object.entries({
      "k8s.namespace.name": POD.namespace,
      "k8s.pod.name": POD.pod,
      "k8s.node.name": POD.node,
    })
      .map(([k, v]) =>
        // As the processor does (setResourceAttribute): only where the attribute is missing or empty.
        JSON.stringify(
          `set(attributes["${k}"], "${v}") where attributes["k8s.pod.ip"] == "${LOOPBACK}" and (attributes["${k}"] == nil or attributes["${k}"] == "")`,
        ),
      )
      .join(", ")}]\n\t}\n`;
  let text = pipeline
    .replace(`"0.0.0.0:${OTLP_PORTS.grpc}"`, JSON.stringify(`${LOOPBACK}:${grpcPort}`))
    .replace(`"0.0.0.0:${OTLP_PORTS.http}"`, JSON.stringify(`${LOOPBACK}:${httpPort}`))
    .replace(
      /(otelcol\.exporter\.otlphttp "\w+" \{\n)(\tclient \{\n\t\tendpoint = )"[^"]+"/g,
      `$1\tencoding = "json"\n\n$2"http://${LOOPBACK}:${sinkPort}"\n\t\tcompression = "none"`,
    )
    .replace('otelcol.processor.k8sattributes "apps" {\n', 'otelcol.processor.k8sattributes "apps" {\n\tpassthrough = true\n\n');
  expect(text.match(/encoding = "json"/g)).toHaveLength(2);
  if (standIn) {
    const k8s = text.indexOf('otelcol.processor.k8sattributes "apps" {');
    const end = text.indexOf("\n}\n", k8s);
    text =
      text.slice(0, k8s) +
      text
        .slice(k8s, end)
        .replace(/otelcol\.processor\.filter\.unknown_pods\.input/g, "otelcol.processor.transform.lookup_stand_in.input") +
      text.slice(end) +
      `\notelcol.processor.transform "lookup_stand_in" {\n\terror_mode = "ignore"\n\n${stand("metric")}\n${stand("log")}\n` +
      "\toutput {\n\t\tmetrics = [otelcol.processor.filter.unknown_pods.input]\n\t\tlogs    = [otelcol.processor.filter.unknown_pods.input]\n\t}\n}\n";
  }
  const file = path.join(dir, `otlp-${standIn ? "found" : "unknown"}.alloy`);
  fs.writeFileSync(file, text);
  run.start("alloy", stackBinary("alloy"), alloyRunArgs(file, alloyPort, fs.mkdtempSync(path.join(dir, "data-"))), {
    env: { HOSTNAME: POD.node },
  });
  const alloy = `http://${LOOPBACK}:${alloyPort}`;
  await run.waitFor("Alloy ready", () => isReady(alloy), 60_000, 500);
  const otlp = `http://${LOOPBACK}:${httpPort}`;
  await run.waitFor(
    "the OTLP receiver",
    async () => ((await postJson(`${otlp}/v1/metrics`, metricsBody())).status === 200 ? true : undefined),
    30_000,
    500,
  );
  expect((await postJson(`${otlp}/v1/logs`, logsBody())).status).toBe(200);
  return { received, alloy };
}

describe("a sender whose pod the lookup does not find", () => {
  const run = localRun();
  test("its claimed namespace and pod are deleted and its data dropped: nothing reaches Prometheus or Loki", async () => {
    const { received, alloy } = await startPipeline(run, false);
    // Alloy's own count of what the filter dropped: the data point and the log record.
    const dropped = await run.waitFor(
      "the filter's drops",
      async () => {
        const text = (await httpGet(`${alloy}/metrics`)).body;
        const counts = ["datapoints", "logs"].map((what) =>
          Number(new RegExp(`^otelcol_processor_filter_${what}_filtered_total\\{[^}]*\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0),
        );
        return counts.every((n) => n >= 1) ? counts : undefined;
      },
      30_000,
      500,
    );
    expect(dropped).toEqual([expect.any(Number), expect.any(Number)]);
    // The batch processor sends within 200 ms: wait ten times that, then nothing may have arrived.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(received).toEqual([]);
  });
});

describe("a sender whose pod the lookup finds", () => {
  const run = localRun();
  test("its series and streams carry its pod's namespace, pod and node; node-exporter's job becomes billing/node-exporter; a data point's job and instance are gone", async () => {
    const { received } = await startPipeline(run, true);
    const got = await run.waitFor(
      "metrics and logs at the sink",
      () => {
        const paths = new Set(received.map((r) => r.path));
        return paths.has("/v1/metrics") && paths.has("/v1/logs") ? received : undefined;
      },
      30_000,
      500,
    );
    const metrics = got.find((r) => r.path === "/v1/metrics")?.body as {
      resourceMetrics: Array<{
        resource: { attributes: Attributes };
        scopeMetrics: Array<{ metrics: Array<{ gauge: { dataPoints: Array<{ attributes?: Attributes }> } }> }>;
      }>;
    };
    const resource = asMap(metrics.resourceMetrics[0].resource.attributes);
    expect(resource).toMatchObject({
      "k8s.namespace.name": POD.namespace,
      "k8s.pod.name": POD.pod,
      "k8s.pod.ip": LOOPBACK,
      namespace: POD.namespace,
      pod: POD.pod,
      app: "node-exporter",
      // Prometheus' job: <service.namespace>/<service.name>.
      "service.namespace": POD.namespace,
      "service.name": "node-exporter",
      "service.instance.id": "node1",
    });
    expect(asMap(metrics.resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].attributes)).toEqual({});
    const logs = got.find((r) => r.path === "/v1/logs")?.body as { resourceLogs: Array<{ resource: { attributes: Attributes } }> };
    expect(asMap(logs.resourceLogs[0].resource.attributes)).toMatchObject({
      namespace: POD.namespace,
      pod: POD.pod,
      node: POD.node,
      job: `${POD.namespace}/node-exporter`,
    });
  });
});
