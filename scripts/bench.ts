/** npm run bench: the project's speed and size targets (lab/commands/bench.ts). */
import { main } from "../lab/commands/bench";

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
