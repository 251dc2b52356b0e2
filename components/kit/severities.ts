/**
 * The severities the stack's alerts carry (the `severity` label of rules/ and the generated rules):
 * what thresholds may set and what Alertmanager's routes may match.
 */
export const ALERT_SEVERITIES = ["critical", "warning", "info"] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
