/**
 * Parts of the render's summary (cli/render.ts's summary): what it reads of the render itself (the
 * namespaces it creates, the components it backs up), where data leaves the cluster for, the
 * quiet hours' ranges in words, and the requests by component.
 */
import type { StackConfig } from "../config";
import { formatBytes } from "../components/kit/units";

/** What the summary reads of the render itself, rather than of the config: what exists, not what was asked. */
export interface RenderFacts {
  /** The namespaces the render creates. */
  namespaces: ReadonlySet<string>;
  /** The components a backup CronJob (`backup-<component>`) backs up. */
  backedUp: string[];
}

/** The facts of a render the summary reads. */
export function renderFacts(rendered: {
  kubernetes: ReadonlyArray<{ object: { kind: string; metadata: { name?: string } }; patch: boolean }>;
}): RenderFacts {
  const named = (kind: string) =>
    rendered.kubernetes.filter((o) => o.object.kind === kind && !o.patch).map((o) => o.object.metadata.name ?? "");
  return {
    namespaces: new Set(named("Namespace")),
    backedUp: named("CronJob").flatMap((n) => (n.startsWith("backup-") ? [n.slice("backup-".length)] : [])),
  };
}

/** One set of ranges of a time interval, in alertmanager.yml's fields: `monday:friday 09:00-18:00 (Europe/Paris)`. */
export function rangeSetText(set: Record<string, unknown>): string {
  const list = (k: string) => (Array.isArray(set[k]) ? (set[k] as string[]) : []);
  const times = (Array.isArray(set.times) ? (set.times as Array<{ start_time: string; end_time: string }>) : []).map(
    (t) => `${t.start_time}-${t.end_time}`,
  );
  const parts = [...list("weekdays"), ...list("days_of_month").map((d) => `day ${d}`), ...list("months"), ...list("years"), ...times];
  return `${parts.join(" ")} (${typeof set.location === "string" ? set.location : "UTC"})`;
}

/** Where the stack sends data out of the cluster: remote writes, an external Loki, backups, and the store Grafana's Central datasource queries. */
export function destinationsSummary(config: StackConfig, rendered?: RenderFacts): string[] {
  const lines = [
    ...(config.prometheus.remoteWrite ?? []).map((rw) => `  metrics: remote write ${rw.name} -> ${rw.url}`),
    ...(config.logCollector.externalLoki ? [`  logs: external Loki -> ${config.logCollector.externalLoki.url}`] : []),
  ];
  const backup = config.backup;
  if (backup.enabled) {
    const where = `bucket ${backup.bucket ?? "?"}${backup.prefix ? `/${backup.prefix}` : ""} at ${backup.endpoint ?? backup.provider}`;
    lines.push(
      `  backups: ${(rendered?.backedUp ?? backup.components ?? []).join(", ")} -> ${where} (${backup.provider}), schedule "${backup.schedule}" (the cluster's time zone), the last ${backup.keep} kept`,
    );
  }
  if (config.grafana.central) lines.push(`  queries: Grafana's Central datasource -> ${config.grafana.central.url}`);
  return lines.length > 0 ? lines : ["  none: metrics, logs and volumes stay in the cluster"];
}

/** The requests by component, the most memory first: one line each. */
export function requestedByComponent(byComponent: Map<string, { millicores: number; bytes: number }>): string[] {
  const rows = [...byComponent.entries()].filter(([, r]) => r.bytes > 0 || r.millicores > 0);
  const width = Math.max(9, ...rows.map(([c]) => c.length));
  const memoryWidth = Math.max(...rows.map(([, r]) => formatBytes(r.bytes).length));
  return rows
    .sort(([a, x], [b, y]) => y.bytes - x.bytes || a.localeCompare(b))
    .map(([c, r]) => `  ${c.padEnd(width)}  ${formatBytes(r.bytes).padStart(memoryWidth)}  ${r.millicores}m CPU`);
}
