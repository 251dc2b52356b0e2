// @ts-check
/**
 * What makes `npm run render` take about two seconds rather than five (docs/benchmark.md, "Render"),
 * and starts every other command of package.json that runs a file of scripts/ (migrate, check,
 * tools…) in a fraction of a second rather than ts-node's two:
 *
 *   node -r ./cli/fast-start.js scripts/render.ts …
 *
 * - Each .ts file is transpiled once (TypeScript's transpileModule with the tsconfig's options,
 *   what `ts-node --transpile-only` does on every run) and kept in node_modules/.cache/fast-start/,
 *   keyed by its text, the tsconfig and the TypeScript version: an edited file is transpiled again
 *   on its next load, nothing else. Each module still runs at its own path, so that code finding
 *   the repository's files through `__dirname` (rules/, dashboards/, the stack files) finds them
 *   as under ts-node, which a build into another directory would not.
 * - The modules the Pulumi SDK loads to serialize closures (TypeScript, npm's arborist), which a
 *   program that registers no function-valued resource never calls, load when first used
 *   (cli/on-first-use.js).
 *
 * Each of the two saves at least 0.3 s of a whole-process render (docs/benchmark.md gives the
 * figures and how they were measured). No type check: `npm run typecheck` does that.
 */
const crypto = require("crypto");
const fs = require("fs");
const Module = require("module");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const CACHE = path.join(ROOT, "node_modules", ".cache", "fast-start");

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
 * A file has one entry, named by its path with the separators replaced, which holds the key (the
 * SHA-256 of SALT and the file's text, in hex) and then the JavaScript: a new key replaces the
 * entry, so the cache never grows. An entry is written aside and renamed into place, so that
 * renders running at once (jest workers) never read half of one.
 * @param {string} filename
 */
function javascriptOf(filename) {
  const source = fs.readFileSync(filename, "utf8");
  const key = crypto.createHash("sha256").update(SALT).update(source).digest("hex");
  const entry = path.join(CACHE, path.relative(ROOT, filename).replace(/[\\/]/g, "__"));
  const cached = readOrUndefined(entry);
  if (cached?.startsWith(key)) return cached.slice(key.length);
  const { ts, options } = typescript();
  const js = ts.transpileModule(source, { fileName: filename, compilerOptions: options }).outputText;
  fs.mkdirSync(CACHE, { recursive: true });
  const aside = `${entry}.${process.pid}.${crypto.randomUUID()}`;
  fs.writeFileSync(aside, key + js);
  fs.renameSync(aside, entry);
  return js;
}

/** @param {string} file */
function readOrUndefined(file) {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** @type {(module: NodeJS.Module, filename: string) => void} */
require.extensions[".ts"] = (module, filename) => {
  /** @type {{ _compile(code: string, filename: string): unknown }} */ (/** @type {unknown} */ (module))._compile(
    javascriptOf(filename),
    filename,
  );
};

/** The SDK's closure-serialization modules, loaded on first use (cli/on-first-use.js). */
const { ON_FIRST_USE, standIn } = require("./on-first-use");

const moduleWithLoad =
  /** @type {typeof Module & { _load(request: string, parent: NodeJS.Module | undefined, isMain: boolean): unknown }} */ (
    /** @type {unknown} */ (Module)
  );
const load = moduleWithLoad._load;
/** @type {(this: unknown, request: string, parent: NodeJS.Module | undefined, isMain: boolean) => unknown} */
moduleWithLoad._load = function (request, parent, isMain) {
  const lazy = parent && ON_FIRST_USE.find((l) => l.request === request && parent.filename.endsWith(path.join("node_modules", l.from)));
  if (!lazy) return load.call(this, request, parent, isMain);
  return standIn(() => load.call(moduleWithLoad, request, parent, isMain), lazy.esModule);
};
