/** What Grafana refuses in its own args: replicas that would share SQLite. */
import { ArgsProblem } from "../kit/problems";
import { GrafanaArgs } from "./args";

/** More than one replica needs the external database: SQLite cannot be shared between pods. */
export function problems(args: Pick<GrafanaArgs, "replicas" | "database">): ArgsProblem[] {
  const replicas = args.replicas ?? 1;
  if (replicas > 1 && !args.database) {
    return [
      {
        key: "replicas",
        message: `more than one Grafana replica needs an external database (grafana.database); got ${replicas} replicas with the built-in SQLite`,
        involves: ["database"],
      },
    ];
  }
  return [];
}
