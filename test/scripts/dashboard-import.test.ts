/**
 * `npm run dashboard:import`: community dashboards (real ones, test/fixtures/community-dashboards/,
 * stored as their authors publish them) come into a team directory with their datasources mapped
 * onto the stack's, and `npm run check`'s own function takes the result. grafana.com is stood in
 * for by a loopback server (GRAFANA_COM_URL), the machine running the tests being offline.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { spawnSync } from "child_process";
import {
  IMPORT_USAGE,
  ImportRefused,
  UsageError,
  grafanaComDownloadUrl,
  importDashboard,
  parseImportArgs,
  slugOf,
} from "../../cli/dashboard-import";
import { STACK_PROVIDES, dashboardOf, mapCommunityDashboard } from "../../cli/dashboards/community";
import {
  JsonObject,
  PROVISIONED_DATASOURCES,
  datasourceRefs,
  isObject,
  templateVariables,
  variableNameOfUid,
} from "../../cli/dashboards/files";
import { datasourceProblems, queryProblems, teamDashboardCheck } from "../../cli/dashboards/checks";
import { builtinNames, readTeamContent } from "../../preflight/team-content";
import { ConfigError } from "../../config";
import { planDashboardConfigMaps, readDashboards } from "../../components/grafana/dashboards";
import { freePort } from "../../lab/ports";
import { LoopbackServer } from "../../lab/local/http";
import { tempDirs } from "../support/temp";
import { scriptArguments } from "../support/npm-script";

const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURES = path.join(ROOT, "test", "fixtures", "community-dashboards");
const COMMUNITY = ["node-exporter-full", "bind9-full", "apache-full"];
const tempDir = tempDirs("dashboard-import");
const builtin = builtinNames();

const fixture = (name: string): JsonObject => JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), "utf8")) as JsonObject;
/**
 * `npm run check` of a team directory's dashboards, by its own parts: what the program refuses at
 * preview (readTeamContent), then each dashboard's check (teamDashboardCheck, as cli/team-check.ts
 * runs it; the rest of that file runs promtool, which a quick test does not reach).
 */
function check(root: string): { errors: string[]; warnings: string[]; dashboards: number } {
  try {
    const content = readTeamContent(root, "team", builtin);
    const results = content.dashboards.map((d) => ({ d, ...teamDashboardCheck(JSON.parse(d.content)) }));
    return {
      errors: results.flatMap(({ d, errors }) => errors.map((e) => `${d.source}: ${e}`)),
      warnings: results.flatMap(({ d, warnings }) => warnings.map((w) => `${d.source}: ${w}`)),
      dashboards: content.dashboards.length,
    };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { errors: err.problems.map((p) => p.message), warnings: [], dashboards: 0 };
  }
}
const args = (...argv: string[]) => parseImportArgs(argv);

/** Every datasource reference is a provisioned uid of its type, a datasource variable, or Grafana's own on the built-in annotation. */
function foreignRefs(dashboard: JsonObject): string[] {
  const variables = new Map(templateVariables(dashboard).map((v) => [v.name, v.variable]));
  return datasourceRefs(dashboard)
    .filter(({ ref, builtInAnnotation }) => {
      if (!isObject(ref) || typeof ref.uid !== "string") return true;
      if (builtInAnnotation) return !(ref.uid === "-- Grafana --" && ref.type === "grafana");
      const name = variableNameOfUid(ref.uid);
      if (name !== undefined) return variables.get(name)?.type !== "datasource" || variables.get(name)?.query !== ref.type;
      return PROVISIONED_DATASOURCES[ref.uid] !== ref.type;
    })
    .map(({ where, ref }) => `${where}: ${JSON.stringify(ref)}`);
}

