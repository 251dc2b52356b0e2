/**
 * examples/: three seed teams' stack files (Tumulte, the deployment system, Gauzian), each with
 * its own rules, dashboards, thresholds, targets, probes and channels. Each renders as it is
 * written, by the render command its header gives (its stand-in secrets given with --secrets-file, as `pulumi
 * config set --secret` would), and what makes it the team's own reaches the rendered files
 * (test/e2e/examples.test.ts checks them with the exact promtool and amtool).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { Rendered } from "../../cli/render";
import { renderStack } from "../../cli/render-stack";
import { ROOT } from "../../cli/stackfile";
import { objectsOf } from "../support/render";
import { EXAMPLES, Example, NAMES, headerOf, renderExamples, shellWords, stackFile } from "../support/examples";
import { scaledMs } from "../support/time-scale";

function rulesOf(rendered: Rendered): Record<string, unknown> {
  const rules: Record<string, unknown> = {};
  for (const [file, text] of rendered.files) {
    if (file.startsWith("prometheus/") && file.endsWith(".yml") && file !== "prometheus/prometheus.yml" && !file.endsWith(".scrape.yml")) {
      rules[path.basename(file)] = YAML.parse(text);
    }
  }
  return rules;
}

/** The rule of an alert at a severity, from the rendered rule files. */
function alertRule(rendered: Rendered, alert: string, severity: string): Record<string, unknown> | undefined {
  for (const doc of Object.values(rulesOf(rendered)) as Array<{ groups?: Array<{ rules: Array<Record<string, unknown>> }> }>) {
    for (const group of doc.groups ?? []) {
      const rule = group.rules.find((r) => r.alert === alert && (r.labels as Record<string, string> | undefined)?.severity === severity);
      if (rule) return rule;
    }
  }
  return undefined;
}

let rendered = new Map<string, Rendered>();

beforeAll(async () => {
  rendered = await renderExamples();
});

describe.each(NAMES)("the %s example", (name) => {
  test("its header lists every secret the render needed, and without them it is refused naming each", async () => {
    const header = headerOf(name);
    const secrets = EXAMPLES.find((e) => e.name === name)?.secrets ?? [];
    expect(secrets.length).toBeGreaterThan(0);
    for (const [key] of secrets) {
      expect(header).toContain(`pulumi config set --secret ${key.includes(".") ? `--path '${key}'` : key}`);
    }
    await expect(renderStack({ stack: "production", stackFile: stackFile(name) })).rejects.toThrow(/Invalid stack configuration/);
  });

  test("the render command of its header, run as it is written, renders it with every secret given", () => {
    const { command } = EXAMPLES.find((e) => e.name === name) as Example;
    const out = path.join("out", "examples", name);
    // Its own directory, never out/production: rendering an example leaves the render of one's own stack alone.
    expect(shellWords(command)).toEqual(expect.arrayContaining(["--out", out]));
    const result = spawnSync("sh", ["-c", command], { cwd: ROOT, encoding: "utf8", timeout: scaledMs(120_000) });
    expect(result.stderr).not.toMatch(/Error|Invalid/);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Rendered stack "production" to ${out}\n`);
    expect(result.stdout).not.toContain("placeholders");
    expect(fs.readFileSync(path.join(ROOT, out, "SUMMARY.md"), "utf8")).toContain(`# Rendered stack "production" to ${out}\n`);
  });

  test("its own rules and dashboards ship with the stack", () => {
    const r = rendered.get(name) as Rendered;
    const ruleKeys = fs.readdirSync(path.join(ROOT, "examples", name, "team", "rules")).filter((f) => f.endsWith(".yml"));
    for (const file of ruleKeys) expect(r.files.has(`prometheus/team.${file}`)).toBe(true);
    const folders = fs.readdirSync(path.join(ROOT, "examples", name, "team", "dashboards"));
    for (const folder of folders) {
      for (const file of fs.readdirSync(path.join(ROOT, "examples", name, "team", "dashboards", folder))) {
        expect(r.files.get(`grafana/${folder}__${file}`)).toBe(
          fs.readFileSync(path.join(ROOT, "examples", name, "team", "dashboards", folder, file), "utf8"),
        );
      }
    }
  });
});

describe("what makes each team's stack its own", () => {
  test("Tumulte: its CPU and memory levels, Grafana alone on the tunnel (its channels: test/e2e/examples.test.ts)", () => {
    const r = rendered.get("tumulte") as Rendered;
    expect(alertRule(r, "NodeCpuHighUsage", "warning")).toMatchObject({ for: "10m", expr: expect.stringMatching(/> 0\.80\b/) });
    expect(alertRule(r, "NodeCpuHighUsage", "critical")).toMatchObject({ for: "10m", expr: expect.stringMatching(/> 0\.85\b/) });
    expect(alertRule(r, "NodeMemoryHighUsage", "critical")?.expr).toMatch(/> 0\.90\b/);
    expect(r.outputs.grafanaUrl).toBe("https://monitoring.tumulte.app");
    expect(r.outputs.prometheusPublicUrl).toBeUndefined();
    expect(r.files.get("blackbox-exporter/blackbox.yml")).toBeDefined();
  });

  test("the deployment system: plain targets and health probes (its channels: test/e2e/examples.test.ts)", () => {
    const r = rendered.get("deployment-system") as Rendered;
    const prometheusYml = YAML.parse(r.files.get("prometheus/prometheus.yml") as string) as { scrape_configs: Array<{ job_name: string }> };
    const jobs = prometheusYml.scrape_configs.map((j) => j.job_name);
    expect(jobs).toEqual(expect.arrayContaining(["port-manager", "deployment-api", "tunnel-manager"]));
    expect(r.files.get("prometheus/apps.rules.yml")).not.toMatch(/port-manager/);
    expect(r.files.get("prometheus/probes.rules.yml")).toMatch(/deployment-api-health/);
    expect(alertRule(r, "NodeFilesystemAlmostFull", "critical")?.expr).toMatch(/< 0\.10\b/);
  });

  test("Gauzian: MinIO with its bearer token from a Secret, email, an editable Grafana folder, Traefik with basic auth", () => {
    const r = rendered.get("gauzian") as Rendered;
    const prometheusYml = YAML.parse(r.files.get("prometheus/prometheus.yml") as string) as {
      scrape_configs: Array<{ job_name: string; metrics_path?: string; authorization?: { credentials_file?: string } }>;
    };
    const minio = prometheusYml.scrape_configs.find((j) => j.job_name === "minio");
    expect(minio).toMatchObject({ metrics_path: "/minio/v2/metrics/cluster", authorization: { credentials_file: expect.any(String) } });
    expect(r.files.get("prometheus/prometheus.yml")).not.toContain("minio-token-0123456789");
    const am = r.files.get("alertmanager/alertmanager.yml") as string;
    expect(am).toContain("admin@pupin.fr");
    expect(am).toContain("smtp.pupin.fr:587");
    expect(r.files.get("grafana/dashboard-providers.yaml")).toContain("Gauzian drafts");
    expect(objectsOf(r, "Middleware").length).toBeGreaterThan(0);
    // Its routes' certificate comes from its ACME resolver, never Traefik's self-signed default.
    const routes = objectsOf(r, "IngressRoute");
    expect(routes.map((o) => o.metadata.name).sort()).toEqual(["grafana", "prometheus"]);
    for (const route of routes) expect((route.spec as { tls: unknown }).tls).toEqual({ certResolver: "letsencrypt" });
    expect(alertRule(r, "NodeFilesystemAlmostFull", "warning")).toMatchObject({ for: "15m", expr: expect.stringMatching(/< 0\.20\b/) });
  });
});
