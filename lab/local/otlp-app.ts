/**
 * An app that speaks OpenTelemetry, for the live lab (test/live/) and the benchmark: the official
 * SDK (its trace, metrics and logs providers with the OTLP/HTTP protobuf exporters), in a process
 * of its own, configured as an app in the cluster is, by the variables the SDK reads itself:
 *
 * - `OTEL_EXPORTER_OTLP_ENDPOINT`: the collector's OTLP/HTTP endpoint (the SDK adds /v1/traces, …);
 * - `OTEL_SERVICE_NAME`: its apps[] name;
 * - `OTEL_RESOURCE_ATTRIBUTES`: its pod in `lab.pod.*` attributes (lab/local/tracing.ts,
 *   LAB_POD_ATTRIBUTES). In the cluster the collector finds the pod by the address the connection
 *   came from, and deletes whatever `k8s.*` the app claims; every connection here comes from
 *   127.0.0.1, so the lab's collector reads the pod from these instead, and only they. The app also
 *   claims another namespace, `k8s.namespace.name=claimed-by-the-app`, as a sender could: the
 *   collector must never take it.
 *
 * What it sends, at `rate` requests a second: per request a server span with nested children
 * (its handler, a database query, a call to a payment service that fails and is retried in 5 %
 * of requests), varied durations (1 % over a second), 5xx answers at 0.05 % and 404s at 3 %;
 * OpenTelemetry's HTTP server metrics (`http.server.request.duration`, whose count is the
 * request counter, and `http.server.active_requests`); a log line per request, and one per failed
 * payment attempt, each carrying its span's trace and span ids. No exemplars: the JavaScript SDK
 * (sdk-metrics 2.12) attaches none to what it exports.
 *
 * It stops by itself after `seconds` (or at SIGTERM), flushing what it holds, and keeps a status
 * file (counts sent, and recent trace ids with their shape) that the lab reads.
 */
import * as fs from "fs";
import * as path from "path";
import type { LocalRun, ManagedProcess } from "../processes/children";
import { LAB_POD_ATTRIBUTES } from "./tracing";

/** What the lab asks of the app. */
export interface OtlpAppSpec {
  /** The collector's OTLP/HTTP base URL (`http://127.0.0.1:<port>`). */
  endpoint: string;
  service: string;
  namespace: string;
  pod: string;
  podUid: string;
  /** Requests a second. */
  rate: number;
  /** How long it runs before it stops by itself. */
  seconds: number;
  /** Milliseconds between metric exports. */
  metricIntervalMs: number;
  /** Its status file (OtlpAppStatus, JSON). */
  statusFile: string;
}

/** One request's trace, as the app made it. */
export interface SentTrace {
  traceId: string;
  route: string;
  status: number;
  spans: number;
  /** A payment attempt failed (a span with an error status). */
  failedAttempt: boolean;
}

/** What the app has sent so far. */
export interface OtlpAppStatus {
  requests: number;
  spans: number;
  logs: number;
  /** The last traces, and the first ones with a failed attempt. */
  traces: SentTrace[];
  /** Set once it has flushed and stopped. */
  done: boolean;
}

/** Starts the app in its own process under `local` (bounded by the run's lifetime, and by its own `seconds`). */
export function startOtlpApp(local: LocalRun, spec: OtlpAppSpec): ManagedProcess {
  const fastStart = path.join(__dirname, "..", "..", "cli", "fast-start.js");
  return local.start("otlp-app", process.execPath, ["-r", fastStart, __filename], {
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: spec.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_SERVICE_NAME: spec.service,
      OTEL_RESOURCE_ATTRIBUTES: [
        `${LAB_POD_ATTRIBUTES.uid}=${spec.podUid}`,
        `${LAB_POD_ATTRIBUTES.namespace}=${spec.namespace}`,
        `${LAB_POD_ATTRIBUTES.name}=${spec.pod}`,
        "k8s.namespace.name=claimed-by-the-app",
      ].join(","),
      OTEL_METRIC_EXPORT_INTERVAL: String(spec.metricIntervalMs),
      OTLP_APP_RATE: String(spec.rate),
      OTLP_APP_SECONDS: String(spec.seconds),
      OTLP_APP_STATUS: spec.statusFile,
    },
  });
}

