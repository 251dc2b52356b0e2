/** npm run check: a team's own rules and dashboards (cli/commands/check.ts), with the promtool cli/promtool-choice.ts picks. */
import { spawnSync } from "child_process";
import { main } from "../cli/commands/check";
import { PromtoolChoice, choosePromtool } from "../cli/promtool-choice";
import { Promtool } from "../cli/team-check";
import { howToBuild } from "../lab/tools/build-cost";
import { TOOLS, binPath } from "../lab/tools/tools";

const tool = TOOLS.find((t) => t.binary === "promtool");
let chosen: PromtoolChoice | undefined;
/** Chosen when first run (never for --help), said once on stderr. */
const promtool: Promtool = (args, cwd) => {
  if (!chosen) {
    if (!tool) throw new Error("promtool is not in the tool table (lab/tools/tools.ts)");
    chosen = choosePromtool({
      release: tool.release,
      built: binPath("promtool"),
      howToBuild: howToBuild(tool),
      pathVariable: process.env.PATH,
    });
    console.error(chosen.note);
  }
  const r = spawnSync(chosen.file, args, { cwd, encoding: "utf8", timeout: 120_000 });
  if (r.error) throw r.error;
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
};

try {
  process.exit(main(promtool));
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(2);
}
