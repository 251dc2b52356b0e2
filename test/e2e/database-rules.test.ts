/**
 * The alerts generated from databases[] (components/prometheus/rules/database-rules.ts),
 * unit-tested with the deployed release's promtool on the file as the staging stack renders
 * it: silent while the exporter is scraped, pending when its series vanish, firing exactly at
 * the `for` boundary, for that database only; a team's annotated pod in a watched namespace that
 * wears the exporter's job and the database's name (Prometheus' pod job gives it both) does not
 * keep it from firing.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { DATABASE_EXPORTER_MISSING, DATABASE_EXPORTER_MISSING_FOR } from "../../components/prometheus/rules/database-rules";
import { DATABASE_RULES_KEY } from "../../components/prometheus/args";
import { durationSeconds } from "../../components/kit/units";
import { promtool } from "../../lab/local/binaries";
import { render } from "../support/render";
import { DESCRIPTION, RuleFile, fileOf } from "../support/database-rules";

jest.setTimeout(120_000);

/** The staging stack's namespace, where its database exporters run. */
const STACK_NAMESPACE = "monitoring-staging";

describe("under promtool, as the staging stack renders it", () => {
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "database-rules-"));
    fs.writeFileSync(path.join(dir, DATABASE_RULES_KEY), fileOf(await render("staging")) ?? "");
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The staging file's group interval: promtool evaluates at it, so the boundary is one of its steps. */
  const step = () => (YAML.parse(fs.readFileSync(path.join(dir, DATABASE_RULES_KEY), "utf8")) as RuleFile).groups[0].interval;

  function unitTest(firesAt: string, beforeFiring: string): Record<string, unknown> {
    const expected = {
      exp_labels: { severity: "warning", job: "postgres-exporter", database: "shop-postgres", namespace: STACK_NAMESPACE },
      exp_annotations: {
        summary: "A configured database has no exporter left to watch it.",
        description: DESCRIPTION("postgres-exporter", "shop-postgres"),
        runbook: "docs/runbooks.md#databaseexportermissing",
      },
    };
    return {
      rule_files: [DATABASE_RULES_KEY],
      evaluation_interval: step(),
      tests: [
        {
          interval: "1m",
          input_series: [
            // Given: shop-postgres' sidecar is scraped for 30 minutes, then its target is gone
            // (Prometheus writes a stale marker at once); shop-redis' exporter stays.
            {
              series: `up{job="postgres-exporter", database="shop-postgres", namespace="${STACK_NAMESPACE}", instance="shop-postgres-exporter-5d8f9-x1"}`,
              values: "1x29 stale",
            },
            {
              series: `up{job="redis-exporter", database="shop-redis", namespace="${STACK_NAMESPACE}", instance="redis-7d9c5b6f4-x2x7z"}`,
              values: "1x80",
            },
            // Neither another database of the same type nor another type's exporter named alike stands in for it,
            {
              series: `up{job="postgres-exporter", database="billing", namespace="${STACK_NAMESPACE}", instance="billing-0"}`,
              values: "1x80",
            },
            {
              series: `up{job="redis-exporter", database="shop-postgres", namespace="${STACK_NAMESPACE}", instance="cache-0"}`,
              values: "1x80",
            },
            // nor a pod of a watched namespace labelled monitoring-stack/exporter: postgres and monitoring-stack/database:
            // shop-postgres with the scrape annotation, which Prometheus' pod job gives that job and database.
            {
              series: 'up{job="postgres-exporter", database="shop-postgres", namespace="shop-staging", instance="10.42.0.9:9187"}',
              values: "1x80",
            },
          ],
          alert_rule_test: [
            // Then: silent while it is scraped; pending, not firing, one evaluation before the
            // for boundary; firing at it, for shop-postgres only, with its job and database.
            { eval_time: "5m", alertname: DATABASE_EXPORTER_MISSING, exp_alerts: [] },
            { eval_time: "29m", alertname: DATABASE_EXPORTER_MISSING, exp_alerts: [] },
            { eval_time: beforeFiring, alertname: DATABASE_EXPORTER_MISSING, exp_alerts: [] },
            { eval_time: firesAt, alertname: DATABASE_EXPORTER_MISSING, exp_alerts: [expected] },
            { eval_time: "80m", alertname: DATABASE_EXPORTER_MISSING, exp_alerts: [expected] },
          ],
        },
      ],
    };
  }

  /** 30 minutes (the stale marker) plus the alert's `for`, and one group evaluation before it. */
  function boundary(): { firesAt: string; beforeFiring: string } {
    const at = 30 * 60 + (durationSeconds(DATABASE_EXPORTER_MISSING_FOR) ?? 0);
    return { firesAt: `${at}s`, beforeFiring: `${at - (durationSeconds(step()) ?? 0)}s` };
  }

  test("silent while scraped, firing exactly `for` after the exporter's series vanish, for that database only", () => {
    const { firesAt, beforeFiring } = boundary();
    expect(firesAt).toBe("2400s");
    fs.writeFileSync(path.join(dir, "databases.test.yml"), YAML.stringify(unitTest(firesAt, beforeFiring)));
    const result = promtool(["test", "rules", "databases.test.yml"], dir);
    expect(result.output).toContain("SUCCESS");
    expect(result.ok).toBe(true);
  });

  test("the unit test can fail: expecting it one evaluation early is reported", () => {
    const { beforeFiring } = boundary();
    fs.writeFileSync(path.join(dir, "databases.test.yml"), YAML.stringify(unitTest(beforeFiring, "29m")));
    const result = promtool(["test", "rules", "databases.test.yml"], dir);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/DatabaseExporterMissing/);
  });

  test("promtool check rules accepts the rendered file", () => {
    const result = promtool(["check", "rules", path.join(dir, DATABASE_RULES_KEY)]);
    expect(result.output).not.toContain("FAILED");
    expect(result.ok).toBe(true);
  });
});
