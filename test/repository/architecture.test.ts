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

/** The files of components/ that read the team's files from disk (rule files, dashboards) and refuse what they find there. */
const READS_FILES = [
  "components/grafana/dashboards.ts",
  "components/grafana/index.ts",
  "components/prometheus/plan.ts",
  "components/prometheus/rules/rule-files.ts",
];
/** Code without its comments. */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");

test("each check lives once, with its owner: a component throws only through the kit's refuseProblems, or over the files it reads", () => {
  // Config refuses every bad value before any resource (the schema, config/checks/, and each component's
  // problems()); a component's constructor runs the same problems() through refuseProblems, the one
  // throw over args (components/kit/problems.ts), where programmingError also says a broken invariant
  // of the program's own code. Only the files that read the team's files throw over what they read.
  const checkers = componentFiles.filter(({ text }) => /\bfunction\s+check\w*Args\b/.test(code(text))).map(({ file }) => file);
  expect(checkers).toEqual([]);
  const throwing = componentFiles
    .filter(({ file }) => file !== "components/kit/problems.ts" && !READS_FILES.includes(file))
    .filter(({ text }) => /\bthrow\b|\bResourceError\b/.test(code(text)))
    .map(({ file }) => file);
  expect(throwing).toEqual([]);
});

test("every component's problems() is collected into the one list: by its section in config's registry, or by config/checks/", () => {
  const read = (dir: string) =>
    fs
      .readdirSync(path.join(ROOT, dir))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => fs.readFileSync(path.join(ROOT, dir, f), "utf8"))
      .join("\n");
  const checks = read(path.join("config", "checks"));
  const registry = fs.readFileSync(path.join(ROOT, "components", "stack", "sections.ts"), "utf8");
  const sections = componentFiles.filter(({ file }) => /\/section\.ts$/.test(file));
  const owners = componentFiles
    .filter(({ text }) => /^export function problems\(/m.test(text))
    .map(({ file }) => file.replace(/\.ts$/, ""));
  expect(owners.length).toBeGreaterThan(0);
  // A section file that imports the module's problems and calls them, and whose section config's registry lists.
  const bySection = (module: string) =>
    sections.some(({ file, text }) => {
      const spec = path.posix.relative(path.posix.dirname(file), module);
      const imported = new RegExp(`import \\{[^}]*\\bproblems\\b[^}]*\\} from "(\\./)?${spec.replace(/[.]/g, "\\.")}";`).test(text);
      const name = /export const (\w+Section) = componentSection\(/.exec(text)?.[1];
      const used = /\bproblems\(/.test(text) || /^\s*problems,\s*$/m.test(text);
      // Or the section file's own problems(), which its section names.
      const own = file === `${module}.ts` && /^\s*problems: \(/m.test(text);
      return (imported || own) && used && name !== undefined && registry.includes(name);
    });
  // Or imported as `problems as <alias>` from the component's module by config/checks/, and the alias called.
  const byChecks = (module: string) => {
    const alias = new RegExp(`import \\{[^}]*\\bproblems as (\\w+)[^}]*\\} from "\\.\\./\\.\\./${module}";`).exec(checks)?.[1];
    return alias !== undefined && checks.includes(`${alias}(`);
  };
  expect(owners.filter((module) => !bySection(module) && !byChecks(module))).toEqual([]);
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

const SOURCE_ROOTS = ["index.ts", "config", "components", "preflight", "cli", "lab", "scripts", "test"];

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
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec)).replace(/\/$/, "");
  return [`${base}.ts`, `${base}/index.ts`, base].find(
    (f) => fs.existsSync(path.join(ROOT, f)) && fs.statSync(path.join(ROOT, f)).isFile(),
  );
}

/** A relative import or re-export, whatever its form: `"./x"`, `"../x"`, and the folders themselves, `"."` and `".."`. */
const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^;]*?\s+from\s+)?["'](\.{1,2}(?:\/[^"']*)?)["']/gm;

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
            return ["config/", "preflight/", "cli/", "lab/", "scripts/"].some((root) => target.startsWith(root));
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

test("the commands and the lab never import tests: what both use lives in cli/ or lab/", () => {
  const back = SOURCES.filter(({ file }) => ["cli/", "lab/", "scripts/"].some((root) => file.startsWith(root))).flatMap(
    ({ file, imports }) => imports.filter(({ target }) => target.startsWith("test/")).map(({ target }) => `${file} -> ${target}`),
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

/** The program: what deploys (index.ts, config, components, preflight), apart from the lab. */
const PROGRAM_ROOTS = ["index.ts", "config/", "components/", "preflight/"];
const inProgram = (file: string) => PROGRAM_ROOTS.some((root) => file === root || file.startsWith(root));

/** Each circle of a graph once: its strongly connected components of more than one node (Tarjan's), each sorted. */
function circles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node) as number);
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
    }
    if (low.get(node) === index.get(node)) {
      const circle: string[] = [];
      let top: string;
      do {
        top = stack.pop() as string;
        onStack.delete(top);
        circle.push(top);
      } while (top !== node);
      if (circle.length > 1) found.push(circle.sort());
    }
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return found;
}

