/** The README is the front door: it must stay true as the config grows. */
import * as fs from "fs";
import * as path from "path";
import { configKeyDocs } from "../config";

const README = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
const LINES = README.split("\n");

/** Keys as the README documents them: requests/limits and storage fields are documented per section. */
function documentedForm(key: string): string {
  return key
    .replace(/\.resources\..*$/, ".resources")
    .replace(/\.storage\..*$/, ".storage")
    .replace(/\[\]$/, "");
}

function isDocumented(key: string): boolean {
  if (README.includes(`\`${key}\``) || README.includes(`\`${key}[]\``)) return true;
  const cut = key.lastIndexOf(".");
  if (cut < 0) return false;
  const parent = key.slice(0, cut);
  const leaf = key.slice(cut + 1);
  // A row that names the parent and the leaf, e.g. `apps[].metrics.statusLabel` / `methodLabel`.
  return LINES.some((line) => line.includes(`\`${parent}`) && new RegExp(`[\`.(]${leaf}\\b`).test(line));
}

test("every config key is documented in the README", () => {
  const keys = [...new Set(configKeyDocs().map((d) => documentedForm(d.key)))];
  expect(keys.length).toBeGreaterThan(50);
  expect(keys.filter((k) => !isDocumented(k))).toEqual([]);
});

test("every secret key is listed with its pulumi config set command", () => {
  for (const { key } of configKeyDocs().filter((d) => d.secret)) {
    expect(README).toMatch(new RegExp(`pulumi config set --secret (--path ')?${key}`));
  }
});

test("the README's two commands are the ones the project defines", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { scripts: Record<string, string> };
  expect(README).toContain("npm ci && npm run render -- --stack staging");
  expect(README).toContain("npm test");
  expect(pkg.scripts.render).toContain("scripts/render.ts");
  expect(pkg.scripts.test).toBe("npm run tools -- --tier offline --check && npm run typecheck && npm run lint && jest");
  expect(fs.readFileSync(path.join(__dirname, "..", ".ci", "test-offline"), "utf8")).toMatch(/^npm test( --.*)?$/m);
});