describe("the real community dashboards", () => {
  test("are stored as fetched: the SHA-256 of each is the one its README gives", () => {
    const readme = fs.readFileSync(path.join(FIXTURES, "README.md"), "utf8");
    for (const name of COMMUNITY) {
      const sum = crypto
        .createHash("sha256")
        .update(fs.readFileSync(path.join(FIXTURES, `${name}.json`)))
        .digest("hex");
      expect(readme).toMatch(new RegExp(`\\| ${name}\\.json \\|[^\\n]*\\| ${sum} \\|`));
    }
  });

  test("as published, npm run check refuses them (their ${DS_…} resolve to nothing)", () => {
    const root = tempDir();
    const dir = path.join(root, "team", "dashboards", "imported");
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, "node-exporter-full.json"), path.join(dir, "node-exporter-full.json"));
    expect(check(root).errors).toContainEqual(
      expect.stringMatching(/node-exporter-full\.json: is an export "for sharing externally" \(__inputs\)/),
    );
  });

  test("import into team/dashboards/imported/, and npm run check takes them with no error and no warning", async () => {
    const root = tempDir();
    for (const name of COMMUNITY) {
      const result = await importDashboard(args(path.join(FIXTURES, `${name}.json`)), root);
      expect(result.file).toBe(`team/dashboards/imported/${name}.json`);
      expect(result.checkProblems).toEqual([]);
      const text = fs.readFileSync(path.join(root, result.file), "utf8");
      expect(text).not.toMatch(/\$\{?DS_/);
      const written = JSON.parse(text) as JsonObject;
      expect(foreignRefs(written)).toEqual([]);
      for (const field of ["__inputs", "__requires", "__elements", "iteration"]) expect(written).not.toHaveProperty(field);
      expect(written.id).toBeNull();
      expect(written.version).toBe(1);
      expect(written.uid).toBe(fixture(name).uid);
      expect(written.tags).toEqual(expect.arrayContaining(["monitoring-stack", "imported"]));
      // Written as the repository writes dashboards: keys sorted, two spaces, a final newline.
      expect(text.startsWith('{\n  "annotations"')).toBe(true);
      expect(text.endsWith("}\n")).toBe(true);
    }
    const result = check(root);
    expect(result.dashboards).toBe(COMMUNITY.length);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    // And they ship: each fits the folder's ConfigMaps.
    const plans = planDashboardConfigMaps(readDashboards(path.join(root, "team", "dashboards")));
    expect(plans.flatMap((p) => Object.keys(p.data)).sort()).toEqual(COMMUNITY.map((n) => `imported__${n}.json`).sort());
  });

  test("Node Exporter Full: its ${DS_PROMETHEUS} placeholders and variable make way for the provisioned Prometheus", () => {
    const source = fixture("node-exporter-full");
    const before = JSON.stringify(source);
    const { dashboard, mapped, dropped } = mapCommunityDashboard(source);
    expect(JSON.stringify(source)).toBe(before);
    expect(mapped).toContain("${DS_PROMETHEUS} -> prometheus (uid prometheus): 124");
    expect(dropped).toEqual(expect.arrayContaining(["__inputs", "__requires", "__elements"]));
    expect(templateVariables(dashboard).map((v) => v.name)).toEqual(["job", "nodename", "node", "diskdevices"]);
    const refs = datasourceRefs(dashboard).filter(({ builtInAnnotation }) => !builtInAnnotation);
    expect(refs.length).toBeGreaterThan(124);
    expect(new Set(refs.map(({ ref }) => JSON.stringify(ref)))).toEqual(
      new Set([JSON.stringify({ type: "prometheus", uid: "prometheus" })]),
    );
  });

  test("Bind9 Full: another instance's uid of a Prometheus maps to the stack's, and the rows' leftover targets go", () => {
    const { dashboard, dropped } = mapCommunityDashboard(fixture("bind9-full"));
    expect(JSON.stringify(dashboard)).not.toContain("000000001");
    expect(dropped).toContain("the targets of 4 row(s) (Grafana runs no query of a row)");
  });
});

