/**
 * No scrape follows a redirect (components/prometheus/scrape-config.ts noRedirects), under the real Prometheus
 * the stack deploys. An app and a plain target on 127.0.0.1 are rendered into the staging stack, their jobs taken
 * from the rendered prometheus.yml as they are. Each answers its metrics path with a 302 to a stand-in for Loki's
 * `/ingester/shutdown` (Loki 3.7 takes it by GET, and its ingress admits Prometheus for the scrape), which records
 * every request. The rendered jobs' scrapes fail with the redirect as their error and the stand-in is never asked;
 * a copy of the app's job without `follow_redirects: false` (Prometheus' default, following) does reach it, so the
 * stand-in would have seen the rendered jobs' requests.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import type { ScrapeConfig } from "../../components/prometheus/scrape-types";
import { SinkRequest, httpGetJson, sinkHandler } from "../../lab/local/http";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { localRun } from "./support/local-run";
import { InstantResult, startScrapingPrometheus } from "./support/rendered-prometheus";
import { render } from "../support/render";

describe("a target that redirects its scrape, under the deployed Prometheus", () => {
  const run = localRun();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "scrape-redirects-"));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  let jobs: Map<string, ScrapeConfig>;
  let base: string;
  let query: (expr: string) => Promise<InstantResult>;
  const asked: SinkRequest[] = [];

  beforeAll(async () => {
    const [appPort, targetPort, controlPort, lokiPort, prometheusPort] = await freePorts(5);
    const rendered = await render("staging", [
      `apps=[{name: redirecting, url: "http://${LOOPBACK}:${appPort}/metrics"}]`,
      `targets=[{name: moved, url: "http://${LOOPBACK}:${targetPort}/metrics"}]`,
    ]);
    const config = YAML.parse(rendered.files.get("prometheus/prometheus.yml") ?? "") as { scrape_configs: ScrapeConfig[] };
    jobs = new Map(config.scrape_configs.map((j) => [j.job_name, j]));
    // Each redirect names who sent it, so that the stand-in knows whose scrape followed it.
    const shutdown = (from: string) => `http://${LOOPBACK}:${lokiPort}/ingester/shutdown?from=${from}`;
    for (const [port, from] of [
      [appPort, "redirecting"],
      [targetPort, "moved"],
      [controlPort, "control"],
    ] as const) {
      await run.serve(port, (_req, res) => void res.writeHead(302, { Location: shutdown(from) }).end());
    }
    await run.serve(
      lokiPort,
      sinkHandler((req) => (asked.push(req), { status: 204 })),
    );
    // The control: the app's job as Prometheus' default would have it, following the redirect, on a server of its own.
    const app = jobs.get("redirecting") as ScrapeConfig;
    const following: ScrapeConfig = {
      ...app,
      job_name: "control",
      static_configs: (app.static_configs ?? []).map((c) => ({ ...c, targets: [`${LOOPBACK}:${controlPort}`] })),
    };
    delete following.follow_redirects;
    ({ base, query } = await startScrapingPrometheus(run, [jobs.get("redirecting"), jobs.get("moved"), following], prometheusPort, root));
  });

  test("every rendered job says so: no job follows a redirect", () => {
    expect([...jobs.values()].filter((job) => job.follow_redirects !== false).map((job) => job.job_name)).toEqual([]);
  });

  test("the rendered jobs' scrapes fail on the redirect and never reach where it points; the following copy's do", async () => {
    await run.waitFor(
      "each job scraped three times",
      async () => ((await query('count_over_time(up{job=~"redirecting|moved|control"}[1m]) >= 3')).length === 3 ? true : undefined),
      60_000,
      500,
    );
    const targets = await httpGetJson<{ data: { activeTargets: Array<{ labels: Record<string, string>; lastError: string }> } }>(
      `${base}/api/v1/targets`,
    );
    const errors = Object.fromEntries(targets.data.activeTargets.map((t) => [t.labels.job, t.lastError]));
    expect(errors).toEqual({
      redirecting: expect.stringMatching(/302 Found/),
      moved: expect.stringMatching(/302 Found/),
      // Followed: the stand-in's empty answer is its error, not the redirect.
      control: expect.not.stringMatching(/302/),
    });
    const up = Object.fromEntries((await query("up")).map((r) => [r.metric.job, r.value[1]]));
    expect(up).toMatchObject({ redirecting: "0", moved: "0" });
    // The stand-in was asked by the control's scrapes alone: the rendered jobs' never came.
    expect(asked.length).toBeGreaterThanOrEqual(3);
    expect(new Set(asked.map((req) => req.url))).toEqual(new Set(["/ingester/shutdown?from=control"]));
  });
});
