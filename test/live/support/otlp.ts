/**
 * What the live lab reads of the app that speaks OpenTelemetry (test/live/support/lab.ts): its
 * traces in Jaeger's query API (by service, by trace id), its log lines in Loki with their
 * structured metadata, its series in Prometheus, and the links the provisioned Grafana
 * datasources make between them, run as Grafana would run them.
 */
import * as YAML from "yaml";
import { httpGet, httpRequest } from "../../../lab/local/http";
import { OtlpAppStatus, readOtlpAppStatus } from "../../../lab/local/otlp-app";
import type { Lab } from "./lab";

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  processID: string;
  references: Array<{ refType: string; spanID: string }>;
  /** Microseconds since the epoch. */
  startTime: number;
  tags: Array<{ key: string; value: unknown }>;
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: Array<{ key: string; value: unknown }> }>;
}

async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const r = await httpRequest("GET", url, { headers, timeoutMs: 15_000 });
  if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  return JSON.parse(r.body) as T;
}

/** Jaeger's services. */
export async function jaegerServices(lab: Lab): Promise<string[]> {
  return (await getJson<{ data: string[] | null }>(`${lab.url("jaeger")}/api/services`)).data ?? [];
}

/** The last traces of a service (Jaeger's search, as Grafana's Search tab runs it). */
export async function tracesOf(lab: Lab, service: string, limit = 100): Promise<JaegerTrace[]> {
  const url = `${lab.url("jaeger")}/api/traces?service=${encodeURIComponent(service)}&limit=${limit}&lookback=1h`;
  return (await getJson<{ data: JaegerTrace[] | null }>(url)).data ?? [];
}

/** One trace by id, or undefined when Jaeger has none. */
export async function traceById(lab: Lab, id: string): Promise<JaegerTrace | undefined> {
  const r = await httpGet(`${lab.url("jaeger")}/api/traces/${id}`, 15_000);
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new Error(`trace ${id}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  return (JSON.parse(r.body) as { data: JaegerTrace[] }).data[0];
}

/** Whether a span ended in error (OTLP status ERROR, which Jaeger shows as the `error` tag). */
export function failed(span: JaegerSpan): boolean {
  return span.tags.some((t) => t.key === "error" && t.value === true);
}

/** The resource attributes of a trace's first process, as a map. */
export function resourceOf(trace: JaegerTrace): Record<string, string> {
  const process = Object.values(trace.processes)[0];
  return Object.fromEntries((process?.tags ?? []).map((t) => [t.key, String(t.value)]));
}

/** A log line with its stream's labels and its structured metadata, as Loki answers with categorized labels. */
export interface LokiLine {
  labels: Record<string, string>;
  metadata: Record<string, string>;
  line: string;
}

/** Log lines of a LogQL query over the last minutes, their index labels apart from their structured metadata. */
export async function logLines(lab: Lab, query: string, limit = 200): Promise<LokiLine[]> {
  const url = `${lab.url("loki")}/loki/api/v1/query_range?query=${encodeURIComponent(query)}&since=10m&limit=${limit}`;
  const body = await getJson<{
    data: {
      result: Array<{ stream: Record<string, string>; values: Array<[string, string, { structuredMetadata?: Record<string, string> }?]> }>;
    };
  }>(url, { "X-Loki-Response-Encoding-Flags": "categorize-labels" });
  return body.data.result.flatMap((s) =>
    s.values.map(([, line, meta]) => ({ labels: s.stream, metadata: meta?.structuredMetadata ?? {}, line })),
  );
}

/** The provisioned datasources (files/grafana/datasources.yaml), by uid. */
export function datasources(lab: Lab): Map<string, Record<string, unknown>> {
  const doc = YAML.parse(lab.rendered.files.get("grafana/datasources.yaml") ?? "") as { datasources: Array<Record<string, unknown>> };
  return new Map(doc.datasources.map((d) => [String(d.uid), d]));
}

/** The app's status file: what it has sent. */
export function appStatus(lab: Lab): OtlpAppStatus {
  const status = readOtlpAppStatus(lab.otlpApp.statusFile);
  if (!status) throw new Error(`the OTLP app has written no status to ${lab.otlpApp.statusFile}\n${lab.otlpApp.proc.output(20)}`);
  return status;
}
