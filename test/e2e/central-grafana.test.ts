/**
 * grafana.central's `environment` matcher, on the deployed Prometheus release: every query of the apps' dashboards as
 * withEnvironment rewrites it (panels' and variables'), its Grafana variables given values, is a recording rule that
 * promtool parses. (What the rewrite does, without a binary: test/components/central-grafana.test.ts.)
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { ENVIRONMENT_DASHBOARDS, readDashboards, withEnvironment } from "../../components/grafana/dashboards";
import { promtool } from "../../lab/local/binaries";

/** A dashboard query as PromQL: label_values(selector, label) as its selector, Grafana's variables given values. */
function promql(query: string): string {
  const labelValues = /^label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\)$/.exec(query.trim());
  return (labelValues ? labelValues[1] : query)
    .replace(/\$__rate_interval|\$__interval|\$__range/g, "5m")
    .replace(/\$\{?([A-Za-z_]+)\}?/g, ".*");
}

test("every query of the rewritten dashboards parses, the environment matcher in each selector", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "central-grafana-"));
  try {
    const rewritten = withEnvironment(readDashboards()).filter((d) =>
      (ENVIRONMENT_DASHBOARDS as readonly string[]).includes(String((JSON.parse(d.content) as { uid: string }).uid)),
    );
    expect(rewritten.length).toBe(ENVIRONMENT_DASHBOARDS.length);
    const queries: string[] = [];
    const walk = (value: unknown, key?: string): void => {
      if (Array.isArray(value)) value.forEach((v) => walk(v));
      else if (typeof value === "object" && value !== null) for (const [k, v] of Object.entries(value)) walk(v, k);
      else if (typeof value === "string" && (key === "expr" || key === "definition") && value !== "prometheus") queries.push(value);
    };
    for (const d of rewritten) walk(JSON.parse(d.content));
    expect(queries.length).toBeGreaterThan(40);
    expect(queries.filter((q) => q.includes("{") && !q.includes('environment=~"$environment"'))).toEqual([]);
    const rules = { groups: [{ name: "central", rules: queries.map((q, i) => ({ record: `check:query_${i}`, expr: promql(q) })) }] };
    const file = path.join(dir, "queries.yml");
    fs.writeFileSync(file, YAML.stringify(rules));
    const result = promtool(["check", "rules", file]);
    expect({ ok: result.ok, output: result.ok ? "" : result.output }).toEqual({ ok: true, output: "" });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
