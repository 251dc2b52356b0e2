/**
 * The cluster's PrometheusRule objects (monitors.rules), read before any resource at preview and
 * up, and turned into Prometheus rule files (components/prometheus/rules/operator-rules.ts). Each
 * object is checked as the team's own rule files are (preflight/team-content.ts: the fields
 * Prometheus takes, durations, names, no rule named like a built-in alert or record), against what
 * a tenant may not do (preflight/tenant-policy.ts: record a series the built-in rules read, set a
 * label the stack routes on, a severity outside the known set, another namespace), and every
 * expression parsed with Prometheus' own grammar (@prometheus-io/lezer-promql), before and after
 * it is held to the object's namespace. Prometheus refuses every rule file when one does not load,
 * and a rule the policy refuses could fake or mute another namespace's alert, so an object with a
 * problem is left out whole, with a warning naming it and the problem, and the others are loaded.
 * PrometheusRuleNotLoaded then fires for it.
 */
import { parser as promqlParser } from "@prometheus-io/lezer-promql";
import { MONITORING_GROUP, MONITORING_VERSION, MONITOR_KINDS } from "../components/monitors/args";
import {
  OPERATOR_LOADED_KEY,
  PrometheusRuleObject,
  SelectorMatcher,
  operatorLoadedRules,
  objectRuleFileText,
  operatorRuleFileText,
  operatorRuleKey,
} from "../components/prometheus/rules/operator-rules";
import { namespacedExpr } from "../components/prometheus/rules/tenant-rules";
import { teamRuleFileProblems } from "./team-content";
import { TenantRulePolicy, tenantRuleProblems } from "./tenant-policy";
import { KubeGet } from "./kube-api";

/** Lists the PrometheusRule objects of the namespaces given (none: every namespace) that carry the selector's labels. */
export type RuleLister = (
  namespaces: readonly string[] | undefined,
  selector: Readonly<Record<string, string>>,
) => Promise<PrometheusRuleObject[]>;

export function ruleLister(get: KubeGet): RuleLister {
  return async (namespaces, selector) => {
    const plural = MONITOR_KINDS.PrometheusRule.plural;
    const labelSelector = Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    const query = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : "";
    const base = `/apis/${MONITORING_GROUP}/${MONITORING_VERSION}`;
    const paths = namespaces ? namespaces.map((ns) => `${base}/namespaces/${ns}/${plural}${query}`) : [`${base}/${plural}${query}`];
    const objects: PrometheusRuleObject[] = [];
    for (const p of paths) {
      const answer = await get(p);
      // No CRD (yet): no object of the kind can exist.
      if (answer.status === 404) continue;
      if (answer.status !== 200) throw new Error(`listing PrometheusRules (${p}) answered HTTP ${answer.status}`);
      const items = ((answer.body ?? {}) as { items?: unknown[] }).items ?? [];
      for (const item of items) {
        const o = item as { metadata?: { namespace?: string; name?: string; generation?: number }; spec?: unknown };
        if (!o.metadata?.namespace || !o.metadata.name) continue;
        objects.push({ namespace: o.metadata.namespace, name: o.metadata.name, generation: o.metadata.generation ?? 0, spec: o.spec });
      }
    }
    return objects.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  };
}

/** Where Prometheus' grammar gives up on an expression, or undefined when it parses. */
export function promqlErrorAt(expr: string): number | undefined {
  let at: number | undefined;
  promqlParser.parse(expr).iterate({
    enter: (node) => {
      if (at === undefined && node.type.isError) at = node.from;
      return at === undefined;
    },
  });
  return at;
}

/** The expressions of an object's rules that do not parse, as written or held to its namespace, as problems. */
function expressionProblems(object: PrometheusRuleObject): string[] {
  const groups = (object.spec as { groups?: unknown } | undefined)?.groups;
  const problems: string[] = [];
  (Array.isArray(groups) ? groups : []).forEach((group: unknown, g: number) => {
    const rules = (group as { rules?: unknown } | undefined)?.rules;
    (Array.isArray(rules) ? rules : []).forEach((rule: unknown, r: number) => {
      const expr = (rule as { expr?: unknown } | undefined)?.expr;
      if (typeof expr !== "string" && typeof expr !== "number") return;
      const text = String(expr);
      const at = promqlErrorAt(text);
      if (at !== undefined) {
        problems.push(
          `groups[${g}].rules[${r}].expr does not parse at character ${at + 1}: ${JSON.stringify(text.slice(Math.max(0, at - 20), at + 20))}`,
        );
        return;
      }
      const held = namespacedExpr(text, object.namespace);
      const heldAt = promqlErrorAt(held);
      if (heldAt !== undefined) {
        problems.push(`groups[${g}].rules[${r}].expr no longer parses once held to namespace ${object.namespace}: ${JSON.stringify(held)}`);
      }
    });
  });
  return problems;
}

/** The problems that keep an object's rule file out: those Prometheus would refuse, and those the tenant policy refuses. */
export function prometheusRuleProblems(object: PrometheusRuleObject, policy: TenantRulePolicy): string[] {
  const structural = teamRuleFileProblems(objectRuleFileText(object), { alerts: policy.alerts, records: policy.records });
  const refused = [...structural, ...tenantRuleProblems(object, policy)];
  return refused.length > 0 ? refused : expressionProblems(object);
}

/**
 * The rule files of the objects that load (each `operator.<namespace>.<name>.yml`, held to its
 * namespace), then the record of what was loaded and its alert; a warning for each object left out.
 */
export function operatorRuleFiles(
  objects: readonly PrometheusRuleObject[],
  policy: TenantRulePolicy,
  matchers: readonly SelectorMatcher[],
  key: string,
): { files: Array<[string, string]>; warnings: string[] } {
  const files: Array<[string, string]> = [];
  const warnings: string[] = [];
  const loaded: PrometheusRuleObject[] = [];
  const routing = [...policy.routingLabels.keys()].sort();
  for (const object of objects) {
    const problems = prometheusRuleProblems(object, policy);
    if (problems.length > 0) {
      warnings.push(
        `${key}: PrometheusRule ${object.namespace}/${object.name} is not loaded (the others are): ${problems.join("; ")}. Fix the object (its chart), then pulumi up.`,
      );
      continue;
    }
    files.push([operatorRuleKey(object), operatorRuleFileText(object, routing)]);
    loaded.push(object);
  }
  files.push([OPERATOR_LOADED_KEY, operatorLoadedRules(loaded, matchers)]);
  return { files, warnings };
}
