/**
 * The render's summary (npm run render, SUMMARY.md): every destination data leaves the cluster for,
 * the routes with their quiet hours, only the stack's namespaces that exist, and the requests by
 * component, read from the render of the stack files and of production with every component on.
 */
import { quantityBytes } from "../../components/kit/units";
import { Rendered, requestedResources, summary } from "../../cli/render";
import { renderStack } from "../../cli/render-stack";
import { EVERYTHING_SETS } from "../support/everything";

type Render = Rendered & Awaited<ReturnType<typeof renderStack>>;
const summaryOf = (r: Render, stack: string) => summary(r, stack, "out", r.config, r.placeholders);
/** The lines of a titled list of the summary. */
function section(text: string, title: string): string[] {
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.startsWith(title));
  if (at < 0) throw new Error(`no "${title}" in the summary:\n${text}`);
  const out: string[] = [];
  for (let i = at + 1; lines[i]?.startsWith("  "); i++) out.push(lines[i]);
  return out;
}

const QUIET = [
  'alertmanager.timeIntervals=[{name: working-hours, weekdays: ["monday:friday"], times: [{start: "09:00", end: "18:00"}], location: Europe/Paris}, {name: nights, anyOf: [{times: [{start: "22:00", end: "24:00"}]}, {times: [{start: "00:00", end: "07:00"}]}]}]',
  "alertmanager.routes=[{receiver: pager, matchers: ['severity=\"critical\"'], activeTimeIntervals: [working-hours], continue: true}, {receiver: team, matchers: ['severity=\"warning\"'], muteTimeIntervals: [nights]}]",
];

let everything: Render;
beforeAll(async () => {
  everything = (await renderStack({
    stack: "production",
    sets: [
      ...EVERYTHING_SETS,
      ...QUIET,
      'logCollector.externalLoki={url: "https://logs.example.com/loki/api/v1/push"}',
      'grafana.central={url: "http://vmselect.example.com:8481/select/0/prometheus"}',
    ],
  })) as Render;
});

test("every destination data leaves for: remote write, external Loki, backups with bucket and schedule, the central datasource", () => {
  expect(section(summaryOf(everything, "production"), "Data leaving the cluster")).toEqual([
    "  metrics: remote write mimir -> https://mimir.example.com/api/v1/push",
    "  logs: external Loki -> https://logs.example.com/loki/api/v1/push",
    // Grafana keeps its state in PostgreSQL here (grafana.database): no backup of it.
    '  backups: alertmanager, loki, prometheus -> bucket monitoring-backups at https://0123456789abcdef.r2.cloudflarestorage.com (r2), schedule "17 3 * * *" (the cluster\'s time zone), the last 14 kept',
    "  queries: Grafana's Central datasource -> http://vmselect.example.com:8481/select/0/prometheus",
  ]);
});

test("the backups listed are the CronJobs the render makes, not the components asked for", async () => {
  const r = (await renderStack({
    stack: "staging",
    sets: [
      "backup.enabled=true",
      "backup.bucket=monitoring-backups",
      "backup.endpoint=https://0123456789abcdef.r2.cloudflarestorage.com",
      "backup.components=[grafana]",
      "backupAccessKeyId=k",
      "backupSecretAccessKey=s",
    ],
  })) as Render;
  expect(section(summaryOf(r, "staging"), "Data leaving the cluster")).toEqual([
    expect.stringMatching(/^ {2}backups: grafana -> bucket monitoring-backups at /),
  ]);
});

test("a stack that sends nothing out says so", async () => {
  const r = (await renderStack({ stack: "staging" })) as Render;
  expect(section(summaryOf(r, "staging"), "Data leaving the cluster")).toEqual(["  none: metrics, logs and volumes stay in the cluster"]);
});

test("routes with their quiet hours, and the intervals in Alertmanager's fields", () => {
  const text = summaryOf(everything, "production");
  expect(section(text, "Alert routes")).toEqual([
    '  watchdog="true" -> deadmans-switch',
    '  severity="critical" -> pager (continue); active only during working-hours',
    '  severity="warning" -> team; muted during nights',
    "  anything else -> team",
  ]);
  expect(section(text, "Quiet hours")).toEqual([
    "  working-hours: monday:friday 09:00-18:00 (Europe/Paris)",
    "  nights: 22:00-24:00 (UTC); or 00:00-07:00 (UTC)",
  ]);
});

test("only the stack's namespaces that exist: a stack served by another's collector, without node-exporter, has no agents namespace", async () => {
  const r = (await renderStack({
    stack: "staging",
    sets: ["logCollector.sharedFrom=monitoring-production", "nodeExporter.enabled=false"],
  })) as Render;
  const namespaces = r.kubernetes.filter((o) => o.object.kind === "Namespace").map((o) => o.object.metadata.name);
  expect(namespaces).not.toContain("monitoring-staging-agents");
  const watched = section(summaryOf(r, "staging"), "Watches")[0];
  expect(watched).toMatch(/^ {2}namespaces: .*monitoring-staging/);
  expect(watched).not.toContain("monitoring-staging-agents");
  // Where it exists, it is listed.
  const own = (await renderStack({ stack: "staging" })) as Render;
  expect(section(summaryOf(own, "staging"), "Watches")[0]).toContain("monitoring-staging-agents");
});

test("requested memory by component: each component's pods, the most first, adding up to the total", () => {
  const text = summaryOf(everything, "production");
  const rows = section(text, "Requested by component").map((l) => /^ {2}(\S+)\s+([\d.]+ \S+)\s+(\d+)m CPU$/.exec(l));
  expect(rows.every((m) => m !== null)).toBe(true);
  const bytes = rows.map((m) => quantityBytes((m?.[2] ?? "").replace(" ", "").replace(/iB$/, "i")) ?? NaN);
  expect(bytes).toEqual([...bytes].sort((a, b) => b - a));
  const { bytes: total, millicores } = requestedResources(everything);
  // Each shown to two decimals: the sum within rounding of the total.
  expect(Math.abs(bytes.reduce((a, b) => a + b, 0) - total)).toBeLessThan(rows.length * 0.01 * 1024 ** 3);
  expect(rows.reduce((a, m) => a + Number(m?.[3]), 0)).toBe(millicores);
  // Prometheus' row is its StatefulSet's requests times its replicas.
  const sts = everything.kubernetes.find((o) => o.object.kind === "StatefulSet" && o.object.metadata.name === "prometheus")
    ?.object as unknown as {
    spec: { replicas?: number; template: { spec: { containers: Array<{ resources?: { requests?: { memory?: string } } }> } } };
  };
  const prometheus =
    (sts.spec.replicas ?? 1) *
    sts.spec.template.spec.containers.reduce((a, c) => a + (quantityBytes(c.resources?.requests?.memory ?? "0") ?? 0), 0);
  const row = rows.find((m) => m?.[1] === "prometheus");
  expect(quantityBytes((row?.[2] ?? "").replace(" ", "").replace(/iB$/, "i"))).toBeCloseTo(prometheus, -7);
});
