/** npm run grafana-ini-keys: catalog/grafana-ini-keys.yaml from Grafana's conf/defaults.ini (lab/commands/grafana-ini-keys.ts). */
import { main } from "../lab/commands/grafana-ini-keys";

main(process.argv.slice(2));
