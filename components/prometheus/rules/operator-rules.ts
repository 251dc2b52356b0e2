/**
 * PrometheusRule objects (monitoring.coreos.com/v1) as Prometheus rule files: one file per object,
 * its groups as the operator would write them (Thanos' partial_response_strategy left out, which
 * Prometheus refuses) and held to the object's namespace (tenant-rules.ts), and a generated file that records which objects, at which generation, the
 * running Prometheus has loaded, with the alert that fires when kube-state-metrics sees one it has not.
 */
import * as YAML from "yaml";
import { GROUP_FIELDS_PROMETHEUS_TAKES, enforcedGroups } from "./tenant-rules";

/** A PrometheusRule object as read from the cluster: where it is, its generation, its spec. */
export interface PrometheusRuleObject {
  namespace: string;
  name: string;
  generation: number;
  spec: unknown;
}

/** The key of an object's rule file: `operator.<namespace>.<name>.yml`, apart from the built-in, team and generated ones. */
export const operatorRuleKey = (o: Pick<PrometheusRuleObject, "namespace" | "name">): string => `operator.${o.namespace}.${o.name}.yml`;

/** The generated file of what was loaded, and the alert on what was not. */
export const OPERATOR_LOADED_KEY = "operator-rules-loaded.yml";

/** The alert of an object kube-state-metrics reports that the running Prometheus has not loaded. */
export const PROMETHEUS_RULE_NOT_LOADED = "PrometheusRuleNotLoaded";

/** The series that says an object was loaded, its value the object's generation. */
export const LOADED_RECORD = "monitoring_stack:prometheusrule_loaded:generation";

/** kube-state-metrics' series of each PrometheusRule, its value the object's generation (its custom resource state config). */
export const EXISTING_METRIC = "kube_customresource_prometheusrule_generation";

/** The object's groups as written, each with the fields Prometheus takes: what the checks read (preflight/operator-rules.ts). */
export function objectRuleFileText(object: PrometheusRuleObject): string {
  const spec = (object.spec ?? {}) as { groups?: unknown };
  const groups = Array.isArray(spec.groups)
    ? spec.groups.map((g: unknown) =>
        typeof g === "object" && g !== null && !Array.isArray(g)
          ? Object.fromEntries(Object.entries(g).filter(([k]) => GROUP_FIELDS_PROMETHEUS_TAKES.includes(k)))
          : g,
      )
    : spec.groups;
  return YAML.stringify({ groups }, { lineWidth: 0 });
}

/**
 * The rule file Prometheus loads for an object: its groups held to its namespace (every selector
 * and every output), its alerts unable to take `routingLabels` or a severity from their expression.
 */
export function operatorRuleFileText(object: PrometheusRuleObject, routingLabels: readonly string[]): string {
  const spec = (object.spec ?? {}) as { groups?: unknown };
  const groups = enforcedGroups(spec.groups, object.namespace, routingLabels);
  const header =
    `# PrometheusRule ${object.namespace}/${object.name} (generation ${object.generation}), read at pulumi up; ` +
    `held to namespace ${object.namespace}.\n`;
  return header + YAML.stringify({ groups }, { lineWidth: 0 });
}

/** What the stack's own labels select (monitors.selector), as label matchers on kube-state-metrics' series (their label names). */
export interface SelectorMatcher {
  label: string;
  value: string;
}

/**
 * The generated file: one recording rule per loaded object (its namespace, name and generation),
 * and PrometheusRuleNotLoaded: an object kube-state-metrics reports that the running Prometheus has
 * not loaded, or has loaded at another generation. `matchers` keep the alert to the objects the
 * stack reads (monitors.selector).
 */
export function operatorLoadedRules(loaded: readonly PrometheusRuleObject[], matchers: readonly SelectorMatcher[] = []): string {
  const selector = matchers.length > 0 ? `{${matchers.map((m) => `${m.label}=${JSON.stringify(m.value)}`).join(", ")}}` : "";
  const existing = `max by (namespace, name) (${EXISTING_METRIC}${selector})`;
  const recorded = `max by (namespace, name) (${LOADED_RECORD})`;
  const doc = {
    groups: [
      {
        name: "operator-rules",
        rules: [
          ...loaded.map((o) => ({
            record: LOADED_RECORD,
            expr: `vector(${o.generation})`,
            labels: { namespace: o.namespace, name: o.name },
          })),
          {
            alert: PROMETHEUS_RULE_NOT_LOADED,
            expr: `(${existing} unless on (namespace, name) ${recorded})\nor\n(${existing} != on (namespace, name) ${recorded})\n`,
            for: "15m",
            labels: { severity: "warning" },
            annotations: {
              summary: "A PrometheusRule exists that Prometheus has not loaded.",
              description:
                "The PrometheusRule {{ $labels.namespace }}/{{ $labels.name }} exists (generation {{ $value }}) but the running stack has not loaded it, " +
                "or loaded an earlier generation: PrometheusRules are read at pulumi up. Run pulumi up; if it still fires, pulumi up's warnings name what keeps the object out.",
              runbook: "docs/runbooks.md#prometheusrulenotloaded",
            },
          },
        ],
      },
    ],
  };
  return "# Generated: the PrometheusRule objects the stack loaded at pulumi up (components/prometheus/rules/operator-rules.ts).\n" + YAML.stringify(doc, { lineWidth: 0 });
}
