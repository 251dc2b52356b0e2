/** What Grafana provisions at start: the datasources and the dashboard providers. */
import { imageVersion } from "../images";
import { SERVICE_PORTS, TRACES_QUERY_PORT, TRACES_SERVICE, serviceUrl } from "../kit/services";
import { PATHS } from "./args";
import { WRITABLE_FOLDER_DEFAULT } from "./section";

/** What the datasources depend on. */
export interface GrafanaDatasourcesArgs {
  /** Namespace of the stack's Prometheus, Alertmanager and Loki Services. */
  namespace: string;
  /** Provision Loki. */
  loki: boolean;
  /** Provision the traces datasource (Jaeger) and the links to and from it. Default false. */
  traces?: boolean;
  /** Prometheus' scrape interval: the smallest step worth querying. Default "15s". */
  scrapeInterval?: string;
  /** A Prometheus-compatible store that several stacks write to (grafana.central): the `central` datasource. Default none. */
  central?: { url: string };
}

/**
 * The datasources, with fixed uids that dashboards reference: `prometheus` (the
 * default), `loki` (when Loki runs), `traces` (when the traces backend runs) and
 * `alertmanager`. A disabled Loki or traces backend is deleted so that turning it off
 * does not leave a dead datasource behind. With traces, each one links to the others:
 * exemplars and log lines to their trace, a span to its app's logs and metrics.
 */
export function grafanaDatasources(args: GrafanaDatasourcesArgs): Record<string, unknown> {
  const datasources: Array<Record<string, unknown>> = [
    {
      name: "Prometheus",
      uid: "prometheus",
      type: "prometheus",
      access: "proxy",
      url: serviceUrl("prometheus", args.namespace, SERVICE_PORTS.prometheus),
      isDefault: true,
      editable: false,
      jsonData: {
        httpMethod: "POST",
        timeInterval: args.scrapeInterval ?? "15s",
        prometheusType: "Prometheus",
        prometheusVersion: imageVersion("prometheus").replace(/^v/, ""),
        // An exemplar's trace_id (OTLP exemplars, stored with Prometheus' exemplar storage) opens its trace.
        ...(args.traces ? { exemplarTraceIdDestinations: [{ name: "trace_id", datasourceUid: TRACES_UID }] } : {}),
      },
    },
    {
      name: "Alertmanager",
      uid: "alertmanager",
      type: "alertmanager",
      access: "proxy",
      url: serviceUrl("alertmanager", args.namespace, SERVICE_PORTS.alertmanager),
      isDefault: false,
      editable: false,
      jsonData: { implementation: "prometheus", handleGrafanaManagedAlerts: false },
    },
  ];
  if (args.loki) {
    datasources.push({
      name: "Loki",
      uid: "loki",
      type: "loki",
      access: "proxy",
      url: serviceUrl("loki", args.namespace, SERVICE_PORTS.loki),
      isDefault: false,
      editable: false,
      jsonData: {
        maxLines: 1000,
        // An OTLP log line's trace_id (structured metadata) opens its trace.
        ...(args.traces
          ? {
              derivedFields: [
                { name: "trace_id", matcherType: "label", matcherRegex: "trace_id", datasourceUid: TRACES_UID, url: "${__value.raw}" },
              ],
            }
          : {}),
      },
    });
  }
  if (args.central) datasources.push(centralDatasource(args.central.url, args.scrapeInterval));
  if (args.traces) datasources.push(tracesDatasource(args));
  const deleted = [...(args.loki ? [] : ["Loki"]), ...(args.traces ? [] : [TRACES_NAME])];
  return {
    apiVersion: 1,
    ...(deleted.length > 0 ? { deleteDatasources: deleted.map((name) => ({ name, orgId: 1 })) } : {}),
    datasources,
  };
}

/**
 * The central store every environment's Prometheus writes to (a VictoriaMetrics cluster's vmselect at
 * `/select/<accountID>/prometheus`, Mimir's `/prometheus`, a Prometheus): the dashboards' datasource picker offers it
 * beside the stack's own, and their `environment` variable chooses among the environments it holds.
 */
