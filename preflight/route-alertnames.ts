/**
 * A route of alertmanager.routes that names its alerts (`alertname="AppDwon"`, `alertname=~"AppDown|NodeDown"`) by a
 * name no rule of the stack defines never takes an alert: Alertmanager has no list of names to check it against, and
 * the alerts it meant go to the routes after it or the default receiver, quietly. Read before any resource, against
 * every alert the stack can fire: the built-in rules (rules/, rules/logs/), the generated ones, the team's own
 * (teamContent) and the tenants' PrometheusRules loaded now (monitors.rules). A warning, not a refusal: a tenant may
 * write the rule after the route. With monitors.rules and no cluster (the offline render), the tenants' names are
 * unknown: no warning.
 */
import * as YAML from "yaml";
import type { StackConfig } from "../config";
import { editDistance } from "../config/problems";
import type { AlertRoute } from "../components/alertmanager/routing";
import type { TeamContent } from "../components/stack/team";
import { DATABASE_EXPORTER_MISSING } from "../components/prometheus/rules/database-rules";
import { PROMETHEUS_RULE_NOT_LOADED } from "../components/prometheus/rules/operator-rules";
import { BuiltinNames, builtinNames, ruleNamesOf } from "./team-content";

/** The alerts the program generates, whatever the rules directory holds. */
export const GENERATED_ALERTS: readonly string[] = [DATABASE_EXPORTER_MISSING, PROMETHEUS_RULE_NOT_LOADED];

/** The alert names a rule file defines (groups[].rules[].alert); none for a text that is not one. */
export function alertNamesOf(text: string): string[] {
  try {
    return ruleNamesOf(YAML.parse(text)).alerts;
  } catch {
    return [];
  }
}

/**
 * The names an `alertname` matcher (as routing.ts writes it: `alertname="X"` or `alertname=~"X|Y"`) selects, when
 * it selects names one by one; undefined for a negative matcher or a pattern (`App.*`), which names none.
 */
export function namedAlerts(matcher: string): string[] | undefined {
  const m = /^alertname(=~|=)(".*")$/.exec(matcher);
  if (!m) return undefined;
  const value = JSON.parse(m[2]) as string;
  if (m[1] === "=") return [value];
  return /^[A-Za-z0-9_:]+(\|[A-Za-z0-9_:]+)*$/.test(value) ? value.split("|") : undefined;
}

/** The known name nearest to `name`, when it is close enough to be a misspelling: the same but for case, or 2 edits at most. */
export function nearestName(name: string, known: Iterable<string>): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const candidate of known) {
    const d = editDistance(name, candidate);
    if (d <= 2 && (best === undefined || d < best.d)) best = { name: candidate, d };
  }
  return best?.name;
}

/**
 * A warning for each name an `alertname` matcher of a route selects that the stack does not define (`known`), keyed
 * `<project>:alertmanager.routes[i].matchers[j]`. `tenants`: whether the tenants' PrometheusRules are among `known`
 * (said in the warning); `routes` as resolved (their matchers normalised).
 */
export function routeAlertnameWarnings(
  routes: readonly AlertRoute[],
  known: ReadonlySet<string>,
  project: string,
  tenants: boolean,
): string[] {
  const warnings: string[] = [];
  const sources = `the built-in and generated rules, the team's${tenants ? " and the tenants' PrometheusRules loaded now" : ""}`;
  routes.forEach((route, i) =>
    route.matchers.forEach((matcher, j) => {
      for (const name of (namedAlerts(matcher) ?? []).filter((n) => !known.has(n))) {
        const near = nearestName(name, known);
        warnings.push(
          `${project}:alertmanager.routes[${i}].matchers[${j}]: ${JSON.stringify(name)} (${matcher}) is no alert of this stack (${sources}): ` +
            `the route takes no alert by that name, and the alerts it meant go on to the next route or the default receiver` +
            (near ? `; did you mean ${JSON.stringify(near)}?` : ""),
        );
      }
    }),
  );
  return warnings;
}

/**
 * The warnings for the stack's routes, read before any resource: `tenantRuleFiles` are the PrometheusRules' files
 * loaded now (preflight/operator-objects.ts; undefined when the stack does not read monitors). The built-in rules are
 * parsed (0.3 s) only when a route names an alert.
 */
export function checkRouteAlertnames(
  cfg: Pick<StackConfig, "alertmanager" | "monitors">,
  team: Pick<TeamContent, "rules" | "logRules">,
  tenantRuleFiles: ReadonlyArray<[string, string]> | undefined,
  project: string,
  offline: boolean,
  builtin: () => BuiltinNames = builtinNames,
): string[] {
  const routes = cfg.alertmanager.routing?.routes ?? [];
  if (!routes.some((r) => r.matchers.some((m) => namedAlerts(m) !== undefined))) return [];
  const tenants = tenantRuleFiles !== undefined && cfg.monitors.rules;
  // No cluster to read the tenants' rules from: any name may be theirs.
  if (tenants && offline) return [];
  const known = new Set<string>([
    ...builtin().alerts.keys(),
    ...GENERATED_ALERTS,
    ...[...team.rules, ...team.logRules].flatMap((f) => alertNamesOf(f.text)),
    ...(tenants ? tenantRuleFiles.flatMap(([, text]) => alertNamesOf(text)) : []),
  ]);
  return routeAlertnameWarnings(routes, known, project, tenants);
}
