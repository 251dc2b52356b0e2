/**
 * The traces side of a local run: Jaeger's rendered config (LocalStack.startJaeger runs it), and the collector's OTLP
 * endpoint for apps (the rendered `otelcol.*` blocks of config.alloy), made runnable on
 * 127.0.0.1. Only listen addresses, destinations, data paths and how the sending pod is found change:
 *
 * - In the cluster the collector deletes what the sender says of its pod (every `k8s.*` attribute),
 *   then finds the pod by the connection's address. Every connection here comes from 127.0.0.1,
 *   which no pod has, so the app states its pod in `lab.pod.*` attributes (LAB_POD_ATTRIBUTES),
 *   which the rendered deletion leaves, and the lab's last statements of `client_claims` stand in for
 *   the address: with a local control plane (the live lab) they give the pod uid alone, and the
 *   lookup runs against it (auth_type kubeConfig, first by that uid), so the namespace, pod and node
 *   come from the API; without one (the benchmark) the processor passes signals through and they give
 *   the namespace and pod the API would. Everything else (the deletion, the drop of what no pod
 *   sent, the labels, the batches, the exporters) runs as rendered.
 */
import * as path from "path";
import * as YAML from "yaml";
import { JAEGER_PATHS, JAEGER_PORTS } from "../../components/tracing/jaeger-config";
import { OTLP_PORTS, TRACES_QUERY_PORT } from "../../components/kit/services";
import { LOOPBACK } from "../ports";

/** Jaeger's ports here: OTLP in, the query API, its own metrics and health, the query gRPC API. */
export interface JaegerPorts {
  otlp: number;
  query: number;
  metrics: number;
  health: number;
  queryGrpc: number;
}

/** The rendered jaeger.yaml with every listener on 127.0.0.1 at `ports` and Badger's directories under `root`. */
export function localJaegerConfig(text: string, root: string, ports: JaegerPorts): Record<string, unknown> {
  const byRendered = new Map<number, number>([
    [OTLP_PORTS.grpc, ports.otlp],
    [TRACES_QUERY_PORT, ports.query],
    [JAEGER_PORTS.metrics, ports.metrics],
    [JAEGER_PORTS.health, ports.health],
    [JAEGER_PORTS.queryGrpc, ports.queryGrpc],
  ]);
  const local = (node: unknown): unknown => {
    if (typeof node === "string") {
      const listen = /^0\.0\.0\.0:(\d+)$/.exec(node);
      if (listen) {
        const port = byRendered.get(Number(listen[1]));
        if (port === undefined) throw new Error(`jaeger.yaml listens on ${node}, a port the local run does not know`);
        return `${LOOPBACK}:${port}`;
      }
      if (node === JAEGER_PATHS.data || node.startsWith(`${JAEGER_PATHS.data}/`)) return path.join(root, node);
      return node;
    }
    if (Array.isArray(node)) return node.map(local);
    if (node && typeof node === "object") return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, local(v)]));
    return node;
  };
  const config = local(YAML.parse(text)) as Record<string, unknown>;
  // Its own metrics: the Prometheus reader's host and port are two keys, not an address.
  const service = config.service as { telemetry: { metrics: { readers: Array<{ pull: { exporter: { prometheus: object } } }> } } };
  for (const reader of service.telemetry.metrics.readers) reader.pull.exporter.prometheus = { host: LOOPBACK, port: ports.metrics };
  return config;
}

/** Where the collector's OTLP endpoint listens and sends, here. */
export interface LocalOtlp {
  grpcPort: number;
  httpPort: number;
  /** host:port of the local Jaeger's OTLP gRPC receiver. */
  tracesEndpoint: string;
  /** The local Prometheus' and Loki's OTLP base URLs. */
  prometheusOtlpUrl: string;
  lokiOtlpUrl: string;
  /** A local control plane runs (its kubeconfig in KUBECONFIG): the pod lookup runs against it. */
  lookup: boolean;
}

