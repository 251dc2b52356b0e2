/**
 * Imports a community dashboard (exported for sharing, or a grafana.com id) into the team's
 * directory, its datasources mapped onto the stack's (see cli/dashboard-import.ts):
 *
 *   npm run dashboard:import -- <file.json> [--folder <name>] [--name <file-name>] [--uid <uid>] [--force]
 *   npm run dashboard:import -- --id <grafana.com id> [--revision <n>] [...]
 *
 * Exits 0 when written, 1 when refused, 2 on bad usage.
 */
import * as path from "path";
import { IMPORT_USAGE, formatImport, importDashboard, parseImportArgs } from "../dashboard-import";
import { ROOT } from "../stackfile";
import { helpAsked } from "./help";

export async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (helpAsked(argv, IMPORT_USAGE)) return 0;
  const args = parseImportArgs(argv);
  // npm runs the script in the project's directory; a file is named from where the command was typed.
  if (args.file !== undefined) args.file = path.resolve(process.env.INIT_CWD ?? process.cwd(), args.file);
  const result = await importDashboard(args, ROOT);
  console.log(formatImport(result));
  return 0;
}
