/** Grafana: more than one replica needs its external database, and that database its password. */
import { problems as grafanaProblems } from "../../components/grafana/problems";
import { CheckInput, sectionProblems } from "./check";

/** Grafana's own rules (components/grafana/problems.ts); the database's password, a secret key of its own. */
export function grafanaChecks(input: CheckInput): void {
  const { resolved, key, problems } = input;
  sectionProblems("grafana", grafanaProblems(resolved.grafana), input);
  if (resolved.grafana.database && resolved.grafana.database.password === undefined) {
    problems.push({
      key: key("grafanaDatabasePassword"),
      message: "grafana.database is set, so the password is needed: pulumi config set --secret grafanaDatabasePassword <value>",
      involves: [key("grafana.database")],
    });
  }
}
