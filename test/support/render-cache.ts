/**
 * Stack renders kept for the rest of a jest worker's run: the quick tier's files render the same
 * stacks with the same overrides again and again (staging alone, dozens of times), a few seconds
 * each under mocks, and most only read the result. A render is a function of its input (the stack
 * file, the overrides, the options, the environment) and of the repository's files, which do not
 * change during a run: the first render of an input is kept as JSON text, and each later one gets
 * a fresh copy parsed from it, so that a test that changes what it got changes nobody else's.
 *
 * The text lives beside the worker's core modules (a core module is the one object every test file
 * of a worker shares: jest gives each file its own module registry and globals), and only text
 * crosses between files: what a file parses is made of its own realm's objects and Maps, as a
 * render in that file would be. It goes with the worker. A file that changes the program's own modules
 * in-process (test/repository/image-digests.test.ts rewrites the images) renders with cli/render-stack's
 * renderStack, never kept: no key sees such a change. test/repository/render-cache.test.ts
 * holds that a copy equals a fresh render, to the prototype.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { STORES, workerStore } from "../worker-store";

/** What the worker keeps: rendered text by key, and how often it was asked (for render-cache.test.ts). */
interface Store {
  texts: Map<string, string>;
  hits: number;
  misses: number;
}

/** The worker's store (test/worker-store.js). */
export function renderStore(): Store {
  return workerStore<Store>(STORES.renders, () => ({ texts: new Map(), hits: 0, misses: 0 }));
}

/** The tag of an encoded Map, an undefined and a Buffer in the JSON text: a key no render writes. */
const TAG = "\u0000render-cache";

/** JSON text of a render, its Maps, undefined values and Buffers tagged, so that decode gives them back. */
export function encode(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const original = this[key];
    if (original === undefined) return { [TAG]: "undefined" };
    if (original instanceof Map) return { [TAG]: "map", entries: [...original.entries()] };
    if (Buffer.isBuffer(original)) return { [TAG]: "buffer", base64: original.toString("base64") };
    if (original !== null && typeof original === "object" && !Array.isArray(original)) {
      const proto = Object.getPrototypeOf(original) as object | null;
      // Only what JSON gives back as it was: anything else (a class instance) would come back a plain object.
      if (proto !== null && proto.constructor?.name !== "Object")
        throw new Error(`render-cache: cannot keep a ${proto.constructor?.name ?? "class"} instance (at key ${JSON.stringify(key)})`);
    }
    return v;
  });
}

/** The value encode wrote, in the calling file's realm. */
export function decode(text: string): unknown {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== "object") return v;
    const o = v as Record<string, unknown>;
    switch (o[TAG]) {
      case "undefined":
        return undefined;
      case "map":
        return new Map((o.entries as Array<[unknown, unknown]>).map(([k, x]) => [walk(k), walk(x)]));
      case "buffer":
        return Buffer.from(o.base64 as string, "base64");
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = walk(x);
    return out;
  };
  return walk(JSON.parse(text));
}

/**
 * What a render's result depends on besides its arguments: the environment the program reads (all of
 * it but the worker's number, which differs between workers and never reaches a render) and the
 * project's files that the tests may write (the project file and the stack's file).
 */
function context(stack: string): unknown {
  const env = Object.entries(process.env)
    .filter(([k]) => k !== "JEST_WORKER_ID")
    .sort(([a], [b]) => a.localeCompare(b));
  const root = path.resolve(__dirname, "../..");
  const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null);
  return { env, project: read(path.join(root, "Pulumi.yaml")), stackFile: read(path.join(root, `Pulumi.${stack}.yaml`)) };
}

/**
 * The result of render() for these arguments: the kept copy when an earlier call of this worker made
 * the same render, else render's, kept. A render that fails is not kept (each call fails on its own).
 */
export async function cachedRender<T>(kind: string, stack: string, args: unknown, render: () => Promise<T>): Promise<T> {
  const store = renderStore();
  const key = crypto
    .createHash("sha256")
    .update(JSON.stringify({ kind, stack, args, context: context(stack) }))
    .digest("hex");
  const kept = store.texts.get(key);
  if (kept !== undefined) {
    store.hits++;
    return decode(kept) as T;
  }
  store.misses++;
  const rendered = await render();
  const text = encode(rendered);
  store.texts.set(key, text);
  return decode(text) as T;
}
