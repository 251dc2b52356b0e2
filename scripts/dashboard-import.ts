/** npm run dashboard:import: a community dashboard into team/dashboards/ (cli/commands/dashboard-import.ts). */
import { main } from "../cli/commands/dashboard-import";
import { UsageError } from "../cli/dashboard-import";

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
