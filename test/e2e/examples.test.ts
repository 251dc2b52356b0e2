/**
 * examples/: the seed teams' stack files, rendered by the render command each header gives,
 * under the exact promtool and amtool: each team's own rules pass `npm run check`, every
 * rendered rule file and Alertmanager config passes, and each team's alerts reach the channels
 * it chose (what else makes each stack the team's own is checked without a binary in
 * test/scenarios/examples.test.ts).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Rendered } from "../../cli/render";
import { checkConfig, routeOf, writeAlertmanagerFiles } from "../../lab/local/alertmanager";
import { promtool } from "../../lab/local/binaries";
import { ROOT } from "../../cli/stackfile";
import { checkTeamContent } from "../../cli/team-check";
import { NAMES, renderExamples } from "../support/examples";

let rendered = new Map<string, Rendered>();

beforeAll(async () => {
  rendered = await renderExamples();
});

describe.each(NAMES)("the %s example", (name) => {
  test("its own rules and dashboards pass npm run check", () => {
    expect(checkTeamContent(promtool, ROOT, `examples/${name}/team`).errors).toEqual([]);
  });

  test("every rendered rule file passes the deployed promtool", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `example-${name}-`));
    const files: string[] = [];
    for (const [file, text] of (rendered.get(name) as Rendered).files) {
      if (!file.startsWith("prometheus/") || file === "prometheus/prometheus.yml" || file.endsWith(".scrape.yml") || !file.endsWith(".yml"))
        continue;
      files.push(path.join(dir, path.basename(file)));
      fs.writeFileSync(files[files.length - 1], text);
    }
    const result = promtool(["check", "rules", ...files]);
    expect(result.output).not.toContain("FAILED");
    expect(result.ok).toBe(true);
  });

  test("its Alertmanager config passes the deployed amtool", () => {
    const { config } = writeAlertmanagerFiles(rendered.get(name) as Rendered, `example-${name}-`);
    expect(checkConfig(config)).toMatchObject({ ok: true });
  });
});

describe("each team's alerts reach the channels it chose (amtool config routes test)", () => {
  test("Tumulte: its two Discord channels", () => {
    const r = rendered.get("tumulte") as Rendered;
    const { config } = writeAlertmanagerFiles(r, "example-tumulte-routes-");
    expect(routeOf(config, { alertname: "AppDown", severity: "critical", app: "backend" })).toEqual(["alertes-critiques"]);
    expect(routeOf(config, { alertname: "TumulteCacheHitRateLow", severity: "warning", app: "backend" })).toEqual(["monitoring"]);
  });

  test("the deployment system: its four Slack channels by topic", () => {
    const r = rendered.get("deployment-system") as Rendered;
    const { config } = writeAlertmanagerFiles(r, "example-deployment-routes-");
    expect(routeOf(config, { alertname: "DeploymentFailures", severity: "warning", team: "deployment" })).toEqual(["deployment"]);
    expect(routeOf(config, { alertname: "PrometheusTargetDown", severity: "critical", job: "deployment-api" })).toEqual([
      "alerts-critical",
      "deployment",
    ]);
    expect(routeOf(config, { alertname: "AppDown", severity: "critical", app: "app-portfolio" })).toEqual([
      "alerts-critical",
      "applications",
    ]);
    expect(routeOf(config, { alertname: "KubePodCrashLooping", severity: "warning", namespace: "deployed-apps" })).toEqual([
      "applications",
    ]);
    expect(routeOf(config, { alertname: "NodeFilesystemAlmostFull", severity: "warning", instance: "node-1" })).toEqual(["infrastructure"]);
  });
});
