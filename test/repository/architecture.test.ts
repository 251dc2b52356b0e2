/** The architecture's rules that a reviewer would otherwise have to remember. */
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");
/** Every program file of components/, in folders too: a component moved into one stays checked. */
const componentFiles = fs
  .readdirSync(path.join(ROOT, "components"), { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".ts"))
  .map((f) => `components/${f.split(path.sep).join("/")}`)
  .map((file) => ({ file, text: fs.readFileSync(path.join(ROOT, file), "utf8") }));

test("only index.ts reads Pulumi config; components take plain args", () => {
  const readers = componentFiles
    .filter(({ text }) => /new pulumi\.Config\(|runtime\.allConfig\(|runtime\.getConfig\(/.test(text.replace(/^\s*(\/\/|\*).*$/gm, "")))
    .map(({ file }) => file);
  expect(readers).toEqual([]);
  expect(fs.readFileSync(path.join(ROOT, "index.ts"), "utf8")).toMatch(/pulumi\.runtime\.allConfig\(\)/);
});

test("every component registers under the project's type namespace and registers its outputs", () => {
  const components = componentFiles.filter(({ text }) => /extends StackComponent\b/.test(text));
  expect(components.length).toBeGreaterThanOrEqual(10);
  for (const { file, text } of components) {
    const classes = text.split(/(?=export class \w+ extends StackComponent\b)/).slice(1);
    for (const body of classes) {
      const name = /export class (\w+)/.exec(body)?.[1];
      expect({ file, name, token: new RegExp(`super\\("monitoring:index:${name}"`).test(body) }).toEqual({ file, name, token: true });
      expect({ file, name, registersOutputs: /this\.registerOutputs\(/.test(body) }).toEqual({ file, name, registersOutputs: true });
    }
  }
});

/**
 * Pulumi records a ComponentResource's constructor args in the state, in plain text unless
 * each is a secret. StackComponent (components/kit/component.ts) records none; a component that extends
 * ComponentResource itself would record its resolved config (webhook URLs, passwords, DSNs).
 */
test("every component extends StackComponent: no other class extends or makes a ComponentResource", () => {
  const files = ["index.ts", ...componentFiles.map(({ file }) => file)];
  const program = files.map((file) => ({
    file,
    text: fs.readFileSync(path.join(ROOT, file), "utf8").replace(/^\s*(\/\/|\*).*$/gm, ""),
  }));
  const direct = program.flatMap(({ file, text }) =>
    [...text.matchAll(/class (\w+)\s+extends\s+(?:[\w$]+\.)?ComponentResource\b/g)].map((m) => `${file}: ${m[1]}`),
  );
  expect(direct).toEqual(["components/kit/component.ts: StackComponent"]);
  const made = program.filter(({ text }) => /new\s+(?:[\w$]+\.)?ComponentResource\b/.test(text)).map(({ file }) => file);
  expect(made).toEqual([]);
  // The base itself hands the SDK no args: an empty object, whatever the component was given.
  const base = program.find(({ file }) => file === "components/kit/component.ts")?.text ?? "";
  const body = base.slice(base.indexOf("class StackComponent"));
  expect(body.slice(0, body.indexOf("\n}\n"))).toMatch(/super\(type, name, \{\}, opts\);/);
});

test("no component pins an image of its own: images.ts is the one versions file", () => {
  const pinned = componentFiles
    .filter(({ file }) => file !== "components/images.ts")
    .filter(({ text }) => /["'`][\w.-]+\.(io|com)\/[\w./-]+:[\w.-]+["'`]/.test(text))
    .map(({ file }) => file);
  expect(pinned).toEqual([]);
});

test("each check lives once, with its owner: no component refuses its args itself", () => {
  // Config refuses every bad value before any resource (the schema, config/checks/, and each component's
  // problems()); a component trusts its args. Looked for: a `checkedArgs` or `check…Args` function, and
  // `ResourceError` anywhere but where a component refuses what it reads from disk (rule files, dashboards).
  const READS_FILES = ["components/grafana/index.ts", "components/prometheus/plan.ts"];
  const code = (text: string) => text.replace(/^\s*(\/\/|\*|\/\*\*).*$/gm, "");
  const checkers = componentFiles.filter(({ text }) => /\bfunction\s+check\w*Args\b/.test(code(text))).map(({ file }) => file);
  expect(checkers).toEqual([]);
  const refusing = componentFiles.filter(({ text }) => /\bResourceError\b/.test(code(text))).map(({ file }) => file);
  expect(refusing.sort()).toEqual(READS_FILES);
});

test("every component's problems() is collected by config, into the one list: by config/checks/, or with its section", () => {
  const checks = fs
    .readdirSync(path.join(ROOT, "config", "checks"))
    .filter((f) => f.endsWith(".ts"))
    .map((f) => fs.readFileSync(path.join(ROOT, "config", "checks", f), "utf8"))
    .join("\n");
  const owners = componentFiles
    .filter(({ text }) => /^export function problems\(/m.test(text))
    .map(({ file }) => file.replace(/\.ts$/, ""));
  expect(owners.length).toBeGreaterThan(0);
  // The component sections config/sections.ts registers (its imports from components/), which config/checks/sections.ts checks.
  const registry = fs.readFileSync(path.join(ROOT, "config", "sections.ts"), "utf8");
  const sections = [...registry.matchAll(/^import \{[^}]*\} from "\.\.\/(components\/[^"]+)";/gm)]
    .map((m) => m[1])
    .filter((module) => /\bcomponentSection\(/.test(fs.readFileSync(path.join(ROOT, `${module}.ts`), "utf8")));
  const collected = (module: string) => {
    // Imported as `problems as <alias>` from the component's module, and the alias called...
    const alias = new RegExp(`import \\{[^}]*\\bproblems as (\\w+)[^}]*\\} from "\\.\\./\\.\\./${module}";`).exec(checks)?.[1];
    if (alias !== undefined && checks.includes(`${alias}(`)) return true;
    // ...or the `problems` of a registered section, imported from the module beside it.
    return sections.some((section) => {
      const text = fs.readFileSync(path.join(ROOT, `${section}.ts`), "utf8");
      const from = path.posix.relative(path.posix.dirname(section), module);
      return (
        new RegExp(
          `import \\{[^}]*\\bproblems\\b[^}]*\\} from "${(from.startsWith(".") ? from : `./${from}`).replace(/\./g, "\\.")}";`,
        ).test(text) && /^\s*problems[,:]/m.test(text)
      );
    });
  };
  expect(owners.filter((module) => !collected(module))).toEqual([]);
});

/**
 * Components take their own args and kit, never the stack config: config builds its resolved
 * types and defaults from what the components own, and components/stack/ alone maps the one
 * to the other. Imports of config/ by components are refused, type-only ones included.
 */
test("no component imports config/: only components/stack/ maps the resolved config to their args", () => {
  const imports = componentFiles
    .filter(({ file }) => !file.startsWith("components/stack/"))
    .flatMap(({ file, text }) =>
      [...text.matchAll(/^(?:import|export)\s+(?:type\s+)?\{?([^;]*?)\}?\s+from\s+"([^"]+)";/gms)]
        .filter((m) => path.posix.normalize(path.posix.join(path.posix.dirname(file), m[2])).split("/")[0] === "config")
        .map((m) => `${file}: ${m[1].trim()}`),
    );
  expect(imports).toEqual([]);
});

/**
 * The shape of the code (issue 21), held after it: where each kind of code lives, which way
 * imports go, and how big a file may grow before it is split by concern.
 */

/** A repository file with the relative imports it makes. */
interface SourceFile {
  file: string;
  lines: number;
  imports: Array<{ target: string; typeOnly: boolean }>;
}

const SOURCE_ROOTS = ["index.ts", "config", "components", "preflight", "scripts", "test"];

/** Every file under an entry of the repository (itself when it is a file), as repository paths. */
function filesUnder(entry: string): string[] {
  const full = path.join(ROOT, entry);
  if (!fs.existsSync(full)) return [];
  if (fs.statSync(full).isFile()) return [entry];
  return fs
    .readdirSync(full, { recursive: true, encoding: "utf8" })
    .map((f) => `${entry}/${f.split(path.sep).join("/")}`)
    .filter((f) => fs.statSync(path.join(ROOT, f)).isFile());
}

function tsFilesUnder(entry: string): string[] {
  return filesUnder(entry).filter((f) => f.endsWith(".ts"));
}

/** The file a relative specifier names, as the TypeScript resolver finds it (file.ts, then folder/index.ts). */
function resolveImport(from: string, spec: string): string | undefined {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  return [`${base}.ts`, `${base}/index.ts`, base].find(
    (f) => fs.existsSync(path.join(ROOT, f)) && fs.statSync(path.join(ROOT, f)).isFile(),
  );
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^;]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/gm;

function readSource(file: string): SourceFile {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  const imports = [...text.matchAll(IMPORT)].flatMap((m) => {
    const target = resolveImport(file, m[3]);
    return target ? [{ target, typeOnly: m[2] !== undefined }] : [];
  });
  return { file, lines: text.split("\n").length, imports };
}

const SOURCES: SourceFile[] = SOURCE_ROOTS.flatMap(tsFilesUnder).map(readSource);

/** The component a file of components/ belongs to: its folder, or its file name; kit and images are shared, the stack is the wiring. */
function componentOf(file: string): string | undefined {
  const m = /^components\/([^/.]+)/.exec(file);
  return m?.[1];
}
const SHARED_COMPONENT_PARTS = new Set(["kit", "images"]);

test("no program or script file grows past 500 lines: split it by concern", () => {
  const big = SOURCES.filter(({ file }) => !file.startsWith("test/"))
    .filter(({ lines }) => lines > 500)
    .map(({ file, lines }) => `${file}: ${lines} lines`);
  expect(big).toEqual([]);
});

test("components import only the kit, images and their own folder: nothing sideways, nothing of config/", () => {
  const sideways = SOURCES.filter(({ file }) => file.startsWith("components/") && componentOf(file) !== "stack").flatMap(
    ({ file, imports }) =>
      imports
        .filter(({ target }) => {
          if (!target.startsWith("components/"))
            return target.startsWith("config/") || target.startsWith("preflight/") || target.startsWith("scripts/");
          const owner = componentOf(target) as string;
          return owner !== componentOf(file) && !SHARED_COMPONENT_PARTS.has(owner);
        })
        .map(({ target }) => `${file} -> ${target}`),
  );
  expect(sideways).toEqual([]);
});

test("the kit depends on nothing of the stack: it is what every component shares", () => {
  const kit = SOURCES.filter(({ file }) => componentOf(file) === "kit").flatMap(({ file, imports }) =>
    imports
      .filter(({ target }) => componentOf(target) !== "kit" && target !== "components/images.ts")
      .map(({ target }) => `${file} -> ${target}`),
  );
  expect(kit).toEqual([]);
});

test("scripts never import tests: what both use lives in scripts/lib", () => {
  const back = SOURCES.filter(({ file }) => file.startsWith("scripts/")).flatMap(({ file, imports }) =>
    imports.filter(({ target }) => target.startsWith("test/")).map(({ target }) => `${file} -> ${target}`),
  );
  expect(back).toEqual([]);
});

test("no file only re-exports another (a shim): import from where the code lives", () => {
  const shims = SOURCES.filter(({ file }) => !file.endsWith("/index.ts"))
    .filter(({ file }) => {
      const code = fs
        .readFileSync(path.join(ROOT, file), "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/^\s*\/\/.*$/gm, "")
        .trim();
      return (
        code.length > 0 &&
        code
          .split(/;\s*/)
          .filter(Boolean)
          .every((s) => /^export\s+(\*|\{[^}]*\}|type\s+\{[^}]*\})\s+from\s+["']/.test(s.trim()))
      );
    })
    .map(({ file }) => file);
  expect(shims).toEqual([]);
});

test("no import cycle among the program's files (imports that exist at run time)", () => {
  const program = SOURCES.filter(({ file }) => !file.startsWith("test/"));
  const edges = new Map(program.map(({ file, imports }) => [file, imports.filter((i) => !i.typeOnly).map((i) => i.target)]));
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next].join(" -> "));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  expect(cycles).toEqual([]);
});

/** A path of the repository's code named in prose: a comment, a rendered header, a catalogue note, a doc. */
const NAMED_PATH = /(?<![\w./-])(?:components|config|preflight|scripts)\/[\w./-]*\w\.(?:ts|js)\b/g;
const PROSE_ROOTS = [...SOURCE_ROOTS, "rules", "catalog", "dashboards", "docs", "README.md", ".ci", ".github"];

test("every path of the code that a comment, a rendered header or a doc names exists: moves take their mentions along", () => {
  const dangling = PROSE_ROOTS.flatMap(filesUnder)
    .filter((file) => /\.(ts|js|md|ya?ml|txt|json)$/.test(file) || !path.extname(file))
    .flatMap((file) => [...fs.readFileSync(path.join(ROOT, file), "utf8").matchAll(NAMED_PATH)].map((m) => [file, m[0]]))
    .filter(([, named]) => !fs.existsSync(path.join(ROOT, named)))
    .map(([file, named]) => `${file}: ${named}`);
  expect([...new Set(dangling)]).toEqual([]);
});
