/** npm run alert:test: a marked test alert through a deployed stack's Alertmanager (cli/commands/alert-test.ts). */
import { main } from "../cli/commands/alert-test";

main().catch((err: unknown) => {
  process.stderr.write(`alert:test: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