/** An export "for sharing externally" as Grafana writes one, of the given inputs and panels. */
function exported(inputs: JsonObject[], panels: JsonObject[], extra: JsonObject = {}): JsonObject {
  return {
    __inputs: inputs,
    __requires: [{ type: "grafana", id: "grafana", name: "Grafana", version: "12.1.0" }],
    id: null,
    uid: "shop-orders",
    title: "Shop orders",
    version: 3,
    schemaVersion: 41,
    time: { from: "now-6h", to: "now" },
    panels,
    templating: { list: [] },
    annotations: { list: [] },
    ...extra,
  };
}
const PROM_INPUT = { name: "DS_PROM", label: "Prometheus", type: "datasource", pluginId: "prometheus", pluginName: "Prometheus" };
const LOKI_INPUT = { name: "DS_LOKI", label: "Loki", type: "datasource", pluginId: "loki", pluginName: "Loki" };
const INFLUX_INPUT = { name: "DS_INFLUX", label: "Shop metrics", type: "datasource", pluginId: "influxdb", pluginName: "InfluxDB" };
const panel = (id: number, title: string, datasource: unknown, expr: string, extra: JsonObject = {}): JsonObject => ({
  id,
  title,
  type: "timeseries",
  gridPos: { x: 0, y: id * 8, w: 24, h: 8 },
  datasource,
  targets: [{ refId: "A", expr, datasource }],
  ...extra,
});

