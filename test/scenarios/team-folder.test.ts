/**
 * A team's own folder never breaks the project's tests (docs/dashboards.md, "your directory never
 * makes `npm test` fail"): the tests run on the shipped content, the program leaving the
 * project's `team/` unread under them (jest.config.js sets SHIPPED_CONTENT_ONLY_ENV), and a render
 * of the team's content holds it to the budgets the render enforces: a folder too big for one
 * ConfigMap is split across several, a dashboard too big for one is refused before any resource,
 * naming the file, its folder and the fix.
 *
 * The big dashboards are made here (many panels, exported "for sharing externally") and brought
 * into a scratch project's `team/dashboards/infrastructure/` (a folder the docs allow: a built-in
 * one's name) by `npm run dashboard:import`'s own function.
 */
import * as fs from "fs";
import * as path from "path";
import { importDashboard } from "../../cli/dashboard-import";
import type { Rendered } from "../../cli/render";
import { renderRun } from "../../cli/render";
import { withOfflineSalt } from "../../cli/render-stack";
import { applyProjectConfig, readProjectFile } from "../../cli/project-config";
import { RecordedResource, runProgram } from "../../cli/runner";
import { ROOT } from "../../cli/stackfile";
import { CONFIGMAP_DATA_BUDGET, CONFIGMAP_MAX_BYTES, dashboardEntryBytes } from "../../components/grafana/dashboards";
import { OBJECT_BUDGET_BYTES } from "../../components/prometheus/args";
import { readTeamContent, SHIPPED_CONTENT_ONLY_ENV } from "../../preflight/team-content";
import { objectOf } from "../support/render";
import { tempDirs } from "../support/temp";

const tempDir = tempDirs("team-folder");
const FOLDER = "infrastructure";
/** The stack the failing tests rendered (test/components/exporters.test.ts: kube-state-metrics off, the cluster watched). */
const CONFIG = { kubeStateMetrics: { enabled: false }, watch: { cluster: true } };

/** A community dashboard as grafana.com serves it, of `panels` time series panels, each with a long description and query. */
function bigDashboard(title: string, uid: string, panels: number): Record<string, unknown> {
  return {
    __inputs: [{ name: "DS_PROMETHEUS", label: "Prometheus", type: "datasource", pluginId: "prometheus", pluginName: "Prometheus" }],
    __requires: [{ type: "datasource", id: "prometheus", name: "Prometheus", version: "1.0.0" }],
    title,
    uid,
    schemaVersion: 39,
    panels: Array.from({ length: panels }, (_, i) => ({
      id: i + 1,
      type: "timeseries",
      title: `CPU seconds of mode ${i}`,
      description: `Rate of node_cpu_seconds_total per instance and mode, panel ${i}. `.repeat(6),
      datasource: { type: "prometheus", uid: "${DS_PROMETHEUS}" },
      gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
      fieldConfig: { defaults: { unit: "percentunit", min: 0, max: 1, custom: { fillOpacity: 10, lineWidth: 1 } }, overrides: [] },
      options: { legend: { displayMode: "table", placement: "bottom", calcs: ["mean", "max", "lastNotNull"] } },
      targets: [
        {
          datasource: { type: "prometheus", uid: "${DS_PROMETHEUS}" },
          expr: `sum by (instance, mode) (rate(node_cpu_seconds_total{mode!="idle", cpu=~"${i}|.*"}[$__rate_interval])) / on (instance) group_left count by (instance) (node_cpu_seconds_total{mode="idle"})`,
          legendFormat: "{{instance}} {{mode}}",
          refId: "A",
        },
      ],
    })),
  };
}

/** A scratch project whose team imported, into team/dashboards/infrastructure/, a dashboard of `n` panels per entry of `panels`; and what each file weighs in a ConfigMap. */
async function projectWithImports(...panels: number[]): Promise<{ root: string; files: string[]; bytes: number[] }> {
  const root = tempDir();
  const files: string[] = [];
  const bytes: number[] = [];
  for (const [i, n] of panels.entries()) {
    const name = `big-board-${i + 1}`;
    fs.writeFileSync(path.join(root, `${name}.json`), JSON.stringify(bigDashboard(`Big board ${i + 1}`, name, n)));
    const result = await importDashboard({ file: `${name}.json`, folder: FOLDER, force: false, team: "team" }, root);
    files.push(result.file);
    bytes.push(dashboardEntryBytes(`${FOLDER}__${name}.json`, fs.readFileSync(path.join(root, result.file), "utf8")));
  }
  return { root, files, bytes };
}

