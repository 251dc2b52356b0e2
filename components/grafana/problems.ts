/** What Grafana refuses in its own args: replicas that would share SQLite, and an external database without its password. */
import { ArgsProblem } from "../kit/problems";
import { GrafanaArgs } from "./args";

/**
 * More than one replica needs the external database: SQLite cannot be shared between pods. The
 * external database needs its password, the secret key grafanaDatabasePassword.
 */
export function problems(args: Pick<GrafanaArgs, "replicas" | "database">): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  const replicas = args.replicas ?? 1;
  if (replicas > 1 && !args.database) {
    found.push({
      key: "replicas",
      message: `more than one Grafana replica needs an external database (grafana.database); got ${replicas} replicas with the built-in SQLite`,
      involves: ["database"],
    });
  }
  if (args.database && args.database.password === undefined) {
    found.push({
      key: "grafanaDatabasePassword",
      message: "grafana.database is set, so the password is needed: pulumi config set --secret grafanaDatabasePassword <value>",
      involves: ["database"],
    });
  }
  return found;
}
