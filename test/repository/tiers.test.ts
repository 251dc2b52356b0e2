/**
 * The test tiers, by folder (docs/development.md): the tests of test/{components, config,
 * content, preflight, repository, scenarios, scripts} run no binary (`npm run test:quick`, the
 * offline tier's first part), test/e2e runs the exact binaries of .tools/bin (its second part),
 * test/cluster the engine on the local control plane, test/live the lab. jest.config.js names
 * the folders; nothing reads the tests to sort them. What is checked here is that each test is in
 * the folder of what it runs, and that the two parts are the offline tier, each file once.
 *
 * What reaches a binary, read simply: every stack binary of .tools/bin is reached through
 * lab/local/binaries.ts (stackBinary, promtool, runBinary), and the engine, plugins and
 * control plane through their paths (binPath, BIN_DIR, locateBinaries of lab/). A file
 * reaches a binary when its relative imports, followed through the repository's files, and the
 * scripts it names to run (a "scripts/<name>.ts" string) lead to binaries.ts, or when it imports one
 * of those paths.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { filesReachedAtOnce } from "../support/imports";
import { packageScripts } from "../support/npm-script";

const ROOT = path.join(__dirname, "..", "..");
const GATEWAY = "lab/local/binaries.ts";
const BINARY_PATHS = ["binPath", "BIN_DIR", "locateBinaries"];
/** The folders of test/ whose tests run binaries: the offline tier's e2e part, and the cluster and live tiers. */
const BINARY_FOLDERS = ["e2e", "cluster", "live"];
const QUICK_FOLDERS = ["components", "config", "content", "preflight", "repository", "scenarios", "scripts"];

const NAMED_IMPORTS = /^\s*import\s+\{([^}]*)\}\s+from\s+["']\.{1,2}\//gm;

/** How a file reaches a binary (the chain of files to the gateway, or the path it imports), or undefined. */
function reachesBinary(file: string): string | undefined {
  const imported = [...fs.readFileSync(path.join(ROOT, file), "utf8").matchAll(NAMED_IMPORTS)].flatMap((m) =>
    m[1].split(",").map((name) => name.trim().split(/\s+as\s+/)[0]),
  );
  const named = imported.find((name) => BINARY_PATHS.includes(name));
  if (named) return `${file} imports ${named}`;
  const from = new Map<string, string>([[file, ""]]);
  for (const queue = [file]; queue.length > 0;) {
    const current = queue.shift() as string;
    for (const target of filesReachedAtOnce(current)) {
      if (from.has(target)) continue;
      from.set(target, current);
      if (target === GATEWAY) {
        const chain = [target];
        for (let at = current; at !== ""; at = from.get(at) as string) chain.unshift(at);
        return chain.join(" -> ");
      }
      queue.push(target);
    }
  }
  return undefined;
}

/** Every .ts file under test/, as repository paths. */
const TEST_FILES = fs
  .readdirSync(path.join(ROOT, "test"), { recursive: true, encoding: "utf8" })
  .map((f) => `test/${f.split(path.sep).join("/")}`)
  .filter((f) => f.endsWith(".ts"));
const folderOf = (file: string) => file.split("/")[1];

test("no test outside test/e2e, test/cluster and test/live reaches a binary, nor any file they share (test/support)", () => {
  const reaching = TEST_FILES.filter((f) => !BINARY_FOLDERS.includes(folderOf(f)))
    .map(reachesBinary)
    .filter((r) => r !== undefined);
  expect(reaching).toEqual([]);
});

test("every test of test/e2e reaches a binary: one that runs none belongs in a folder of test:quick", () => {
  const idle = TEST_FILES.filter((f) => folderOf(f) === "e2e" && f.endsWith(".test.ts")).filter((f) => reachesBinary(f) === undefined);
  expect(idle).toEqual([]);
});

test("a test outside test/cluster that starts a control plane starts its own: LOCAL_CLUSTER_DIR, never the cluster tier's .cluster/", () => {
  // .ci/run runs the cluster tier beside the offline tier's e2e part and the live tier; a file that
  // used the checkout's .cluster/ would find the tier's cluster, or bring it down at its end.
  const startsOne = /\bup\s+as\s+\w+\s*[,}][^;]*from\s+["'][./]+lab\/cluster["']|\{[^}]*\bup\b[^}]*\}\s*from\s+["'][./]+lab\/cluster["']/;
  const shared = TEST_FILES.filter((f) => folderOf(f) !== "cluster")
    .filter((f) => startsOne.test(fs.readFileSync(path.join(ROOT, f), "utf8")))
    .filter((f) => !/LOCAL_CLUSTER_DIR/.test(fs.readFileSync(path.join(ROOT, f), "utf8")) && folderOf(f) !== "live");
  expect(shared).toEqual([]);
});

test("no test of test:quick sets its own time bound: jest.config.js's, scaled by TEST_TIME_SCALE, bounds every test and hook", () => {
  // .ci/run runs test:quick at nice 19 beside the builds, with TEST_TIME_SCALE; a bound of a file's own would not scale.
  // Its own bound: a call of jest's setTimeout, or a number after a test's or hook's function (`}, 60_000)`), prettier's way or on lines of their own.
  const ownBound = /jest\.setTimeout\(|\}\s*,\s*[\d_]+\s*,?\s*\)\s*;/;
  const bounded = TEST_FILES.filter((f) => QUICK_FOLDERS.includes(folderOf(f))).filter((f) =>
    ownBound.test(fs.readFileSync(path.join(ROOT, f), "utf8")),
  );
  expect(bounded).toEqual([]);
  // The pattern finds both forms (the samples are cut in two, or this file would hold them).
  const samples = ["jest." + "setTimeout(60_000);", 'test("x", () => {\n}' + ", 120_000);", "  },\n  120_000,\n" + ");"];
  expect(samples.map((t) => ownBound.test(t))).toEqual([true, true, true]);
});

