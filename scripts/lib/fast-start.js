// @ts-check
/**
 * What makes `npm run render` take about two seconds rather than five (docs/benchmark.md):
 *
 *   node -r ./scripts/lib/fast-start.js scripts/render.ts …
 *
 * - Each .ts file is transpiled once (TypeScript's transpileModule with the tsconfig's options,
 *   what `ts-node --transpile-only` does on every run) and kept in node_modules/.cache/fast-start/,
 *   keyed by its text, the tsconfig and the TypeScript version: an edited file is transpiled again
 *   on its next load, nothing else. Each module still runs at its own path, so that code finding
 *   the repository's files through `__dirname` (rules/, dashboards/, the stack files) finds them
 *   as under ts-node, which a build into another directory would not.
 * - The modules the Pulumi SDK loads to serialize closures (TypeScript, npm's arborist), which a
 *   program that registers no function-valued resource never calls, load when first used.
 *
 * No type check: `npm run typecheck` does that.
 */
const crypto = require("crypto");
const fs = require("fs");
const Module = require("module");
const path = require("path");
const vm = require("vm");
const { cacheDir, readFileEntry, writeFileEntry } = require("./cache-file");

const ROOT = path.resolve(__dirname, "..", "..");
const CACHE = "fast-start";

const TSCONFIG = path.join(ROOT, "tsconfig.json");
const TS_VERSION = /** @type {{ version: string }} */ (require("typescript/package.json")).version;
/** What else the transpiled text depends on: the compiler and its options. */
const SALT = `${TS_VERSION}\n${fs.readFileSync(TSCONFIG, "utf8")}\n`;

/** @type {{ ts: typeof import("typescript"); options: import("typescript").CompilerOptions } | undefined} */
let compiler;

/** TypeScript, loaded on the first file the cache misses (loading it takes half a second). */
function typescript() {
  if (!compiler) {
    const ts = require("typescript");
    const json = ts.readConfigFile(TSCONFIG, ts.sys.readFile);
    if (json.error) throw new Error(ts.flattenDiagnosticMessageText(json.error.messageText, "\n"));
    const { options } = ts.convertCompilerOptionsFromJson(json.config.compilerOptions, ROOT);
    compiler = { ts, options: { ...options, noEmit: false, declaration: false, sourceMap: false, inlineSourceMap: false } };
  }
  return compiler;
}

/**
 * The JavaScript of a .ts file: from the cache when its key matches, else transpiled and kept.
 * @param {string} filename
 */
function javascriptOf(filename) {
  const source = fs.readFileSync(filename, "utf8");
  const key = crypto.createHash("sha256").update(SALT).update(source).digest("hex");
  const cached = readFileEntry(CACHE, filename, key);
  if (cached) return cached.toString("utf8");
  const { ts, options } = typescript();
  const js = ts.transpileModule(source, { fileName: filename, compilerOptions: options }).outputText;
  writeFileEntry(CACHE, filename, key, js);
  return js;
}

/**
 * V8's compiled code of each module under the checkout (the project's and node_modules', but those
 * with a dynamic `import(`, which Node compiles itself), kept in
 * node_modules/.cache/fast-start-v8/ so that the next run does not compile it again: Node 22.1 and
 * later do it themselves (module.enableCompileCache); on older Node each module is compiled here
 * as Node does, from the code V8 made of the same text on an earlier run. One entry per file
 * (cache-file.js), under the SHA-256 of Node's version and the module's text. Data that V8 refuses
 * (another V8, other flags) is made again. An entry is written when the process exits, so that it
 * holds the functions the run compiled, not only the module's top level.
 */
const BYTECODE = "fast-start-v8";

/** @typedef {{ exports: unknown; require(id: string): unknown; _compile(code: string, filename: string): unknown }} CompiledModule */

/** @type {{ enableCompileCache?(dir: string): unknown }} */ (/** @type {unknown} */ (Module)).enableCompileCache?.(cacheDir(BYTECODE)) ??
  cacheCompiledCode();

