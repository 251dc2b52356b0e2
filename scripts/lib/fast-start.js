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
const { readCacheEntry, writeCacheEntry } = require("./cache-file");

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
  // One cache file per source file, its key on the first line: an edit replaces the entry, the cache never grows.
  const entry = `${path.relative(ROOT, filename).replace(/[\\/]/g, "__")}.js`;
  const cached = readCacheEntry(CACHE, entry) ?? "";
  const newline = cached.indexOf("\n");
  if (newline > 0 && cached.slice(3, newline) === key) return cached.slice(newline + 1);
  const { ts, options } = typescript();
  const js = ts.transpileModule(source, { fileName: filename, compilerOptions: options }).outputText;
  writeCacheEntry(CACHE, entry, `// ${key}\n${js}`);
  return js;
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