describe("mapping", () => {
  test("Loki, Jaeger and constant inputs; string and object references; a kept datasource variable", () => {
    const source = exported(
      [
        PROM_INPUT,
        LOKI_INPUT,
        { name: "DS_JAEGER", label: "Jaeger", type: "datasource", pluginId: "jaeger", pluginName: "Jaeger" },
        { name: "VAR_JOB", label: "job", type: "constant", value: "shop" },
      ],
      [
        panel(1, "Orders", { type: "prometheus", uid: "${DS_PROM}" }, 'sum(rate(orders_total{job="${VAR_JOB}"}[5m]))'),
        panel(2, "Errors", "${DS_LOKI}", '{app="$VAR_JOB"} |= "error"', { type: "logs" }),
        {
          id: 3,
          title: "Traces",
          type: "table",
          gridPos: { x: 0, y: 40, w: 24, h: 8 },
          datasource: "$DS_JAEGER",
          targets: [{ refId: "A" }],
        },
        panel(4, "Latency", { type: "prometheus", uid: "${metrics}" }, "histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m])))"),
      ],
      {
        templating: {
          list: [
            { name: "metrics", type: "datasource", query: "prometheus", current: { text: "Prod", value: "P1809F7CD0C75ACF3" } },
            { name: "job", type: "constant", query: "${VAR_JOB}" },
          ],
        },
      },
    );
    const { dashboard, mapped, warnings } = mapCommunityDashboard(source);
    const panels = dashboard.panels as JsonObject[];
    expect(panels[0].datasource).toEqual({ type: "prometheus", uid: "prometheus" });
    expect((panels[0].targets as JsonObject[])[0].expr).toBe('sum(rate(orders_total{job="shop"}[5m]))');
    expect(panels[1].datasource).toEqual({ type: "loki", uid: "loki" });
    expect((panels[1].targets as JsonObject[])[0]).toEqual({
      refId: "A",
      expr: '{app="shop"} |= "error"',
      datasource: { type: "loki", uid: "loki" },
    });
    expect(panels[2].datasource).toEqual({ type: "jaeger", uid: "traces" });
    // The datasource variable that is not an input keeps working, without the instance's selection.
    expect(panels[3].datasource).toEqual({ type: "prometheus", uid: "${metrics}" });
    expect(templateVariables(dashboard).map((v) => v.variable)).toEqual([
      { name: "metrics", type: "datasource", query: "prometheus", current: {}, options: [] },
      { name: "job", type: "constant", query: "shop" },
    ]);
    expect(mapped).toEqual(expect.arrayContaining(['constant VAR_JOB = "shop": 3', "${DS_LOKI} -> loki (uid loki): 2"]));
    expect(warnings).toContainEqual(
      expect.stringMatching(/DS_JAEGER maps to the traces datasource, which exists only with tracing.enabled/),
    );
    expect(foreignRefs(dashboard)).toEqual([]);
    // What npm run check asks of the datasources and queries: the traces datasource is a provisioned one too.
    expect([...datasourceProblems(dashboard), ...queryProblems(dashboard)]).toEqual([]);
  });

  test("a library panel the export carries is inlined; one it does not carry is refused", () => {
    const model = {
      type: "stat",
      title: "Orders today",
      datasource: { type: "prometheus", uid: "${DS_PROM}" },
      targets: [{ refId: "A", expr: "sum(orders_total)" }],
    };
    const library = { id: 7, gridPos: { x: 0, y: 0, w: 6, h: 4 }, libraryPanel: { uid: "lib-orders", name: "Orders today" } };
    const { dashboard } = mapCommunityDashboard(
      exported([PROM_INPUT], [library], { __elements: { "lib-orders": { uid: "lib-orders", kind: 1, model } } }),
    );
    expect((dashboard.panels as JsonObject[])[0]).toMatchObject({
      id: 7,
      type: "stat",
      gridPos: library.gridPos,
      datasource: { type: "prometheus", uid: "prometheus" },
    });
    expect(() => mapCommunityDashboard(exported([PROM_INPUT], [library]))).toThrow(
      /panel 7 "" is library panel lib-orders, whose model the file does not carry/,
    );
  });

  test("an input of a plugin the stack has no datasource for is refused, naming it, its panels and what the stack provides", () => {
    const source = exported(
      [PROM_INPUT, INFLUX_INPUT],
      [
        panel(1, "Orders", { type: "prometheus", uid: "${DS_PROM}" }, "sum(orders_total)"),
        panel(2, "Carts", { type: "influxdb", uid: "${DS_INFLUX}" }, "SELECT count(*) FROM carts"),
      ],
    );
    let message = "";
    try {
      mapCommunityDashboard(source);
    } catch (err) {
      expect(err).toBeInstanceOf(ImportRefused);
      message = (err as Error).message;
    }
    expect(message).toContain(
      `input DS_INFLUX ("Shop metrics") is a InfluxDB datasource (plugin influxdb), which the stack does not provide (it provides ${STACK_PROVIDES}); ` +
        'used by panel 2 "Carts", panel 2 "Carts" target A',
    );
    expect(STACK_PROVIDES).toBe("prometheus (uid prometheus), loki (uid loki), alertmanager (uid alertmanager), jaeger (uid traces)");
    // Unused, the same input is only dropped.
    const unused = exported(
      [PROM_INPUT, INFLUX_INPUT],
      [panel(1, "Orders", { type: "prometheus", uid: "${DS_PROM}" }, "sum(orders_total)")],
    );
    expect(mapCommunityDashboard(unused).dropped).toContain("the unused input DS_INFLUX (influxdb)");
  });

  test("a datasource variable of a plugin the stack lacks is refused; one filtering names is pointed out", () => {
    const withVariable = (variable: JsonObject) =>
      exported([], [panel(1, "Orders", { type: variable.query, uid: "${ds}" }, "sum(orders_total)")], { templating: { list: [variable] } });
    expect(() => mapCommunityDashboard(withVariable({ name: "ds", type: "datasource", query: "influxdb" }))).toThrow(
      `variable ds selects a influxdb datasource; the stack provides ${STACK_PROVIDES}`,
    );
    const { warnings } = mapCommunityDashboard(withVariable({ name: "ds", type: "datasource", query: "prometheus", regex: "/prod-.*/" }));
    expect(warnings).toEqual(["variable ds offers only the datasources whose name matches /prod-.*/: the stack's is named Prometheus"]);
  });

  test("a dashboard of before Grafana 5 (rows, no panels) and a file that is no dashboard are refused, the API's answer unwrapped", () => {
    expect(() => dashboardOf({ title: "Old", rows: [{ panels: [] }], schemaVersion: 14 }, "old.json")).toThrow(
      "old.json is a dashboard of before Grafana 5 (rows instead of panels)",
    );
    expect(() => dashboardOf([1, 2], "list.json")).toThrow("list.json is not a dashboard: it is not a JSON object");
    const inner = exported([], []);
    expect(dashboardOf({ dashboard: inner, meta: { slug: "x" } }, "answer.json")).toBe(inner);
  });

  test("references that would resolve to nothing are refused all at once: a mixed panel, another plugin's uid", () => {
    const source = exported(
      [PROM_INPUT],
      [
        panel(1, "Mixed", { type: "datasource", uid: "-- Mixed --" }, "up"),
        panel(2, "Elastic", { type: "elasticsearch", uid: "abc123" }, "up"),
      ],
    );
    expect(() => mapCommunityDashboard(source)).toThrow(
      /panel 1 "Mixed": \{"type":"datasource","uid":"-- Mixed --"\}[\s\S]*panel 2 "Elastic": \{"type":"elasticsearch","uid":"abc123"\}/,
    );
  });
});

