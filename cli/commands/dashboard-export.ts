/**
 * Exports a dashboard edited in Grafana's UI into a file of the repository, as the
 * provisioned dashboards are written (see cli/dashboard-export.ts):
 *
 *   GRAFANA_TOKEN=<token> npm run dashboard:export -- --url <grafana url> --uid <uid> --out dashboards/<folder>/<name>.json
 *
 * or GRAFANA_USER and GRAFANA_PASSWORD instead of GRAFANA_TOKEN.
 */
import * as fs from "fs";
import * as path from "path";
import { EXPORT_USAGE, exportDashboard, parseExportArgs } from "../dashboard-export";
import { helpAsked } from "./help";

export async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (helpAsked(argv, EXPORT_USAGE)) return;
  const args = parseExportArgs(argv);
  const { file, title, warnings } = await exportDashboard(args, process.env, (out, text) => {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, text);
  });
  console.log(`wrote "${title}" to ${file}`);
  for (const warning of warnings) console.warn(`warning: ${warning}`);
}
