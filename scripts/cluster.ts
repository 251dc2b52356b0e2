/** npm run cluster: the local control plane (lab/commands/cluster.ts). */
import { main } from "../lab/commands/cluster";
import { MissingToolError } from "../lab/cluster";

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof MissingToolError ? `cluster: ${err.message}` : err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
