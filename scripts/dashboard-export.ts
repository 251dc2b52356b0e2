/** npm run dashboard:export: a dashboard saved in Grafana's UI into the repository (cli/commands/dashboard-export.ts). */
import { main } from "../cli/commands/dashboard-export";

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
