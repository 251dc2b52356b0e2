/** The catalogue of grafana Alloy: the tail of the stack's pipeline on CRI-format log files, pushing to a local sink. */
import * as fs from "fs";
import * as path from "path";
import { AlloyExpr, alloySyntax } from "../../components/log-collector/alloy-syntax";
import { pinnedBinary } from "../local/binaries";
import { alloyRunArgs } from "../local/logs";
import { OTLP_RUN_NOTE, otlpPipelineRun } from "./otlp-pipeline";
import { Generated, Run, collectorCatalogue, minus } from "./run";

export async function alloy(r: Run): Promise<Generated> {
  const binary = pinnedBinary("alloy");
  const sink = await r.sink();
  const start = (fast: boolean) => (logs: string, port: number) => {
    const file = path.join(logs, "..", "config.alloy");
    // The tail of alloyConfig()'s pipeline, written by the same syntax writer; the files come from a static target.
    const backoff: Array<[string, string | number]> = fast
      ? [
          ["min_backoff_period", "100ms"],
          ["max_backoff_period", "200ms"],
          ["max_backoff_retries", 2],
        ]
      : [
          ["min_backoff_period", "500ms"],
          ["max_backoff_period", "30s"],
          ["max_backoff_retries", 12],
        ];
    const config = alloySyntax([
      {
        name: "logging",
        attributes: [
          ["level", "info"],
          ["format", "logfmt"],
        ],
      },
      {
        name: "local.file_match",
        label: "pod_logs",
        attributes: [["path_targets", new AlloyExpr(`[{"__path__" = ${JSON.stringify(`${logs}/*.log`)}, "job" = "pods"}]`)]],
      },
      {
        name: "loki.source.file",
        label: "pod_logs",
        attributes: [
          ["targets", new AlloyExpr("local.file_match.pod_logs.targets")],
          ["forward_to", [new AlloyExpr("loki.process.pod_logs.receiver")]],
        ],
      },
      {
        name: "loki.process",
        label: "pod_logs",
        attributes: [["forward_to", [new AlloyExpr("loki.write.loki.receiver")]]],
        blocks: [{ name: "stage.cri" }, { name: "stage.label_drop", attributes: [["values", ["filename"]]] }],
      },
      {
        name: "loki.write",
        label: "loki",
        blocks: [{ name: "endpoint", attributes: [["url", sink.url("/loki/api/v1/push")], ...backoff] }],
      },
    ]);
    fs.writeFileSync(file, config);
    return {
      binary,
      // The flags of components/log-collector/, with local paths and the loopback.
      args: alloyRunArgs(file, port, path.join(logs, "..", "data")),
    };
  };
  const logs = await collectorCatalogue(
    r,
    "alloy",
    sink,
    start,
    "Its own /metrics, with the flags of components/log-collector/index.ts (local paths, 127.0.0.1) and the pipeline of components/log-collector/alloy.ts (alloyConfig) from local.file_match on: a static target of CRI-format log files under <tmp> instead of discovery.kubernetes and discovery.relabel, then loki.source.file, loki.process (stage.cri, stage.label_drop), loki.write to a local sink with the same backoff. Each component adds its own metrics, so those of the two discovery components are not listed.",
  );
  const seen = new Set([...logs.names, ...(logs.conditional ?? []).flatMap((b) => [...b.names])]);
  const otlp = await otlpPipelineRun(r, false);
  const otlpNames = minus(otlp.alloy, seen);
  const refused = await otlpPipelineRun(r, true);
  return {
    ...logs,
    notes: [...logs.notes, `The OTLP names: ${OTLP_RUN_NOTE}`],
    conditional: [
      ...(logs.conditional ?? []),
      { why: "the OTLP endpoint for apps (tracing.enabled or an app with otlp: true)", commands: [otlp.commands[0]], names: otlpNames },
      {
        why: "the OTLP endpoint's destinations refusing or unreachable (here Loki's and Prometheus' sinks answer 500, the traces backend's port is closed, retries cut to a second)",
        commands: [refused.commands[0]],
        names: minus(refused.alloy, new Set([...seen, ...otlpNames])),
      },
    ],
  };
}
