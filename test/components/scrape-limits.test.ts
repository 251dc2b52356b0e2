/**
 * Issue 32: every scrape job is bounded. prometheus.scrapeLimits sets the apps' and targets' jobs'
 * limits, apps[].limits and targets[].limits override them one job at a time, the stack's own jobs
 * have theirs; a limit that is not a whole number from 1 is refused, naming its key.
 */
import { ParsedConfig } from "../../config";
import { DEFAULT_SCRAPE_LIMITS } from "../../components/prometheus/section";
import { prometheusConfig } from "../../components/prometheus/scrape-config";
import type { ScrapeConfig } from "../../components/prometheus/scrape-types";
import { BUILTIN_JOB_LIMITS } from "../../components/prometheus/scrape-limits";
import { prometheusArgs } from "../../components/stack/args";
import * as YAML from "yaml";
import { api, parse, problems } from "../config/support";
import { renderConfig } from "../support/render";

const LIMIT_FIELDS = ["sample_limit", "label_limit", "label_name_length_limit", "label_value_length_limit", "target_limit"] as const;

function jobs(config: ParsedConfig): Map<string, ScrapeConfig> {
  const rendered = prometheusConfig({ ...prometheusArgs(config.config), blackboxAddress: "blackbox-exporter.monitoring.svc:9115" });
  return new Map(rendered.scrape_configs.map((j) => [j.job_name, j]));
}

function limitsOf(job: ScrapeConfig | undefined): Record<string, number | undefined> {
  return Object.fromEntries(LIMIT_FIELDS.map((f) => [f, job?.[f]]));
}

const minio = { name: "minio", url: "https://minio.example.com:9000/minio/v2/metrics/cluster" };
const web = { name: "web", url: "http://web.example.com:8080/metrics" };

describe("scrape limits", () => {
  test("every job of a rendered stack with apps, targets, probes and a database carries all five limits, each a whole number from 1", async () => {
    const rendered = await renderConfig("production", {
      apps: [{ ...api, probe: {} }, web],
      targets: [minio],
      probes: [{ name: "site", url: "https://www.example.com/" }],
      databases: [{ name: "shop-postgres", type: "postgres", mode: "standalone", secretRef: { name: "dsn", key: "dsn" } }],
      // Jaeger too: no app here sends OTLP, so tracing runs by its key.
      tracing: { enabled: true },
    });
    const config = YAML.parse(rendered.files.get("prometheus/prometheus.yml") ?? "") as { scrape_configs: ScrapeConfig[] };
    const all = new Map(config.scrape_configs.map((j) => [j.job_name, j]));
    // The components' jobs too: kube-state-metrics, node-exporter, Loki, Alloy, Jaeger, Grafana, the exporter, the probes.
    for (const job of [
      "prometheus",
      "kube-state-metrics",
      "node-exporter",
      "loki",
      "alloy",
      "jaeger",
      "postgres-exporter",
      "blackbox/site",
      "cadvisor",
    ]) {
      expect(all.has(job)).toBe(true);
    }
    for (const [name, job] of all) {
      for (const field of LIMIT_FIELDS) {
        expect({ job: name, field, value: Number.isInteger(job[field]) && (job[field] ?? 0) >= 1 }).toEqual({
          job: name,
          field,
          value: true,
        });
      }
    }
    expect(all.get("kube-state-metrics")?.sample_limit).toBe(60_000);
    expect(all.get("prometheus")?.sample_limit).toBe(20_000);
    expect(all.get("alloy")?.target_limit).toBe(500);
  });

  test("apps, targets and annotated pods take prometheus.scrapeLimits' defaults; the stack's own jobs their sized limits", () => {
    const all = jobs(parse("staging", { apps: [api], targets: [minio] }));
    const defaults = {
      sample_limit: DEFAULT_SCRAPE_LIMITS.sampleLimit,
      label_limit: DEFAULT_SCRAPE_LIMITS.labelLimit,
      label_name_length_limit: DEFAULT_SCRAPE_LIMITS.labelNameLengthLimit,
      label_value_length_limit: DEFAULT_SCRAPE_LIMITS.labelValueLengthLimit,
      target_limit: DEFAULT_SCRAPE_LIMITS.targetLimit,
    };
    expect(limitsOf(all.get("api"))).toEqual(defaults);
    expect(limitsOf(all.get("minio"))).toEqual(defaults);
    expect(limitsOf(all.get("kubernetes-pods"))).toEqual({ ...defaults, target_limit: 1000 });
    // A busy node's cAdvisor and the cluster's kube-state-metrics are far bigger than an app.
    expect(all.get("cadvisor")?.sample_limit).toBe(BUILTIN_JOB_LIMITS.cadvisor.sampleLimit);
    expect(all.get("kubelet")?.target_limit).toBe(500);
  });

  test("prometheus.scrapeLimits changes every app's and target's job; apps[].limits and targets[].limits one job's, field by field", () => {
    const all = jobs(
      parse("staging", {
        prometheus: { scrapeLimits: { sampleLimit: 5000, labelValueLengthLimit: 256 } },
        apps: [{ ...api, limits: { sampleLimit: 50_000, targetLimit: 4 } }, web],
        targets: [{ ...minio, limits: { labelLimit: 12 } }],
      }),
    );
    expect(limitsOf(all.get("api"))).toEqual({
      sample_limit: 50_000,
      label_limit: 30,
      label_name_length_limit: 128,
      label_value_length_limit: 256,
      target_limit: 4,
    });
    expect(limitsOf(all.get("web"))).toMatchObject({ sample_limit: 5000, label_value_length_limit: 256, target_limit: 100 });
    expect(limitsOf(all.get("minio"))).toMatchObject({ sample_limit: 5000, label_limit: 12 });
    expect(limitsOf(all.get("kubernetes-pods"))).toMatchObject({ sample_limit: 5000, target_limit: 1000 });
    // The stack's own jobs keep theirs.
    expect(all.get("cadvisor")?.sample_limit).toBe(60_000);
  });

  test.each([
    ["prometheus", { prometheus: { scrapeLimits: { sampleLimit: 0 } } }, "prometheus.scrapeLimits.sampleLimit", "0"],
    ["apps", { apps: [{ ...api, limits: { labelLimit: 2.5 } }] }, "apps[0].limits.labelLimit", "2.5"],
    ["targets", { targets: [{ ...minio, limits: { targetLimit: -3 } }] }, "targets[0].limits.targetLimit", "-3"],
    ["a string", { apps: [{ ...api, limits: { sampleLimit: "lots" } }] }, "apps[0].limits.sampleLimit", '"lots"'],
  ])("a limit that is not a whole number from 1 is refused, naming its key (%s)", (_, plain, key, got) => {
    const found = problems("staging", plain);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^monitoring:${key.replace(/[[\].]/g, "\\$&")}: must be a whole number of \\w+, at least 1`));
    expect(found[0]).toContain(`(got ${got})`);
  });

  test("an unknown limit is refused with its key, and an app that only sends OTLP has no job to bound", () => {
    expect(problems("staging", { apps: [{ ...api, limits: { samples: 10 } }] })).toEqual([
      expect.stringMatching(/^monitoring:apps\[0\]\.limits\.samples: /),
    ]);
    expect(problems("staging", { apps: [{ name: "otel", namespace: "otel", otlp: true, limits: { sampleLimit: 10 } }] })).toEqual([
      expect.stringMatching(/^monitoring:apps\[0\]\.limits: app "otel" sends OTLP only .* no scrape job for limits to bound/),
    ]);
  });
});
