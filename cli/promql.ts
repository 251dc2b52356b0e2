import { parser as promqlParser } from "@prometheus-io/lezer-promql";
import { parser as logqlParser } from "@grafana/lezer-logql";
import type { Tree } from "@lezer/common";

/** A parse problem: the expression and the offset where the official grammar gave up. */
export interface ParseProblem {
  expr: string;
  at: number;
}

function firstError(tree: Tree): number | undefined {
  let at: number | undefined;
  tree.iterate({
    enter: (node) => {
      if (at === undefined && node.type.isError) at = node.from;
      return at === undefined;
    },
  });
  return at;
}

/** Parses PromQL with Prometheus' own Lezer grammar; returns the problem or undefined. */
export function promqlProblem(expr: string): ParseProblem | undefined {
  const at = firstError(promqlParser.parse(expr));
  return at === undefined ? undefined : { expr, at };
}

/** Parses LogQL with Grafana's own Lezer grammar; returns the problem or undefined. */
export function logqlProblem(expr: string): ParseProblem | undefined {
  const at = firstError(logqlParser.parse(expr));
  return at === undefined ? undefined : { expr, at };
}

/**
 * Metric names a PromQL expression selects: the identifier of every vector
 * selector, and the value of `__name__="..."` matchers.
 */
export function promqlMetricNames(expr: string): string[] {
  const names = new Set<string>();
  const tree = promqlParser.parse(expr);
  tree.iterate({
    enter: (node) => {
      if (node.name === "VectorSelector") {
        const ident = node.node.getChild("Identifier");
        if (ident) names.add(expr.slice(ident.from, ident.to));
      }
      if (node.name === "UnquotedLabelMatcher" || node.name === "QuotedLabelMatcher") {
        const text = expr.slice(node.from, node.to);
        const m = /^"?__name__"?\s*=\s*"([^"]+)"$/.exec(text);
        if (m) names.add(m[1]);
      }
    },
  });
  return [...names].sort();
}
