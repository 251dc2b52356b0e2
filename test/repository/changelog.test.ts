/**
 * CHANGELOG.md: Unreleased first, then every release newest first, each with its date, the
 * commit it was cut at (a commit of this repository's history, each release's an ancestor of the
 * next one's and of HEAD) and an Upgrading part; package.json's version is the newest release.
 * Needs the repository's history (CI's checkout fetches it whole: fetch-depth 0).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ChangelogSection, parseChangelog } from "../../lab/changelog";
import { ROOT } from "../../cli/stackfile";

const sections = parseChangelog(fs.readFileSync(path.join(ROOT, "CHANGELOG.md"), "utf8"));
const releases = sections.filter((s) => s.name !== "Unreleased");
const git = (...args: string[]) => spawnSync("git", args, { cwd: ROOT, encoding: "utf8" });
const semver = (v: string) => v.split(".").map(Number);

/** What is wrong with the releases, one line each. */
function problems(list: readonly ChangelogSection[]): string[] {
  const bad: string[] = [];
  for (const r of list) {
    if (!/^\d+\.\d+\.\d+$/.test(r.name)) bad.push(`${r.name}: not a version x.y.z`);
    if (!r.date) bad.push(`${r.name}: no date (## [x.y.z] - YYYY-MM-DD)`);
    if ((r.parts.get("Upgrading") ?? []).length === 0) bad.push(`${r.name}: no "### Upgrading" part, or an empty one`);
    if (!r.commit) bad.push(`${r.name}: no "Commit: <40 hex digits>" line`);
    else if (git("cat-file", "-e", `${r.commit}^{commit}`).status !== 0) bad.push(`${r.name}: commit ${r.commit} is not in the history`);
    else if (git("merge-base", "--is-ancestor", r.commit, "HEAD").status !== 0)
      bad.push(`${r.name}: commit ${r.commit} is not an ancestor of HEAD`);
  }
  list.forEach((r, i) => {
    const older = list[i + 1];
    if (!older) return;
    const [a, b] = [semver(r.name), semver(older.name)];
    const newer = a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
    if (!(newer > 0)) bad.push(`${r.name} is listed above ${older.name} but is not newer`);
    if (r.commit && older.commit && git("merge-base", "--is-ancestor", older.commit, r.commit).status !== 0) {
      bad.push(`${older.name}'s commit is not an ancestor of ${r.name}'s`);
    }
  });
  return bad;
}

test("Unreleased first, with its Upgrading part", () => {
  expect(sections[0]?.name).toBe("Unreleased");
  expect((sections[0].parts.get("Upgrading") ?? []).length).toBeGreaterThan(0);
});

test("every release: a version, a date, an Upgrading part, and a commit of the history in order", () => {
  expect(releases.map((r) => r.name)).toEqual(expect.arrayContaining(["0.1.0", "0.2.0"]));
  expect(problems(releases)).toEqual([]);
});

test("package.json's version is the newest release", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
  expect(pkg.version).toBe(releases[0].name);
});

test("the check finds each kind of broken release", () => {
  const [newest, older] = releases;
  const upgrading = new Map(newest.parts);
  upgrading.delete("Upgrading");
  expect(problems([{ ...newest, parts: upgrading }, older])).toEqual([`${newest.name}: no "### Upgrading" part, or an empty one`]);
  expect(problems([{ ...newest, commit: "0".repeat(40) }, older])).toContain(
    `${newest.name}: commit ${"0".repeat(40)} is not in the history`,
  );
  expect(problems([{ ...newest, commit: undefined }, older])).toEqual([`${newest.name}: no "Commit: <40 hex digits>" line`]);
  expect(problems([older, newest])).toEqual(
    expect.arrayContaining([
      `${older.name} is listed above ${newest.name} but is not newer`,
      `${newest.name}'s commit is not an ancestor of ${older.name}'s`,
    ]),
  );
});
