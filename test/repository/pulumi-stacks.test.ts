/**
 * test/pulumi-stacks.js: the Pulumi SDK's own stack traces are left as V8 writes them, and every
 * other trace in a test is still mapped, through the SDK's source maps too (which name its .ts files).
 */
import { execFileSync } from "child_process";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as debuggable from "@pulumi/pulumi/runtime/debuggable";
import type { DebuggableModule } from "../../cli/sdk-promises";

/** The SDK's wrapper of its promises and its switch for its leak report's detail (internal: its declarations leave both out). */
const leakDebugging = debuggable as unknown as DebuggableModule;
const { debuggablePromise } = leakDebugging;

/** The first frame of a trace the SDK takes of a promise, as V8 writes it: in the SDK's JavaScript. */
const SDK_PROMISE_FRAME = /^ {4}at debuggablePromise \(.*@pulumi[\\/]pulumi[\\/]runtime[\\/]debuggable\.js:\d+:\d+\)$/;

/** The frames of a trace in the SDK's own files (mapped, they name node_modules/@pulumi/<file>.ts, its maps' sources). */
const sdkFrames = (trace: string) => trace.split("\n").filter((l) => /node_modules[\\/]@pulumi[\\/]/.test(l));

test("any other trace is mapped: an error the SDK throws names the SDK's TypeScript", () => {
  let trace = "";
  try {
    new pulumi.Config("pulumi-stacks-test").require("missing");
  } catch (e) {
    trace = (e as Error).stack ?? "";
  }
  expect(trace.split("\n")[0]).toMatch(/^Error: Missing required configuration variable 'pulumi-stacks-test:missing'/);
  expect(trace).toContain(__filename);
  expect(sdkFrames(trace).length).toBeGreaterThan(0);
  for (const frame of sdkFrames(trace)) expect(frame).toMatch(/\.ts:\d+:\d+\)?$/);
});

test("the SDK takes no trace of a promise unless its leak debugging asks for one", async () => {
  // What the SDK does with every promise of a resource's registration, of its outputs and invokes.
  expect(leakDebugging.debugPromiseLeaks).toBe(false);
  const taken = Promise.resolve(1);
  const promise = debuggablePromise(taken, "a test's");
  expect((taken as unknown as { _debugStackTrace?: string })._debugStackTrace).toBe("Error");
  expect((taken as unknown as { _debugCtx?: string })._debugCtx).toBe("a test's");
  // The limit is the caller's again once the promise is wrapped.
  expect(new Error().stack?.split("\n").length).toBeGreaterThan(1);
  await promise;
});

test("with the leak debugging on, the trace the SDK takes of a promise is V8's own: its frames in the SDK name its JavaScript", async () => {
  leakDebugging.debugPromiseLeaks = true;
  try {
    const taken = Promise.resolve(1);
    const promise = debuggablePromise(taken, "a test's");
    const trace = (taken as unknown as { _debugStackTrace?: string })._debugStackTrace ?? "";
    expect(trace.split("\n")[0]).toBe("Error");
    expect(trace.split("\n")[1]).toMatch(SDK_PROMISE_FRAME);
    expect(trace).toContain(__filename);
    for (const frame of sdkFrames(trace)) expect(frame).toMatch(/\.js:\d+:\d+\)?$/);
    await promise;
  } finally {
    leakDebugging.debugPromiseLeaks = false;
  }
});

test("outside jest, the offline render's runner leaves the SDK's promises untraced too, unless the leak debugging asks (cli/sdk-promises.ts)", () => {
  // A process as `npm run render` starts one: the runner loaded, then a promise wrapped as the SDK wraps its own.
  const script = [
    'require("./cli/runner");',
    'const d = require("@pulumi/pulumi/runtime/debuggable");',
    "const p = Promise.resolve(1);",
    'd.debuggablePromise(p, "a test\'s").then(() => process.stdout.write(JSON.stringify(p._debugStackTrace)));',
  ].join(" ");
  const trace = (leaks: string) =>
    JSON.parse(
      execFileSync(process.execPath, ["-r", "./cli/fast-start.js", "-e", script], {
        cwd: path.resolve(__dirname, "..", ".."),
        env: { ...process.env, PULUMI_DEBUG_PROMISE_LEAKS: leaks },
        encoding: "utf8",
      }),
    ) as string;
  expect(trace("")).toBe("Error");
  const debugging = trace("1").split("\n");
  expect(debugging[0]).toBe("Error");
  expect(debugging[1]).toMatch(SDK_PROMISE_FRAME);
});

test("every tier loads it: the offline tier's projects, the cluster tier and the live tier", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the configs are CommonJS modules jest itself requires
  const offline = require("../../jest.config.js") as { projects: Array<{ displayName: string; setupFilesAfterEnv?: string[] }> };
  const tiers = [
    ...offline.projects.map((p) => [p.displayName, p.setupFilesAfterEnv] as const),
    ...["cluster", "live"].map((tier) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
      const config = require(`../${tier}/jest.config.js`) as { setupFilesAfterEnv?: string[] };
      return [tier, config.setupFilesAfterEnv] as const;
    }),
  ];
  expect(tiers.map(([name]) => name)).toEqual(["quick", "e2e", "cluster", "live"]);
  for (const [name, files] of tiers) expect([name, files?.[0]]).toEqual([name, "<rootDir>/test/pulumi-stacks.js"]);
});
