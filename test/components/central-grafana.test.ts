/**
 * grafana.central: one Grafana for every environment. The central store becomes the `Central` datasource, and the
 * apps' dashboards gain an `environment` variable that every selector of theirs matches; without the option, the
 * datasources and the dashboards are as before, byte for byte. (promtool parses the rewritten queries:
 * test/e2e/central-grafana.test.ts.)
 */
import * as YAML from "yaml";
import { ENVIRONMENT_DASHBOARDS, readDashboards, withEnvironment, withEnvironmentMatcher } from "../../components/grafana/dashboards";
import { grafanaEgressRules } from "../../components/grafana";
import { grafanaArgs } from "../../components/stack/args";
import { objectsOf, renderConfig } from "../support/render";
import { parse, problems } from "../config/support";

const VMSELECT = "http://vmselect.monitoring.svc:8481/select/0/prometheus";

describe("grafana.central", () => {
  test("every selector with braces matches the environment, label_values too; bare names and the rest stay", () => {
    expect(withEnvironmentMatcher('sum(app:http_requests:rate5m{app="$app", code=~"5.."})')).toBe(
      'sum(app:http_requests:rate5m{environment=~"$environment", app="$app", code=~"5.."})',
    );
    expect(withEnvironmentMatcher("label_values(app:alert_threshold_error_ratio,app)")).toBe(
      'label_values(app:alert_threshold_error_ratio{environment=~"$environment"},app)',
    );
    expect(withEnvironmentMatcher('label_values(probe_success{job="blackbox"},probe)')).toBe(
      'label_values(probe_success{environment=~"$environment", job="blackbox"},probe)',
    );
    expect(withEnvironmentMatcher("up{}")).toBe('up{environment=~"$environment"}');
    expect(withEnvironmentMatcher("sum by (database) (pg_stat_activity_count)")).toBe("sum by (database) (pg_stat_activity_count)");
    expect(withEnvironmentMatcher("rate(x{a='b'}[$__rate_interval])")).toBe(
      `rate(x{environment=~"$environment", a='b'}[$__rate_interval])`,
    );
  });

  test("the apps' dashboards gain the variable after datasource, All by default; the others are shipped byte for byte", () => {
    const dashboards = readDashboards();
    const out = withEnvironment(dashboards);
    for (const [i, d] of out.entries()) {
      const uid = String((JSON.parse(d.content) as { uid: string }).uid);
      if (!(ENVIRONMENT_DASHBOARDS as readonly string[]).includes(uid)) {
        expect(d).toBe(dashboards[i]);
        continue;
      }
      const parsed = JSON.parse(d.content) as { templating: { list: Array<{ name: string; current?: unknown }> } };
      const names = parsed.templating.list.map((v) => v.name);
      expect(names.slice(0, 2)).toEqual(["datasource", "environment"]);
      const exprs = [...d.content.matchAll(/"expr": "((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
      expect(exprs.length).toBeGreaterThan(5);
      // Every selector with braces carries the matcher.
      for (const expr of exprs)
        for (const sel of expr.match(/[A-Za-z_:][A-Za-z0-9_:]*\{[^}]*\}/g) ?? []) expect(sel).toContain('environment=~"$environment"');
    }
    expect(out.filter((d, i) => d !== dashboards[i]).length).toBe(ENVIRONMENT_DASHBOARDS.length);
  });

  test("the render: a Central datasource and the variable with the option; without it, datasources and dashboards as before", async () => {
    const dashboardData = (rendered: Awaited<ReturnType<typeof renderConfig>>) =>
      Object.assign(
        {},
        ...objectsOf(rendered, "ConfigMap")
          .filter((o) => String(o.metadata.name).startsWith("grafana-dashboards-"))
          .map((o) => o.data),
      ) as Record<string, string>;
    const off = await renderConfig("staging", {});
    const on = await renderConfig("staging", { grafana: { central: { url: VMSELECT } } });
    const datasources = (r: Awaited<ReturnType<typeof renderConfig>>) => r.files.get("grafana/datasources.yaml") ?? "";
    expect(datasources(off)).not.toContain("Central");
    const central = (YAML.parse(datasources(on)) as { datasources: Array<Record<string, unknown>> }).datasources.find(
      (d) => d.uid === "central",
    );
    expect(central).toMatchObject({ name: "Central", type: "prometheus", url: VMSELECT, isDefault: false });
    // The rest of the file is as before.
    expect(datasources(on).replace(/\n {2}- name: Central[\s\S]*?(?=\n {2}- name: |\n?$)/, "")).toBe(datasources(off));
    const before = dashboardData(off);
    const after = dashboardData(on);
    const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
    // Staging has no probes, so no Uptime dashboard: the two others of the apps change.
    expect(changed.sort()).toEqual(["applications__app-overview.json", "applications__slo.json"]);
  });

  test("the store's port is open to Grafana; a URL with credentials is refused naming the key", () => {
    const { config } = parse("staging", { grafana: { central: { url: VMSELECT } } });
    const args = grafanaArgs(config, Buffer.alloc(32));
    const added = grafanaEgressRules(args).filter(
      (r) => !JSON.stringify(grafanaEgressRules({ ...args, central: undefined })).includes(JSON.stringify(r)),
    );
    expect(added).toEqual([{ ports: [8481], to: [{ cidrs: ["0.0.0.0/0", "::/0"] }, { anyNamespace: true }] }]);
    expect(problems("staging", { grafana: { central: { url: "http://user:pw@vmselect:8481/select/0/prometheus" } } })[0]).toMatch(
      /^monitoring:grafana\.central\.url: /,
    );
  });
});
