/**
 * Rules that involve more than one key: what Kubernetes, Prometheus and the components would
 * refuse later, refused here first, so that one run lists every problem in one format. Each
 * file checks one component or concern; they run in this order, which is the order of the list.
 */
import { CrossProblem } from "../problems";
import { StackConfig } from "../../components/stack/config";
import { RawConfig, RawStackConfig } from "../schema";
import { CheckInput } from "./check";
import { databaseNameChecks, dsnChecks } from "./databases";
import { exposureChecks, hostnameChecks } from "./exposure";
import { kubeStateMetricsChecks } from "./kube-state-metrics";
import { kubernetesLimits } from "./kubernetes";
import { logCollectorChecks } from "./log-collector";
import { monitorsChecks } from "./monitors";
import { uniqueNames } from "./names";
import { nodeChecks } from "./nodes";
import { appNameChecks, prometheusRules } from "./prometheus";
import { tracingChecks } from "./tracing";
import { protectedVolumeChecks } from "./volumes";
import { sectionChecks } from "./sections";
import { signInChecks } from "./sign-in";
import { watchChecks } from "./watch";

const CHECKS: ReadonlyArray<(input: CheckInput) => void> = [
  appNameChecks,
  uniqueNames,
  databaseNameChecks,
  sectionChecks("prometheus"),
  sectionChecks("thresholds"),
  sectionChecks("alertmanager"),
  nodeChecks,
  sectionChecks("watch"),
  watchChecks,
  sectionChecks("grafana"),
  sectionChecks("cloudflare"),
  exposureChecks,
  signInChecks,
  sectionChecks("traefik"),
  protectedVolumeChecks,
  logCollectorChecks,
  sectionChecks("logCollector"),
  kubeStateMetricsChecks,
  sectionChecks("kubeStateMetrics"),
  sectionChecks("loki"),
  sectionChecks("monitors"),
  monitorsChecks,
  tracingChecks,
  sectionChecks("tracing"),
  sectionChecks("backup"),
  kubernetesLimits,
  prometheusRules,
  dsnChecks,
  hostnameChecks,
];

/** Every rule over several keys, on the raw and resolved values of one stack. */
export function crossChecks(
  rawConfig: RawConfig,
  raw: RawStackConfig,
  resolved: StackConfig,
  problems: CrossProblem[],
  warnings: string[],
): void {
  const key = (path: string) => `${rawConfig.project}:${path}`;
  for (const check of CHECKS) check({ rawConfig, raw, resolved, key, problems, warnings });
}
