/**
 * The traces side of the local runs (lab/local/tracing.ts), on the staging stack's render
 * with an app that sends OTLP (the bench's, OTLP_SETS):
 * Jaeger's config and Alloy's OTLP endpoint made local change only addresses, paths and how the
 * sending pod is found (after the rendered deletion of what the sender claims), and Alloy accepts what comes out (`alloy fmt` parses it); the benchmark's
 * remote-write variant moves only the metrics.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import type { Rendered } from "../../cli/render";
import { runBinary } from "../../lab/local/binaries";
import { localAlloyConfig } from "../../lab/local/logs";
import { LocalOtlp, localJaegerConfig } from "../../lab/local/tracing";
import { remoteWriteVariant } from "../../lab/bench/otlp-footprint";
import { OTLP_SETS } from "../../lab/bench/deployed";
import { render } from "../support/render";

let rendered: Rendered;
beforeAll(async () => {
  // With the bench's app that sends OTLP, as the local runs render it: Jaeger and the endpoint run because of it.
  rendered = await render("staging", OTLP_SETS);
}, 120_000);

const LOCAL: LocalOtlp = {
  grpcPort: 40001,
  httpPort: 40002,
  tracesEndpoint: "127.0.0.1:40003",
  prometheusOtlpUrl: "http://127.0.0.1:40004/api/v1/otlp",
  lokiOtlpUrl: "http://127.0.0.1:40005/otlp",
  lookup: false,
};
const alloyText = () => rendered.files.get("log-collector/config.alloy") ?? "";
const local = (otlp?: LocalOtlp) =>
  localAlloyConfig(alloyText(), "/tmp/targets.json", "/tmp/pods", "http://127.0.0.1:40006/loki/api/v1/push", otlp);

/** Whether `alloy fmt` parses the text. */
function parses(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-tracing-"));
  try {
    fs.writeFileSync(path.join(dir, "config.alloy"), text);
    const r = runBinary("alloy", ["fmt", path.join(dir, "config.alloy")]);
    return r.ok ? "parses" : r.output;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("Jaeger's rendered config, made local: every listener on 127.0.0.1 at the run's ports, Badger under the run's directory, the rest as rendered", () => {
  const text = rendered.files.get("tracing/jaeger.yaml") ?? "";
  const config = localJaegerConfig(text, "/run/lab", { otlp: 41001, query: 41002, metrics: 41003, health: 41004, queryGrpc: 41005 });
  const out = YAML.stringify(config);
  expect(out).not.toMatch(/0\.0\.0\.0/);
  for (const port of [41001, 41002, 41004, 41005]) expect(out).toContain(`127.0.0.1:${port}`);
  expect(out).toMatch(/host: 127\.0\.0\.1\n\s+port: 41003/);
  const badger = (config.extensions as { jaeger_storage: { backends: { badger: { badger: { directories: Record<string, string> } } } } })
    .jaeger_storage.backends.badger.badger.directories;
  expect(Object.values(badger).every((d) => d.startsWith("/run/lab/"))).toBe(true);
  const rendersAs = YAML.parse(text) as Record<string, unknown>;
  expect(config.processors).toEqual(rendersAs.processors);
  expect((config.service as { pipelines: unknown }).pipelines).toEqual((rendersAs.service as { pipelines: unknown }).pipelines);
});

test("without OTLP destinations the pod-log runs leave the OTLP endpoint out", () => {
  expect(alloyText()).toContain("otelcol.receiver.otlp");
  expect(local()).not.toContain("otelcol.");
});

test("Alloy's OTLP endpoint, made local: listens on 127.0.0.1, sends to the local Jaeger, Prometheus and Loki, and passes the pod lookup through without a cluster", () => {
  const text = local(LOCAL);
  expect(parses(text)).toBe("parses");
  expect(text).not.toMatch(/0\.0\.0\.0|\.svc\b/);
  for (const where of ["127.0.0.1:40001", "127.0.0.1:40002", LOCAL.tracesEndpoint, LOCAL.prometheusOtlpUrl, LOCAL.lokiOtlpUrl])
    expect(text).toContain(`"${where}"`);
  expect(text).toMatch(/otelcol\.processor\.k8sattributes "apps" \{\n\tpassthrough = true\n/);
  // What decides the labels runs as rendered: the drop of what no pod sent, the labels.
  const transform = (t: string) =>
    t.slice(t.indexOf('otelcol.processor.filter "unknown_pods"'), t.indexOf('otelcol.processor.batch "apps"'));
  expect(transform(text)).toBe(transform(alloyText()));
  // The sender's claims are deleted as rendered; only then does the lab give the namespace and pod the API would, from its lab.pod.* stand-ins.
  expect(claimStatements(text)).toEqual(
    claimStatements(alloyText()).map((s) =>
      s.replace(
        /"delete_key\(attributes, \\"job\\"\)"$/,
        `$&, ${JSON.stringify('set(attributes["k8s.namespace.name"], attributes["lab.pod.namespace"])')}, ${JSON.stringify('set(attributes["k8s.pod.name"], attributes["lab.pod.name"])')}, ${JSON.stringify('delete_matching_keys(attributes, "^lab[.]")')}`,
      ),
    ),
  );
});

/** The statement lists of the client_claims transform, each as written. */
const claimStatements = (t: string) => {
  const at = t.indexOf('otelcol.processor.transform "client_claims" {');
  return [...t.slice(at, t.indexOf("\n}\n", at)).matchAll(/statements = \[(.*)\]\n/g)].map((m) => m[1]);
};

test("with a local control plane the pod is looked up in it, first by the uid the app states (the connection's address names no pod here)", () => {
  const text = local({ ...LOCAL, lookup: true });
  expect(parses(text)).toBe("parses");
  expect(text).toMatch(/otelcol\.processor\.k8sattributes "apps" \{\n\tauth_type = "kubeConfig"\n/);
  // The uid first: the processor uses the first association that yields a value, and the connection's always does.
  expect(text).toMatch(/from = "resource_attribute"\n\t\t\tname = "k8s\.pod\.uid"[\s\S]*from = "connection"/);
  // The uid alone stands in for the connection's address, after the sender's claims are deleted: the namespace and pod come from the API.
  // Each resource's statements (every list but the data points', which deletes an `instance`).
  const resources = claimStatements(text).filter((list) => !list.includes('\\"instance\\"'));
  expect(resources.length).toBeGreaterThanOrEqual(2);
  for (const list of resources) {
    expect(list).toMatch(
      /delete_key\(attributes, \\"job\\"\)", "set\(attributes\[\\"k8s\.pod\.uid\\"\], attributes\[\\"lab\.pod\.uid\\"\]\)", "delete_matching_keys\(attributes, \\"\^lab\[\.\]\\"\)"$/,
    );
    expect(list).not.toContain("lab.pod.namespace");
  }
});

test("the benchmark's remote-write variant moves only the metrics", () => {
  const text = remoteWriteVariant(local(LOCAL), "http://127.0.0.1:40007/api/v1/write");
  expect(parses(text)).toBe("parses");
  expect(text).toContain("metrics = [otelcol.exporter.prometheus.bench.input]");
  expect(text).toContain("logs    = [otelcol.exporter.otlphttp.loki.input]");
  expect(text).toMatch(/traces {2}= \[otelcol\.exporter\.otlp\.traces\.input/);
  expect(text).not.toContain("metrics = [otelcol.exporter.otlphttp.prometheus.input]");
  expect(text).toContain('url = "http://127.0.0.1:40007/api/v1/write"');
});