/** The resource attributes the lab's app states its pod in, in place of the connection's address (see the header). */
export const LAB_POD_ATTRIBUTES = { uid: "lab.pod.uid", namespace: "lab.pod.namespace", name: "lab.pod.name" } as const;

/** The first block of config.alloy's OTLP endpoint: everything from it to the end is the apps' OTLP pipeline. */
export const OTLP_RECEIVER_BLOCK = '\notelcol.receiver.otlp "apps" {';

/** Replaces the quoted value of the first `key = "…"` after `anchor`, failing when the rendered config has no such thing. */
function replaceAfter(text: string, anchor: string, key: string, value: string): string {
  const at = text.indexOf(anchor);
  const pattern = new RegExp(`(\\n\\s*${key}\\s*= )"[^"]*"`);
  const m = at < 0 ? null : pattern.exec(text.slice(at));
  if (!m || m.index === undefined) throw new Error(`config.alloy has no ${key} in ${anchor.trim()}`);
  const start = at + m.index;
  return `${text.slice(0, start)}${m[1]}${JSON.stringify(value)}${text.slice(start + m[0].length)}`;
}

/** The rendered OTLP pipeline (from OTLP_RECEIVER_BLOCK on), made local as the header says. */
export function localOtlpBlocks(otlp: string, local: LocalOtlp): string {
  let text = otlp
    .replace(`"0.0.0.0:${OTLP_PORTS.grpc}"`, JSON.stringify(`${LOOPBACK}:${local.grpcPort}`))
    .replace(`"0.0.0.0:${OTLP_PORTS.http}"`, JSON.stringify(`${LOOPBACK}:${local.httpPort}`));
  if (text.includes('otelcol.exporter.otlp "traces"'))
    text = replaceAfter(text, 'otelcol.exporter.otlp "traces"', "endpoint", local.tracesEndpoint);
  text = replaceAfter(text, 'otelcol.exporter.otlphttp "prometheus"', "endpoint", local.prometheusOtlpUrl);
  text = replaceAfter(text, 'otelcol.exporter.otlphttp "loki"', "endpoint", local.lokiOtlpUrl);
  const processor = 'otelcol.processor.k8sattributes "apps" {\n';
  if (!text.includes(processor)) throw new Error("config.alloy's OTLP pipeline has no k8sattributes processor");
  const byUid = '\tpod_association {\n\t\tsource {\n\t\t\tfrom = "resource_attribute"\n\t\t\tname = "k8s.pod.uid"\n\t\t}\n\t}\n\n';
  // After the rendered deletion of the sender's claims, in each resource's statements of client_claims (they end with its `job`).
  const claims = text.indexOf('otelcol.processor.transform "client_claims" {');
  const claimsEnd = text.indexOf("\n}\n", claims);
  const last = '"delete_key(attributes, \\"job\\")"]';
  if (claims < 0 || !text.slice(claims, claimsEnd).includes(last))
    throw new Error("config.alloy's OTLP pipeline deletes no claims of the sender");
  const from = (key: string, attribute: string) => JSON.stringify(`set(attributes["${key}"], attributes["${attribute}"])`);
  const standIn = (
    local.lookup
      ? [from("k8s.pod.uid", LAB_POD_ATTRIBUTES.uid)]
      : [from("k8s.namespace.name", LAB_POD_ATTRIBUTES.namespace), from("k8s.pod.name", LAB_POD_ATTRIBUTES.name)]
  ).concat(JSON.stringify('delete_matching_keys(attributes, "^lab[.]")'));
  text =
    text.slice(0, claims) +
    text
      .slice(claims, claimsEnd)
      .split(last)
      .join(`${last.slice(0, -1)}, ${standIn.join(", ")}]`) +
    text.slice(claimsEnd);
  return local.lookup
    ? text
        .replace(processor, `${processor}\tauth_type = "kubeConfig"\n\n`)
        // First: the processor looks the pod up by the first association that yields a value, and the connection's always does.
        .replace("\tpod_association {\n", `${byUid}\tpod_association {\n`)
    : text.replace(processor, `${processor}\tpassthrough = true\n\n`);
}
