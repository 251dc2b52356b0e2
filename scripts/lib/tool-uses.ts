/**
 * What the tests run, read from their code: the binaries each test tier needs (checked against
 * TIER_TOOLS by test/scripts/tools.test.ts) and the files `npm run test:quick` may run
 * (jest.quick.config.js). Apart from the tool table so that CI's cache of the built tools,
 * keyed on the table, does not change when this reading does.
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT, TOOLS, Tier } from "./tools";

/** The test files of a tier and the other files of its folder (global setup, support), repository-relative. */
export function tierEntryFiles(tier: Tier): string[] {
  const all = (fs.readdirSync(path.join(ROOT, "test"), { recursive: true }) as string[])
    .map((f) => path.join("test", f))
    .filter((f) => f.endsWith(".ts"));
  const folder = (f: string) =>
    f.startsWith(path.join("test", "cluster") + path.sep)
      ? "cluster"
      : f.startsWith(path.join("test", "live") + path.sep)
        ? "live"
        : "offline";
  return all.filter((f) => folder(f) === tier && (tier !== "offline" || f.endsWith(".test.ts"))).sort();
}

/** A top-level statement of a source file: a declaration (named) or code that runs on import (unnamed). */
interface Block {
  name?: string;
  text: string;
}

/** A source file read for binaryUses: its top-level blocks, and where each imported name comes from. */
interface Source {
  blocks: Block[];
  /** Local name → [file, exported name]; a namespace import maps to [file, "*"]. */
  imports: Map<string, [string, string]>;
  /** Files whose exports this one re-exports (`export * from`). */
  reexports: string[];
  text: string;
}

const DECLARATION =
  /^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:function\*?|class|const|let|var|interface|type|enum)\s+([A-Za-z_$][\w$]*)/;

/** The .ts file a relative import names, repository-relative, or undefined (a package, a JSON file). */
function resolveImport(from: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = path.join(path.dirname(from), spec);
  return [`${base}.ts`, path.join(base, "index.ts")].find((f) => fs.existsSync(path.join(ROOT, f)));
}

function readSource(file: string): Source {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  const imports = new Map<string, [string, string]>();
  const reexports: string[] = [];
  for (const [, clause, spec] of text.matchAll(/^import\s+(?!type\s)([\s\S]*?)\s+from\s+"([^"]+)";/gm)) {
    const target = resolveImport(file, spec);
    if (!target) continue;
    const namespace = /\*\s+as\s+(\w+)/.exec(clause);
    if (namespace) imports.set(namespace[1], [target, "*"]);
    for (const item of /\{([\s\S]*)\}/.exec(clause)?.[1].split(",") ?? []) {
      const [name, local] = item
        .replace(/^\s*type\s+/, "")
        .split(/\s+as\s+/)
        .map((s) => s.trim());
      if (name && !/^type\s/.test(item.trim())) imports.set(local ?? name, [target, name]);
    }
  }
  for (const [, spec] of text.matchAll(/^export\s+\*\s+from\s+"([^"]+)";/gm)) {
    const target = resolveImport(file, spec);
    if (target) reexports.push(target);
  }
  // What runs: the code without its comments and without the import and re-export statements.
  const code = text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:\\"'])\/\/.*$/gm, "$1")
    .replace(/^(?:import|export)\s[^;]*?\bfrom\s+"[^"]+";|^import\s+"[^"]+";/gm, "");
  const blocks: Block[] = [];
  for (const line of code.split("\n")) {
    if (line.trim() === "") continue;
    if (/^[^\s}\])]/.test(line) || blocks.length === 0) blocks.push({ name: DECLARATION.exec(line)?.[1], text: "" });
    blocks[blocks.length - 1].text += `${line}\n`;
  }
  return { blocks, imports, reexports, text };
}

/** The functions and values that define the tool paths: naming a binary there is not running it. */
const TOOL_PATH_DEFINITIONS = new Set(["binPath", "stackBinary", "runBinary", "BIN_DIR", "PULUMI_HOME"]);

