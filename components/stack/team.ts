/** The team's own rules and dashboards as the stack ships them (read and checked by preflight/team-content.ts). */
import type { DashboardFile } from "../grafana/dashboards";

/** One team rule file, as shipped. */
export interface TeamRuleFile {
  /** ConfigMap key and file name in Prometheus' rules directory (`team.<name>.yml`). */
  key: string;
  /** Path from the project's directory, for messages (`team/rules/polls.yml`). */
  source: string;
  text: string;
}

export interface TeamContent {
  /** The directory, from the project's directory (`team`). */
  directory: string;
  /** Whether it exists: the default directory may not. */
  present: boolean;
  rules: TeamRuleFile[];
  /** LogQL alerting rule files (`<dir>/rules/logs/*.yml`) for Loki's ruler: key `team.<name>.yml` in its rules ConfigMap. */
  logRules: TeamRuleFile[];
  dashboards: DashboardFile[];
  /** promtool unit test files (`<dir>/rules/tests/*.yml`), from the project's directory. */
  ruleTests: string[];
}
