/**
 * .ci/run, the developers' full check, run for real with every step it calls stubbed (the
 * .ci/ scripts, and npm for the tiers' scripts it runs itself): the stubs record when they
 * start and end, at which niceness, and fail on demand. What is checked is the schedule that makes a cold run fit on two cores: the tools build in the background
 * and niced, the offline tier starts before them, each tier starts once its tools are built,
 * and a failure anywhere is named and fails the run without stopping the other tiers.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { onPath } from "../../lab/cluster/paths";
import { runCommand } from "../../lab/tools/go-build";
import { ROOT, TIERS } from "../../lab/tools/tools";
import { scaledMs } from "../support/time-scale";

const STEPS = [
  "system-packages",
  "npm-ci",
  "check-changelog",
  "render",
  "tools",
  "check-renovate",
  "test-offline",
  "bench-smoke",
  "jest-summary",
];

/** The run's exit status, with its output's last lines when it is not the one expected: what a failure in CI shows. */
function expectStatus(run: { status: number | null; output: string }, status: number) {
  expect({ status: run.status, output: run.status === status ? "" : run.output.split("\n").slice(-60).join("\n") }).toEqual({
    status,
    output: "",
  });
}

interface Call {
  step: string;
  event: "start" | "end";
  at: number;
  nice: number;
  /** TEST_TIME_SCALE as the step saw it: 1 when not set. */
  timeScale: number;
}

/**
 * How a stubbed run goes: FAIL names the steps (`<script> <args>`) that exit 3 after printing a last
 * line; each stub sleeps a tenth of a second, the tool builds TOOL_SLEEP seconds (longer, so that what
 * overlaps them does by seconds, not by luck). BURN names the steps that then compute for a few
 * CPU-seconds (a fixed sum, 10^8 additions in awk). SLOW_STOP: see below. WATCH_AFTER: the run's out/ci
 * is read again three sampling intervals after it exits, to see whether anything still writes there.
 */
interface RunOptions {
  fail?: string[];
  toolSleep?: number;
  burn?: string[];
  slowStop?: boolean;
  watchAfter?: boolean;
}

/**
 * A copy of .ci/run in a temporary checkout whose .ci/ steps are stubs, run as OPTIONS say. The runs
 * mostly sleep: RUNS below start them all at once, each in its own checkout.
 */
