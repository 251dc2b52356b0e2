/**
 * CHANGELOG.md as the program reads it: its releases (`## [x.y.z] - date`, each with the commit it
 * was cut at and its parts), and the check that a change to what the stack runs comes with its
 * line: a change to an image (`components/images.ts`) or to a tool's pin (`tools/<module>/go.mod`,
 * `tools/<module>/requirements.txt`) since the merge base must add a line to the Unreleased part's
 * Upgrading (`npm run changelog:check`, run by CI).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export const CHANGELOG = "CHANGELOG.md";

export interface ChangelogSection {
  /** `Unreleased`, or the version (`0.2.0`). */
  name: string;
  date?: string;
  /** The full commit of `Commit: <sha>`, when the section names one. */
  commit?: string;
  /** The lines of each `### <part>` (Added, Changed, Upgrading …), by part, as written. */
  parts: Map<string, string[]>;
}

/** The sections of a changelog, in the order written (Unreleased first, then the releases, newest first). */
export function parseChangelog(text: string): ChangelogSection[] {
  const sections: ChangelogSection[] = [];
  let part: string[] | undefined;
  for (const line of text.split("\n")) {
    const release = /^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?\s*$/.exec(line);
    if (release) {
      sections.push({ name: release[1], ...(release[2] ? { date: release[2] } : {}), parts: new Map() });
      part = undefined;
      continue;
    }
    const current = sections[sections.length - 1];
    if (!current) continue;
    const heading = /^### (.+?)\s*$/.exec(line);
    if (heading) {
      part = [];
      current.parts.set(heading[1], part);
      continue;
    }
    const commit = /^Commit: ([0-9a-f]{40})\b/.exec(line);
    if (commit && !part) current.commit = commit[1];
    else if (part && line.trim() !== "") part.push(line);
  }
  return sections;
}

/** The files whose change moves what the stack runs or what its tests build: the images and the tools' pins. */
export function isPin(file: string): boolean {
  return file === "components/images.ts" || /^tools\/[^/]+\/(go\.mod|requirements\.txt)$/.test(file);
}

function git(cwd: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync("git", args, { cwd, encoding: "utf8" });
  return { ok: r.status === 0, out: r.stdout ?? "", err: (r.stderr ?? "").trim() };
}

/** The Upgrading lines of the Unreleased section of a changelog's text (none when there is no such section or part). */
function unreleasedUpgrading(text: string): string[] {
  return (
    parseChangelog(text)
      .find((s) => s.name === "Unreleased")
      ?.parts.get("Upgrading") ?? []
  );
}

export interface ChangelogCheck {
  ok: boolean;
  /** What it compared and found, one line; when not ok, what is missing and how to mend it. */
  message: string;
}

/**
 * Whether the change from the merge base of `base` and HEAD to the working tree of `cwd` that
 * touches a pin (isPin) adds a line to CHANGELOG.md's Unreleased Upgrading part. A change that
 * touches none passes.
 */
export function checkChangelog(cwd: string, base: string): ChangelogCheck {
  const mergeBase = git(cwd, ["merge-base", base, "HEAD"]);
  if (!mergeBase.ok) {
    return { ok: false, message: `no merge base of ${base} and HEAD (${mergeBase.err || "git merge-base failed"}): is ${base} fetched?` };
  }
  const at = mergeBase.out.trim();
  const diff = git(cwd, ["diff", "--name-only", at, "--"]);
  const untracked = git(cwd, ["ls-files", "--others", "--exclude-standard"]);
  if (!diff.ok || !untracked.ok) return { ok: false, message: `git diff against ${at.slice(0, 7)} failed: ${diff.err || untracked.err}` };
  const changed = [...diff.out.split("\n"), ...untracked.out.split("\n")].filter((f) => f !== "");
  const pins = [...new Set(changed.filter(isPin))].sort();
  const since = `since ${base} (merge base ${at.slice(0, 7)})`;
  if (pins.length === 0) return { ok: true, message: `no image or tool pin changed ${since}` };
  const before = git(cwd, ["show", `${at}:${CHANGELOG}`]);
  const file = path.join(cwd, CHANGELOG);
  const now = fs.existsSync(file) ? unreleasedUpgrading(fs.readFileSync(file, "utf8")) : [];
  const earlier = new Set(before.ok ? unreleasedUpgrading(before.out) : []);
  const added = now.filter((line) => !earlier.has(line));
  if (added.length > 0) return { ok: true, message: `${pins.join(", ")} changed ${since}, and ${CHANGELOG} says so under Unreleased` };
  return {
    ok: false,
    message:
      `${pins.join(", ")} changed ${since} without a line in ${CHANGELOG}'s "## [Unreleased]" part "### Upgrading": ` +
      "add one saying what moved (the image or module, from and to) and what pulumi up does with it (a rollout, a replaced object, data to carry over)",
  };
}

export const CHANGELOG_CHECK_USAGE =
  "usage: npm run changelog:check -- --base <ref>\n" +
  "  Fails when components/images.ts or a tool's pin (tools/*/go.mod, tools/*/requirements.txt) changed since the merge base\n" +
  "  of <ref> and HEAD (the working tree included) without a new line in CHANGELOG.md under Unreleased, Upgrading.";

/** `npm run changelog:check`: the exit code (0 passes, 1 fails, 2 bad arguments). */
export function runChangelogCheck(argv: readonly string[], cwd: string, print: (line: string) => void): number {
  if (argv.includes("--help") || argv.includes("-h")) {
    print(CHANGELOG_CHECK_USAGE);
    return 0;
  }
  const i = argv.indexOf("--base");
  const base = i >= 0 ? argv[i + 1] : undefined;
  if (base === undefined || base.startsWith("--") || argv.length !== 2) {
    print(`--base <ref> is required\n${CHANGELOG_CHECK_USAGE}`);
    return 2;
  }
  const result = checkChangelog(cwd, base);
  print(`changelog: ${result.message}`);
  return result.ok ? 0 : 1;
}
