/**
 * The pinned tool set (scripts/lib/tools.ts, tools/<module>/go.mod): the engine and its
 * plugins are the releases of the npm packages the program uses, every tool module pins
 * what the table says, each test tier's tools are in the table, and no built binary can
 * reach git.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { ImageName, imageVersion, images } from "../../components/images";
import {
  ROOT,
  STACK_TOOLS,
  TIERS,
  TIER_TOOLS,
  TOOLS,
  TOOLS_DIR,
  goModRequire,
  npmVersion,
  pinnedNpmVersion,
  reportsRelease,
  toolsOfTier,
} from "../../scripts/lib/tools";
import { UNAVAILABLE } from "../../scripts/lib/unavailable-tools";
import { howToBuild } from "../../scripts/lib/local/binaries";

describe("the tool set", () => {
  test.each(TOOLS.filter((t) => t.npmPackage).map((t) => [t.binary, t] as const))(
    "%s is the release of its npm package, pinned exactly",
    (_binary, tool) => {
      const pkg = tool.npmPackage as string;
      const release = tool.release.replace(/^v/, "");
      expect(pinnedNpmVersion(pkg)).toBe(release);
      expect(npmVersion(pkg)).toBe(release);
    },
  );

  test("every npm package with a Pulumi plugin has its tool or says why not", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const providers = Object.keys(manifest.dependencies).filter((d) => d.startsWith("@pulumi/") && d !== "@pulumi/pulumi");
    for (const pkg of providers) {
      const name = pkg.slice("@pulumi/".length);
      const built = TOOLS.some((t) => t.plugin === name);
      const explained = UNAVAILABLE.some((u) => u.what.startsWith(`pulumi-resource-${name} `));
      expect({ pkg, built, explained }).toEqual({ pkg, built: !explained, explained: !built });
    }
  });

  test.each(TOOLS.map((t) => [t.binary, t] as const))("%s: its go.mod pins the upstream module", (_binary, tool) => {
    const pinned = goModRequire(tool.module, tool.upstream);
    expect(pinned).toBeDefined();
    if (/^v\d+\.\d+\.\d+-\d{14}-[0-9a-f]{12}$/.test(pinned as string)) {
      // A pseudo-version: the table names the release whose commit it is (cloudflared's are calendar versions).
      expect(tool.release).toMatch(/^v?\d+\.\d+\.\d+$/);
    } else {
      expect(pinned).toBe(tool.moduleVersion ?? tool.release);
    }
    expect(fs.existsSync(path.join(TOOLS_DIR, tool.module, "go.sum"))).toBe(true);
  });

  test("the control plane's Kubernetes libraries are the release of the binaries", () => {
    const gomod = fs.readFileSync(path.join(TOOLS_DIR, "control-plane", "go.mod"), "utf8");
    const release = TOOLS.find((t) => t.binary === "kube-apiserver")?.release as string;
    const staging = [...gomod.matchAll(/^\s*(k8s\.io\/[a-z-]+) => k8s\.io\/[a-z-]+ (v\S+)$/gm)];
    expect(staging.length).toBeGreaterThan(20);
    for (const [, module, version] of staging) expect({ module, version }).toEqual({ module, version: release.replace(/^v1\./, "v0.") });
  });

  test("built tools and generated files stay out of git", () => {
    // Without a trailing slash, so that it also covers a link (a work tree sharing another's tools).
    expect(fs.readFileSync(path.join(ROOT, ".gitignore"), "utf8").split("\n")).toContain(".tools");
    for (const tool of TOOLS.filter((t) => t.embeds)) {
      const ignored = fs.readFileSync(path.join(TOOLS_DIR, tool.module, ".gitignore"), "utf8").split("\n");
      for (const embed of tool.embeds ?? []) expect(ignored).toContain(embed.to);
    }
  });
});

describe("the stack's binaries are the releases of its images", () => {
  test("every image has the tools that stand for it in the tests, or says why it cannot be built", () => {
    const covered = new Set(STACK_TOOLS.map((t) => t.image));
    const explained = (name: string) => UNAVAILABLE.some((u) => u.what.startsWith(`${name} `));
    const missing = (Object.keys(images) as ImageName[]).filter((name) => !covered.has(name) && !explained(name));
    expect(missing).toEqual([]);
  });

  test.each(STACK_TOOLS.map((t) => [t.binary, t] as const))("%s: its release is its image's tag", (_binary, tool) => {
    const tag = imageVersion(tool.image as ImageName);
    expect(tool.release.replace(/^v/, "")).toBe(tag.replace(/^v/, ""));
  });

  test("a binary reports its image's tag when its version output names it as a whole version (npm run tools checks each)", () => {
    expect(reportsRelease("prometheus, version 3.13.5 (branch: HEAD, revision: v3.13.5)", "v3.13.5")).toBe(true);
    expect(reportsRelease("Version: v0.51.0", "v0.51.0")).toBe(true);
    expect(reportsRelease("cloudflared version 2026.8.2 (built unknown)", "2026.8.2")).toBe(true);
    expect(reportsRelease("prometheus, version 3.13.50", "v3.13.5")).toBe(false);
    expect(reportsRelease("prometheus, version 13.13.5", "v3.13.5")).toBe(false);
    expect(reportsRelease("prometheus, version 3x13y5", "v3.13.5")).toBe(false);
  });
});

describe("each test tier builds its tools", () => {
  test("every tool of a tier is in the table, and `all` is every tool", () => {
    const names = TOOLS.map((t) => t.binary);
    for (const tier of TIERS) expect(TIER_TOOLS[tier].filter((b) => !names.includes(b))).toEqual([]);
    expect(toolsOfTier("all")).toEqual(TOOLS);
    expect(toolsOfTier("cluster").map((t) => t.binary)).toEqual(TOOLS.map((t) => t.binary).filter((b) => TIER_TOOLS.cluster.includes(b)));
  });

  test("npm test checks first that the offline tier's tools are built, and names the command that builds them", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(manifest.scripts.test.startsWith("npm run tools -- --tier offline --check && ")).toBe(true);
    const source = fs.readFileSync(path.join(ROOT, "scripts", "tools.ts"), "utf8");
    expect(source).toContain("`npm run tools -- --tier ${tier}`");
  });

  test("npm run tools refuses an unknown tier, and a tier with binaries, with its usage", () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "scripts/tools.ts", ...args], {
        cwd: ROOT,
        encoding: "utf8",
      });
    const unknown = run("--tier", "nightly");
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/unknown tier nightly: the tiers are offline, cluster, live, all\nusage: npm run tools/);
    expect(run("--tier", "live", "loki").stderr).toMatch(/name a tier or binaries, not both/);
  });

  test("--download fills Go's module cache for each module's binaries at once and builds nothing", () => {
    // A go on PATH that records how it is called: its version for requireGo, no build information (so every binary is stale).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tools-download-"));
    const log = path.join(dir, "go.log");
    fs.writeFileSync(
      path.join(dir, "go"),
      [
        "#!/usr/bin/env bash",
        `echo "$(basename "$PWD")|$GOFLAGS|$GOTOOLCHAIN|$GOWORK|$*" >> "${log}"`,
        'case "$1" in env) echo go1.26.8 ;; version) exit 1 ;; esac',
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const result = spawnSync(
      process.execPath,
      [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "scripts/tools.ts", "--download", "prometheus", "promtool", "loki"],
      { cwd: ROOT, encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } },
    );
    const calls = fs.readFileSync(log, "utf8").trim().split("\n");
    fs.rmSync(dir, { recursive: true, force: true });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const lists = calls.filter((c) => c.split("|")[4].startsWith("list "));
    expect(lists.sort()).toEqual([
      "loki|-mod=readonly -trimpath|local|off|list -deps -f  -tags netgo github.com/grafana/loki/v3/cmd/loki",
      "prometheus|-mod=readonly -trimpath|local|off|list -deps -f  github.com/prometheus/prometheus/cmd/prometheus github.com/prometheus/prometheus/cmd/promtool",
    ]);
    expect(calls.filter((c) => / build /.test(` ${c.split("|")[4]} `))).toEqual([]);
    expect(result.stdout).toMatch(/^Downloads: 2 module\(s\), the longest \d+ s, 6 at a time\.$/m);
  });
});

describe("a missing binary", () => {
  const tool = (binary: string) => TOOLS.find((t) => t.binary === binary) as (typeof TOOLS)[number];

  test("is asked for by the smallest command that builds it, with what promtool's build costs cold", () => {
    expect(howToBuild(tool("promtool"))).toBe(
      `run \`npm run tools -- promtool\` (it builds promtool ${tool("promtool").release} alone, from tools/prometheus/go.mod; about 11 CPU-minutes with an empty Go build cache, 6 minutes or more on two cores; \`npm run tools\` builds every tool)`,
    );
    expect(howToBuild(tool("amtool"))).toMatch(
      /^run `npm run tools -- amtool` \(it builds amtool v\S+ alone, from tools\/alertmanager\/go.mod; `npm run tools` builds every tool\)$/,
    );
  });
});
