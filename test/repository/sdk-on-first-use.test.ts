/**
 * test/sdk-on-first-use.js: in an offline test file, the Pulumi SDK's closure-serialization modules
 * (cli/on-first-use.js) are stand-ins that load the real module when first used, and they still work when
 * used; the stand-in answers every requirer of the file's registry, and the SDK is the only one.
 */
import * as fs from "fs";
import * as path from "path";
import { types } from "util";
import * as pulumi from "@pulumi/pulumi";
import "@pulumi/kubernetes";
import { computeCodePaths } from "@pulumi/pulumi/runtime/closure/codePaths";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the list is a CommonJS module shared with cli/fast-start.js
const { ON_FIRST_USE } = require("../../cli/on-first-use") as { ON_FIRST_USE: Array<{ request: string; from: string }> };

const ROOT = path.join(__dirname, "..", "..");

test("with the SDK loaded, each module it requires for closures is a stand-in", () => {
  expect(ON_FIRST_USE.map((m) => m.request)).toEqual(["typescript", "@npmcli/arborist", "normalize-package-data"]);
  // The SDK's TypeScript shim exports the stand-in its require was given.
  expect(types.isProxy(jest.requireActual("@pulumi/pulumi/typescript-shim"))).toBe(true);
  // What the file's registry gives any requirer.
  for (const { request } of ON_FIRST_USE)
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- asked by name, as the SDK asks
    expect([request, types.isProxy(require(request))]).toEqual([request, true]);
});

test("used, they work: a closure serializes (TypeScript parses it) and a package's code paths resolve (arborist)", async () => {
  const closure = await pulumi.runtime.serializeFunction(() => 42);
  expect(closure.text).toContain("42");
  const paths = await computeCodePaths({ extraIncludePackages: ["yaml"] });
  expect([...paths.keys()].some((p) => p.includes(`${path.sep}yaml`))).toBe(true);
});

test("the offline tier's projects load it; no file of ours requires those modules, which only the SDK does", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the config is a CommonJS module jest itself requires
  const offline = require("../../jest.config.js") as { projects: Array<{ displayName: string; setupFilesAfterEnv?: string[] }> };
  for (const project of offline.projects)
    expect([project.displayName, project.setupFilesAfterEnv]).toEqual([
      project.displayName,
      expect.arrayContaining(["<rootDir>/test/sdk-on-first-use.js"]),
    ]);
  // Every .ts and .js file of the checkout a test can load (not cli/fast-start.js, Node's loader for npm run render,
  // which transpiles with TypeScript outside jest).
  const ours = (dir: string): string[] =>
    fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = path.posix.join(dir, e.name);
      if (e.isDirectory()) return ["node_modules", ".git", ".tools", "out", ".lab", ".cluster"].includes(e.name) ? [] : ours(rel);
      return /\.(ts|js)$/.test(e.name) && rel !== "cli/fast-start.js" ? [rel] : [];
    });
  const requests = ON_FIRST_USE.map((m) => m.request.replace(/[/.]/g, "\\$&")).join("|");
  const requiring = new RegExp(`(?:from\\s+|require\\(\\s*|import\\(\\s*)["'](?:${requests})["']`);
  expect(ours(".").filter((f) => requiring.test(fs.readFileSync(path.join(ROOT, f), "utf8")))).toEqual([]);
});
