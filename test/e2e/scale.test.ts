/**
 * A thousand apps on the deployed releases: the files Prometheus reads pass `promtool check
 * config` and `check rules` as its container sees them (the ConfigMaps' projected directories),
 * and Prometheus itself loads and evaluates every rule group, with one objective series per app
 * (the render and its layout are checked without a binary in test/scenarios/scale.test.ts).
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import * as YAML from "yaml";
import { APP_SERIES } from "../../components/prometheus/rules/app-rules";
import { PROMETHEUS_PATHS } from "../../components/prometheus/args";
import { promtool, stackBinary } from "../../lab/local/binaries";
import { LOOPBACK, freePort } from "../../lab/ports";
import { manyApps } from "../../lab/local/many-apps";
import { APPS, renderManyApps } from "../support/many-apps";
import { localRun } from "./support/local-run";

let root: string;

beforeAll(async () => {
  ({ root } = await renderManyApps());
}, 120_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** A config file with its absolute paths (files, globs) moved under `dir`. */
function rerooted(file: string, dir: string): string {
  const reroot = (p: unknown) => (typeof p === "string" && path.isAbsolute(p) ? path.join(dir, p) : p);
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === "object" && node !== null) {
      const o = node as Record<string, unknown>;
      for (const [k, v] of Object.entries(o)) {
        if (k.endsWith("_file")) o[k] = reroot(v);
        else if (k === "rule_files" || k === "scrape_config_files") o[k] = (v as string[]).map(reroot);
        else walk(v);
      }
    }
  };
  const config = YAML.parse(fs.readFileSync(file, "utf8")) as unknown;
  walk(config);
  const out = `${file}.rerooted.yml`;
  fs.writeFileSync(out, YAML.stringify(config));
  return out;
}

describe(`${APPS} apps under promtool`, () => {
  test("promtool check config accepts prometheus.yml with the apps' scrape files it includes, every app a job", () => {
    const config = path.join(root, PROMETHEUS_PATHS.configFile);
    const result = promtool(["check", "config", rerooted(config, root)]);
    expect(result.output).not.toContain("FAILED");
    expect(result.ok).toBe(true);
    const jobs = fs
      .readdirSync(path.join(root, PROMETHEUS_PATHS.configDir))
      .filter((f) => f.endsWith(".scrape.yml"))
      .flatMap(
        (f) =>
          (
            YAML.parse(fs.readFileSync(path.join(root, PROMETHEUS_PATHS.configDir, f), "utf8")) as {
              scrape_configs: Array<{ job_name: string }>;
            }
          ).scrape_configs,
      )
      .map((j) => j.job_name);
    expect(jobs.sort()).toEqual(
      manyApps(APPS)
        .map((a) => a.name as string)
        .sort(),
    );
  });

  test("promtool check rules accepts every rule file, lint included (no rule twice in a file)", () => {
    const dir = path.join(root, PROMETHEUS_PATHS.rulesDir);
    const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
    expect(files.filter((f) => /apps(-\d+)?\.rules\.yml$/.test(f)).length).toBeGreaterThan(1);
    const result = promtool(["check", "rules", ...files]);
    expect(result.output).not.toContain("FAILED");
    expect(result.ok).toBe(true);
  });
});

describe(`Prometheus with the rules of ${APPS} apps`, () => {
  const run = localRun();
  let port = 0;
  const get = (p: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      http
        .get(`http://${LOOPBACK}:${port}${p}`, (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString("utf8")));
          res.on("end", () => {
            try {
              resolve(JSON.parse(body));
            } catch (err) {
              reject(err);
            }
          });
        })
        .on("error", reject);
    });

  beforeAll(async () => {
    port = await freePort();
    const dir = path.join(root, "evaluate");
    fs.mkdirSync(path.join(dir, "data"), { recursive: true });
    // Only the rules: discovery would need an API server, and the rules need no scraped series to evaluate.
    const config = { global: { evaluation_interval: "1s" }, rule_files: [path.join(root, PROMETHEUS_PATHS.rulesDir, "*.yml")] };
    fs.writeFileSync(path.join(dir, "prometheus.yml"), YAML.stringify(config));
    run.start("prometheus", stackBinary("prometheus"), [
      `--config.file=${path.join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=${LOOPBACK}:${port}`,
    ]);
  }, 30_000);

  test("loads every group and evaluates every rule without an error; each app has its objectives", async () => {
    type Rule = { name: string; health: string; lastError?: string };
    type Group = { name: string; file: string; lastEvaluation: string; rules: Rule[] };
    let loaded = 0;
    const groups = await run.waitFor(
      "Prometheus to evaluate every rule group",
      async () => {
        const all = ((await get("/api/v1/rules")) as { data: { groups: Group[] } }).data.groups;
        loaded = all.length;
        const waiting = all.filter((g) => g.lastEvaluation.startsWith("0001-") || g.rules.some((r) => r.health === "unknown"));
        return all.length > 0 && waiting.length === 0 ? all : undefined;
      },
      // Groups evaluated once a minute (docs/alerts.md, "Evaluated once a minute") first run within a minute of the
      // start, each at an offset of its own (Prometheus spreads groups over their interval): with an app contract's
      // pair of groups for each run of apps, the last of them comes close to a minute after the start.
      150_000,
      1000,
      () => `(${loaded} groups loaded)`,
    );
    const appGroups = groups.filter((g) => /apps(-\d+)?\.rules\.yml$/.test(g.file));
    expect(appGroups.length).toBeGreaterThan(1);
    const failing = groups.flatMap((g) => g.rules.filter((r) => r.health !== "ok").map((r) => `${g.name}/${r.name}: ${r.lastError}`));
    expect(failing).toEqual([]);
    const count = (await get(`/api/v1/query?query=${encodeURIComponent(`count(${APP_SERIES.availabilityTarget})`)}`)) as {
      data: { result: Array<{ value: [number, string] }> };
    };
    expect(count.data.result[0]?.value[1]).toBe(String(APPS));
  }, 180_000);
});
