/**
 * Renovate's configuration (renovate.json), checked offline against the real tables: its image
 * manager finds every image of components/images.ts, each image moves in one pull request with
 * the tool module built from the same release (lab/tools/tools.ts), the Pulumi npm packages
 * with their Go modules, and Prometheus stays on its long-term-support line. The packageRules
 * are applied here the way Renovate applies them, for the matchers this config uses: in order,
 * a rule applies when all of its matchers match, and a later rule wins. `npm run check:renovate`
 * runs Renovate's own validator over the same file.
 */
import * as fs from "fs";
import * as path from "path";
import { ImageName, images, imageVersion } from "../../components/images";
import { GO_TOOLS, ROOT, STACK_TOOLS, TOOLS, goModRequire, imageRelease } from "../../lab/tools/tools";
import type { Tool } from "../../lab/tools/tool";
import { DATABASE_KINDS } from "../../components/database-exporters/kinds";
import { DATABASE_TYPES } from "../../components/kit/database-exporters";
import { wheelPin } from "../../lab/tools/wheel-pin";

interface Rule {
  description?: string | string[];
  matchFileNames?: string[];
  matchPackageNames?: string[];
  matchManagers?: string[];
  matchCurrentValue?: string;
  enabled?: boolean;
  groupName?: string;
  allowedVersions?: string;
  prBodyNotes?: string[];
  [option: string]: unknown;
}
interface CustomManager {
  customType: string;
  description?: string | string[];
  managerFilePatterns: string[];
  matchStrings: string[];
  datasourceTemplate?: string;
  autoReplaceStringTemplate?: string;
}
interface Config {
  customManagers: CustomManager[];
  packageRules: Rule[];
}

const CONFIG = JSON.parse(fs.readFileSync(path.join(ROOT, "renovate.json"), "utf8")) as Config;
const IMAGES_FILE = "components/images.ts";
const MANIFEST = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};

/** A dependency as Renovate sees it: its name, the file it is pinned in, the manager that found it. */
interface Dep {
  name: string;
  file: string;
  manager: "npm" | "gomod" | "pip_requirements" | "custom.regex" | "github-actions";
  currentValue: string;
}
interface Resolved {
  enabled: boolean;
  groupName?: string;
  allowedVersions?: string;
  pinDigests?: boolean;
  prBodyNotes: string[];
}

