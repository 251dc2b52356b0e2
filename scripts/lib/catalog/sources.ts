/** The sources `npm run catalog` generates, in the order it runs them: one file per source, beside this one. */
import { nodeExporterSource } from "./node-exporter";
import { prometheusSource } from "./prometheus";
import { alertmanagerSource } from "./alertmanager";
import { lokiSource } from "./loki";
import { promtailSource } from "./promtail";
import { alloySource } from "./alloy";
import { kubeStateMetricsSource } from "./kube-state-metrics";
import { postgresExporterSource } from "./postgres-exporter";
import { redisExporterSource } from "./redis-exporter";
import { blackboxExporterSource } from "./blackbox-exporter";
import { mongodbExporterSource } from "./mongodb-exporter";
import type { Source } from "./run";

export const SOURCES: Source[] = [
  nodeExporterSource,
  prometheusSource,
  alertmanagerSource,
  lokiSource,
  promtailSource,
  alloySource,
  kubeStateMetricsSource,
  postgresExporterSource,
  redisExporterSource,
  blackboxExporterSource,
  mongodbExporterSource,
];
