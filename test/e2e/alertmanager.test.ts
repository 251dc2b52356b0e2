/**
 * Alertmanager's rendered files under the deployed release's amtool: the message templates
 * rendered (`amtool template render`), both real stacks' configs checked and routed
 * (`amtool check-config`, `amtool config routes test`), and a team's own routing tree, masked
 * or not. The config and component are checked without a binary in
 * test/components/alertmanager.test.ts.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { alertmanagerTemplates } from "../../components/alertmanager/config-file";
import { checkConfig, renderTemplate, routeOf, writeAlertmanagerFiles } from "../../lab/local/alertmanager";
import { render, renderStack } from "../support/render";
import { ALL_RECEIVER_SETS, SEED_001_SETS } from "../support/alertmanager";

/** Notification data as Alertmanager hands it to templates (template.Data). */
function notification(
  alerts: Array<{ status: "firing" | "resolved"; labels: Record<string, string>; annotations?: Record<string, string>; endsAt?: string }>,
) {
  const common = Object.fromEntries(Object.entries(alerts[0].labels).filter(([k, v]) => alerts.every((a) => a.labels[k] === v)));
  return {
    receiver: "critical",
    status: alerts.some((a) => a.status === "firing") ? "firing" : "resolved",
    externalURL: "https://alertmanager.example.com",
    groupLabels: { alertname: common.alertname },
    commonLabels: common,
    commonAnnotations: {},
    alerts: alerts.map((a) => ({
      status: a.status,
      labels: a.labels,
      annotations: a.annotations ?? {},
      startsAt: "2025-03-04T05:06:07Z",
      endsAt: a.endsAt ?? "0001-01-01T00:00:00Z",
    })),
  };
}

const APP_DOWN = {
  alertname: "AppDown",
  severity: "critical",
  environment: "production",
  replica: "prometheus-0",
  job: "apps",
  app: "api",
  instance: "10.42.0.7:8080",
};
const APP_DOWN_ANNOTATIONS = {
  summary: "An app does not answer its metrics scrape.",
  description: "App api (10.42.0.7:8080) has been unreachable for 1 minute.",
  runbook_url: "https://example.com/runbooks.md#appdown",
};

