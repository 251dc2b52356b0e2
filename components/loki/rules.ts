/**
 * Loki's alerting rules on logs: LogQL rules in Prometheus' rule-file shape, the shipped ones
 * (rules/logs/*.yml) and the team's (`<teamContent>/rules/logs/*.yml`), evaluated by Loki's ruler
 * and sent to the stack's Alertmanager.
 *
 * The ruler reads them from local storage: `<directory>/<tenant>/<file>`, one directory per tenant
 * (Loki's pkg/ruler/rulestore/local: every sub-directory of the storage directory is a tenant, every
 * file in it a rule file; sub-directories of a tenant's directory are skipped). With auth off the one
 * tenant is `fake`, so the rules ConfigMap is mounted at `<directory>/fake`: its keys are the files,
 * and the `..data` directories Kubernetes adds beside them are skipped as directories.
 */
import * as fs from "fs";
import * as path from "path";

/** The directory of the shipped LogQL rule files. */
export const DEFAULT_LOKI_RULES_DIR = path.resolve(__dirname, "..", "..", "rules", "logs");

/** The tenant of a Loki without auth (auth_enabled: false): the ruler's directory of rule files is named after it. */
export const LOKI_TENANT = "fake";

/** The ConfigMap key of a team's LogQL rule file: `team.<name>.yml`, apart from the shipped ones. */
export const teamLogRuleKey = (file: string): string => `team.${file.replace(/\.ya?ml$/, "")}.yml`;

/** The shipped LogQL rule files of `dir`: file name to text, sorted (MonitoringStack completes their runbook links). */
export function shippedLogRuleFiles(dir: string = DEFAULT_LOKI_RULES_DIR): Array<[string, string]> {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".yml"))
    .sort()
    .map((file): [string, string] => [file, fs.readFileSync(path.join(dir, file), "utf8")]);
}