describe("the command", () => {
  const source = (root: string, dashboard: JsonObject, name = "export.json") => {
    const file = path.join(root, name);
    fs.writeFileSync(file, JSON.stringify(dashboard));
    return file;
  };
  const simple = () => exported([PROM_INPUT], [panel(1, "Orders", { type: "prometheus", uid: "${DS_PROM}" }, "sum(orders_total)")]);

  test("takes a file or --id, and refuses bad usage with UsageError", () => {
    expect(args("x.json", "--folder", "shop", "--name", "orders", "--uid=shop-1", "--force")).toEqual({
      file: "x.json",
      folder: "shop",
      name: "orders.json",
      uid: "shop-1",
      force: true,
      team: "team",
    });
    expect(args("--id", "1860", "--revision", "37")).toEqual({ id: 1860, revision: 37, folder: "imported", force: false, team: "team" });
    const bad = (argv: string[], message: RegExp) => {
      expect(() => parseImportArgs(argv)).toThrow(UsageError);
      expect(() => parseImportArgs(argv)).toThrow(message);
    };
    bad([], /give a dashboard file or --id/);
    bad(["a.json", "--id", "1"], /give a dashboard file or --id/);
    bad(["a.json", "--revision", "2"], /--revision goes with --id/);
    bad(["--id", "node"], /--id must be a positive whole number \(got "node"\)/);
    bad(["a.json", "--folder", "../etc"], /--folder: folder name "..\/etc" may hold only letters, digits/);
    bad(["a.json", "--folder", "x".repeat(53)], /is too long \(at most 52 characters\)/);
    bad(["a.json", "--uid", "has space"], /--uid must be 1-40 letters/);
    bad(["a.json", "--bogus"], /unknown argument --bogus\nusage: npm run dashboard:import/);
  });

  test("refuses to overwrite without --force, and overwrites with it", async () => {
    const root = tempDir();
    const file = source(root, simple());
    expect((await importDashboard(args(file), root)).file).toBe("team/dashboards/imported/shop-orders.json");
    await expect(importDashboard(args(file), root)).rejects.toThrow(
      "team/dashboards/imported/shop-orders.json exists: give --force to overwrite it",
    );
    await expect(importDashboard(args(file, "--force"), root)).resolves.toMatchObject({ uid: "shop-orders" });
    expect(check(root).errors).toEqual([]);
  });

  test("a uid of a shipped or a team dashboard is refused unless --uid gives another; a missing one comes from the title", async () => {
    const root = tempDir();
    const shipped = JSON.parse(readDashboards(path.join(ROOT, "dashboards"))[0].content) as JsonObject;
    const clash = source(root, { ...simple(), uid: shipped.uid });
    await expect(importDashboard(args(clash), root)).rejects.toThrow(`uid ${String(shipped.uid)} is already the uid of dashboards/`);
    await expect(importDashboard(args(clash, "--uid", "shop-orders-2"), root)).resolves.toMatchObject({ uid: "shop-orders-2" });
    const again = source(root, { ...simple(), uid: "shop-orders-2", title: "Other" }, "other.json");
    await expect(importDashboard(args(again, "--folder", "shop"), root)).rejects.toThrow(
      "uid shop-orders-2 is already the uid of team/dashboards/imported/shop-orders.json",
    );
    const untitled: JsonObject = { ...simple(), title: "Shop — Orders & Refunds (v2)" };
    delete untitled.uid;
    const result = await importDashboard(args(source(root, untitled, "no-uid.json"), "--folder", "shop"), root);
    expect(result.uid).toBe("shop-orders-refunds-v2");
    expect(result.uid).toBe(slugOf("Shop — Orders & Refunds (v2)"));
    expect(result.warnings).toContain('the dashboard had no uid: it gets "shop-orders-refunds-v2", from its title');
    expect(check(root).errors).toEqual([]);
  });
});