describe("message templates (amtool template render)", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "am-templates-"));
    for (const [file, text] of Object.entries(alertmanagerTemplates({ environment: "staging" })))
      fs.writeFileSync(path.join(dir, file), text);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("a firing message says the environment, what fires, where, since when, the summary, description and runbook", () => {
    const data = notification([{ status: "firing", labels: APP_DOWN, annotations: APP_DOWN_ANNOTATIONS }]);
    expect(renderTemplate(dir, '{{ template "monitoring.title" . }}', data)).toBe("[FIRING:1] production: AppDown (critical)");
    expect(renderTemplate(dir, '{{ template "monitoring.message" . }}', data)).toBe(
      [
        "FIRING in production:",
        "- AppDown: An app does not answer its metrics scrape.",
        "  where: app=api, instance=10.42.0.7:8080, job=apps",
        "  since: 2025-03-04 05:06:07 UTC",
        "  App api (10.42.0.7:8080) has been unreachable for 1 minute.",
        "  runbook: https://example.com/runbooks.md#appdown",
        "",
      ].join("\n"),
    );
  });

  test("an alert with no runbook link (no prometheus.runbookBaseUrl) names its runbook section; a link wins when both are there", () => {
    const unlinked = { summary: APP_DOWN_ANNOTATIONS.summary, description: APP_DOWN_ANNOTATIONS.description };
    const message = (annotations: Record<string, string>) =>
      renderTemplate(dir, '{{ template "monitoring.message" . }}', notification([{ status: "firing", labels: APP_DOWN, annotations }]));
    expect(message({ ...unlinked, runbook: "docs/runbooks.md#appdown" })).toContain("\n  runbook: docs/runbooks.md#appdown\n");
    const both = message({ ...APP_DOWN_ANNOTATIONS, runbook: "docs/runbooks.md#appdown" });
    expect(both).toContain("\n  runbook: https://example.com/runbooks.md#appdown\n");
    expect(both).not.toContain("docs/runbooks.md");
    expect(message(unlinked)).not.toContain("runbook:");
  });

  test("a resolved message says RESOLVED, with when it started and when it cleared", () => {
    const data = notification([
      { status: "resolved", labels: APP_DOWN, annotations: APP_DOWN_ANNOTATIONS, endsAt: "2025-03-04T05:16:07Z" },
    ]);
    expect(renderTemplate(dir, '{{ template "monitoring.title" . }}', data)).toBe("[RESOLVED] production: AppDown (critical)");
    const message = renderTemplate(dir, '{{ template "monitoring.message" . }}', data);
    expect(message).toMatch(/^RESOLVED in production:\n- AppDown: /);
    expect(message).toContain("since: 2025-03-04 05:06:07 UTC, resolved 2025-03-04 05:16:07 UTC");
    expect(message).not.toContain("FIRING");
  });

  test("an alert without the environment label is named with the stack's environment", () => {
    const labels = Object.fromEntries(Object.entries(APP_DOWN).filter(([name]) => name !== "environment"));
    const data = notification([{ status: "firing", labels, annotations: APP_DOWN_ANNOTATIONS }]);
    expect(renderTemplate(dir, '{{ template "monitoring.title" . }}', data)).toBe("[FIRING:1] staging: AppDown (critical)");
  });

  test("a large group stays within Discord's limits: five alerts listed, the count and a link for the rest", () => {
    const alerts = Array.from({ length: 40 }, (_, i) => ({
      status: "firing" as const,
      labels: { ...APP_DOWN, app: `app-${i}`, instance: `10.42.0.${i}:8080` },
      annotations: { ...APP_DOWN_ANNOTATIONS, description: `${"A long description. ".repeat(25)}(${i})` },
    }));
    const data = notification(alerts);
    const title = renderTemplate(dir, '{{ template "monitoring.title" . }}', data);
    const message = renderTemplate(dir, '{{ template "monitoring.message" . }}', data);
    expect(title).toBe("[FIRING:40] production: AppDown (critical)");
    expect([...title].length).toBeLessThanOrEqual(256);
    expect([...message].length).toBeLessThanOrEqual(4096);
    expect(message.match(/^- AppDown/gm)).toHaveLength(5);
    expect(message).toContain("(40 firing, 5 listed: https://alertmanager.example.com)");
  });
});

// ---------------------------------------------------------------------------
// Both real stacks

describe.each(["staging", "production"] as const)("the %s stack's Alertmanager (amtool)", (stack) => {
  const dirs: string[] = [];
  let bare: string;
  let full: string;
  beforeAll(async () => {
    const a = writeAlertmanagerFiles(await render(stack));
    const b = writeAlertmanagerFiles(await render(stack, ALL_RECEIVER_SETS));
    dirs.push(a.dir, b.dir);
    bare = a.config;
    full = b.config;
  });
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  test("amtool check-config accepts the rendered config and its templates, with and without receivers", () => {
    for (const config of [bare, full]) {
      const result = checkConfig(config);
      expect(result.output).toContain("SUCCESS");
      expect(result.output).toMatch(/- 1 templates/);
      expect(result.ok).toBe(true);
    }
  });

  test("with every receiver, each severity reaches its channel and the Watchdog only the dead man's switch", () => {
    const env = { environment: stack };
    expect(routeOf(full, { ...env, alertname: "AppDown", severity: "critical", app: "api" })).toEqual(["critical"]);
    expect(routeOf(full, { ...env, alertname: "AppHighLatency", severity: "warning", app: "api" })).toEqual(["warning"]);
    expect(routeOf(full, { ...env, alertname: "AppThroughputLow", severity: "info" })).toEqual(["warning"]);
    expect(routeOf(full, { ...env, alertname: "Watchdog", severity: "info", watchdog: "true" })).toEqual(["deadmans-switch"]);
    // An alert without a known severity is not lost.
    expect(routeOf(full, { ...env, alertname: "Unlabelled" })).toEqual(["warning"]);
  });

  test("without receivers (the stack file as committed), everything routes to `null`", () => {
    for (const severity of ["critical", "warning", "info"]) {
      expect(routeOf(bare, { environment: stack, alertname: "AppDown", severity })).toEqual(["null"]);
    }
    expect(routeOf(bare, { environment: stack, alertname: "Watchdog", severity: "info", watchdog: "true" })).toEqual(["null"]);
  });
});

