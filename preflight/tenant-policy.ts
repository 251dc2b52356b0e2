/**
 * What a PrometheusRule object (a tenant's: anyone who can write one in a watched namespace) may
 * not do, derived from what the stack ships and renders, never listed by hand: take a built-in
 * alert's or record's name (rules/, and the generated PrometheusRuleNotLoaded and its record),
 * record a series the built-in rules read (rules/*.yml, each expression parsed), set a label the
 * stack's Alertmanager routes or inhibits on (the rendered alertmanager.yml's matchers: `watchdog`
 * always, `severity`, the team's own routes' labels), give a severity outside critical, warning,
 * info (case counts), write another namespace into `namespace`, or query series from a template
 * (`query` in a label or annotation reads every namespace). The loaded file is then held to the
 * object's namespace (components/prometheus/rules/tenant-rules.ts).
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { StackConfig } from "../config";
import { DEFAULT_RULES_DIR } from "../components/prometheus/args";
import { alertmanagerConfig } from "../components/alertmanager/config-file";
import { alertmanagerArgs } from "../components/stack/args";
import { ALERT_SEVERITIES } from "../components/kit/severities";
import { LOADED_RECORD, PrometheusRuleObject } from "../components/prometheus/rules/operator-rules";
import { NAMESPACE_LABEL, SEVERITY_LABEL, seriesRead } from "../components/prometheus/rules/tenant-rules";
import { BuiltinNames, builtinNames } from "./team-content";

/** What a tenant's rules are checked against: each name or label with where the stack uses it. */
export interface TenantRulePolicy {
  alerts: Map<string, string>;
  records: Map<string, string>;
  /** Series the built-in rules read, to the file that reads it first. */
  reads: Map<string, string>;
  /** Labels Alertmanager's routes and inhibit rules match on (severity and namespace apart: checked and forced), to where. */
  routingLabels: Map<string, string>;
}

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every series the rule files of a directory read (rules/*.yml), to the first file that reads it. */
export function builtinReads(rulesDir: string = DEFAULT_RULES_DIR): Map<string, string> {
  const reads = new Map<string, string>();
  if (!fs.existsSync(rulesDir)) return reads;
  for (const file of fs
    .readdirSync(rulesDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    const doc: unknown = YAML.parse(fs.readFileSync(path.join(rulesDir, file), "utf8"));
    for (const group of isMap(doc) && Array.isArray(doc.groups) ? doc.groups : []) {
      for (const rule of isMap(group) && Array.isArray(group.rules) ? group.rules : []) {
        if (!isMap(rule) || (typeof rule.expr !== "string" && typeof rule.expr !== "number")) continue;
        for (const name of seriesRead(String(rule.expr))) if (!reads.has(name)) reads.set(name, `rules/${file}`);
      }
    }
  }
  return reads;
}

/** The label a matcher (`name="v"`, `name=~"v"`, `name!="v"`, `name!~"v"`, name quoted or not) matches on. */
function matcherLabel(matcher: unknown): string | undefined {
  if (typeof matcher !== "string") return undefined;
  const m = /^\s*("(?:[^"\\]|\\.)*"|[a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/.exec(matcher);
  if (!m) return undefined;
  return m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : m[1];
}

/** The labels an Alertmanager configuration routes or inhibits on (its matchers, match and match_re), to where. */
export function routingLabels(config: Json): Map<string, string> {
  const found = new Map<string, string>();
  const add = (label: string | undefined, where: string) => {
    if (label !== undefined && label !== SEVERITY_LABEL && label !== NAMESPACE_LABEL && label !== "alertname" && !found.has(label)) {
      found.set(label, where);
    }
  };
  const fromMatchers = (owner: Json, fields: string[], where: string) => {
    for (const field of fields) {
      const value = owner[field];
      if (Array.isArray(value)) value.forEach((m) => add(matcherLabel(m), `${where}.${field}`));
      else if (isMap(value)) Object.keys(value).forEach((k) => add(k, `${where}.${field}`));
    }
  };
  const walk = (route: unknown, where: string) => {
    if (!isMap(route)) return;
    fromMatchers(route, ["matchers", "match", "match_re"], where);
    if (Array.isArray(route.routes)) route.routes.forEach((r, i) => walk(r, `${where}.routes[${i}]`));
  };
  walk(config.route, "route");
  if (Array.isArray(config.inhibit_rules)) {
    config.inhibit_rules.forEach((rule, i) => {
      if (isMap(rule)) {
        fromMatchers(
          rule,
          ["source_matchers", "target_matchers", "source_match", "target_match", "source_match_re", "target_match_re"],
          `inhibit_rules[${i}]`,
        );
      }
    });
  }
  return found;
}

/** The policy of a stack: its shipped rules' names and reads, its rendered Alertmanager routing. */
export function tenantRulePolicy(cfg: StackConfig, builtin: Pick<BuiltinNames, "alerts" | "records"> = builtinNames()): TenantRulePolicy {
  const am = alertmanagerArgs(cfg);
  const config = alertmanagerConfig({
    environment: am.environment,
    receivers: am.receivers,
    ...(am.routing ? { routing: am.routing } : {}),
    groupWait: am.groupWait,
    groupInterval: am.groupInterval,
    repeatInterval: am.repeatInterval,
  });
  const generated = "components/prometheus/rules/operator-rules.ts";
  return {
    alerts: new Map([...builtin.alerts, ["PrometheusRuleNotLoaded", generated]]),
    records: new Map([...builtin.records, [LOADED_RECORD, generated]]),
    reads: builtinReads(),
    routingLabels: routingLabels(config),
  };
}

const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\r" || c === "\n";
const isAlphaNumeric = (c: string | undefined) => c !== undefined && /^[\p{L}\p{Nd}_]$/u.test(c);

/**
 * Whether a Go text/template (as Prometheus expands a rule's labels and annotations) calls the
 * function `query`, as text/template's lexer reads it: an action runs from `{{` (or `{{- `) to the
 * first `}}` outside a string (`"…"` with backslash escapes, `` `…` `` raw, `'…'` a character), a
 * comment `{{/* … *\/}}` is none; inside an action an identifier `query` is a call (alone, in a
 * pipeline, in parentheses), `.query` a field and `$query` a variable. A template text/template
 * would not parse runs nothing; read past its error, it may still be refused.
 */
export function templateCallsQuery(text: string): boolean {
  let i = 0;
  while ((i = text.indexOf("{{", i)) >= 0) {
    i += 2;
    const afterTrim = text[i] === "-" && isSpace(text[i + 1]) ? i + 2 : i;
    if (text.startsWith("/*", afterTrim)) {
      const close = text.indexOf("*/", afterTrim + 2);
      if (close < 0) return false;
      i = close + 2;
      continue;
    }
    for (; i < text.length && !text.startsWith("}}", i); i++) {
      const c = text[i];
      if (c === '"' || c === "'") {
        for (i++; i < text.length && text[i] !== c && text[i] !== "\n"; i++) if (text[i] === "\\") i++;
      } else if (c === "`") {
        i = text.indexOf("`", i + 1);
        if (i < 0) return false;
      } else if (isAlphaNumeric(c)) {
        const start = i;
        while (isAlphaNumeric(text[i + 1])) i++;
        const before = text[start - 1];
        if (text.slice(start, i + 1) === "query" && before !== "." && before !== "$") return true;
      }
    }
  }
  return false;
}

/** What the policy refuses in an object, each problem naming the field (the object is named by the caller). */
export function tenantRuleProblems(object: PrometheusRuleObject, policy: Pick<TenantRulePolicy, "reads" | "routingLabels">): string[] {
  const problems: string[] = [];
  const groups = (object.spec as { groups?: unknown } | undefined)?.groups;
  const labelProblems = (at: string, labels: unknown) => {
    if (!isMap(labels)) return;
    for (const [label, value] of Object.entries(labels)) {
      const where = policy.routingLabels.get(label);
      if (where !== undefined) {
        problems.push(`${at}.${label}: ${label} routes alerts in the stack's Alertmanager (${where}); a PrometheusRule may not set it`);
      }
      if (label === SEVERITY_LABEL && !(ALERT_SEVERITIES as readonly unknown[]).includes(value)) {
        problems.push(`${at}.severity is ${JSON.stringify(value)}: it must be one of ${ALERT_SEVERITIES.join(", ")} (lower case)`);
      }
      if (label === NAMESPACE_LABEL && value !== object.namespace) {
        problems.push(`${at}.namespace is ${JSON.stringify(value)}: the rules of namespace ${object.namespace} write its series only`);
      }
      if (typeof value === "string" && templateCallsQuery(value)) {
        problems.push(`${at}.${label} queries series from its template (query), which reads every namespace; a PrometheusRule may not`);
      }
    }
  };
  (Array.isArray(groups) ? groups : []).forEach((group: unknown, g: number) => {
    if (!isMap(group)) return;
    labelProblems(`groups[${g}].labels`, group.labels);
    (Array.isArray(group.rules) ? group.rules : []).forEach((rule: unknown, r: number) => {
      if (!isMap(rule)) return;
      const at = `groups[${g}].rules[${r}]`;
      if (typeof rule.record === "string") {
        const file = policy.reads.get(rule.record);
        if (file !== undefined)
          problems.push(`${at}: records ${rule.record}, a series the built-in rules read (${file}); record another name`);
      }
      labelProblems(`${at}.labels`, rule.labels);
      if (isMap(rule.annotations)) {
        for (const [name, value] of Object.entries(rule.annotations)) {
          if (typeof value === "string" && templateCallsQuery(value)) {
            problems.push(
              `${at}.annotations.${name} queries series from its template (query), which reads every namespace; a PrometheusRule may not`,
            );
          }
        }
      }
    });
  });
  return problems;
}
