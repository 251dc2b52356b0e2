/**
 * A thousand apps: the stack renders with every object well under the API server's limit
 * (512 KiB, half of it), the files Prometheus reads pass `promtool check config` and `check
 * rules` as its container sees them (the ConfigMaps' projected directories), and Prometheus
 * itself loads and evaluates every rule group, with one objective series per app. How long the
 * render takes is measured by `npm run bench`, never asserted here.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { APP_SERIES } from "../../components/prometheus/rules/app-rules";
import { OBJECT_BUDGET_BYTES, PROMETHEUS_PATHS } from "../../components/prometheus/args";
import type { Rendered } from "../../scripts/lib/render";
import { LOOPBACK, freePort } from "../../scripts/lib/cluster/processes";
import { promtool, stackBinary } from "../../scripts/lib/local/binaries";
import { manyApps } from "../../scripts/lib/local/many-apps";
import { objectOf, renderConfig } from "../support/render";

const APPS = 1000;

let rendered: Rendered;
let root: string;

interface PodSpec {
  automountServiceAccountToken?: boolean;
  containers: Array<{ name: string; volumeMounts: Array<{ name: string; mountPath: string }> }>;
  volumes: Array<{ name: string; configMap?: { name: string }; projected?: { sources: Array<{ configMap?: { name: string } }> } }>;
}

/** Every file the prometheus container sees, written under `root` from its mounts (projected ConfigMaps included). */
function layOut(r: Rendered, dir: string): void {
  const pod = (objectOf(r, "StatefulSet", "prometheus").spec as { template: { spec: PodSpec } }).template.spec;
  const container = pod.containers.find((c) => c.name === "prometheus");
  for (const mount of container?.volumeMounts ?? []) {
    const volume = pod.volumes.find((v) => v.name === mount.name);
    const maps = volume?.configMap ? [volume.configMap.name] : (volume?.projected?.sources ?? []).flatMap((s) => s.configMap?.name ?? []);
    fs.mkdirSync(path.join(dir, mount.mountPath), { recursive: true });
    for (const name of maps) {
      for (const [key, content] of Object.entries(objectOf(r, "ConfigMap", name).data as Record<string, string>)) {
        fs.writeFileSync(path.join(dir, mount.mountPath, key), content);
      }
    }
  }
  const sa = path.join(dir, PROMETHEUS_PATHS.serviceAccountDir);
  fs.mkdirSync(sa, { recursive: true });
  for (const file of ["token", "ca.crt", "namespace"]) fs.writeFileSync(path.join(sa, file), `${file}\n`);
}

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

beforeAll(async () => {
  // Rules evaluated every second, so that Prometheus below evaluates each group within the test.
  rendered = await renderConfig("staging", { apps: manyApps(APPS), prometheus: { evaluationInterval: "1s" } });
  root = fs.mkdtempSync(path.join(os.tmpdir(), "scale-"));
  layOut(rendered, root);
}, 120_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe(`${APPS} apps`, () => {
  test("every object stays under 512 KiB, the config and the rules split across ConfigMaps", () => {
    const sizes = rendered.kubernetes
      .map((o) => ({ id: `${o.object.kind}/${o.object.metadata.name}`, bytes: Buffer.byteLength(JSON.stringify(o.object)) }))
      .sort((a, b) => b.bytes - a.bytes);
    expect(OBJECT_BUDGET_BYTES).toBe(512 * 1024);
    expect(sizes.filter((s) => s.bytes >= OBJECT_BUDGET_BYTES)).toEqual([]);
    const maps = (prefix: string) => sizes.filter((s) => s.id.startsWith(`ConfigMap/${prefix}`)).length;
    expect(maps("prometheus-rules")).toBeGreaterThan(1);
    expect(maps("prometheus-config")).toBeGreaterThan(1);
  });

  test("the container sees every rendered file of Prometheus, in its config and rules directories", () => {
    const seen = [PROMETHEUS_PATHS.configDir, PROMETHEUS_PATHS.rulesDir].flatMap((d) => fs.readdirSync(path.join(root, d))).sort();
    const files = [...rendered.files.keys()].filter((f) => f.startsWith("prometheus/")).map((f) => f.slice("prometheus/".length));
    expect(seen).toEqual(files.sort());
    expect(seen).toEqual(expect.arrayContaining(["prometheus.yml", "apps.scrape.yml", "apps-2.scrape.yml", "apps.rules.yml"]));
  });

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
  let prometheus: ChildProcess | undefined;
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
    prometheus = spawn(
      stackBinary("prometheus"),
      [
        `--config.file=${path.join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(dir, "data")}`,
        `--web.listen-address=${LOOPBACK}:${port}`,
      ],
      { stdio: "ignore" },
    );
  }, 30_000);

  afterAll(() => {
    prometheus?.kill("SIGKILL");
  });

  test("loads every group and evaluates every rule without an error; each app has its objectives", async () => {
    type Rule = { name: string; health: string; lastError?: string };
    type Group = { name: string; file: string; lastEvaluation: string; rules: Rule[] };
    let groups: Group[] = [];
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        groups = ((await get("/api/v1/rules")) as { data: { groups: Group[] } }).data.groups;
        const waiting = groups.filter((g) => g.lastEvaluation.startsWith("0001-") || g.rules.some((r) => r.health === "unknown"));
        if (groups.length > 0 && waiting.length === 0) break;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`Prometheus did not evaluate every rule group in time (${groups.length} loaded)`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const appGroups = groups.filter((g) => /apps(-\d+)?\.rules\.yml$/.test(g.file));
    expect(appGroups.length).toBeGreaterThan(1);
    const failing = groups.flatMap((g) => g.rules.filter((r) => r.health !== "ok").map((r) => `${g.name}/${r.name}: ${r.lastError}`));
    expect(failing).toEqual([]);
    const count = (await get(`/api/v1/query?query=${encodeURIComponent(`count(${APP_SERIES.availabilityTarget})`)}`)) as {
      data: { result: Array<{ value: [number, string] }> };
    };
    expect(count.data.result[0]?.value[1]).toBe(String(APPS));
  }, 120_000);
});
