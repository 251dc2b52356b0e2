/** npm run restore: a component's backup back into its volume (cli/commands/restore.ts). */
import { main } from "../cli/commands/restore";
import { RESTORE_USAGE } from "../cli/restore";

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    console.error(RESTORE_USAGE);
    process.exit(1);
  },
);