/** The app's status, once it has written one. */
export function readOtlpAppStatus(file: string): OtlpAppStatus | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as OtlpAppStatus;
  } catch {
    return undefined;
  }
}

/** A deterministic generator, so that a run can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const ROUTES = ["/checkout", "/cart", "/pay"];
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** Spans and log records leave within a second (the SDK's default: 5 s, 1 s for logs). */
const BATCH_DELAY_MS = 1000;
/** Ticks a second: requests are spread over the second. */
const TICKS = 10;

/** The app itself: run when this file is the process's main module. */
async function main(): Promise<void> {
  // Loaded here: the lab's own process only starts the app.
  const api = await import("@opentelemetry/api");
  const { SeverityNumber } = await import("@opentelemetry/api-logs");
  const { defaultResource, detectResources, envDetector } = await import("@opentelemetry/resources");
  const { BasicTracerProvider, BatchSpanProcessor } = await import("@opentelemetry/sdk-trace-base");
  const { MeterProvider, PeriodicExportingMetricReader } = await import("@opentelemetry/sdk-metrics");
  const { LoggerProvider, BatchLogRecordProcessor } = await import("@opentelemetry/sdk-logs");
  const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-proto");
  const { OTLPMetricExporter } = await import("@opentelemetry/exporter-metrics-otlp-proto");
  const { OTLPLogExporter } = await import("@opentelemetry/exporter-logs-otlp-proto");

  const rate = Number(process.env.OTLP_APP_RATE ?? "5");
  const seconds = Number(process.env.OTLP_APP_SECONDS ?? "60");
  const statusFile = process.env.OTLP_APP_STATUS ?? "";
  // The SDK's own attributes (telemetry.sdk.*), then OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read by its detector.
  const resource = defaultResource().merge(detectResources({ detectors: [envDetector] }));

  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: BATCH_DELAY_MS })],
  });
  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter(),
        exportIntervalMillis: Number(process.env.OTEL_METRIC_EXPORT_INTERVAL ?? "60000"),
      }),
    ],
  });
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter(), scheduledDelayMillis: BATCH_DELAY_MS })],
  });
  const tracer = tracerProvider.getTracer("otlp-app");
  const meter = meterProvider.getMeter("otlp-app");
  const logger = loggerProvider.getLogger("otlp-app");

  const duration = meter.createHistogram("http.server.request.duration", {
    unit: "s",
    description: "Duration of HTTP server requests.",
    advice: { explicitBucketBoundaries: BUCKETS },
  });
  let inFlight = 0;
  meter
    .createObservableUpDownCounter("http.server.active_requests", { unit: "{request}", description: "Requests in flight." })
    .addCallback((result) => result.observe(inFlight));

  const random = seeded(7);
  const status: OtlpAppStatus = { requests: 0, spans: 0, logs: 0, traces: [], done: false };
  const failedTraces: SentTrace[] = [];
  const writeStatus = () => {
    if (!statusFile) return;
    const out = { ...status, traces: [...failedTraces, ...status.traces] };
    fs.writeFileSync(`${statusFile}.tmp`, JSON.stringify(out));
    fs.renameSync(`${statusFile}.tmp`, statusFile);
  };

  /** One request that ended now and took `took` seconds: its spans, its metrics, its log lines. */
  const request = (took: number, route: string, method: string, code: number) => {
    const end = Date.now();
    const at = (fraction: number) => end - took * 1000 * (1 - fraction);
    const attributes = { "http.request.method": method, "http.route": route, "http.response.status_code": code };
    const root = tracer.startSpan(`${method} ${route}`, { kind: api.SpanKind.SERVER, startTime: at(0), attributes }, api.ROOT_CONTEXT);
    const rootContext = api.trace.setSpan(api.ROOT_CONTEXT, root);
    const handler = tracer.startSpan("checkout.handle", { kind: api.SpanKind.INTERNAL, startTime: at(0.02) }, rootContext);
    const handlerContext = api.trace.setSpan(api.ROOT_CONTEXT, handler);
    const query = tracer.startSpan(
      "SELECT shop.orders",
      { kind: api.SpanKind.CLIENT, startTime: at(0.05), attributes: { "db.system.name": "postgresql", "db.operation.name": "SELECT" } },
      handlerContext,
    );
    query.end(at(0.3));
    let spans = 3;
    let failedAttempt = false;
    if (route !== "/cart") {
      // A payment call; one in twenty fails first and is retried.
      failedAttempt = random() < 0.05;
      const attempts = failedAttempt ? 2 : 1;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        const from = 0.35 + (attempt - 1) * 0.25;
        const call = tracer.startSpan(
          "POST /charge",
          {
            kind: api.SpanKind.CLIENT,
            startTime: at(from),
            attributes: { "peer.service": "payments", "http.request.method": "POST", "app.attempt": attempt },
          },
          handlerContext,
        );
        const failed = failedAttempt && attempt === 1;
        if (failed) {
          call.setAttribute("http.response.status_code", 503);
          call.setStatus({ code: api.SpanStatusCode.ERROR, message: "payments answered 503" });
          logger.emit({
            severityNumber: SeverityNumber.WARN,
            severityText: "WARN",
            body: "payment failed: payments answered 503, retrying",
            attributes: { "http.route": route },
            context: api.trace.setSpan(api.ROOT_CONTEXT, call),
          });
          status.logs++;
        } else call.setAttribute("http.response.status_code", 200);
        call.end(at(from + 0.2));
        spans++;
      }
    }
    handler.end(at(0.97));
    if (code >= 500) root.setStatus({ code: api.SpanStatusCode.ERROR, message: `answered ${code}` });
    root.end(end);
    duration.record(took, attributes);
    const severity = code >= 500 ? SeverityNumber.ERROR : code >= 400 ? SeverityNumber.WARN : SeverityNumber.INFO;
    logger.emit({
      severityNumber: severity,
      severityText: code >= 500 ? "ERROR" : code >= 400 ? "WARN" : "INFO",
      body: code >= 500 ? `${method} ${route} failed: ${code}` : `${method} ${route} served: ${code}`,
      attributes: { "http.route": route, "http.response.status_code": code },
      context: rootContext,
    });
    status.logs++;
    status.requests++;
    status.spans += spans;
    const sent: SentTrace = { traceId: root.spanContext().traceId, route, status: code, spans, failedAttempt };
    status.traces = [...status.traces.slice(-19), sent];
    if (failedAttempt && failedTraces.length < 5) failedTraces.push(sent);
  };

  // What is owed follows the clock, not the ticks: on a busy machine a tick comes late, and the
  // next one makes up for it, so that the rate holds on average.
  let owed = 0;
  let last = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    owed += (rate * (now - last)) / 1000;
    last = now;
    const count = Math.floor(owed);
    owed -= count;
    inFlight = Math.round(count * TICKS * 0.1 + random() * 2);
    for (let i = 0; i < count; i++) {
      const route = ROUTES[Math.floor(random() * ROUTES.length)];
      const method = route === "/cart" ? "GET" : "POST";
      const code = random() < 0.0005 ? 500 : random() < 0.03 ? 404 : 200;
      const took = random() < 0.01 ? 1 + random() * 2 : 0.01 + random() * 0.24;
      request(took, route, method, code);
    }
  }, 1000 / TICKS);
  const statusTimer = setInterval(writeStatus, 1000);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      clearInterval(tick);
      clearInterval(statusTimer);
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown(), loggerProvider.shutdown()]);
      status.done = true;
      writeStatus();
      process.exit(0);
    })());
  setTimeout(() => void stop(), seconds * 1000);
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
  process.stdout.write(`otlp-app: ${rate} requests/s to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT} for ${seconds} s\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`otlp-app: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
