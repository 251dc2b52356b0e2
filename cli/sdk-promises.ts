/**
 * The Pulumi SDK wraps every promise it makes (a resource's registration, its outputs, each invoke) in
 * runtime/debuggable.js' debuggablePromise, which takes a stack trace and reads it as text at once, kept for
 * the leak report it prints at exit. Under the offline render's mocks a production render makes tens of
 * thousands of them: taking and writing those traces was about a third of a warm render's CPU in `npm run
 * render`'s process (docs/benchmark.md, "The SDK's promises untraced in the offline render"). Only that report
 * reads them; without a trace it still names each leaked promise's context (the resource and what it awaited).
 *
 * untracedPromises leaves the trace out unless the SDK's leak debugging asks for it
 * (PULUMI_DEBUG_PROMISE_LEAKS, which the SDK reads into `debugPromiseLeaks`), as test/pulumi-stacks.js does
 * for every test tier. The offline render's runner (cli/runner.ts) applies it to the SDK it loads; a
 * deployment (`pulumi up`, the language host running index.ts) keeps the SDK as it is.
 */

/** runtime/debuggable.js as the SDK's modules call it (internal: its declarations leave both out). */
export interface DebuggableModule {
  debugPromiseLeaks: boolean;
  debuggablePromise<T>(p: Promise<T>, ctx: unknown): Promise<T>;
}

/** Marks a wrapper already in place, so that a module is wrapped once however often it is asked. */
const UNTRACED = Symbol.for("monitoring-stack/untraced-promises");

/**
 * Replaces the module's debuggablePromise (the SDK's modules call it through the module's exports) by one
 * that takes no trace of the promise while the leak debugging is off when the promise is made.
 */
export function untracedPromises(debuggable: DebuggableModule): void {
  const traced = debuggable.debuggablePromise as DebuggableModule["debuggablePromise"] & { [UNTRACED]?: true };
  if (traced[UNTRACED]) return;
  const untraced = <T>(p: Promise<T>, ctx: unknown): Promise<T> => {
    if (debuggable.debugPromiseLeaks) return traced(p, ctx);
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return traced(p, ctx);
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
  debuggable.debuggablePromise = Object.assign(untraced, { [UNTRACED]: true as const });
}
