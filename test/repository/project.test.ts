/**
 * Pulumi.yaml's `config:` block, checked the way the Pulumi CLI checks it before the
 * program runs (`ValidateStackConfigAndApplyProjectConfig`): a declared key without a
 * default is required by every stack, a declared default lands in the stack's config,
 * and a typed key's stack value must have that type. The offline render applies the
 * same rules (cli/project-config.ts), so it runs what `pulumi up` would run.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { parseStackConfig } from "../../config";
import {
  ProjectFile,
  applyProjectConfig,
  fullKey,
  namespacedByProject,
  projectConfigProblems,
  readProjectFile,
  validateConfigValue,
} from "../../cli/project-config";
import { ROOT, readStackConfig } from "../../cli/stackfile";

const STACKS = ["staging", "production"] as const;
const PROJECT = readProjectFile(ROOT);

/** A stack file's config as YAML holds it (secure values left as { secure }). */
function stackFileValues(stack: string): Record<string, unknown> {
  const doc = YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> };
  return doc.config ?? {};
}

/** How the CLI holds a stack value for its type check: scalars as strings. */
const held = (v: unknown) => (typeof v === "object" && v !== null ? v : typeof v === "string" ? v : JSON.stringify(v));

const tempDirs: string[] = [];
function projectDir(pulumiYaml: string, stacks: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "project-"));
  tempDirs.push(dir);
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), pulumiYaml);
  for (const [name, text] of Object.entries(stacks)) fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), text);
  return dir;
}
afterAll(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

describe("the project's config declarations, as the Pulumi CLI reads them", () => {
  test("Pulumi.yaml passes the checks the CLI makes when it loads a project", () => {
    expect(PROJECT.name).toBe("monitoring");
    expect(projectConfigProblems(PROJECT)).toEqual([]);
  });

  test.each(STACKS)("every declared key without a default is set by the %s stack file", (stack) => {
    const values = stackFileValues(stack);
    const required = Object.entries(PROJECT.config)
      .filter(([key, d]) => namespacedByProject(PROJECT.name, key) && d.default === undefined && d.value === undefined)
      .map(([key]) => fullKey(PROJECT.name, key));
    expect(required.filter((key) => !(key in values))).toEqual([]);
  });

  test.each(STACKS)("every typed key the %s stack file sets has the declared type", (stack) => {
    const values = stackFileValues(stack);
    const wrong = Object.entries(PROJECT.config)
      .filter(([key, d]) => d.type !== undefined && fullKey(PROJECT.name, key) in values)
      .filter(([key, d]) => !validateConfigValue(d.type as string, d.items, held(values[fullKey(PROJECT.name, key)])))
      .map(([key]) => key);
    expect(wrong).toEqual([]);
  });

  test.each(STACKS)("every declared default is accepted by the config parser, in place of the %s stack's own value", (stack) => {
    const input = readStackConfig(stack);
    for (const [key, decl] of Object.entries(PROJECT.config)) {
      const fallback = decl.default ?? decl.value;
      if (fallback === undefined || !namespacedByProject(PROJECT.name, key)) continue;
      const full = fullKey(PROJECT.name, key);
      const without = Object.fromEntries(Object.entries(input.config).filter(([k]) => k !== full));
      const applied = applyProjectConfig(PROJECT, stack, without, new Set(input.secretKeys));
      expect(applied.error).toBeUndefined();
      const values = Object.fromEntries(Object.entries(applied.values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
      const { config } = parseStackConfig({ project: PROJECT.name, stack, values, secretKeys: input.secretKeys });
      expect((config as unknown as Record<string, unknown>)[key.replace(/^[^:]+:/, "")]).toEqual(fallback);
    }
  });

  test("the project declares no key: every default depends on the stack, and the program owns it", () => {
    // A declared default would land in every stack's config, and two stacks would share a namespace.
    expect(Object.keys(PROJECT.config).filter((key) => namespacedByProject(PROJECT.name, key))).toEqual([]);
    const root = projectDir(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"), {
      demo: "config:\n  monitoring:profile: staging\n",
    });
    expect(readStackConfig("demo", [], root).config["monitoring:namespace"]).toBeUndefined();
  });

  test("a declared default reaches the program when the stack file leaves the key out", () => {
    const root = projectDir("name: monitoring\nruntime: nodejs\nconfig:\n  namespace:\n    type: string\n    default: monitoring\n", {
      demo: "config:\n  monitoring:profile: staging\n",
    });
    expect(readStackConfig("demo", [], root).config["monitoring:namespace"]).toBe("monitoring");
    // A stack value wins over the default.
    expect(readStackConfig("demo", ["namespace=observability"], root).config["monitoring:namespace"]).toBe("observability");
  });

  test("the declarations this project used to have stop both stacks before the program runs", () => {
    const old: ProjectFile = {
      name: "monitoring",
      config: {
        profile: { type: "string" },
        environment: { type: "string" },
        namespace: { type: "string", default: "monitoring" },
        domain: { type: "string" },
        storageClass: { type: "string" },
        protectVolumes: { type: "boolean" },
      },
    };
    const stagingValues = stackFileValues("staging");
    expect(applyProjectConfig(old, "staging", stagingValues, new Set()).error).toBe(
      "Stack 'staging' is missing configuration value 'protectVolumes'",
    );
    expect(applyProjectConfig(old, "demo", {}, new Set()).error).toBe(
      "Stack 'demo' is missing configuration values 'domain', 'environment', 'profile', 'protectVolumes' and 'storageClass'",
    );
  });
});

describe("the CLI's rules, as the offline render applies them", () => {
  const project = (config: ProjectFile["config"]): ProjectFile => ({ name: "monitoring", config });

  test("a required key missing from the stack is reported with the CLI's words, and the render stops", () => {
    const decl = project({ domain: { type: "string" }, storageClass: { type: "string" } });
    expect(applyProjectConfig(decl, "staging", {}, new Set()).error).toBe(
      "Stack 'staging' is missing configuration values 'domain' and 'storageClass'",
    );
    const root = projectDir("name: monitoring\nruntime: nodejs\nconfig:\n  domain:\n    type: string\n", { demo: "config: {}\n" });
    expect(() => readStackConfig("demo", [], root)).toThrow("Stack 'demo' is missing configuration value 'domain'");
  });

  test("a value of the wrong type is refused: a boolean takes true or false only; any scalar is a string", () => {
    const decl = project({ protectVolumes: { type: "boolean" }, namespace: { type: "string" }, replicas: { type: "integer" } });
    const check = (values: Record<string, unknown>) =>
      applyProjectConfig(decl, "production", { "monitoring:replicas": 2, ...values }, new Set()).error;
    expect(check({ "monitoring:protectVolumes": true, "monitoring:namespace": "monitoring" })).toBeUndefined();
    expect(check({ "monitoring:protectVolumes": "false", "monitoring:namespace": 42 })).toBeUndefined();
    expect(check({ "monitoring:protectVolumes": "yes", "monitoring:namespace": "monitoring" })).toBe(
      "Stack 'production' with configuration key 'protectVolumes' must be of type 'boolean'",
    );
    expect(check({ "monitoring:protectVolumes": true, "monitoring:namespace": ["a"] })).toBe(
      "Stack 'production' with configuration key 'namespace' must be of type 'string'",
    );
    expect(check({ "monitoring:protectVolumes": true, "monitoring:namespace": "x", "monitoring:replicas": "two" })).toBe(
      "Stack 'production' with configuration key 'replicas' must be of type 'integer'",
    );
  });

  test("defaults and values fill the gaps; the shorthand `key: value` is a default for project keys, a value for others", () => {
    const root = projectDir("name: monitoring\nruntime: nodejs\nconfig:\n  namespace: observability\n  kubernetes:context: lab\n", {
      demo: "config:\n  monitoring:profile: staging\n",
    });
    const file = readProjectFile(root);
    expect(file.config).toEqual({ namespace: { default: "observability" }, "kubernetes:context": { value: "lab" } });
    expect(readStackConfig("demo", [], root).config).toEqual({
      "monitoring:profile": "staging",
      "monitoring:namespace": "observability",
      "kubernetes:context": "lab",
    });
  });

  test("declarations the CLI refuses when it loads the project are refused", () => {
    expect(
      projectConfigProblems(
        project({
          a: { type: "boolean", default: "yes" },
          b: { type: "array" },
          "kubernetes:context": { type: "string", value: "x" },
          "kubernetes:namespace": { default: "x" },
          c: { default: 1, value: 2 },
        }),
      ),
    ).toEqual([
      "The default value specified for configuration key 'a' is not of the expected type 'boolean'",
      "The configuration key 'b' declares an array but does not specify the underlying type via the 'items' attribute",
      "Configuration key 'kubernetes:context' is not namespaced by the project and should not define a type",
      "Configuration key 'kubernetes:namespace' is not namespaced by the project and should not define a default value",
      "project config 'c' cannot have both a 'default' and 'value' attribute",
    ]);
  });

  test("a key declared secret must be set with --secret", () => {
    const decl = project({ token: { type: "string", secret: true } });
    expect(applyProjectConfig(decl, "staging", { "monitoring:token": "x" }, new Set()).error).toBe(
      "Stack 'staging' with configuration key 'token' must be encrypted as it's secret",
    );
    expect(applyProjectConfig(decl, "staging", { "monitoring:token": "x" }, new Set(["monitoring:token"])).error).toBeUndefined();
  });

  test("lists are checked item by item", () => {
    const items = { type: "array", items: { type: "string" } };
    expect(validateConfigValue("array", items.items, ["a", "b"])).toBe(true);
    expect(validateConfigValue("array", items.items, ["a", { b: 1 }])).toBe(false);
    expect(validateConfigValue("array", undefined, ["a"])).toBe(false);
    expect(validateConfigValue("object", undefined, { a: 1 })).toBe(true);
    expect(validateConfigValue("object", undefined, "a")).toBe(false);
  });
});
