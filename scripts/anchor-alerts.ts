/** npm run anchor-alerts: catalog/anchor-alerts.yaml from a kube-prometheus checkout (lab/commands/anchor-alerts.ts). */
import { main } from "../lab/commands/anchor-alerts";

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
