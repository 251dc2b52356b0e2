/** npm run catalog: the metric catalogue from the real binaries (lab/commands/catalog.ts). */
import { main } from "../lab/commands/catalog";

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