/** Renders the staging stack with CONFIG as the tests do (test/support/render.ts), the program's project directory `root`. */
async function renderAt(root: string, journal?: RecordedResource[], extra: Record<string, unknown> = {}): Promise<Rendered> {
  const given = Object.fromEntries(Object.entries({ ...CONFIG, ...extra }).map(([k, v]) => [`monitoring:${k}`, v]));
  const applied = applyProjectConfig(readProjectFile(ROOT), "staging", given, new Set());
  if (applied.error) throw new Error(applied.error);
  const config = Object.fromEntries(Object.entries(applied.values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  const run = await runProgram({
    project: "monitoring",
    stack: "staging",
    config,
    secretKeys: [],
    rootDirectory: root,
    previousOutputs: withOfflineSalt("monitoring", "staging"),
    ...(journal ? { journal } : {}),
  });
  return renderRun(run, true);
}

/** Runs `body` with the program told that `root` is the project whose tests run (as jest.config.js tells it of this one), or told nothing. */
async function withShippedOnly<T>(root: string | undefined, body: () => Promise<T>): Promise<T> {
  const before = process.env[SHIPPED_CONTENT_ONLY_ENV];
  if (root === undefined) delete process.env[SHIPPED_CONTENT_ONLY_ENV];
  else process.env[SHIPPED_CONTENT_ONLY_ENV] = root;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env[SHIPPED_CONTENT_ONLY_ENV];
    else process.env[SHIPPED_CONTENT_ONLY_ENV] = before;
  }
}

const sizes = (r: Rendered) =>
  r.kubernetes.map((o) => ({ id: `${o.object.kind}/${o.object.metadata.name}`, bytes: Buffer.byteLength(JSON.stringify(o.object)) }));
const infrastructureFiles = (r: Rendered) => [...r.files.keys()].filter((f) => f.startsWith(`grafana/${FOLDER}__`)).sort();

describe("two dashboards that each fit a ConfigMap, but not together", () => {
  let project: { root: string; files: string[]; bytes: number[] };
  let shipped: Rendered;

  beforeAll(async () => {
    project = await projectWithImports(300, 300);
    shipped = await renderAt(ROOT);
  });

  test("are imported, each weighing more than an object's budget and less than a dashboards ConfigMap's", () => {
    expect(project.files).toEqual(["team/dashboards/infrastructure/big-board-1.json", "team/dashboards/infrastructure/big-board-2.json"]);
    for (const bytes of project.bytes) {
      expect(bytes).toBeGreaterThan(OBJECT_BUDGET_BYTES);
      expect(bytes).toBeLessThan(CONFIGMAP_DATA_BUDGET);
    }
    expect(project.bytes[0] + project.bytes[1]).toBeGreaterThan(CONFIGMAP_DATA_BUDGET);
  });

  test("the project's tests leave it unread: their render is the shipped content's, under the budgets they assert", async () => {
    const underTests = await withShippedOnly(project.root, () => renderAt(project.root));
    // What test/components/exporters.test.ts lists, and what test/scenarios/scale.test.ts holds every object to.
    expect(infrastructureFiles(underTests)).toEqual(infrastructureFiles(shipped));
    expect(infrastructureFiles(underTests).filter((f) => f.includes("big-board"))).toEqual([]);
    expect(sizes(underTests).filter((s) => s.bytes >= OBJECT_BUDGET_BYTES)).toEqual([]);
    expect([...underTests.files.keys()].sort()).toEqual([...shipped.files.keys()].sort());
  });

  test("so do they a team directory a stack file names (teamContent), the project's own (test/, examples/) and one outside the project apart", async () => {
    fs.cpSync(path.join(project.root, "team"), path.join(project.root, "teams", "shop"), { recursive: true });
    const underTests = await withShippedOnly(project.root, () => renderAt(project.root, undefined, { teamContent: "teams/shop" }));
    expect([...underTests.files.keys()].sort()).toEqual([...shipped.files.keys()].sort());
    // Under examples/, a team directory is the project's own: read under its tests too (its budgets hold it).
    fs.cpSync(path.join(project.root, "team"), path.join(project.root, "examples", "shop", "team"), { recursive: true });
    const example = await withShippedOnly(project.root, () => renderAt(project.root, undefined, { teamContent: "examples/shop/team" }));
    expect(infrastructureFiles(example).filter((f) => f.includes("big-board"))).toEqual([
      "grafana/infrastructure__big-board-1.json",
      "grafana/infrastructure__big-board-2.json",
    ]);
    // Outside the project (a test's scratch directory, which the e2e tests give `npm run check --dir`), it is the test's own: read.
    const outside = path.join(tempDir(), "team");
    fs.cpSync(path.join(project.root, "team"), outside, { recursive: true });
    const scratch = await withShippedOnly(project.root, async () => readTeamContent(project.root, outside));
    expect(scratch.dashboards.map((d) => d.file).sort()).toEqual(["big-board-1.json", "big-board-2.json"]);
  });

  test("a render reads it, and splits the folder across two ConfigMaps, each under Kubernetes' limit, both mounted in the folder", async () => {
    const rendered = await withShippedOnly(undefined, () => renderAt(project.root));
    expect(infrastructureFiles(rendered)).toEqual(
      [...infrastructureFiles(shipped), "grafana/infrastructure__big-board-1.json", "grafana/infrastructure__big-board-2.json"].sort(),
    );
    const maps = sizes(rendered).filter((s) => s.id.startsWith("ConfigMap/grafana-dashboards-infrastructure-"));
    expect(maps.map((m) => m.id).sort()).toEqual([
      "ConfigMap/grafana-dashboards-infrastructure-1",
      "ConfigMap/grafana-dashboards-infrastructure-2",
    ]);
    for (const m of maps) expect(m.bytes).toBeLessThan(CONFIGMAP_MAX_BYTES);
    // Every other object stays under the budget the scale test holds it to.
    expect(sizes(rendered).filter((s) => !s.id.startsWith("ConfigMap/grafana-dashboards-") && s.bytes >= OBJECT_BUDGET_BYTES)).toEqual([]);
    const volume = (
      objectOf(rendered, "Deployment", "grafana").spec as {
        template: { spec: { volumes: Array<{ name: string; projected?: { sources: Array<{ configMap: { name: string } }> } }> } };
      }
    ).template.spec.volumes.find((v) => v.name === "dashboards-infrastructure");
    expect(volume?.projected?.sources.map((s) => s.configMap.name).sort()).toEqual([
      "grafana-dashboards-infrastructure-1",
      "grafana-dashboards-infrastructure-2",
    ]);
  });
});

describe("a dashboard too big for one ConfigMap", () => {
  test("is refused by the render before any resource, naming the file, its folder and the fix", async () => {
    // Made, then grown in place past what one ConfigMap carries (the import itself refuses such a file).
    const { root, files } = await projectWithImports(420);
    const file = files[0];
    const written = JSON.parse(fs.readFileSync(path.join(root, file), "utf8")) as { panels: Array<{ description: string }> };
    for (const p of written.panels) p.description = p.description.repeat(3);
    const content = `${JSON.stringify(written, null, 2)}\n`;
    fs.writeFileSync(path.join(root, file), content);
    const bytes = dashboardEntryBytes(`${FOLDER}__big-board-1.json`, content);
    expect(bytes).toBeGreaterThan(CONFIGMAP_DATA_BUDGET);
    expect(bytes).toBeLessThan(2 * CONFIGMAP_MAX_BYTES);

    const journal: RecordedResource[] = [];
    const refused = withShippedOnly(undefined, () => renderAt(root, journal));
    await expect(refused).rejects.toThrow(
      new RegExp(
        `monitoring:teamContent: team/dashboards/infrastructure/big-board-1\\.json: weighs ${bytes} bytes in a ConfigMap of folder infrastructure, ` +
          `more than one ConfigMap carries \\(${CONFIGMAP_DATA_BUDGET} bytes of data.*\\): shrink the dashboard .* or split it into two dashboards`,
      ),
    );
    expect(journal.filter((r) => r.type.startsWith("kubernetes:"))).toEqual([]);
  });
});
