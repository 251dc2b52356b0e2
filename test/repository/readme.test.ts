/**
 * The README is the front door and docs/ holds the rest: both must stay true as the config grows,
 * and every link between them must lead somewhere.
 */
import * as fs from "fs";
import * as path from "path";
import { configKeyDocs } from "../../config";

const ROOT = path.join(__dirname, "..", "..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

const README = read("README.md");
const DOCS = fs
  .readdirSync(path.join(ROOT, "docs"))
  .filter((f) => f.endsWith(".md"))
  .map((f) => `docs/${f}`);
/** The configuration reference: every key and every secret's `pulumi config set` line. */
const CONFIGURATION = read("docs/configuration.md");
const CONFIGURATION_LINES = CONFIGURATION.split("\n");

/** Keys as the reference documents them: requests/limits and storage fields are documented per section. */
function documentedForm(key: string): string {
  return key
    .replace(/\.resources\..*$/, ".resources")
    .replace(/\.storage\..*$/, ".storage")
    .replace(/\[\]$/, "");
}

function isDocumented(key: string): boolean {
  if (CONFIGURATION.includes(`\`${key}\``) || CONFIGURATION.includes(`\`${key}[]\``)) return true;
  const cut = key.lastIndexOf(".");
  if (cut < 0) return false;
  const parent = key.slice(0, cut);
  const leaf = key.slice(cut + 1);
  // A row that names the parent and the leaf, e.g. `apps[].metrics.statusLabel` / `methodLabel`.
  return CONFIGURATION_LINES.some((line) => line.includes(`\`${parent}`) && new RegExp(`[\`.(]${leaf}\\b`).test(line));
}

test("every config key is documented in docs/configuration.md", () => {
  const keys = [...new Set(configKeyDocs().map((d) => documentedForm(d.key)))];
  expect(keys.length).toBeGreaterThan(50);
  expect(keys.filter((k) => !isDocumented(k))).toEqual([]);
});

test("every secret key is listed with its pulumi config set command in docs/configuration.md", () => {
  for (const { key } of configKeyDocs().filter((d) => d.secret)) {
    expect(CONFIGURATION).toMatch(new RegExp(`pulumi config set --secret (--path ')?${key}`));
  }
});

test("the README's two commands are the ones the project defines", () => {
  const pkg = JSON.parse(read("package.json")) as { scripts: Record<string, string> };
  expect(README).toContain("npm ci && npm run render -- --stack staging");
  expect(README).toContain("npm test");
  expect(pkg.scripts.render).toContain("scripts/render.ts");
  expect(pkg.scripts.test).toBe("npm run tools -- --tier offline --check && npm run typecheck && npm run lint && jest");
  // The offline job's step runs the whole of `npm test` (its default part).
  expect(read(".ci/test-offline")).toMatch(/^\s*whole\) npm test( \S+)* ;;$/m);
});

test("the README stays a front door: at most 300 lines", () => {
  expect(README.split("\n").length).toBeLessThanOrEqual(300);
});

test("the README links every page of docs/", () => {
  expect(DOCS.length).toBeGreaterThan(5);
  expect(DOCS.filter((page) => !README.includes(`](${page})`))).toEqual([]);
});

test("every page of docs/ opens with its title and one paragraph saying what it holds", () => {
  for (const page of DOCS) {
    const [title, blank, first] = read(page).split("\n");
    expect([page, title.startsWith("# "), blank, /^[^#|`\s-]/.test(first)]).toEqual([page, true, "", true]);
  }
});

/** GitHub's anchor of a heading: lower case, punctuation but `-` and `_` dropped, spaces as `-`, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6} (.*)$/.exec(line);
    if (!heading) continue;
    const slug = heading[1]
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}_\- ]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    found.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return found;
}

/** Every relative link of a Markdown file, outside code, as [file it names, anchor]. */
function relativeLinks(file: string): Array<{ link: string; target: string; anchor?: string }> {
  const prose = read(file)
    .replace(/```[\s\S]*?```/g, "")
    .replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((link) => !/^[a-z]+:/.test(link))
    .map((link) => {
      const [target, anchor] = link.split("#");
      return { link, target: target === "" ? file : path.posix.join(path.posix.dirname(file), target), anchor };
    });
}

test("every relative link and #anchor of the README, docs/ and examples/README.md resolves", () => {
  const files = ["README.md", "examples/README.md", ...DOCS];
  const links = files.flatMap((file) => relativeLinks(file).map((l) => ({ file, ...l })));
  expect(links.length).toBeGreaterThan(50);
  const broken = links.filter(({ target, anchor }) => {
    if (!fs.existsSync(path.join(ROOT, target))) return true;
    return anchor !== undefined && !(target.endsWith(".md") && anchors(read(target)).has(anchor));
  });
  expect(broken.map(({ file, link }) => `${file}: ${link}`)).toEqual([]);
});

/** The program's folders, whose messages and comments point into the docs. */
const PROGRAM_ROOTS = ["index.ts", "config", "components", "preflight", "cli", "lab", "scripts"];

/** Every .ts and .js file under an entry of the repository (itself when it is a file). */
function programFiles(entry: string): string[] {
  const full = path.join(ROOT, entry);
  if (fs.statSync(full).isFile()) return [entry];
  return fs
    .readdirSync(full, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? programFiles(path.posix.join(entry, e.name)) : [path.posix.join(entry, e.name)]))
    .filter((file) => /\.(ts|js)$/.test(file));
}

/**
 * A pointer to a page and one of its headings, as messages and comments give it: `docs/operations.md, "Changing volumes"`
 * (in source the quotes and backquotes may be escaped: `\"`, `` \` ``).
 */
const POINTER = /((?:docs\/[\w-]+|README|examples\/README)\.md), \\?"((?:[^"\\\n]|\\`)+)\\?"/g;
/** The forms pointers had before the one above: `README: Changing volumes`, `README, "Databases"`, `"Good to know" in the README`, `docs/x.md: Heading`. */
const OLD_POINTER = /\bREADME[:,] ["A-Z]|\bREADME "|" in the README\b|\bdocs\/[\w-]+\.md: [A-Z]/;

/** The headings of a Markdown page as written, outside code fences. */
function headings(markdown: string): Set<string> {
  const found = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6} (.*)$/.exec(line);
    if (heading) found.add(heading[1].trim());
  }
  return found;
}

/** Every page-and-heading pointer in the program's source, as [file, page, heading]. */
function sourcePointers(text: string): Array<{ page: string; heading: string }> {
  return [...text.matchAll(POINTER)].map((m) => ({ page: m[1], heading: m[2].replace(/\\([`"])/g, "$1") }));
}