test("no test of test:quick bounds a child process of its own by a fixed time: scaledMs scales it as the tests' bound", () => {
  // A CI run killed .ci/run's stub under ci-run.test.ts at a fixed 60 s (spawnSync's status null) at nice 19.
  const fixedBound = /\btimeout:\s*[\d_]+\s*[,}]/;
  const fixed = TEST_FILES.filter((f) => QUICK_FOLDERS.includes(folderOf(f))).filter((f) =>
    fixedBound.test(fs.readFileSync(path.join(ROOT, f), "utf8")),
  );
  expect(fixed).toEqual([]);
  expect(
    ["{ timeout: " + "120_000 }", "timeout: " + "60000,", 'timeout: "20s",', "timeout: scaledMs(120_000),"].map((t) => fixedBound.test(t)),
  ).toEqual([true, true, false, false]);
});

test("TEST_TIME_SCALE multiplies the tests' bound (3 minutes alone); anything but a number of at least 1 is refused, naming it", () => {
  const config = (scale: string | undefined) =>
    spawnSync(process.execPath, ["-e", `console.log(require(${JSON.stringify(path.join(ROOT, "jest.config.js"))}).testTimeout)`], {
      encoding: "utf8",
      env: { ...process.env, TEST_TIME_SCALE: scale },
    });
  expect(config(undefined).stdout.trim()).toBe("180000");
  expect(config("").stdout.trim()).toBe("180000");
  expect(config("1").stdout.trim()).toBe("180000");
  expect(config("20").stdout.trim()).toBe("3600000");
  for (const bad of ["0.5", "fast", "-3"]) {
    const r = config(bad);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      `TEST_TIME_SCALE must be a number of at least 1 (how many times longer than alone a test may take); given "${bad}"`,
    );
  }
});

test("every folder of test/ with tests is a tier's: a folder of test:quick, or one that runs binaries", () => {
  const folders = new Set(TEST_FILES.filter((f) => f.endsWith(".test.ts")).map(folderOf));
  expect([...folders].filter((f) => !QUICK_FOLDERS.includes(f) && !BINARY_FOLDERS.includes(f))).toEqual([]);
});

/** The files jest would run (`jest --listTests`) with these arguments, as repository paths. */
function listTests(args: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [require.resolve("jest/bin/jest"), "--listTests", "--json", ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== 0) return reject(new Error(`jest --listTests ${args.join(" ")} exited with ${code}:\n${err}`));
      resolve((JSON.parse(out) as string[]).map((f) => path.relative(ROOT, f).split(path.sep).join("/")).sort());
    });
  });
}

test("the offline tier's two parts, by folder, are every file `jest` runs, each once: quick the folders without binaries, e2e test/e2e", async () => {
  const [all, quick, e2e] = await Promise.all([
    listTests([]),
    listTests(["--selectProjects", "quick"]),
    listTests(["--selectProjects", "e2e"]),
  ]);
  expect(new Set(all).size).toBe(all.length);
  expect(quick.filter((f) => e2e.includes(f))).toEqual([]);
  expect([...quick, ...e2e].sort()).toEqual(all);
  // Every test file of test/ but the cluster and live tiers', each in the part of its folder.
  const offline = TEST_FILES.filter((f) => f.endsWith(".test.ts") && !["cluster", "live"].includes(folderOf(f))).sort();
  expect(all).toEqual(offline);
  expect(quick.filter((f) => !QUICK_FOLDERS.includes(folderOf(f)))).toEqual([]);
  expect(e2e.filter((f) => folderOf(f) !== "e2e")).toEqual([]);
});

test("npm run test:quick and the offline tier's two parts run those projects, with the results files .ci/run reads", () => {
  // A worker per core (jest reads a percentage only up to 100 %: "150%" is 150 workers) and a young generation of
  // 64 MiB for each, the user's NODE_OPTIONS kept (docs/benchmark.md, "The quick tier").
  expect(packageScripts()["test:quick"]).toBe(
    'NODE_OPTIONS="$NODE_OPTIONS --max-semi-space-size=64" jest --selectProjects quick --maxWorkers=100%',
  );
  const parts = fs.readFileSync(path.join(ROOT, ".ci", "test-offline"), "utf8");
  const part = (name: string) => new RegExp(`^  ${name}\\)\\n([\\s\\S]*?)\\n    ;;$`, "m").exec(parts)?.[1] ?? "";
  expect(part("without-tools")).toMatch(/^\s+npm run test:quick -- --json --outputFile=out\/jest-results\.json$/m);
  expect(part("with-tools")).toMatch(
    /^\s+npm run tools -- --tier offline --check\n\s+npx jest --selectProjects e2e --json --outputFile=out\/jest-tools-results\.json$/m,
  );
});
