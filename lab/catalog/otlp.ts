/**
 * OTLP/HTTP requests in OTLP's JSON encoding, written here rather than by an SDK: one span, one
 * counter point and one log line of a service, enough for a receiver and its pipeline to count
 * what they accept and pass on (the catalogues of Jaeger and of Alloy's OTLP endpoint).
 */
import * as crypto from "crypto";
import { postJson } from "../local/http";
import { CatalogError } from "./run";

const resource = (service: string) => ({ attributes: [{ key: "service.name", value: { stringValue: service } }] });
const nanos = (ms: number) => `${BigInt(ms) * 1_000_000n}`;

/** The JSON bodies of /v1/traces, /v1/metrics and /v1/logs, at this moment, sharing one trace id. */
export function otlpBodies(service: string): Record<"traces" | "metrics" | "logs", unknown> {
  const now = Date.now();
  const traceId = crypto.randomBytes(16).toString("hex");
  const spanId = crypto.randomBytes(8).toString("hex");
  const scope = { name: "catalog" };
  return {
    traces: {
      resourceSpans: [
        {
          resource: resource(service),
          scopeSpans: [
            {
              scope,
              spans: [
                {
                  traceId,
                  spanId,
                  name: "GET /catalog",
                  // SPAN_KIND_SERVER
                  kind: 2,
                  startTimeUnixNano: nanos(now - 20),
                  endTimeUnixNano: nanos(now),
                  attributes: [{ key: "http.request.method", value: { stringValue: "GET" } }],
                  status: {},
                },
              ],
            },
          ],
        },
      ],
    },
    metrics: {
      resourceMetrics: [
        {
          resource: resource(service),
          scopeMetrics: [
            {
              scope,
              metrics: [
                {
                  name: "catalog_requests",
                  // AGGREGATION_TEMPORALITY_CUMULATIVE
                  sum: {
                    aggregationTemporality: 2,
                    isMonotonic: true,
                    dataPoints: [{ asInt: "1", startTimeUnixNano: nanos(now - 1000), timeUnixNano: nanos(now) }],
                  },
                },
              ],
            },
          ],
        },
      ],
    },
    logs: {
      resourceLogs: [
        {
          resource: resource(service),
          scopeLogs: [
            {
              scope,
              logRecords: [{ timeUnixNano: nanos(now), severityText: "INFO", body: { stringValue: "catalogue line" }, traceId, spanId }],
            },
          ],
        },
      ],
    },
  };
}

/** Posts each signal given to an OTLP/HTTP receiver at `base`; fails unless it is accepted. */
export async function sendOtlp(base: string, service: string, signals: ReadonlyArray<"traces" | "metrics" | "logs">): Promise<void> {
  const bodies = otlpBodies(service);
  for (const signal of signals) {
    const res = await postJson(`${base}/v1/${signal}`, bodies[signal]);
    if (res.status !== 200) throw new CatalogError(`OTLP ${signal} to ${base}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  }
}
