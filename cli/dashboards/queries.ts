/** The queries of a dashboard: each target's expression, its language, and Grafana's variables stood in for so that the grammars can parse it. */
import { JsonObject, PROVISIONED_DATASOURCES, asArray, asString, isObject, resolveDatasourceType, templateVariables, walkPanels } from "./files";

export type QueryLanguage = "promql" | "logql";

export interface DashboardQuery {
  where: string;
  language: QueryLanguage;
  /** The expression as written in the dashboard, Grafana variables included. */
  expr: string;
}

function languageOf(type: string | undefined): QueryLanguage | undefined {
  if (type === "prometheus") return "promql";
  if (type === "loki") return "logql";
  return undefined;
}

/**
 * The expression inside a Prometheus variable query, or a problem. Grafana's query functions:
 * label_values(selector, label), label_values(label), label_names(), metrics(regex), query_result(expr).
 */
function prometheusVariableExpr(query: string): { expr?: string; problem?: string } {
  const q = query.trim();
  let m = /^label_values\(\s*(.+)\s*,\s*[a-zA-Z_]\w*\s*\)$/s.exec(q);
  if (m) return { expr: m[1] };
  m = /^query_result\(\s*(.+)\s*\)$/s.exec(q);
  if (m) return { expr: m[1] };
  if (/^label_values\(\s*[a-zA-Z_]\w*\s*\)$/.test(q) || /^label_names\(.*\)$/s.test(q) || /^metrics\(.*\)$/s.test(q)) return {};
  return { problem: `is not one of Grafana's Prometheus variable functions: ${q}` };
}

/** Every query a dashboard runs: panel targets (nested rows included) and template variable queries, with their language. */
export function dashboardQueries(dashboard: JsonObject): { queries: DashboardQuery[]; problems: string[] } {
  const queries: DashboardQuery[] = [];
  const problems: string[] = [];
  for (const { panel, where } of walkPanels(dashboard)) {
    asArray(panel.targets).forEach((item, index) => {
      const target = isObject(item) ? item : {};
      const at = `${where} target ${asString(target.refId) ?? `#${index}`}`;
      const ref = "datasource" in target ? target.datasource : panel.datasource;
      const type = resolveDatasourceType(dashboard, ref);
      const language = languageOf(type);
      const expr = asString(target.expr);
      if (language === undefined) {
        // The traces (Jaeger) and Alertmanager datasources are provisioned, and their queries have no grammar to check.
        if (type !== undefined && Object.values(PROVISIONED_DATASOURCES).includes(type)) return;
        problems.push(`${at}: datasource type ${type ?? "unknown"} is neither Prometheus nor Loki`);
      } else if (expr === undefined || expr.trim() === "") {
        problems.push(`${at}: no expr`);
      } else {
        queries.push({ where: at, language, expr });
      }
    });
  }
  for (const { variable, where } of templateVariables(dashboard)) {
    if (variable.type !== "query") continue;
    const language = languageOf(resolveDatasourceType(dashboard, variable.datasource));
    const query = variable.query;
    if (language === "promql") {
      const text = isObject(query) ? asString(query.query) : asString(query);
      if (text === undefined) {
        problems.push(`${where}: no query`);
        continue;
      }
      const { expr, problem } = prometheusVariableExpr(text);
      if (problem) problems.push(`${where}: ${problem}`);
      if (expr !== undefined) queries.push({ where, language, expr });
    } else if (language === "logql") {
      // Grafana 12's Loki variable editor stores { type, label, stream }; the stream selector is LogQL.
      const stream = isObject(query) ? asString(query.stream) : undefined;
      if (stream) queries.push({ where, language, expr: stream });
    } else {
      problems.push(`${where}: a query variable needs a Prometheus or Loki datasource`);
    }
  }
  return { queries, problems };
}

/** Grafana's built-in variables and what they stand for in a query (durations for the interval and range ones). */
const BUILT_IN_STAND_INS: Readonly<Record<string, string>> = {
  __rate_interval: "5m",
  __interval: "1m",
  __range: "1h",
  __auto: "1m",
  __interval_ms: "60000",
  __range_s: "3600",
  __range_ms: "3600000",
  __rate_interval_ms: "300000",
  __from: "1700000000000",
  __to: "1700003600000",
};

const VARIABLE_PATTERN = /\$\{([A-Za-z_]\w*)(?::[^}]*)?\}|\[\[([A-Za-z_]\w*)(?::[^\]]*)?\]\]|\$([A-Za-z_]\w*)/g;

/**
 * Replaces Grafana variables ($var, ${var}, ${var:format}, [[var]]) by valid stand-ins so the official
 * grammars can parse the expression: built-in intervals and ranges by durations or numbers, dashboard
 * variables by a plain word (valid inside a quoted matcher value, and a metric name anywhere else, so
 * a variable used as a metric name fails the catalogue check). Returns the names it did not know.
 */
export function substituteVariables(expr: string, known: ReadonlySet<string> = new Set()): { expr: string; unknown: string[] } {
  const unknown = new Set<string>();
  const out = expr.replace(VARIABLE_PATTERN, (_match, braced?: string, bracketed?: string, bare?: string) => {
    const name = braced ?? bracketed ?? bare ?? "";
    const builtIn = BUILT_IN_STAND_INS[name];
    if (builtIn !== undefined) return builtIn;
    if (!known.has(name)) unknown.add(name);
    return `grafana_var_${name}`;
  });
  return { expr: out, unknown: [...unknown].sort() };
}

