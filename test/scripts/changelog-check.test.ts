/**
 * npm run changelog:check: a change to components/images.ts or a tool's pin without a new line
 * under CHANGELOG.md's Unreleased Upgrading fails, naming the file; with one, or without such a
 * change, it passes. In a git repository of its own, a branch off its main.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { checkChangelog, isPin, runChangelogCheck } from "../../lab/changelog";
import { ROOT } from "../../cli/stackfile";
import { tempDirs } from "../support/temp";

const tempDir = tempDirs("changelog-check");

const CHANGELOG = [
  "# Changelog",
  "",
  "## [Unreleased]",
  "",
  "### Added",
  "",
  "- something",
  "",
  "### Upgrading",
  "",
  "- Nothing to migrate.",
  "",
  "## [0.1.0] - 2026-11-23",
  "",
  "### Upgrading",
  "",
  "- First.",
  "",
].join("\n");

function git(dir: string, ...args: string[]): string {
  const r = spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", ...args], {
    cwd: dir,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** A repository whose main holds a changelog, the images and a tool's go.mod, on a branch `change` off main. */
function repo(): { dir: string; write: (file: string, text: string) => void; commit: () => void } {
  const dir = tempDir();
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  };
  git(dir, "init", "-q", "-b", "main");
  write("CHANGELOG.md", CHANGELOG);
  write("components/images.ts", 'export const images = { prometheus: "quay.io/prometheus/prometheus:v3.13.5" };\n');
  write("tools/prometheus/go.mod", "module x\n\nrequire github.com/prometheus/prometheus v0.313.5\n");
  write("README.md", "readme\n");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "base");
  git(dir, "checkout", "-q", "-b", "change");
  return { dir, write, commit: () => (git(dir, "add", "-A"), git(dir, "commit", "-q", "-m", "change")) };
}

const bump = (r: ReturnType<typeof repo>) =>
  r.write("components/images.ts", 'export const images = { prometheus: "quay.io/prometheus/prometheus:v3.13.6" };\n');
const withLine = (part: string, line: string) => CHANGELOG.replace(`### ${part}\n\n`, `### ${part}\n\n${line}\n`);

test("an image bumped without a changelog line fails, naming the file; committed or not", () => {
  const r = repo();
  bump(r);
  const uncommitted = checkChangelog(r.dir, "main");
  expect(uncommitted.ok).toBe(false);
  expect(uncommitted.message).toMatch(
    /^components\/images\.ts changed since main \(merge base [0-9a-f]{7}\) without a line in CHANGELOG\.md's/,
  );
  r.commit();
  expect(checkChangelog(r.dir, "main").ok).toBe(false);
});

test("a tool's go.mod moved with a line under Unreleased's Added, not Upgrading: fails", () => {
  const r = repo();
  r.write("tools/prometheus/go.mod", "module x\n\nrequire github.com/prometheus/prometheus v0.313.6\n");
  r.write("CHANGELOG.md", withLine("Added", "- Prometheus v3.13.6."));
  r.commit();
  const result = checkChangelog(r.dir, "main");
  expect(result).toEqual({ ok: false, message: expect.stringMatching(/^tools\/prometheus\/go\.mod changed since main/) });
});

test("the bump with its Upgrading line passes; a change that touches no pin passes without one", () => {
  const r = repo();
  bump(r);
  r.write("CHANGELOG.md", withLine("Upgrading", "- Prometheus v3.13.5 to v3.13.6: a rollout of its pods, the TSDB kept."));
  r.commit();
  expect(checkChangelog(r.dir, "main")).toEqual({ ok: true, message: expect.stringContaining("CHANGELOG.md says so under Unreleased") });
  const other = repo();
  other.write("README.md", "another readme\n");
  other.commit();
  expect(checkChangelog(other.dir, "main").ok).toBe(true);
});

test("main moving on after the branch: compared with the merge base, not main's tip", () => {
  const r = repo();
  git(r.dir, "checkout", "-q", "main");
  r.write("CHANGELOG.md", withLine("Upgrading", "- A line main added."));
  git(r.dir, "commit", "-q", "-am", "main moves");
  git(r.dir, "checkout", "-q", "change");
  bump(r);
  r.write("CHANGELOG.md", withLine("Upgrading", "- Prometheus v3.13.6."));
  r.commit();
  expect(checkChangelog(r.dir, "main").ok).toBe(true);
});

test("the command: --base required, exit 1 on a failure, and a base that is not there is named", () => {
  const r = repo();
  bump(r);
  const lines: string[] = [];
  expect(runChangelogCheck([], r.dir, (l) => lines.push(l))).toBe(2);
  expect(runChangelogCheck(["--base", "main"], r.dir, (l) => lines.push(l))).toBe(1);
  expect(lines[lines.length - 1]).toMatch(/^changelog: components\/images\.ts changed/);
  expect(runChangelogCheck(["--base", "origin/nothing"], r.dir, (l) => lines.push(l))).toBe(1);
  expect(lines[lines.length - 1]).toMatch(/no merge base of origin\/nothing and HEAD/);
});

test("which files are pins", () => {
  expect(["components/images.ts", "tools/alloy/go.mod", "tools/traefik/requirements.txt"].every(isPin)).toBe(true);
  expect(["tools/alloy/go.sum", "tools/dex/jmespath/main.go", "components/stack/index.ts", "tools/a/b/go.mod"].some(isPin)).toBe(false);
});

test("npm run changelog:check runs in this repository", () => {
  const r = spawnSync("npm", ["run", "--silent", "changelog:check", "--", "--base", "HEAD"], { cwd: ROOT, encoding: "utf8" });
  // HEAD is its own merge base: what it compares is the working tree, which passes unless a pin is being changed.
  expect(r.stdout).toMatch(/^changelog: .* since HEAD \(merge base [0-9a-f]{7}\)/);
  expect(r.status).toBe(r.stdout.includes("without a line") ? 1 : 0);
});
