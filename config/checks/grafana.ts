/** Grafana: more than one replica needs its external database, and that database its password. */
import { CheckInput } from "./check";

/** Grafana's replicas and database. */
export function grafanaChecks({ resolved, key, problems }: CheckInput): void {
  if (resolved.grafana.replicas > 1 && !resolved.grafana.database) {
    problems.push({
      key: key("grafana.replicas"),
      message: `more than one Grafana replica needs an external database (grafana.database); got ${resolved.grafana.replicas} replicas with the built-in SQLite`,
      involves: [key("grafana.database")],
    });
  }
  if (resolved.grafana.database && resolved.grafana.database.password === undefined) {
    problems.push({
      key: key("grafanaDatabasePassword"),
      message: "grafana.database is set, so the password is needed: pulumi config set --secret grafanaDatabasePassword <value>",
      involves: [key("grafana.database")],
    });
  }
}