function cacheCompiledCode() {
  const proto = /** @type {CompiledModule} */ (/** @type {unknown} */ (Module.prototype));
  const compile = proto._compile;
  /** @type {Array<() => void>} */
  const toWrite = [];
  process.once("exit", () => {
    for (const write of toWrite) write();
  });
  /** @type {(this: CompiledModule, content: string, filename: string) => unknown} */
  proto._compile = function (content, filename) {
    const relative = path.relative(ROOT, filename);
    // A dynamic import needs the loader Node gives the modules it compiles (vm's is experimental, with a warning).
    const own = relative.startsWith("..") || path.isAbsolute(relative) || content.includes("import(");
    if (own) return compile.call(this, content, filename);
    const key = crypto.createHash("sha256").update(`${process.version}\n`).update(content).digest("hex");
    const cachedData = readFileEntry(BYTECODE, filename, key);
    // Node strips a first line `#!…`; the wrapper would put it mid-line, so it becomes a comment (lines keep their numbers).
    const source = content.startsWith("#!") ? `//${content.slice(2)}` : content;
    const script = new vm.Script(Module.wrap(source), { filename, cachedData });
    if (!cachedData || script.cachedDataRejected) {
      toWrite.push(() => writeFileEntry(BYTECODE, filename, key, script.createCachedData()));
    }
    const wrapper = /** @type {(...args: unknown[]) => unknown} */ (script.runInThisContext({ displayErrors: true }));
    return wrapper.call(this.exports, this.exports, requireOf(this), this, filename, path.dirname(filename));
  };
}

/**
 * The `require` a module's code is given, as Node makes it.
 * @param {CompiledModule} module
 */
function requireOf(module) {
  const internal =
    /** @type {{ _resolveFilename(r: string, m: unknown, main: boolean, o?: unknown): string; _resolveLookupPaths(r: string, m: unknown): unknown; _extensions: unknown; _cache: unknown }} */ (
      /** @type {unknown} */ (Module)
    );
  /** @param {string} id */
  const require = (id) => module.require(id);
  /** @param {string} request @param {unknown} [options] */
  const resolve = (request, options) => internal._resolveFilename(request, module, false, options);
  /** @param {string} request */
  resolve.paths = (request) => internal._resolveLookupPaths(request, module);
  return Object.assign(require, { resolve, main: process.mainModule, extensions: internal._extensions, cache: internal._cache });
}

/** @type {(module: NodeJS.Module, filename: string) => void} */
require.extensions[".ts"] = (module, filename) => {
  /** @type {{ _compile(code: string, filename: string): unknown }} */ (/** @type {unknown} */ (module))._compile(
    javascriptOf(filename),
    filename,
  );
};

/**
 * Modules loaded on first use rather than when required, by the SDK file that requires them.
 * Requiring @pulumi/pulumi and @pulumi/kubernetes loads 890 modules without these deferrals and
 * 325 with them; it took a median of 0.98 s against 0.22 s (six runs each, 2026-11-23, on a
 * machine busy with builds, so the times are rough; the counts are exact). `esModule`: what the
 * stand-in answers to `__esModule`, so that TypeScript's import helpers keep it rather than list
 * its keys (which would load it): `import * as` of a CommonJS module (true), `import x from` of
 * a function (false). test/scripts/render.test.ts uses each one through its stand-in.
 * @type {Array<{ request: string; from: string; esModule: boolean }>}
 */
const ON_FIRST_USE = [
  { request: "typescript", from: "@pulumi/pulumi/typescript-shim.js", esModule: false },
  { request: "@npmcli/arborist", from: "@pulumi/pulumi/runtime/closure/codePaths.js", esModule: true },
  { request: "normalize-package-data", from: "@pulumi/pulumi/runtime/closure/codePaths.js", esModule: false },
  // The Automation API (execa, js-yaml, semver's ranges…), which a program run by the engine never calls.
  { request: "./automation", from: "@pulumi/pulumi/index.js", esModule: true },
  // What `new k8s.yaml.ConfigFile` reads its files with; the stack builds its objects itself.
  { request: "glob", from: "@pulumi/kubernetes/yaml/yaml.js", esModule: false },
];

const moduleWithLoad =
  /** @type {typeof Module & { _load(request: string, parent: NodeJS.Module | undefined, isMain: boolean): unknown }} */ (
    /** @type {unknown} */ (Module)
  );
const load = moduleWithLoad._load;
/** @type {(this: unknown, request: string, parent: NodeJS.Module | undefined, isMain: boolean) => unknown} */
moduleWithLoad._load = function (request, parent, isMain) {
  const lazy = parent && ON_FIRST_USE.find((l) => l.request === request && parent.filename.endsWith(path.join("node_modules", l.from)));
  if (!lazy) return load.call(this, request, parent, isMain);
  /** @type {any} */
  let real;
  const loaded = () => (real ??= load.call(moduleWithLoad, request, parent, isMain));
  // A function, so that the stand-in can be called and constructed as the module's export may be.
  return new Proxy(function () {}, {
    get: (_target, key) => (key === "__esModule" ? lazy.esModule : Reflect.get(loaded(), key)),
    has: (_target, key) => Reflect.has(loaded(), key),
    apply: (_target, self, args) => Reflect.apply(loaded(), self, args),
    construct: (_target, args) => Reflect.construct(loaded(), args),
  });
};