function centralDatasource(url: string, scrapeInterval: string | undefined): Record<string, unknown> {
  return {
    name: "Central",
    uid: "central",
    type: "prometheus",
    access: "proxy",
    url,
    isDefault: false,
    editable: false,
    jsonData: { httpMethod: "POST", timeInterval: scrapeInterval ?? "15s" },
  };
}

const TRACES_UID = "traces";
const TRACES_NAME = "Traces";

/**
 * Jaeger's query API. A span's resource attributes carry its pod's namespace and app (the
 * collector sets them), which are the labels of its logs in Loki and of its app's series.
 */
function tracesDatasource(args: GrafanaDatasourcesArgs): Record<string, unknown> {
  const stackLabels = [{ key: "namespace" }, { key: "app" }];
  // Around the span: the logs and samples of the minutes it ran in.
  const window = { spanStartTimeShift: "-5m", spanEndTimeShift: "5m" };
  return {
    name: TRACES_NAME,
    uid: TRACES_UID,
    type: "jaeger",
    access: "proxy",
    url: serviceUrl(TRACES_SERVICE, args.namespace, TRACES_QUERY_PORT),
    isDefault: false,
    editable: false,
    jsonData: {
      nodeGraph: { enabled: true },
      // From a span to its app's log lines of that trace (trace_id is structured metadata of OTLP logs).
      ...(args.loki
        ? {
            tracesToLogsV2: {
              datasourceUid: "loki",
              ...window,
              tags: stackLabels,
              customQuery: true,
              query: '{${__tags}} | trace_id="${__trace.traceId}"',
            },
          }
        : {}),
      // From a span to its app's request rate, errors and latency (the app:* series of the app rules),
      // and to its spans' own (the span metrics the collector derives from them).
      tracesToMetrics: {
        datasourceUid: "prometheus",
        ...window,
        tags: [{ key: "app" }],
        queries: [
          { name: "Request rate", query: "sum by (app) (app:http_requests:rate5m{$__tags})" },
          { name: "Error ratio", query: "app:slo_errors_per_request:ratio_rate5m{$__tags}" },
          { name: "p95 latency", query: "app:http_request_duration_seconds:p95_rate5m{$__tags}" },
          { name: "Spans per second by span", query: "sum by (span_name) (rate(traces_span_metrics_calls_total{$__tags}[5m]))" },
          {
            name: "Span p95 by span",
            query: "histogram_quantile(0.95, sum by (span_name, le) (rate(traces_span_metrics_duration_seconds_bucket{$__tags}[5m])))",
          },
        ],
      },
    },
  };
}

/** The uid of the writable folder: its identity, whatever its title. */
export const WRITABLE_FOLDER_UID = "writable-dashboards";

/**
 * Two file providers. `dashboards`: every dashboard of the repository, each directory under
 * the path a Grafana folder; the files are the source of truth (no saving from the UI), and a
 * removed file removes its dashboard. `writable-folder`: no dashboard at all, for its folder:
 * a provider with a `folder` (not foldersFromFilesStructure) gets or creates it at every scan
 * of its directory, even an empty one (Grafana's pkg/services/provisioning/dashboards,
 * storeDashboardsInFolder), so the folder exists on every start and comes back if deleted.
 * Dashboards users save there are not provisioned: Grafana lets them be edited and saved
 * like any other (its default permissions of a new top-level folder: Editors edit, Viewers
 * view), and the provider never deletes them (it deletes only dashboards it provisioned).
 * They live in Grafana's database; `npm run dashboard:export` brings one into the repository.
 */
export function grafanaDashboardProviders(writableFolder: string = WRITABLE_FOLDER_DEFAULT): Record<string, unknown> {
  return {
    apiVersion: 1,
    providers: [
      {
        name: "dashboards",
        orgId: 1,
        type: "file",
        disableDeletion: false,
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: PATHS.dashboards, foldersFromFilesStructure: true },
      },
      {
        name: "writable-folder",
        orgId: 1,
        type: "file",
        folder: writableFolder,
        folderUid: WRITABLE_FOLDER_UID,
        disableDeletion: true,
        allowUiUpdates: true,
        updateIntervalSeconds: 60,
        options: { path: PATHS.writableFolder },
      },
    ],
  };
}