// ---------------------------------------------------------------------------
// A team's own routing: seed 001's channels, on the production stack file

describe("a team's own routing: seed 001's Slack channels and email (amtool)", () => {
  let dir = "";
  let config = "";
  let masked = "";
  beforeAll(async () => {
    const files = writeAlertmanagerFiles(await render("production", SEED_001_SETS), "am-seed-001-");
    dir = files.dir;
    config = files.config;
    masked = (await renderStack({ stack: "production", sets: SEED_001_SETS })).files.get("alertmanager/alertmanager.yml") ?? "";
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("amtool check-config accepts the team's tree, its email and its Slack receivers", () => {
    const result = checkConfig(config);
    expect(result.output).toContain("SUCCESS");
    expect(result.output).toMatch(/- 6 receivers/);
    expect(result.ok).toBe(true);
  });

  test("each alert reaches the channels its team chose (amtool config routes test)", () => {
    const env = { environment: "production" };
    // Critical: the critical channel, and the topic's channel too (continue).
    expect(routeOf(config, { ...env, alertname: "AppDown", severity: "critical", app: "deployment-api" })).toEqual([
      "alerts-critical",
      "deployment",
    ]);
    expect(routeOf(config, { ...env, alertname: "AppLatencyHigh", severity: "warning", app: "port-manager" })).toEqual(["deployment"]);
    expect(routeOf(config, { ...env, alertname: "AppErrorRateHigh", severity: "warning", app: "app-blog" })).toEqual(["applications"]);
    expect(routeOf(config, { ...env, alertname: "KubePodCrashLooping", severity: "warning", namespace: "deployed-apps" })).toEqual([
      "applications",
    ]);
    // What no route takes: the default receiver; a critical one that no topic takes reaches the critical channel only.
    expect(routeOf(config, { ...env, alertname: "NodeCpuHighUsage", severity: "warning" })).toEqual(["infrastructure"]);
    expect(routeOf(config, { ...env, alertname: "NodeFilesystemAlmostFull", severity: "critical" })).toEqual(["alerts-critical"]);
    expect(routeOf(config, { ...env, alertname: "Unlabelled" })).toEqual(["infrastructure"]);
    // The Watchdog stays first and final, whatever the team's routes say.
    expect(routeOf(config, { ...env, alertname: "Watchdog", severity: "info", watchdog: "true" })).toEqual(["deadmans-switch"]);
  });

  test("amtool accepts the render's masked file, with the templates", () => {
    const maskedDir = fs.mkdtempSync(path.join(os.tmpdir(), "am-masked-"));
    try {
      fs.writeFileSync(path.join(maskedDir, "alertmanager.yml"), masked);
      for (const [file, text] of Object.entries(alertmanagerTemplates({ environment: "production" }))) {
        fs.writeFileSync(path.join(maskedDir, file), text);
      }
      const result = checkConfig(path.join(maskedDir, "alertmanager.yml"));
      expect(result.output).toContain("SUCCESS");
      expect(result.ok).toBe(true);
    } finally {
      fs.rmSync(maskedDir, { recursive: true, force: true });
    }
  });
});
