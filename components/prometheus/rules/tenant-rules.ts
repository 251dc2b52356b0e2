/**
 * A PrometheusRule object's rules held to its own namespace (the way prometheus-operator's
 * `enforcedNamespaceLabel` does, and tighter): every vector selector of every expression gets
 * `namespace="<the object's namespace>"` in place of whatever namespace matchers it had, so that a
 * rule reads only its own namespace's series; every rule's output gets the same `namespace` label
 * (a rule's labels override what its expression gives); an alert's expression cannot hand it a
 * label the stack routes on, nor a severity: those labels are set empty (Prometheus drops a label
 * set to ""), so only what the object writes in `labels`, checked before (preflight/operator-rules.ts),
 * reaches Alertmanager. Expressions are parsed with Prometheus' own grammar (@prometheus-io/lezer-promql).
 */
import { parser as promqlParser } from "@prometheus-io/lezer-promql";
import type { SyntaxNode } from "@lezer/common";

/** The label every tenant rule reads and writes within. */
export const NAMESPACE_LABEL = "namespace";

/** The label that picks an alert's receiver class (components/kit/severities.ts gives its values). */
export const SEVERITY_LABEL = "severity";

/** A matcher's label name: `name`, or the quoted `"name"` form. */
function matcherLabel(expr: string, matcher: SyntaxNode): string | undefined {
  const name = matcher.getChild("LabelName") ?? matcher.getChild("QuotedLabelName");
  if (!name) return undefined;
  const text = expr.slice(name.from, name.to);
  return name.name === "QuotedLabelName" ? (JSON.parse(text) as string) : text;
}

/** The vector selectors of an expression (they never nest), in order. */
function vectorSelectors(expr: string): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  promqlParser.parse(expr).iterate({
    enter: (node) => {
      if (node.name === "VectorSelector") {
        found.push(node.node);
        return false;
      }
      return true;
    },
  });
  return found;
}

/**
 * The expression with every vector selector reading `namespace="<namespace>"` only: its own
 * namespace matchers (=, !=, =~, !~) dropped, the equality added. The rest of the text is kept as written.
 */
export function namespacedExpr(expr: string, namespace: string): string {
  const forced = `${NAMESPACE_LABEL}=${JSON.stringify(namespace)}`;
  let out = expr;
  // From the end, so that earlier offsets stay right.
  for (const selector of vectorSelectors(expr).reverse()) {
    const ident = selector.getChild("Identifier");
    const matchers = selector.getChild("LabelMatchers");
    const kept: string[] = [];
    if (matchers) {
      for (let child = matchers.firstChild; child; child = child.nextSibling) {
        if (child.name === "QuotedLabelName") kept.push(expr.slice(child.from, child.to));
        else if (child.name === "UnquotedLabelMatcher" || child.name === "QuotedLabelMatcher") {
          if (matcherLabel(expr, child) !== NAMESPACE_LABEL) kept.push(expr.slice(child.from, child.to));
        }
      }
    }
    const name = ident ? expr.slice(ident.from, ident.to) : "";
    const text = `${name}{${[...kept, forced].join(", ")}}`;
    out = out.slice(0, selector.from) + text + out.slice(selector.to);
  }
  return out;
}

/** The metric names an expression reads: each selector's name, or its `__name__="…"` matcher. */
export function seriesRead(expr: string): string[] {
  const names = new Set<string>();
  for (const selector of vectorSelectors(expr)) {
    const ident = selector.getChild("Identifier");
    if (ident) names.add(expr.slice(ident.from, ident.to));
    const matchers = selector.getChild("LabelMatchers");
    for (let child = matchers?.firstChild ?? null; child; child = child.nextSibling) {
      if (child.name === "QuotedLabelName") names.add(JSON.parse(expr.slice(child.from, child.to)) as string);
      if ((child.name === "UnquotedLabelMatcher" || child.name === "QuotedLabelMatcher") && matcherLabel(expr, child) === "__name__") {
        const op = child.getChild("MatchOp");
        const value = child.getChild("StringLiteral", "MatchOp");
        if (op && value && expr.slice(op.from, op.to) === "=") names.add(JSON.parse(expr.slice(value.from, value.to)) as string);
      }
    }
  }
  return [...names].sort();
}

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The fields of a rule group Prometheus takes (Thanos' partial_response_strategy is not one). */
export const GROUP_FIELDS_PROMETHEUS_TAKES = ["name", "interval", "query_offset", "limit", "rules", "labels"];

/**
 * An object's groups as loaded: the fields Prometheus takes; the group's labels moved onto each of
 * its rules (the rule's own win, as in Prometheus); each expression held to the namespace; every
 * rule labelled with it; each alert's routing labels, and its severity when it gives none, set empty
 * so that its expression cannot supply them.
 */
export function enforcedGroups(groups: unknown, namespace: string, routingLabels: readonly string[]): unknown {
  if (!Array.isArray(groups)) return groups;
  return groups.map((group: unknown) => {
    if (!isMap(group)) return group;
    const kept = Object.fromEntries(Object.entries(group).filter(([k]) => GROUP_FIELDS_PROMETHEUS_TAKES.includes(k) && k !== "labels"));
    const groupLabels = isMap(group.labels) ? group.labels : {};
    const rules = Array.isArray(group.rules)
      ? group.rules.map((rule: unknown) => {
          if (!isMap(rule)) return rule;
          const given = { ...groupLabels, ...(isMap(rule.labels) ? rule.labels : {}) };
          const emptied =
            rule.alert !== undefined
              ? Object.fromEntries(
                  [...routingLabels, ...(given[SEVERITY_LABEL] === undefined ? [SEVERITY_LABEL] : [])]
                    .filter((l) => given[l] === undefined && l !== NAMESPACE_LABEL)
                    .map((l) => [l, ""]),
                )
              : {};
          const expr = typeof rule.expr === "string" || typeof rule.expr === "number" ? namespacedExpr(String(rule.expr), namespace) : rule.expr;
          return { ...rule, expr, labels: { ...given, ...emptied, [NAMESPACE_LABEL]: namespace } };
        })
      : group.rules;
    return { ...kept, rules };
  });
}
