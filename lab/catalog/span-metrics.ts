/** The catalogue of the span metrics: what Prometheus stores of the series Alloy derives from apps' spans (otelcol.connector.spanmetrics). */
import { OTLP_RUN_NOTE, OTLP_SERVICE, otlpPipelineRun } from "./otlp-pipeline";
import { Generated, Run } from "./run";

export async function spanMetrics(r: Run): Promise<Generated> {
  const run = await otlpPipelineRun(r, false);
  // The app's own counter and its target_info are the app contract's (catalog/app-contract.txt).
  const names = new Set([...run.stored].filter((n) => n.startsWith("traces_span_metrics_")));
  return {
    notes: [
      `${OTLP_RUN_NOTE} Listed: the series names Prometheus stored that the span metrics connector made from the spans of service "${OTLP_SERVICE}", as its OTLP receiver names them. The labels of the calls counter as stored: ${run.spanMetricLabels.join(", ")} (without the collector's pod lookup here, so without namespace and pod). The labels of the exemplars stored with the duration histogram: ${run.exemplarLabels.join(", ") || "none"}.`,
    ],
    commands: run.commands,
    names,
  };
}