test("a pointer is read as the page and its heading, escaped quotes and backquotes included", () => {
  expect(sourcePointers('(docs/configuration.md, "Databases: \\`databases[]\\`")')).toEqual([
    { page: "docs/configuration.md", heading: "Databases: `databases[]`" },
  ]);
  expect(sourcePointers('x (see docs/operations.md, \\"Good to know\\") y, README.md, "Deploy"')).toEqual([
    { page: "docs/operations.md", heading: "Good to know" },
    { page: "README.md", heading: "Deploy" },
  ]);
  expect(OLD_POINTER.test("(README: Changing volumes)")).toBe(true);
  expect(OLD_POINTER.test('see "Changing volumes" in the README')).toBe(true);
  expect(OLD_POINTER.test('(README, "Databases")')).toBe(true);
  expect(OLD_POINTER.test("(docs/operations.md: From Promtail to Alloy)")).toBe(true);
  expect(OLD_POINTER.test('(docs/operations.md, "From Promtail to Alloy")')).toBe(false);
});

test("every page-and-heading pointer of a message or a comment names a page of the repository and one of its headings", () => {
  const files = PROGRAM_ROOTS.flatMap(programFiles);
  const pointers = files.flatMap((file) => sourcePointers(read(file)).map((p) => ({ file, ...p })));
  expect(pointers.length).toBeGreaterThan(10);
  const broken = pointers.filter(({ page, heading }) => !fs.existsSync(path.join(ROOT, page)) || !headings(read(page)).has(heading));
  expect(broken.map(({ file, page, heading }) => `${file}: ${page}, "${heading}"`)).toEqual([]);
  // One form: a pointer in an older one would escape the check above.
  const old = files.flatMap((file) =>
    read(file)
      .split("\n")
      .filter((line) => OLD_POINTER.test(line))
      .map((line) => `${file}: ${line.trim()}`),
  );
  expect(old).toEqual([]);
});

test("what npm ci prints is explained: the engines it warns about are @pulumi/pulumi's, and every install script is approved", () => {
  const pkg = JSON.parse(read("package.json")) as { engines: { node: string }; allowScripts?: Record<string, boolean> };
  const lock = JSON.parse(read("package-lock.json")) as {
    packages: Record<string, { version?: string; engines?: { node?: string }; hasInstallScript?: boolean }>;
  };
  // EBADENGINE: this package asks what @pulumi/pulumi asks, and the README says so.
  expect(pkg.engines.node).toBe(lock.packages["node_modules/@pulumi/pulumi"].engines?.node);
  expect(README).toContain(
    `\`@pulumi/pulumi\` ${lock.packages["node_modules/@pulumi/pulumi"].version?.replace(/\.\d+$/, "")} declares Node \`${pkg.engines.node}\``,
  );
  // install-scripts: every dependency with an install script is approved by name, and named in the README.
  const withScripts = Object.entries(lock.packages)
    .filter(([, p]) => p.hasInstallScript)
    .map(([at]) => at.slice(at.lastIndexOf("node_modules/") + "node_modules/".length));
  expect(withScripts.length).toBeGreaterThan(0);
  for (const name of withScripts) {
    expect(pkg.allowScripts?.[name]).toBe(true);
    expect(README).toContain(`\`${name}\``);
  }
  expect(Object.keys(pkg.allowScripts ?? {}).sort()).toEqual([...new Set(withScripts)].sort());
});