describe("--id: grafana.com's download, stood in for on the loopback", () => {
  let server: LoopbackServer;
  const seen: string[] = [];
  beforeAll(async () => {
    server = new LoopbackServer(await freePort(), (req: http.IncomingMessage, res: http.ServerResponse) => {
      seen.push(req.url ?? "");
      if (req.url === "/api/dashboards/1860/revisions/latest/download" || req.url === "/api/dashboards/1860/revisions/37/download") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(fs.readFileSync(path.join(FIXTURES, "node-exporter-full.json")));
      } else {
        res.writeHead(404, { "Content-Type": "application/json" });
        res.end('{"message":"Dashboard not found"}');
      }
    });
    await server.start();
  });
  afterAll(() => server.stop());

  test("the download URL: the latest revision, or the one given", () => {
    expect(grafanaComDownloadUrl(1860)).toBe("https://grafana.com/api/dashboards/1860/revisions/latest/download");
    expect(grafanaComDownloadUrl(1860, 37, "http://127.0.0.1:1/")).toBe("http://127.0.0.1:1/api/dashboards/1860/revisions/37/download");
  });

  test("downloads, maps and writes; an unknown id is reported as such", async () => {
    const root = tempDir();
    const env = { GRAFANA_COM_URL: `http://127.0.0.1:${server.port}` };
    const result = await importDashboard(args("--id", "1860", "--revision", "37", "--folder", "infrastructure"), root, env);
    expect(seen).toContain("/api/dashboards/1860/revisions/37/download");
    expect(result.file).toBe("team/dashboards/infrastructure/node-exporter-full.json");
    expect(check(root).errors).toEqual([]);
    await expect(importDashboard(args("--id", "99999999"), root, env)).rejects.toThrow(
      /revisions\/latest\/download: HTTP 404: grafana.com has no dashboard 99999999/,
    );
  });

  test("without a network, the message says so and what to do instead", async () => {
    const closed = await freePort();
    await expect(importDashboard(args("--id", "1860"), tempDir(), { GRAFANA_COM_URL: `http://127.0.0.1:${closed}` })).rejects.toThrow(
      /GET http:\/\/127\.0\.0\.1:\d+\/api\/dashboards\/1860\/revisions\/latest\/download failed \(.+\): no network to grafana\.com from here \(offline\?\)\. Download the dashboard's JSON/,
    );
  });
});

describe("npm run dashboard:import's exit codes", () => {
  const run = (...argv: string[]) =>
    spawnSync(process.execPath, [...scriptArguments("dashboard:import"), ...argv], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, INIT_CWD: ROOT },
    });

  test("0 written, 1 refused, 2 bad usage", () => {
    const team = path.join(tempDir(), "team");
    const fixtureFile = path.relative(ROOT, path.join(FIXTURES, "apache-full.json"));
    const ok = run(fixtureFile, "--team", team);
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(
      /^wrote "Apache Full" \(uid apache-http\) to .*\/team\/dashboards\/imported\/apache-full\.json\nmapped:\n {2}\$\{DS_PROMETHEUS\} -> prometheus/,
    );
    expect(ok.stdout).toMatch(/npm run check takes it/);
    const refused = run(fixtureFile, "--team", team);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/apache-full\.json exists: give --force to overwrite it/);
    const usage = run(fixtureFile, "--folder", "no/slash");
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain(IMPORT_USAGE);
  });
});
