/**
 * Checks a team's own rules and dashboards with the tools the stack runs them with
 * (cli/team-check.ts): every stack's `teamContent` directory, or the ones named.
 *
 *   npm run check [-- --stack <name>]... [--dir <directory>]...
 *
 * Exits 1 when any directory has an error; warnings are printed and do not fail.
 */
import * as fs from "fs";
import { builtinNames } from "../../preflight/team-content";
import { ROOT, readProjectName } from "../stackfile";
import { Promtool, checkTeamContent, formatTeamCheck, stackTeamContent } from "../team-check";
import { helpAsked } from "./help";

const USAGE = "usage: npm run check [-- --stack <name>]... [--dir <directory>]...";

function parseArgs(argv: string[]): { stacks: string[]; dirs: string[] } {
  const stacks: string[] = [];
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if ((arg === "--stack" || arg === "-s" || arg === "--dir") && value !== undefined && !value.startsWith("-")) {
      (arg === "--dir" ? dirs : stacks).push(value);
      i++;
    } else
      throw new Error(
        `${arg === "--stack" || arg === "-s" || arg === "--dir" ? `${arg} needs a value` : `unknown argument "${arg}"`}\n${USAGE}`,
      );
  }
  return { stacks, dirs };
}

export function main(promtool: Promtool): number {
  if (helpAsked(process.argv.slice(2), USAGE)) return 0;
  const { stacks, dirs } = parseArgs(process.argv.slice(2));
  const project = readProjectName(ROOT);
  const named =
    stacks.length > 0 || dirs.length > 0
      ? stacks
      : fs
          .readdirSync(ROOT)
          .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
          .filter((s): s is string => s !== undefined)
          .sort();
  // One check per directory, labelled with the stacks that ship it.
  const targets = new Map<string, { configured: string | undefined; labels: string[] }>();
  for (const stack of named) {
    if (!fs.existsSync(`${ROOT}/Pulumi.${stack}.yaml`)) throw new Error(`no stack file Pulumi.${stack}.yaml`);
    const configured = stackTeamContent(ROOT, stack, project);
    const key = configured ?? "";
    const entry = targets.get(key) ?? { configured, labels: [] };
    entry.labels.push(`stack ${stack}`);
    targets.set(key, entry);
  }
  for (const dir of dirs) targets.set(`dir:${dir}`, { configured: dir.replace(/\/$/, ""), labels: [`--dir ${dir}`] });

  const builtin = builtinNames();
  let failed = false;
  for (const { configured, labels } of targets.values()) {
    const result = checkTeamContent(promtool, ROOT, configured, builtin, `${project}:teamContent`);
    console.log(formatTeamCheck(result, labels.join(", ")));
    failed ||= result.errors.length > 0;
  }
  return failed ? 1 : 0;
}