/**
 * No circle of files in the program, type-only imports included: a circle ties its files so that
 * none can be read or moved alone (a section and its problems, a component's args and its section).
 * The lab's scripts are held to the imports that exist at run time.
 */
test("no circle of files: the program's imports of any kind, the scripts' at run time", () => {
  const edges = new Map(
    SOURCES.filter(({ file }) => !file.startsWith("test/")).map(({ file, imports }) => [
      file,
      imports.filter((i) => (inProgram(file) ? inProgram(i.target) : !i.typeOnly)).map((i) => i.target),
    ]),
  );
  expect(circles(edges).map((circle) => circle.join(" <-> "))).toEqual([]);
});

/**
 * No circle of folders in the program: index.ts, preflight/, config/ and components/ lean one way
 * (index.ts → preflight → config → components), type-only imports included. The stack's config,
 * its registry of sections and StackConfig, live in components/stack/, which config/ reads.
 */
test("no circle of the program's folders: index.ts, preflight/, config/, components/", () => {
  const folderOf = (file: string) => file.split("/")[0];
  const edges = new Map<string, string[]>();
  for (const { file, imports } of SOURCES.filter(({ file }) => inProgram(file))) {
    const from = folderOf(file);
    for (const { target } of imports.filter((i) => inProgram(i.target))) {
      const to = folderOf(target);
      if (to !== from) edges.set(from, [...new Set([...(edges.get(from) ?? []), to])]);
    }
  }
  expect(circles(edges).map((circle) => circle.join(" <-> "))).toEqual([]);
});

/** The unit of the layering a file belongs to: a component's folder (or file), the stack, the kit, or a top-level folder or file. */
function unitOf(file: string): string {
  // The pinned images are part of what every component shares, as the kit is.
  if (file === "components/images.ts") return "components/kit";
  const component = /^components\/([^/.]+)/.exec(file);
  if (component) return `components/${component[1]}`;
  return file.split("/")[0];
}

/**
 * Which way the folders lean: index.ts → preflight → config → the components (the stack's wiring
 * above them, the kit below); a cycle between two folders means neither can be read or changed
 * alone (config ↔ components, the stack ↔ preflight). Type-only imports count: they tie the
 * folders as much.
 */
test("no cycle between folders: config, preflight, cli, lab, scripts, each component's folder, the stack and the kit", () => {
  const edges = new Map<string, Set<string>>();
  for (const { file, imports } of SOURCES.filter(({ file }) => !file.startsWith("test/"))) {
    const from = unitOf(file);
    for (const { target } of imports) {
      const to = unitOf(target);
      if (to !== from) edges.set(from, new Set([...(edges.get(from) ?? []), to]));
    }
  }
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>();
    const next = [from];
    while (next.length > 0) {
      const unit = next.pop() as string;
      for (const n of edges.get(unit) ?? []) {
        if (n === to) return true;
        if (!seen.has(n)) {
          seen.add(n);
          next.push(n);
        }
      }
    }
    return false;
  };
  const cycles = [...edges.entries()].flatMap(([from, tos]) => [...tos].filter((to) => reaches(to, from)).map((to) => `${from} -> ${to}`));
  expect(cycles).toEqual([]);
});

/** A path of the repository's code named in prose: a comment, a rendered header, a catalogue note, a doc. */
const NAMED_PATH = /(?<![\w./-])(?:components|config|preflight|cli|lab|scripts)\/[\w./-]*\w\.(?:ts|js)\b/g;
const PROSE_ROOTS = [...SOURCE_ROOTS, "rules", "catalog", "dashboards", "docs", "README.md", ".ci", ".github"];

test("every path of the code that a comment, a rendered header or a doc names exists: moves take their mentions along", () => {
  const dangling = PROSE_ROOTS.flatMap(filesUnder)
    .filter((file) => /\.(ts|js|md|ya?ml|txt|json)$/.test(file) || !path.extname(file))
    .flatMap((file) => [...fs.readFileSync(path.join(ROOT, file), "utf8").matchAll(NAMED_PATH)].map((m) => [file, m[0]]))
    .filter(([, named]) => !fs.existsSync(path.join(ROOT, named)))
    .map(([file, named]) => `${file}: ${named}`);
  expect([...new Set(dangling)]).toEqual([]);
});
