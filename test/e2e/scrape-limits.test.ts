/**
 * Issue 32 under the real Prometheus the stack deploys: the rendered scrape jobs' limits hold. Two
 * apps on 127.0.0.1 are rendered into the staging stack (their jobs taken from the rendered
 * prometheus.yml as they are, limits included): `exploding` serves more series than its
 * apps[].limits.sampleLimit, `steady` a few under the defaults. Prometheus scrapes them every
 * second: exploding's scrapes fail (up 0, the reason on its target, the counter rising, none of
 * its series stored), steady's do not, and the expression of PrometheusScrapeLimitHit, as the
 * rendered rule file has it, returns a result. `promtool check config` accepts the rendered
 * prometheus.yml with its limits (test/e2e/prometheus.test.ts checks the whole stack's).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import type { ScrapeConfig } from "../../components/prometheus/scrape-types";
import { promtool } from "../../lab/local/binaries";
import { httpGetJson, metricsHandler } from "../../lab/local/http";
import { LOOPBACK, freePorts } from "../../lab/ports";
import type { Rendered } from "../../cli/render";
import { localRun } from "./support/local-run";
import { InstantResult, startScrapingPrometheus } from "./support/rendered-prometheus";
import { render } from "../support/render";

jest.setTimeout(180_000);

/** The sample limit the exploding app's entry sets, and how many series it serves: twice as many. */
const EXPLODING_LIMIT = 1000;
const EXPLODING_SERIES = 2 * EXPLODING_LIMIT;

/** `count` series of one metric, each with its own label value: what a label with unbounded values does. */
function series(name: string, count: number): string {
  const lines = [`# TYPE ${name} counter`];
  for (let i = 0; i < count; i++) lines.push(`${name}{user_id="u${i}"} ${i}`);
  return `${lines.join("\n")}\n`;
}

describe("a target over its sample limit, under the deployed Prometheus", () => {
  const run = localRun();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "scrape-limits-"));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  let rendered: Rendered;
  let jobs: Map<string, ScrapeConfig>;
  let base: string;
  let query: (expr: string) => Promise<InstantResult>;

  beforeAll(async () => {
    const [explodingPort, steadyPort, prometheusPort] = await freePorts(3);
    rendered = await render("staging", [
      `apps=[{name: exploding, url: "http://${LOOPBACK}:${explodingPort}/metrics", limits: {sampleLimit: ${EXPLODING_LIMIT}}}, {name: steady, url: "http://${LOOPBACK}:${steadyPort}/metrics"}]`,
    ]);
    const config = YAML.parse(rendered.files.get("prometheus/prometheus.yml") ?? "") as { scrape_configs: ScrapeConfig[] };
    jobs = new Map(config.scrape_configs.map((j) => [j.job_name, j]));
    await run.serve(
      explodingPort,
      metricsHandler(() => series("orders_total", EXPLODING_SERIES), "/metrics"),
    );
    await run.serve(
      steadyPort,
      metricsHandler(() => series("jobs_total", 50), "/metrics"),
    );
    // The rendered apps' jobs as they are, scraped every second; Prometheus' own metrics as job
    // "prometheus" (the alert reads them there), from a static target instead of Kubernetes discovery.
    const ownJob = { job_name: "prometheus", static_configs: [{ targets: [`${LOOPBACK}:${prometheusPort}`] }] };
    ({ base, query } = await startScrapingPrometheus(
      run,
      [...["exploding", "steady"].map((name) => jobs.get(name)), ownJob],
      prometheusPort,
      root,
    ));
  });

  test("the rendered jobs carry the app's own sample limit and the defaults, and promtool accepts them", () => {
    expect(jobs.get("exploding")).toMatchObject({ sample_limit: EXPLODING_LIMIT, label_limit: 30, target_limit: 100 });
    expect(jobs.get("steady")).toMatchObject({ sample_limit: 10_000, label_limit: 30, target_limit: 100 });
    const file = path.join(root, "rendered.yml");
    fs.writeFileSync(file, YAML.stringify({ scrape_configs: [jobs.get("exploding"), jobs.get("steady")] }));
    const checked = promtool(["check", "config", "--syntax-only", file]);
    expect(checked.output).toContain("SUCCESS");
    expect(checked.ok).toBe(true);
  });

  test("the exploding app's scrapes fail as a whole (up 0, the reason on its target, nothing stored); the steady app's do not", async () => {
    await run.waitFor(
      "both apps scraped a few times",
      // The two apps' jobs only: Prometheus' own job is scraped too, and counting it made the wait
      // pass only in the moments when exactly two of the three targets had three samples.
      async () => ((await query('count_over_time(up{job=~"exploding|steady"}[1m]) >= 3')).length === 2 ? true : undefined),
      60_000,
      500,
    );
    const up = Object.fromEntries((await query("up")).map((r) => [r.metric.job, r.value[1]]));
    expect(up).toMatchObject({ exploding: "0", steady: "1" });
    const targets = await httpGetJson<{ data: { activeTargets: Array<{ labels: Record<string, string>; lastError: string }> } }>(
      `${base}/api/v1/targets`,
    );
    const exploding = targets.data.activeTargets.find((t) => t.labels.job === "exploding");
    expect(exploding?.lastError).toMatch(/sample limit exceeded/);
    expect(targets.data.activeTargets.find((t) => t.labels.job === "steady")?.lastError).toBe("");
    expect(await query("count(orders_total)")).toEqual([]);
    expect((await query("count(jobs_total)"))[0]?.value[1]).toBe("50");
  });

  test("Prometheus counts the refused scrapes, and PrometheusScrapeLimitHit's rendered expression returns them", async () => {
    const rules = YAML.parse(rendered.files.get("prometheus/stack.yml") ?? "") as {
      groups: Array<{ rules: Array<{ alert?: string; expr: string }> }>;
    };
    const expr = rules.groups.flatMap((g) => g.rules).find((r) => r.alert === "PrometheusScrapeLimitHit")?.expr ?? "";
    expect(expr).toContain("prometheus_target_scrapes_exceeded_sample_limit_total");
    const fired = await run.waitFor(
      "PrometheusScrapeLimitHit's expression to return a result",
      async () => {
        const result = await query(expr);
        return result.length > 0 ? result : undefined;
      },
      60_000,
      1000,
    );
    expect(fired).toEqual([expect.objectContaining({ metric: expect.objectContaining({ job: "prometheus" }) })]);
    expect(Number(fired[0].value[1])).toBeGreaterThan(0);
    const counted = await query('prometheus_target_scrapes_exceeded_sample_limit_total{job="prometheus"}');
    expect(Number(counted[0]?.value[1])).toBeGreaterThan(0);
  });
});