/** A top-level statement some code reaches, with its file's text. */
export interface ReachedCode {
  file: string;
  name?: string;
  text: string;
  fileText: string;
}

/**
 * The top-level statements that the entry files' code reaches, read from the repository's
 * sources: from every statement of the entry files, the names each statement uses, followed
 * within its file and through relative imports (a file that imports one helper of a module
 * does not reach the module's other functions), and the code of each reached file that runs
 * on import.
 */
export function reachedCode(entryFiles: string[]): ReachedCode[] {
  const sources = new Map<string, Source>();
  const source = (file: string) => sources.get(file) ?? sources.set(file, readSource(file)).get(file)!;
  const seen = new Set<string>();
  const queue: Array<[string, Block]> = [];
  const reached: ReachedCode[] = [];
  const reach = (file: string, block: Block) => {
    const key = `${file}#${source(file).blocks.indexOf(block)}`;
    if (!seen.has(key)) {
      seen.add(key);
      queue.push([file, block]);
    }
  };
  /** The blocks a file exports under a name, through its re-exports. */
  const exported = (file: string, name: string, depth = 0): Array<[string, Block]> => {
    const src = source(file);
    const own = src.blocks.filter((b) => b.name === name);
    if (own.length > 0 || depth > 5) return own.map((b) => [file, b]);
    const imported = src.imports.get(name);
    if (imported && imported[1] !== "*") return exported(imported[0], imported[1], depth + 1);
    return src.reexports.flatMap((f) => exported(f, name, depth + 1));
  };
  for (const file of entryFiles) for (const block of source(file).blocks) reach(file, block);
  for (let item = queue.shift(); item; item = queue.shift()) {
    const [file, block] = item;
    const src = source(file);
    reached.push({ file, name: block.name, text: block.text, fileText: src.text });
    for (const b of src.blocks) if (!b.name) reach(file, b);
    const names = new Set(block.text.match(/[A-Za-z_$][\w$]*/g));
    for (const b of src.blocks) if (b !== block && b.name && names.has(b.name)) reach(file, b);
    for (const [local, [target, name]] of src.imports) {
      if (!names.has(local)) continue;
      const members = name === "*" ? [...block.text.matchAll(new RegExp(`\\b${local}\\.(\\w+)`, "g"))].map((m) => m[1]) : [name];
      for (const member of members) for (const [f, b] of exported(target, member)) reach(f, b);
    }
  }
  return reached;
}

/**
 * The tools that some code runs (reachedCode): a call that names a binary
 * (`stackBinary("loki")`, `runBinary("alloy", …)`, `binPath("kubectl")`); every tool its file
 * names in a string where a statement reaches binaries through a variable or BIN_DIR (a list
 * of binaries); the resource plugins where it uses PULUMI_HOME. The definitions of those
 * functions and paths are not uses.
 */
export function binaryUses(entryFiles: string[]): Set<string> {
  const toolNames = new Set(TOOLS.map((t) => t.binary));
  const used = new Set<string>();
  for (const { name, text, fileText } of reachedCode(entryFiles)) {
    if (name && TOOL_PATH_DEFINITIONS.has(name)) continue;
    for (const [, binary] of text.matchAll(/\b(?:stackBinary|runBinary|binPath)\(\s*"([^"]+)"/g)) used.add(binary);
    // The same code with its strings emptied: a name in a string is not a use of the variable.
    const bare = text.replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""');
    if (/\b(?:stackBinary|runBinary|binPath)\(\s*[^"\s)]/.test(bare) || /\bBIN_DIR\b/.test(bare)) {
      for (const [, literal] of fileText.matchAll(/"([^"]+)"/g)) if (toolNames.has(literal)) used.add(literal);
    }
    if (/\bPULUMI_HOME\b/.test(bare)) for (const t of TOOLS.filter((t) => t.plugin)) used.add(t.binary);
  }
  return used;
}
