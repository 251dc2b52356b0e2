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

test("every component's problems() is collected by config/checks/, into the one list", () => {
  const checks = fs
    .readdirSync(path.join(ROOT, "config", "checks"))
    .filter((f) => f.endsWith(".ts"))
    .map((f) => fs.readFileSync(path.join(ROOT, "config", "checks", f), "utf8"))
    .join("\n");
  const owners = componentFiles
    .filter(({ text }) => /^export function problems\(/m.test(text))
    .map(({ file }) => file.replace(/\.ts$/, ""));
  expect(owners.length).toBeGreaterThan(0);
  // Imported as `problems as <alias>` from the component's module, and the alias called.
  const collected = (module: string) => {
    const alias = new RegExp(`import \\{[^}]*\\bproblems as (\\w+)[^}]*\\} from "\\.\\./\\.\\./${module}";`).exec(checks)?.[1];
    return alias !== undefined && checks.includes(`${alias}(`);
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
