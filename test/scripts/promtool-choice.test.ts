/**
 * The promtool `npm run check` runs (cli/promtool-choice.ts, scripts/check.ts): PATH's when it
 * reports the release the stack deploys, else the built one, saying why; neither, and it is refused
 * with both ways to get one. The promtools on PATH here are shell scripts that print a version as
 * promtool does and record how they were called.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { choosePromtool, promtoolVersion } from "../../cli/promtool-choice";
import { ROOT } from "../../cli/stackfile";
import { TOOLS } from "../../lab/tools/tools";
import { scriptArguments } from "../support/npm-script";
import { tempDirs } from "../support/temp";
import { scaledMs } from "../support/time-scale";

const tempDir = tempDirs("promtool-choice");
const RELEASE = (TOOLS.find((t) => t.binary === "promtool")?.release ?? "").replace(/^v/, "");

/** A directory holding a `promtool` that prints `version` and appends its arguments to calls.log. */
function fakePromtool(version: string, mode = 0o755): { dir: string; log: string } {
  const dir = tempDir();
  const log = path.join(dir, "calls.log");
  fs.writeFileSync(
    path.join(dir, "promtool"),
    [
      "#!/bin/sh",
      `echo "$*" >> ${log}`,
      `if [ "$1" = "--version" ]; then echo "promtool, version ${version} (branch: HEAD, revision: 0)"; fi`,
      "exit 0",
      "",
    ].join("\n"),
    { mode },
  );
  return { dir, log };
}

const HOW = "run `npm run tools -- promtool`";

test("the release is read as promtool prints it", () => {
  expect(RELEASE).toMatch(/^\d+\.\d+\.\d+$/);
  expect(promtoolVersion(path.join(fakePromtool("3.1.4").dir, "promtool"))).toBe("3.1.4");
});

test("PATH's promtool of the deployed release is used, before the built one", () => {
  const { dir } = fakePromtool(RELEASE);
  const built = path.join(tempDir(), "promtool");
  fs.writeFileSync(built, "");
  const choice = choosePromtool({ release: `v${RELEASE}`, built, howToBuild: HOW, pathVariable: `/nonexistent${path.delimiter}${dir}` });
  expect(choice).toEqual({
    file: path.join(dir, "promtool"),
    note: `promtool: ${dir}/promtool (${RELEASE}, the release the stack deploys)`,
  });
});

test("PATH's promtool of another release is passed over for the built one, saying why", () => {
  const { dir } = fakePromtool("2.53.0");
  const built = path.join(tempDir(), "promtool");
  fs.writeFileSync(built, "");
  expect(choosePromtool({ release: RELEASE, built, howToBuild: HOW, pathVariable: dir })).toEqual({
    file: built,
    note: `promtool: ${built} (${dir}/promtool reports 2.53.0, not ${RELEASE}, the release the stack deploys)`,
  });
});

test("a promtool that is not executable is not one; with none built either, the refusal names both ways", () => {
  const { dir } = fakePromtool(RELEASE, 0o644);
  const built = path.join(tempDir(), "missing", "promtool");
  expect(() => choosePromtool({ release: RELEASE, built, howToBuild: HOW, pathVariable: dir })).toThrow(
    `npm run check needs promtool ${RELEASE}, the release the stack deploys: no promtool on PATH, and ${built} is not built. ` +
      `Put promtool ${RELEASE} on PATH (from the Prometheus ${RELEASE} release's tarball), or ${HOW}`,
  );
});

test("npm run check runs PATH's promtool of the deployed release on a team's rules, and says it", () => {
  const { dir, log } = fakePromtool(RELEASE);
  const result = spawnSync(process.execPath, [...scriptArguments("check"), "--dir", "examples/gauzian/team"], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: scaledMs(120_000),
    env: { ...process.env, PATH: `${dir}${path.delimiter}${process.env.PATH ?? ""}` },
  });
  expect(result.stderr).toContain(`promtool: ${dir}/promtool (${RELEASE}, the release the stack deploys)`);
  const calls = fs.readFileSync(log, "utf8").split("\n");
  expect(calls[0]).toBe("--version");
  expect(calls).toContainEqual(expect.stringMatching(/^check rules .*gauzian/));
  expect(calls).toContainEqual(expect.stringMatching(/^test rules /));
  expect(result.status).toBe(0);
});
