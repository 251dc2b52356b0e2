/**
 * The one list of problems after resolving: each section's own (its `problems(resolved, given,
 * stack)` and its warnings, through the registry, components/stack/sections.ts) and the rules over
 * several sections (what Kubernetes, Prometheus and the components would refuse later, refused here
 * first), one file per concern. They run in CHECK_ORDER, which is the order of the list.
 */
import { z } from "zod";
import { prometheusStackProblems } from "../../components/prometheus/stack-problems";
import { StackConfig, componentJobs } from "../../components/stack/config";
import { AnySection, COMPONENT_SECTIONS, ComponentSectionName, SECTION_ENTRIES } from "../../components/stack/sections";
import { CrossProblem } from "../problems";
import { RawConfig, RawStackConfig } from "../schema";
import { backupChecks } from "./backup";
import { CheckInput, keyed, sectionProblems } from "./check";
import { exposureChecks, hostnameChecks } from "./exposure";
import { kubeStateMetricsChecks } from "./kube-state-metrics";
import { kubernetesLimits } from "./kubernetes";
import { logCollectorChecks } from "./log-collector";
import { monitorsChecks } from "./monitors";
import { databaseNameChecks, uniqueNames } from "./names";
import { nodeChecks } from "./nodes";
import { tracingChecks } from "./tracing";
import { protectedVolumeChecks } from "./volumes";
import { signInChecks } from "./sign-in";
import { watchChecks } from "./watch";

/** What Prometheus would refuse over several keys (components/prometheus/stack-problems.ts), keyed from the top. */
function prometheusRules(input: CheckInput): void {
  const { rawConfig, raw, resolved } = input;
  keyed(
    prometheusStackProblems({
      ...resolved,
      project: rawConfig.project,
      given: { prometheus: raw.prometheus, apps: raw.apps, probes: raw.probes },
      componentJobs: componentJobs(resolved),
    }),
    input,
  );
}

/**
 * The order of the list: a section's name stands for its own problems and warnings, a function for
 * a rule over several sections. A section with problems that is not placed here comes after, in the
 * registry's order.
 */
const CHECK_ORDER: ReadonlyArray<ComponentSectionName | ((input: CheckInput) => void)> = [
  "apps",
  uniqueNames,
  databaseNameChecks,
  "prometheus",
  "thresholds",
  "alertmanager",
  nodeChecks,
  "watch",
  watchChecks,
  "grafana",
  "cloudflare",
  exposureChecks,
  signInChecks,
  "traefik",
  protectedVolumeChecks,
  logCollectorChecks,
  "logCollector",
  kubeStateMetricsChecks,
  "kubeStateMetrics",
  "loki",
  "monitors",
  monitorsChecks,
  tracingChecks,
  "tracing",
  "backup",
  backupChecks,
  kubernetesLimits,
  prometheusRules,
  "databases",
  hostnameChecks,
];

/** The checks in their order: CHECK_ORDER, then the sections it does not place. */
const CHECKS: ReadonlyArray<ComponentSectionName | ((input: CheckInput) => void)> = [
  ...CHECK_ORDER,
  ...SECTION_ENTRIES.map(([name]) => name).filter((name) => !CHECK_ORDER.includes(name)),
];

/**
 * One section's problems, keyed under the section (a list's, and those at one of its secret keys,
 * from the top: `apps[1].name`, `basicAuthPasswords.<user>`), and its warnings as sentences.
 */
function sectionChecks(name: ComponentSectionName, input: CheckInput): void {
  const section: AnySection = COMPONENT_SECTIONS[name];
  const resolved = input.resolved[name];
  const found = section.problems?.(resolved, input.raw[name], input.resolved) ?? [];
  if (section.schema instanceof z.ZodArray) keyed(found, input);
  else sectionProblems(name, found, input, Object.keys(section.secrets ?? {}));
  for (const warning of section.warnings?.(resolved) ?? []) {
    const key = input.key(`${name}.${warning.key}`);
    input.warnings.push("sentence" in warning ? `${key}: ${warning.sentence}` : `${key} ${warning.message}.`);
  }
}

/** Every section's problems and every rule over several keys, on the raw and resolved values of one stack. */
export function crossChecks(
  rawConfig: RawConfig,
  raw: RawStackConfig,
  resolved: StackConfig,
  problems: CrossProblem[],
  warnings: string[],
): void {
  const key = (path: string) => `${rawConfig.project}:${path}`;
  const input: CheckInput = { rawConfig, raw, resolved, key, problems, warnings };
  for (const check of CHECKS) {
    if (typeof check === "function") check(input);
    else sectionChecks(check, input);
  }
}
