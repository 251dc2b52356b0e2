/**
 * The alerts generated from databases[] (components/prometheus/rules/database-rules.ts): one
 * DatabaseExporterMissing per configured database, keyed by its name and type, shipped in
 * the rendered stacks (test/e2e/database-rules.test.ts unit-tests them with the deployed
 * release's promtool).
 */
import * as YAML from "yaml";
import { databaseExporterRules } from "../../components/prometheus/rules/database-rules";
import { exporterJob } from "../../components/kit/database-exporters";
import { render } from "../support/render";
import { problems, standalone } from "../config/support";
import { DESCRIPTION, RuleFile, fileOf } from "../support/database-rules";

describe("databaseExporterRules", () => {
  test("one alert per database on the absence of its exporter's up series, named by the entry's name and type", () => {
    expect(
      databaseExporterRules(
        [
          { name: "shop-postgres", type: "postgres" },
          { name: "events", type: "mongodb" },
        ],
        "15s",
        "monitoring-staging",
      ),
    ).toEqual({
      groups: [
        {
          name: "database-exporters",
          interval: "15s",
          rules: [
            {
              alert: "DatabaseExporterMissing",
              expr: 'absent(up{job="postgres-exporter", database="shop-postgres", namespace="monitoring-staging"})',
              for: "10m",
              labels: { severity: "warning", database: "shop-postgres" },
              annotations: {
                summary: "A configured database has no exporter left to watch it.",
                description: DESCRIPTION("{{ $labels.job }}", "{{ $labels.database }}"),
                runbook: "docs/runbooks.md#databaseexportermissing",
              },
            },
            expect.objectContaining({ expr: 'absent(up{job="mongodb-exporter", database="events", namespace="monitoring-staging"})' }),
          ],
        },
      ],
    });
    expect(exporterJob("redis")).toBe("redis-exporter");
  });

  test("no databases: a valid file with no groups; a name twice never reaches it: config refuses it, once", () => {
    expect(databaseExporterRules([], "15s", "monitoring-staging")).toEqual({ groups: [] });
    // Two rules of one name and labels would be duplicates to promtool: the check is the section's (one place).
    expect(problems("staging", { databases: [standalone("db"), standalone("db", "redis")] })).toEqual([
      'monitoring:databases[1].name: database name "db" is used more than once (first at databases[0]); names must be unique',
    ]);
  });
});

describe("in the rendered stacks", () => {
  test("staging and production ship one alert per configured database, production's standalone MongoDB included", async () => {
    const exprs = async (stack: string) =>
      (YAML.parse(fileOf(await render(stack)) ?? "") as RuleFile).groups.flatMap((g) => g.rules.map((r) => r.expr));
    expect(await exprs("staging")).toEqual([
      'absent(up{job="postgres-exporter", database="shop-postgres", namespace="monitoring-staging"})',
      'absent(up{job="redis-exporter", database="shop-redis", namespace="monitoring-staging"})',
    ]);
    expect(await exprs("production")).toEqual([
      'absent(up{job="postgres-exporter", database="shop-postgres", namespace="monitoring-production"})',
      'absent(up{job="redis-exporter", database="shop-redis", namespace="monitoring-production"})',
      'absent(up{job="mongodb-exporter", database="events-mongodb", namespace="monitoring-production"})',
    ]);
  });

  test("a stack without databases has no such file; runbookBaseUrl links the runbook as for rules/", async () => {
    expect(fileOf(await render("staging", ["databases=[]"]))).toBeUndefined();
    const linked = YAML.parse(fileOf(await render("staging", ["prometheus.runbookBaseUrl=https://git.example.com/ops/runbooks.md"])) ?? "");
    expect((linked as RuleFile).groups[0].rules[0].annotations).toMatchObject({
      runbook: "docs/runbooks.md#databaseexportermissing",
      runbook_url: "https://git.example.com/ops/runbooks.md#databaseexportermissing",
    });
  });
});