/** Renovate's string patterns: `/regex/` (flags after the last slash), a glob, or the exact string. */
function pattern(p: string): (s: string) => boolean {
  const regex = /^\/(.+)\/([a-z]*)$/.exec(p);
  if (regex) return (s) => new RegExp(regex[1], regex[2]).test(s);
  if (/[*?]/.test(p)) {
    const source = p
      .split(/(\*\*|\*|\?)/)
      .map((part) => (part === "**" ? ".*" : part === "*" ? "[^/]*" : part === "?" ? "[^/]" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
      .join("");
    return (s) => new RegExp(`^${source}$`).test(s);
  }
  return (s) => s === p;
}
const anyOf = (patterns: string[], s: string) => patterns.some((p) => pattern(p)(s));

const MATCHERS: Record<string, (rule: Rule, dep: Dep) => boolean> = {
  matchFileNames: (rule, dep) => anyOf(rule.matchFileNames ?? [], dep.file),
  matchPackageNames: (rule, dep) => anyOf(rule.matchPackageNames ?? [], dep.name),
  matchManagers: (rule, dep) => anyOf(rule.matchManagers ?? [], dep.manager),
  matchCurrentValue: (rule, dep) => pattern(rule.matchCurrentValue ?? "")(dep.currentValue),
};

/** The options Renovate ends up with for a dependency after every packageRule. */
function resolve(dep: Dep): Resolved {
  const out: Resolved = { enabled: true, prBodyNotes: [] };
  for (const rule of CONFIG.packageRules) {
    const matchers = Object.keys(rule).filter((k) => k.startsWith("match"));
    for (const m of matchers) if (!MATCHERS[m]) throw new Error(`test/repository/renovate.test.ts does not know Renovate's ${m} yet`);
    if (!matchers.every((m) => MATCHERS[m](rule, dep))) continue;
    if (rule.enabled !== undefined) out.enabled = rule.enabled;
    if (rule.groupName !== undefined) out.groupName = rule.groupName;
    if (rule.allowedVersions !== undefined) out.allowedVersions = rule.allowedVersions;
    if (typeof rule.pinDigests === "boolean") out.pinDigests = rule.pinDigests;
    out.prBodyNotes.push(...(rule.prBodyNotes ?? []));
  }
  return out;
}

/** What the image manager finds in a text, each as the reference it read. */
const imageManager = CONFIG.customManagers.find((m) => m.customType === "regex" && anyOf(m.managerFilePatterns, IMAGES_FILE));
function findImages(text: string): Array<{ ref: string; depName: string; currentValue: string; currentDigest?: string }> {
  return (imageManager?.matchStrings ?? []).flatMap((s) =>
    [...text.matchAll(new RegExp(s, "g"))].map((m) => {
      const { depName, currentValue, currentDigest } = m.groups as Record<string, string | undefined>;
      const ref = `${depName}:${currentValue}${currentDigest ? `@${currentDigest}` : ""}`;
      return { ref, depName: depName as string, currentValue: currentValue as string, ...(currentDigest ? { currentDigest } : {}) };
    }),
  );
}

/** Renovate's handlebars, for what autoReplaceStringTemplate uses: {{{name}}} and {{#if name}}...{{/if}}. */
function renderTemplate(template: string, values: Record<string, string | undefined>): string {
  const known = (name: string) => {
    if (!["depName", "newValue", "newDigest", "currentValue", "currentDigest"].includes(name)) {
      throw new Error(`test/repository/renovate.test.ts does not know the template field ${name}`);
    }
    return values[name];
  };
  return template
    .replace(/\{\{#if (\w+)\}\}(.*?)\{\{\/if\}\}/g, (_m, name: string, body: string) => (known(name) ? body : ""))
    .replace(/\{\{\{(\w+)\}\}\}/g, (_m, name: string) => known(name) ?? "");
}
const IMAGES_TEXT = fs.readFileSync(path.join(ROOT, IMAGES_FILE), "utf8");
const FOUND = new Map(findImages(IMAGES_TEXT).map((i) => [i.ref, i]));

function imageDep(image: ImageName): Dep {
  const found = FOUND.get(images[image]);
  if (!found) throw new Error(`the image manager does not find ${images[image]}`);
  return { name: found.depName, file: IMAGES_FILE, manager: "custom.regex", currentValue: found.currentValue };
}
function moduleDep(tool: Tool, module = tool.upstream): Dep {
  return { name: module, file: `tools/${tool.module}/go.mod`, manager: "gomod", currentValue: goModRequire(tool.module, module) ?? "" };
}
const npmDep = (pkg: string): Dep => ({ name: pkg, file: "package.json", manager: "npm", currentValue: MANIFEST.dependencies[pkg] });
/** A Go pseudo-version (v0.0.0-20260814112252-733bfb939963): Renovate cannot tell which release commit it should move to. */
const isPseudoVersion = (v: string) => /-(?:[0-9a-z]+\.)*\d{14}-[0-9a-f]{12}$/.test(v);

/** The versions of the line a pin is on: the next patch must be allowed, the next minor and major not. */
function expectLine(allowedVersions: string | undefined, current: string) {
  expect(allowedVersions).toMatch(/^\/.+\/$/);
  const allowed = pattern(allowedVersions as string);
  const [, prefix, major, minor, patch] = /^(v?)(\d+)\.(\d+)\.(\d+)$/.exec(current) as RegExpExecArray;
  const version = (a: number, b: number, c: number) => `${prefix}${a}.${b}.${c}`;
  expect([current, version(+major, +minor, +patch + 1), version(+major, +minor, 99)].map(allowed)).toEqual([true, true, true]);
  expect([version(+major, +minor + 1, 0), version(+major + 1, 0, 0)].map(allowed)).toEqual([false, false]);
}

/** Each image and the tool (the first, where one image stands for several binaries) built from its release. */
const IMAGE_TOOLS = [...new Map(STACK_TOOLS.filter((t) => t.image).map((t) => [t.image as ImageName, t])).entries()];

describe("Renovate", () => {
  test("the image manager finds every image of components/images.ts and nothing else", () => {
    expect(imageManager?.datasourceTemplate).toBe("docker");
    expect([...FOUND.keys()].sort()).toEqual(Object.values(images).sort());
  });

  test.each(IMAGE_TOOLS)("%s: the image and its tool module move in one pull request", (image, tool) => {
    const img = resolve(imageDep(image));
    const mod = resolve(moduleDep(tool));
    expect(img.enabled).toBe(true);
    expect(img.groupName).toBeDefined();
    expect(mod.groupName).toBe(img.groupName);
    if (isPseudoVersion(moduleDep(tool).currentValue)) {
      // Pinned by the pseudo-version of a release commit: Renovate would move it to the default branch's head.
      expect(mod.enabled).toBe(false);
      expect(img.prBodyNotes.join("\n")).toContain(tool.upstream);
    } else {
      expect(mod.enabled).toBe(true);
    }
  });

  test.each(DATABASE_TYPES.map((type) => [type] as const))(
    "database kind %s: its exporter's image and upstream module (DATABASE_KINDS) are a tool, a go.mod at the image's release and one group",
    (type) => {
      const kind = DATABASE_KINDS[type];
      const tool = TOOLS.find((t) => t.binary === kind.upstream.binary);
      expect(tool).toMatchObject({ upstream: kind.upstream.module, pkg: kind.upstream.pkg, image: kind.image });
      expect(goModRequire((tool as Tool).module, kind.upstream.module)).toBe(imageRelease(kind.image));
      const group = resolve(imageDep(kind.image)).groupName;
      expect(group).toBeDefined();
      expect(resolve(moduleDep(tool as Tool)).groupName).toBe(group);
    },
  );

  test("every image and every GitHub Action is pinned by digest", () => {
    const unpinned = Object.keys(images).filter((image) => resolve(imageDep(image as ImageName)).pinDigests !== true);
    expect(unpinned).toEqual([]);
    const action: Dep = { name: "actions/checkout", file: ".github/workflows/ci.yml", manager: "github-actions", currentValue: "v4.4.0" };
    expect(resolve(action).pinDigests).toBe(true);
    // The npm packages and Go modules have lock files and checksums of their own.
    expect(resolve(npmDep("@pulumi/pulumi")).pinDigests).toBeUndefined();
  });

  test("the image manager reads a reference pinned by digest, and writes one back that it reads the same", () => {
    const digest = `sha256:${"0123456789abcdef".repeat(4)}`;
    const [found] = findImages(`  grafana: "docker.io/grafana/grafana:13.2.0@${digest}",\n`);
    expect(found).toEqual({
      ref: `docker.io/grafana/grafana:13.2.0@${digest}`,
      depName: "docker.io/grafana/grafana",
      currentValue: "13.2.0",
      currentDigest: digest,
    });
    // Renovate replaces the whole match with the template: first pin (no digest yet), then a bump.
    const template = imageManager?.autoReplaceStringTemplate as string;
    expect(template).toEqual(expect.any(String));
    const pinned = renderTemplate(template, { depName: "docker.io/grafana/grafana", newValue: "13.2.0", newDigest: digest });
    expect(pinned).toBe(`"docker.io/grafana/grafana:13.2.0@${digest}"`);
    expect(findImages(`  grafana: ${pinned},`)).toEqual([found]);
    const plain = renderTemplate(template, { depName: "docker.io/grafana/grafana", newValue: "13.2.1" });
    expect(findImages(`  grafana: ${plain},`)).toEqual([
      { ref: "docker.io/grafana/grafana:13.2.1", depName: "docker.io/grafana/grafana", currentValue: "13.2.1" },
    ]);
  });

  test("every image has a group of its own", () => {
    const groups = Object.keys(images).map((image) => ({ image, groupName: resolve(imageDep(image as ImageName)).groupName }));
    expect(groups.filter((g) => g.groupName === undefined)).toEqual([]);
    expect(new Set(groups.map((g) => g.groupName)).size).toBe(groups.length);
  });

  test("a new image that no rule names gets no group (the check above can fail)", () => {
    const [found] = findImages('  newExporter: "quay.io/example/new-exporter:v1.0.0",\n');
    expect(found).toEqual({ ref: "quay.io/example/new-exporter:v1.0.0", depName: "quay.io/example/new-exporter", currentValue: "v1.0.0" });
    const dep: Dep = { name: found.depName, file: IMAGES_FILE, manager: "custom.regex", currentValue: found.currentValue };
    expect(resolve(dep).groupName).toBeUndefined();
  });

  test.each(GO_TOOLS.map((t) => [t.binary, t] as const))(
    "%s: its upstream module has a group, and no other module of its go.mod moves",
    (_binary, tool) => {
      const own = resolve(moduleDep(tool));
      expect(own.groupName).toBeDefined();
      expect(own.enabled).toBe(!isPseudoVersion(moduleDep(tool).currentValue));
      // The go directive and the upstream modules of other tools in this go.mod stay with go mod tidy (but the upstream of
      // another tool built from this same go.mod, such as tools/dex's JMESPath library, which has a rule of its own).
      expect(resolve({ name: "go", file: `tools/${tool.module}/go.mod`, manager: "gomod", currentValue: "1.26" }).enabled).toBe(false);
      const others = GO_TOOLS.filter((t) => t.module !== tool.module).map((t) => t.upstream);
      for (const other of new Set(others.filter((u) => u !== tool.upstream))) {
        const version = goModRequire(tool.module, other);
        if (version) expect({ other, enabled: resolve(moduleDep(tool, other)).enabled }).toEqual({ other, enabled: false });
      }
    },
  );

  test.each(TOOLS.filter((t) => t.npmPackage).map((t) => [t.npmPackage as string, t] as const))(
    "%s moves with the Go modules of its release",
    (pkg, tool) => {
      const npm = resolve(npmDep(pkg));
      const mod = resolve(moduleDep(tool));
      expect(npm.enabled).toBe(true);
      expect(npm.groupName).toBeDefined();
      expect(mod.groupName).toBe(npm.groupName);
      if (isPseudoVersion(moduleDep(tool).currentValue)) {
        expect(mod.enabled).toBe(false);
        expect(npm.prBodyNotes.join("\n")).toContain(tool.upstream);
      } else {
        expect(mod.enabled).toBe(true);
      }
      // Other modules of the same repository pinned at the same release (pulumi's sdk/v3) join the group.
      const gomod = fs.readFileSync(path.join(ROOT, "tools", tool.module, "go.mod"), "utf8");
      const repo = tool.upstream.split("/").slice(0, 3).join("/");
      const pin = moduleDep(tool).currentValue;
      const siblings = [...gomod.matchAll(/^\s*(\S+)\s+(v\S+)/gm)].filter(
        ([, m, v]) => m !== tool.upstream && m.startsWith(`${repo}/`) && v === pin,
      );
      for (const [, m] of siblings) {
        expect({ m, ...resolve(moduleDep(tool, m)) }).toMatchObject({ m, enabled: true, groupName: npm.groupName });
      }
    },
  );

  test.each(TOOLS.filter((t) => t.wheel).map((t) => [t.binary, t] as const))(
    "%s: its wheel's pin moves in a group of its own, on the line its version is on",
    (_binary, tool) => {
      const pin = wheelPin(tool.module, tool.wheel?.package ?? "");
      const dep: Dep = {
        name: pin.package,
        file: `tools/${tool.module}/requirements.txt`,
        manager: "pip_requirements",
        currentValue: pin.version,
      };
      const own = resolve(dep);
      expect(own).toMatchObject({ enabled: true, groupName: expect.any(String) });
      expectLine(own.allowedVersions, pin.version);
      // Its own file only: the same package pinned anywhere else is not this rule's.
      expect(resolve({ ...dep, file: "requirements.txt" }).groupName).toBeUndefined();
    },
  );

  test("the control plane's Kubernetes modules move together", () => {
    const tool = TOOLS.find((t) => t.upstream === "k8s.io/kubernetes") as Tool;
    const gomod = fs.readFileSync(path.join(ROOT, "tools", tool.module, "go.mod"), "utf8");
    const staging = [...gomod.matchAll(/^\s*(k8s\.io\/[a-z-]+) => k8s\.io\/[a-z-]+ (v\S+)$/gm)];
    expect(staging.length).toBeGreaterThan(20);
    const group = resolve(moduleDep(tool));
    expect(group).toMatchObject({ enabled: true, groupName: expect.any(String) });
    for (const [, module, version] of staging) {
      const dep: Dep = { name: module, file: `tools/${tool.module}/go.mod`, manager: "gomod", currentValue: version };
      expect({ module, ...resolve(dep) }).toMatchObject({ module, enabled: true, groupName: group.groupName });
    }
    // Placeholder requirements of k8s.io/kubernetes (v0.0.0) are not versions to bump.
    const placeholder: Dep = { name: "k8s.io/kubectl", file: `tools/${tool.module}/go.mod`, manager: "gomod", currentValue: "v0.0.0" };
    expect(resolve(placeholder).enabled).toBe(false);
  });

  test("Prometheus stays on its long-term-support line, image and module", () => {
    const tool = STACK_TOOLS.find((t) => t.image === "prometheus") as Tool;
    expect(imageVersion("prometheus")).toMatch(/^v3\.13\.\d+$/);
    expectLine(resolve(imageDep("prometheus")).allowedVersions, imageVersion("prometheus"));
    expectLine(resolve(moduleDep(tool)).allowedVersions, moduleDep(tool).currentValue);
    expect(moduleDep(tool).currentValue).toBe(tool.moduleVersion);
  });

  test("jest stays on its major and TypeScript on the line package.json asks for", () => {
    const jestMajor = Number(/\d+/.exec(MANIFEST.devDependencies.jest)?.[0]);
    expect(jestMajor).toBe(29);
    for (const pkg of ["jest", "jest-util", "ts-jest", "@types/jest"]) {
      expect({ pkg, allowed: resolve({ ...npmDep(pkg), currentValue: MANIFEST.devDependencies[pkg] }).allowedVersions }).toEqual({
        pkg,
        allowed: `<${jestMajor + 1}`,
      });
    }
    expect(resolve({ ...npmDep("typescript"), currentValue: MANIFEST.devDependencies.typescript }).allowedVersions).toBe(
      MANIFEST.devDependencies.typescript,
    );
  });

  test("every rule names things that exist and says why", () => {
    const gomodNames = [...new Set(GO_TOOLS.map((t) => t.module))].flatMap((m) =>
      [...fs.readFileSync(path.join(ROOT, "tools", m, "go.mod"), "utf8").matchAll(/^\s*(?:require\s+)?(\S+)\s+v\S+/gm)].map((x) => x[1]),
    );
    const wheelNames = TOOLS.filter((t) => t.wheel).map((t) => wheelPin(t.module, t.wheel?.package ?? "").package);
    const known = new Set([
      ...[...FOUND.values()].map((i) => i.depName),
      ...Object.keys(MANIFEST.dependencies),
      ...Object.keys(MANIFEST.devDependencies),
      ...gomodNames,
      ...wheelNames,
    ]);
    for (const rule of [...CONFIG.packageRules, ...CONFIG.customManagers]) expect(rule.description).toEqual(expect.any(String));
    for (const rule of CONFIG.packageRules) {
      for (const name of (rule.matchPackageNames ?? []).filter((n) => !/[*?]/.test(n) && !/^\/.+\/[a-z]*$/.test(n))) {
        expect({ name, known: known.has(name) }).toEqual({ name, known: true });
      }
      for (const file of (rule.matchFileNames ?? []).filter((f) => !f.includes("*"))) {
        expect({ file, exists: fs.existsSync(path.join(ROOT, file)) }).toEqual({ file, exists: true });
      }
    }
  });

  test("npm run check:renovate runs Renovate's validator, strictly, on this file", () => {
    expect(MANIFEST.scripts["check:renovate"]).toMatch(
      /^npx --yes --package renovate@\d+\.\d+\.\d+ renovate-config-validator --strict --no-global renovate\.json$/,
    );
  });
});

test("the Pulumi CLI the workflows install moves with the Pulumi engine: every pulumi-version line is found, in the engine's group", () => {
  const manager = CONFIG.customManagers.find((m) => anyOf(m.managerFilePatterns, ".github/workflows/preview.yml")) as
    (CustomManager & { depNameTemplate?: string }) | undefined;
  expect(manager?.depNameTemplate).toBe("@pulumi/pulumi");
  expect(manager?.datasourceTemplate).toBe("npm");
  const workflows = fs.readdirSync(path.join(ROOT, ".github", "workflows")).map((f) => `.github/workflows/${f}`);
  for (const file of workflows) {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    const lines = text.split("\n").filter((line) => /pulumi-version:/.test(line));
    const found = (manager?.matchStrings ?? []).flatMap((s) => [...text.matchAll(new RegExp(s, "g"))].map((m) => m.groups?.currentValue));
    expect({ file, found: found.length }).toEqual({ file, found: lines.length });
    for (const currentValue of found) {
      expect(currentValue).toBe(MANIFEST.dependencies["@pulumi/pulumi"]);
      const dep: Dep = { name: "@pulumi/pulumi", file, manager: "custom.regex", currentValue: currentValue as string };
      expect(resolve(dep)).toMatchObject({ enabled: true, groupName: "Pulumi engine" });
    }
  }
});