async function runCi({ fail = [], toolSleep = 1.5, burn = [], slowStop = false, watchAfter = false }: RunOptions = {}) {
  const sleep = 0.1;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ci-run-"));
  fs.mkdirSync(path.join(dir, ".ci"));
  fs.copyFileSync(path.join(ROOT, ".ci", "run"), path.join(dir, ".ci", "run"));
  fs.chmodSync(path.join(dir, ".ci", "run"), 0o755);
  const log = path.join(dir, "calls.log");
  const npmLog = path.join(dir, "npm.log");
  const stub = (file: string, name: string, seconds: number, record = "") =>
    fs.writeFileSync(
      file,
      [
        "#!/usr/bin/env bash",
        `name=${name}`,
        record,
        `echo "$name|start|$(date +%s%N)|$(nice)|\${TEST_TIME_SCALE:-1}" >> "${log}"`,
        `sleep ${seconds}`,
        `case " $BURN " in *"|$name|"*) awk 'BEGIN { for (i = 0; i < 1e8; i++) s += i }' ;; esac`,
        `echo "$name|end|$(date +%s%N)|$(nice)|\${TEST_TIME_SCALE:-1}" >> "${log}"`,
        `case " $FAIL " in *"|$name|"*) echo "the last line of $name"; exit 3 ;; esac`,
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
  // The tools' plan (.ci/tools <tiers> --plan) prints its one line on stdout.
  const plan =
    'case " $* " in *" --plan "*) echo "tools to build: stub-built (est. 7 min on 2 cores); linked from cache: stub-linked" ;; esac';
  for (const step of STEPS) {
    stub(path.join(dir, ".ci", step), `"${step}\${*:+ $*}"`, step === "tools" ? toolSleep : sleep, step === "tools" ? plan : "");
  }
  // .ci/run runs the cluster and live tiers' npm scripts itself: `npm run test:<tier> …` is
  // step test-<tier>, and the whole command is kept to compare with the ci jobs' .ci/test-<tier>.
  fs.mkdirSync(path.join(dir, "bin"));
  stub(path.join(dir, "bin", "npm"), '"$(echo "$2" | tr : -)"', sleep, `echo "npm $*" >> "${npmLog}"`);
  // SLOW_STOP: the run is held for two sampling intervals right after it creates the sampler's stop
  // file (a `touch` in front of the real one), as a loaded machine may hold it: the sampler sees the
  // file and ends before the run stops it.
  if (slowStop)
    fs.writeFileSync(
      path.join(dir, "bin", "touch"),
      `#!/usr/bin/env bash\n${JSON.stringify(onPath("touch") ?? "touch is not on PATH")} "$@"\ncase "$*" in *cpu.stop*) sleep 1 ;; esac\n`,
      { mode: 0o755 },
    );
  const r = await runCommand(path.join(dir, ".ci", "run"), [], {
    cwd: os.tmpdir(),
    env: {
      ...process.env,
      PATH: `${path.join(dir, "bin")}:${process.env.PATH}`,
      FAIL: fail.map((f) => `|${f}|`).join(" "),
      BURN: burn.map((f) => `|${f}|`).join(" "),
      CI_CPU_SAMPLE_SECONDS: "0.5",
      // As a run starts: what .ci/run sets is what its steps see (this test may itself run under the scale).
      TEST_TIME_SCALE: undefined,
    },
    // A minute alone: at nice 19 beside the builds the stubs' few CPU-seconds of awk waited past a fixed
    // 60 s in a CI run (status null).
    timeoutMs: scaledMs(60_000),
  });
  const npm = fs.existsSync(npmLog) ? fs.readFileSync(npmLog, "utf8").trim().split("\n") : [];
  const calls: Call[] = fs
    .readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((line) => {
      const [step, event, at, nice, timeScale] = line.split("|");
      return { step, event: event as Call["event"], at: Number(BigInt(at) / 1_000_000n), nice: Number(nice), timeScale: Number(timeScale) };
    });
  const at = (step: string, event: Call["event"]) => {
    const call = calls.find((c) => c.step === step && c.event === event);
    if (!call) throw new Error(`${step} never ${event}ed; the calls: ${calls.map((c) => `${c.step} ${c.event}`).join(", ")}`);
    return call;
  };
  const steps = fs
    .readFileSync(path.join(dir, "out", "ci", "steps.tsv"), "utf8")
    .trim()
    .split("\n")
    .slice(1);
  const cpu = fs
    .readFileSync(path.join(dir, "out", "ci", "cpu.tsv"), "utf8")
    .trim()
    .split("\n");
  // Three sampling intervals later: does anything still write there once the run has exited? (Asked by
  // the tests that read it: the wait was a sixth of this file's time.)
  if (watchAfter) await new Promise((resolve) => setTimeout(resolve, 1500));
  const writtenAfter = watchAfter
    ? fs
        .readFileSync(path.join(dir, "out", "ci", "cpu.tsv"), "utf8")
        .trim()
        .split("\n").length !== cpu.length
    : undefined;
  // What the run leaves in the checkout besides its stubs and out/.
  const left = fs.readdirSync(dir).filter((f) => ![".ci", "bin", "out", "calls.log", "npm.log"].includes(f));
  // Where a run that did not end got to: the steps' exit files and the sampler's stop and done files.
  const state = fs.existsSync(path.join(dir, "out", "ci"))
    ? fs
        .readdirSync(path.join(dir, "out", "ci"))
        .filter((f) => !f.endsWith(".log") && !f.endsWith(".times"))
        .sort()
        .join(" ")
    : "no out/ci";
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: r.status, output: `${r.stdout}${r.stderr}\nout/ci: ${state}`, calls, at, steps, npm, cpu, writtenAfter, left };
}

/**
 * The runs the tests read, by name: all started at once when a test first asks for one (each mostly
 * sleeps, and the file's runs one after the other took most of a minute, the quick tier's longest file).
 */
const RUNS = {
  /** Every step passes, the tools quick; read by the tests that only read a passing run. */
  passing: { toolSleep: 0.2, watchAfter: true },
  slowStop: { toolSleep: 0.2, slowStop: true, watchAfter: true },
  /** The tools take seconds: what runs beside them does by seconds. */
  schedule: {},
  burn: { toolSleep: 0.2, burn: ["render"] },
  clusterFails: { fail: ["test-cluster"], toolSleep: 0.2 },
  liveFails: { fail: ["test-live"], toolSleep: 0.2 },
  benchFails: { fail: ["bench-smoke"], toolSleep: 0.2 },
  renovateFails: { fail: ["check-renovate"], toolSleep: 0.2 },
  clusterToolsFail: { fail: ["tools cluster"], toolSleep: 0.2 },
  npmFails: { fail: ["npm-ci"], toolSleep: 0.2 },
  planFails: { fail: ["tools cluster,live,offline --plan"], toolSleep: 0.2 },
} satisfies Record<string, RunOptions>;

type Run = Awaited<ReturnType<typeof runCi>>;
let started: Record<keyof typeof RUNS, Promise<Run>> | undefined;

/** The named run, once it has ended. */
function ciRun(name: keyof typeof RUNS): Promise<Run> {
  started ??= Object.fromEntries(
    Object.entries(RUNS).map(([key, options]) => {
      const run = runCi(options);
      // A run no test of this invocation reads (jest -t) may fail unread: not an unhandled rejection.
      run.catch(() => undefined);
      return [key, run];
    }),
  ) as Record<keyof typeof RUNS, Promise<Run>>;
  return started[name];
}

test("every step of every ci job runs, and the run passes when they pass", async () => {
  const run = await ciRun("passing");
  expectStatus(run, 0);
  const ci = YAML.parse(fs.readFileSync(path.join(ROOT, ".github", "workflows", "ci.yml"), "utf8")) as {
    jobs: Record<string, { steps: Array<{ run?: string }> }>;
  };
  const inJobs = Object.values(ci.jobs)
    .flatMap((j) => j.steps.map((s) => /^\.ci\/([a-z-]+)/.exec(s.run ?? "")?.[1]))
    .filter((s): s is string => s !== undefined);
  const called = new Set(run.calls.map((c) => c.step.split(" ")[0]));
  expect(inJobs.filter((s) => !called.has(s))).toEqual([]);
  for (const tier of TIERS) expect(run.calls.map((c) => c.step)).toContain(`tools ${tier}`);
  expect(run.calls.map((c) => c.step)).toEqual(expect.arrayContaining(["test-cluster", "test-live"]));
  expect(run.steps).toHaveLength(14);
  // How busy the cores were over the run, from /proc/stat: at most all of them.
  const cpu = /CPU: (\d+) core-minutes busy of the (\d+) the run had on (\d+) cores \((\d+)%; every 0.5 s in out\/ci\/cpu.tsv\)/.exec(
    run.output,
  );
  expect(cpu).not.toBeNull();
  expect(Number(cpu?.[3])).toBe(os.cpus().length);
  expect(Number(cpu?.[4])).toBeLessThanOrEqual(100);
  expect(run.output.indexOf("CPU: ")).toBeLessThan(run.output.indexOf("done; the steps"));
  // Sampled every half second here: a header, then seconds since the start and the cores busy (at most all).
  expect(run.cpu[0]).toBe("at_s\tcores_busy");
  expect(run.cpu.length).toBeGreaterThan(2);
  // Its sampler ends with the run: nothing writes in out/ci after .ci/run exits (a test removing it raced one).
  expect(run.writtenAfter).toBe(false);
  for (const line of run.cpu.slice(1)) {
    const [at, busy] = line.split("\t").map(Number);
    expect(Number.isInteger(at)).toBe(true);
    expect(busy).toBeGreaterThanOrEqual(0);
    expect(busy).toBeLessThanOrEqual(os.cpus().length);
  }
  expect(run.left).toEqual([]);
  expect(run.output).toMatch(/done; the steps/);
});

test("a sampler that ends on its own, seeing the stop file before the run stops it, is no failure: the run passes and says its summary", async () => {
  const run = await ciRun("slowStop");
  expectStatus(run, 0);
  expect(run.output).toMatch(/CPU: \d+ core-minutes busy/);
  expect(run.output).toMatch(/done; the steps/);
  expect(run.writtenAfter).toBe(false);
});

test("the cluster and live tiers are the npm scripts the ci jobs run, with the result files the summary reads", async () => {
  const run = await ciRun("passing");
  expectStatus(run, 0);
  const summary =
    run.calls
      .find((c) => c.step.startsWith("jest-summary "))
      ?.step.split(" ")
      .slice(1) ?? [];
  for (const tier of ["cluster", "live"]) {
    // What the ci job's step runs: its .ci/test-<tier> script's npm command.
    const script = fs.readFileSync(path.join(ROOT, ".ci", `test-${tier}`), "utf8");
    const command = /^npm run .*$/m.exec(script)?.[0];
    expect(command).toBe(`npm run test:${tier} -- --json --outputFile=out/jest-${tier}-results.json`);
    expect(run.npm).toContain(command);
    expect(summary).toContain(`out/jest-${tier}-results.json`);
  }
});

test("the tools build in the background, niced but the cluster tier's, while the offline tier's binary-free part runs; each tier waits for its tools", async () => {
  const run = await ciRun("schedule");
  // Ten steps nicer than the tests, which run at the niceness .ci/run was started with; but the
  // cluster tier's tools, which its tests (the longest tier when Go's caches are warm) wait for,
  // and the downloads, which every build waits for. The offline tier's binary-free part waits on
  // nothing and nothing waits on it: at the lowest priority.
  const base = run.at("npm-ci", "start").nice;
  for (const c of run.calls.filter((c) => c.step.startsWith("test-")))
    expect({ step: c.step, nice: c.nice }).toEqual({ step: c.step, nice: c.step === "test-offline without-tools" ? 19 : base });
  // Starved at nice 19, the binary-free part's tests get twenty times their bound (jest.config.js); every other step its own.
  for (const c of run.calls)
    expect({ step: c.step, timeScale: c.timeScale }).toEqual({ step: c.step, timeScale: c.step === "test-offline without-tools" ? 20 : 1 });
  // The plan too: the run waits for its line.
  const atBase = (step: string) => step === "tools cluster" || step === "tools all --download" || step.endsWith(" --plan");
  for (const c of run.calls.filter((c) => c.step.startsWith("tools ")))
    expect({ step: c.step, nice: c.nice }).toEqual({ step: c.step, nice: atBase(c.step) ? base : Math.min(19, base + 10) });
  // Nothing before the packages and npm's install.
  const ready = run.at("npm-ci", "end").at;
  expect(
    Math.min(...run.calls.filter((c) => !["system-packages", "npm-ci"].includes(c.step.split(" ")[0])).map((c) => c.at)),
  ).toBeGreaterThanOrEqual(ready);
  // Every tool's modules download from the start, beside the builds.
  expect(run.at("tools all --download", "start").at).toBeLessThan(run.at("tools cluster", "end").at);
  // The tiers' tools one after the other: cluster (its tier runs while the rest build), live, offline.
  expect(run.at("tools live", "start").at).toBeGreaterThanOrEqual(run.at("tools cluster", "end").at);
  expect(run.at("tools offline", "start").at).toBeGreaterThanOrEqual(run.at("tools live", "end").at);
  // The offline tier's first part does not wait for any tool: the run starts it before the cluster tier's
  // tools are built (from the run's own lines: at nice 19, on a busy machine, its stub may take seconds to run).
  const line = (text: string) => run.output.indexOf(text);
  expect(line("test-offline-without-tools: started")).toBeGreaterThanOrEqual(0);
  expect(line("test-offline-without-tools: started")).toBeLessThan(line("tools-cluster: passed"));
  // Each tier's tests start once its tools are built, not before.
  expect(run.at("test-cluster", "start").at).toBeGreaterThanOrEqual(run.at("tools cluster", "end").at);
  expect(run.at("test-offline with-tools", "start").at).toBeGreaterThanOrEqual(run.at("tools offline", "end").at);
  expect(run.at("test-live", "start").at).toBeGreaterThanOrEqual(run.at("tools live", "end").at);
  // The cluster tier runs while the other tools build.
  expect(run.at("test-cluster", "start").at).toBeLessThan(run.at("tools live", "end").at);
});

test("each step's CPU-seconds, of everything it ran, are in steps.tsv and its line: a step that computes shows them, one that sleeps none", async () => {
  const run = await ciRun("burn");
  expectStatus(run, 0);
  const row = (step: string) => {
    const cells = run.steps.find((l) => l.startsWith(`${step}\t`))?.split("\t");
    if (!cells) throw new Error(`no row for ${step} in steps.tsv: ${run.steps.join(" / ")}`);
    const [, started, seconds, cpu, status] = cells;
    return { started: Number(started), seconds: Number(seconds), cpu: Number(cpu), status: Number(status) };
  };
  expect(row("render").cpu).toBeGreaterThanOrEqual(1);
  expect(row("render").status).toBe(0);
  expect(run.output).toMatch(new RegExp(`render: passed in \\d+s \\(${row("render").cpu} CPU-seconds\\)`));
  expect(row("npm-ci").cpu).toBe(0);
  expect(row("system-packages").cpu).toBe(0);
});

test("a failing tier is named with its last lines and fails the run, and the other tiers still run", async () => {
  const run = await ciRun("clusterFails");
  expect(run.status).not.toBe(0);
  expect(run.output).toMatch(/test-cluster: FAILED with exit status 3 after \d+s/);
  expect(run.output).toContain("    the last line of test-cluster");
  for (const step of ["test-live", "test-offline with-tools"]) expect(run.calls.map((c) => c.step)).toContain(step);
  expect(run.calls.some((c) => c.step.startsWith("jest-summary "))).toBe(true);
});

test("the bench's short form runs on the live tier's tools once the labs are done, whether they passed or not, and fails the run when it fails", async () => {
  const run = await ciRun("passing");
  expectStatus(run, 0);
  expect(run.at("bench-smoke", "start").at).toBeGreaterThanOrEqual(run.at("tools live", "end").at);
  expect(run.at("bench-smoke", "start").at).toBeGreaterThanOrEqual(run.at("test-live", "end").at);
  // At the tests' priority, with its own bounds.
  expect(run.at("bench-smoke", "start")).toMatchObject({ nice: run.at("npm-ci", "start").nice, timeScale: 1 });
  const labsFailed = await ciRun("liveFails");
  expect(labsFailed.calls.map((c) => c.step)).toContain("bench-smoke");
  const broken = await ciRun("benchFails");
  expect(broken.status).not.toBe(0);
  expect(broken.output).toMatch(/bench-smoke: FAILED with exit status 3 after \d+s/);
  expect(broken.output).toContain("    the last line of bench-smoke");
  for (const step of ["test-cluster", "test-live", "test-offline with-tools"]) expect(broken.calls.map((c) => c.step)).toContain(step);
});

test("a background step that fails fails the run, read from its exit file, while everything else still runs", async () => {
  const run = await ciRun("renovateFails");
  expect(run.status).not.toBe(0);
  expect(run.output).toMatch(/check-renovate: FAILED with exit status 3 after \d+s/);
  expect(run.output).not.toMatch(/is not a child of this shell/);
  for (const step of ["test-cluster", "test-live", "test-offline with-tools"]) expect(run.calls.map((c) => c.step)).toContain(step);
});

test("a tier whose tools do not build is not run, says why, and fails the run; the others still run", async () => {
  const run = await ciRun("clusterToolsFail");
  expect(run.status).not.toBe(0);
  expect(run.output).toMatch(/test-cluster: not run: its tools did not build/);
  expect(run.calls.map((c) => c.step)).not.toContain("test-cluster");
  for (const step of ["tools offline", "tools live", "test-live", "test-offline with-tools"])
    expect(run.calls.map((c) => c.step)).toContain(step);
});

test("without the packages or npm's install nothing else runs", async () => {
  const run = await ciRun("npmFails");
  expectStatus(run, 3);
  expect(run.calls.map((c) => c.step)).toEqual(["system-packages all", "system-packages all", "npm-ci", "npm-ci"]);
});

test("the run says first, in one line, which tools it builds and the estimate, before anything long starts", async () => {
  const run = await ciRun("passing");
  expectStatus(run, 0);
  const plan = run.at("tools cluster,live,offline --plan", "start");
  // After the packages and npm's install (the plan runs TypeScript), before everything else.
  expect(plan.at).toBeGreaterThanOrEqual(run.at("npm-ci", "end").at);
  const planEnd = run.at("tools cluster,live,offline --plan", "end").at;
  const others = run.calls.filter(
    (c) => c.event === "start" && !["system-packages", "npm-ci"].includes(c.step.split(" ")[0]) && !c.step.includes("--plan"),
  );
  expect(others.length).toBeGreaterThan(5);
  expect(Math.min(...others.map((c) => c.at))).toBeGreaterThanOrEqual(planEnd);
  // Its line on the terminal, once, before the first step that follows it.
  const lines = run.output.split("\n");
  const at = lines.findIndex((l) =>
    /^\[ci \d+s\] tools to build: stub-built \(est\. 7 min on 2 cores\); linked from cache: stub-linked$/.test(l),
  );
  expect(at).toBeGreaterThan(lines.findIndex((l) => /npm-ci: passed/.test(l)));
  expect(at).toBeLessThan(lines.findIndex((l) => /render: started/.test(l)));
  expect(lines.filter((l) => l.includes("tools to build:"))).toHaveLength(1);
});

test("a plan that fails says so in its line, and the run goes on", async () => {
  const run = await ciRun("planFails");
  expectStatus(run, 0);
  expect(run.output).toMatch(/^\[ci \d+s\] tools: no estimate \(\.ci\/tools --plan failed; out\/ci\/tools-plan\.log says why\)$/m);
  expect(run.output).not.toMatch(/tools to build:/);
  expect(run.calls.map((c) => c.step)).toEqual(expect.arrayContaining(["tools cluster", "tools live", "tools offline", "test-cluster"]));
});

test("--help (and -h) says what the run does and runs nothing; an argument it does not take is refused before anything runs", () => {
  // A copy of .ci/run in a checkout without its steps: anything it started would fail on a missing script, and leave out/ci.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ci-run-help-"));
  fs.mkdirSync(path.join(dir, ".ci"));
  fs.copyFileSync(path.join(ROOT, ".ci", "run"), path.join(dir, ".ci", "run"));
  const run = (args: string[]) =>
    spawnSync("bash", [path.join(dir, ".ci", "run"), ...args], { cwd: dir, encoding: "utf8", timeout: scaledMs(10_000) });
  for (const flag of ["--help", "-h"]) {
    const help = run([flag]);
    expect({ status: help.status, stderr: help.stderr }).toEqual({ status: 0, stderr: "" });
    expect(help.stdout).toMatch(/^usage: bash \.ci\/run /);
    expect(help.stdout).toMatch(/^The developers' full check on a fresh clone, every tier, on one machine/m);
  }
  const wrong = run(["--tier", "live"]);
  expect(wrong.status).toBe(2);
  expect(wrong.stderr).toMatch(/takes no arguments, was given: --tier live/);
  expect(fs.existsSync(path.join(dir, "out"))).toBe(false);
  fs.rmSync(dir, { recursive: true, force: true });
});
