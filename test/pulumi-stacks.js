// @ts-check
/**
 * The Pulumi SDK takes a stack trace of every promise it makes (runtime/debuggable.js, kept for its
 * leak report) and of every resource it registers (Resource.callsites, with no frame limit), and reads
 * each as text. Under jest, that text went through the source-map support jest installs for the test's
 * failures, which mapped every frame through the SDK's own source maps: about 40 % of a stack render's
 * CPU in a test (a profile of test/scenarios/rotation.test.ts, docs/benchmark.md "The quick tier").
 * This file, run after jest's install (every tier's setupFilesAfterEnv), leaves those two traces as
 * V8 writes them; every other trace, a failing test's among them, is still mapped. What they feed is
 * the source position the SDK sends with each resource: the offline tier's mocks ignore it, and in
 * the cluster and live tiers the engine records a JavaScript line instead of a TypeScript one, which
 * no test reads.
 *
 * The promises' traces are not taken at all unless the SDK's leak debugging asks for them
 * (PULUMI_DEBUG_PROMISE_LEAKS, read into the module's `debugPromiseLeaks`): only that report prints
 * them, and taking one for each of the tens of thousands of promises a render makes was still a
 * quarter of its CPU in a test, V8's own text and all (a later profile of the same file). Without the
 * variable, a leak report still names each leaked promise's context, not where it was made. The
 * offline render's runner does the same outside jest (cli/sdk-promises.ts, which both call); here it
 * also reaches what runs the SDK without the runner (the cluster and live tiers' inline programs).
 */
const path = require("path");

/** The SDK's files whose traces are left unmapped: the frame that takes the trace is theirs. */
const SDK = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const TAKEN_IN = [path.join(SDK, "runtime", "debuggable.js"), path.join(SDK, "resource.js")];

const mapped = Error.prepareStackTrace;
if (typeof mapped === "function") {
  /** @type {(error: Error, frames: NodeJS.CallSite[]) => string} */
  const prepare = (error, frames) => {
    const first = frames[0]?.getFileName();
    // A trace of no frames (a promise's, below) has nothing to map: V8's text is the error's line.
    if (frames.length > 0 && (first === undefined || !TAKEN_IN.includes(first))) return mapped(error, frames);
    // V8's own form of a trace: the error's line, then a line per frame.
    return [Error.prototype.toString.call(error), ...frames.map((frame) => `    at ${frame}`)].join("\n");
  };
  Error.prepareStackTrace = prepare;
}

/** The SDK's promise wrapper, taking no trace unless its leak debugging is on when the promise is made (cli/sdk-promises.ts). */
jest.mock("@pulumi/pulumi/runtime/debuggable", () => {
  const debuggable = jest.requireActual("@pulumi/pulumi/runtime/debuggable");
  require("../cli/sdk-promises").untracedPromises(debuggable);
  return debuggable;
});
