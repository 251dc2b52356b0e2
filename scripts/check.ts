/** npm run check: a team's own rules and dashboards (cli/commands/check.ts). */
import { main } from "../cli/commands/check";
import { promtool } from "../lab/local/binaries";

try {
  process.exit(main(promtool));
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(2);
}
