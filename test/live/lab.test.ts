/**
 * Every panel and every alert on live data (test/live/support/lab.ts runs the lab).
 *
 * - Every scrape job of the rendered config has its targets up.
 * - Every recording rule produces series; every series an alert reads exists.
 * - Every PromQL panel of every dashboard returns at least one series, with its template
 *   variables resolved from live label values as Grafana resolves them — or the panel says
 *   in its description when it can have data ("Conditional: ..."), and the lab shows why it
 *   has none. Every LogQL panel returns data.
 * - Scripted faults fire the expected alerts, delivered to the sink with the right
 *   receiver, within the bound the config sets.
 * - A target that explodes its series past its sample limit loses its scrapes (up 0, the sample
 *   limit its error), the other targets stay up, Prometheus' series stay bounded, and
 *   PrometheusScrapeLimitHit reaches the sink.
 * - A pod of another namespace that carries the stopped app's `app` label, annotated for scraping
 *   and up all along (NAMESAKE), keeps nothing of that app alive: AppDown still reaches the sink,
 *   while `max by (app) (up)`, which an app alert reading every `app` label would take, stays 1.
 * - The app contract checks itself: an app whose status label is not the one its apps[] entry
 *   says, and one whose latency histogram is named otherwise (CONTRACT_APPS), have their
 *   AppStatusLabelMissing and AppLatencyHistogramMissing (`for: 15m`, waited beside the faults)
 *   at the warning receiver, naming the app and its config key; no other app has either.
 * - An app that speaks OpenTelemetry has its traces in Jaeger (by service and by trace id), its
 *   log lines in Loki carrying their trace ids, its series in Prometheus with the stack's labels,
 *   and the provisioned datasources' links between them answer.
 *
 * The report goes to out/live/report.json and out/live/report.md, with the reliability suite's faults
 * (test/support/fault-report.ts: what the fault tests of test/e2e recorded under out/live/faults/).
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { durationSeconds } from "../../components/kit/units";
import { DashboardFile, JsonObject, isObject, loadDashboards, templateVariables, walkPanels } from "../../cli/dashboards/files";
import { waitFor } from "../../lab/processes/supervision";
import { httpGet } from "../../lab/local/http";
import { conditionalMetrics, loadCatalog } from "../../cli/catalog";
import { promqlMetricNames } from "../../cli/promql";
import { importDashboard } from "../../cli/dashboard-import";
import { CONTRACT_APPS, FLOOD_APP, LAB_TIMING, Lab, K3S_NODE, NAMESAKE, OTLP_APP } from "./support/lab";
import { JOURNAL_SEARCH, NODE_JOURNAL_PRIORITIES, NODE_JOURNAL_UNITS } from "./support/node-journal";
import { JOURNAL_JOB } from "../../components/log-collector/journal";
import { appStatus, datasources, failed, jaegerServices, logLines, resourceOf, traceById, tracesOf } from "./support/otlp";
import { LAB_BASIC_AUTH } from "./support/traefik";
import { SECURITY_HEADERS } from "../../components/kit/web";
import { NODE_EXPORTER_USER } from "../../components/exporters/node-exporter";
import { renderedNodeExporterWeb } from "../../lab/local/node-exporter";
import { FaultRecord, faultsMarkdown, readFaults } from "../support/fault-report";
import { KubeObject, list } from "../cluster/support/kube";

const REPORT_DIR = path.join(__dirname, "..", "..", "out", "live");
/**
 * Series a source emits only while the condition an alert looks for holds, or only for an object
 * the lab's stack has no reason to hold: their absence on a healthy stack is the expected state,
 * not a missing input.
 */
const PDB_ONLY =
  "kube-state-metrics lists it only for a PodDisruptionBudget: the lab's staging stack runs one replica of each component, " +
  "which gets none (oneAtATimeDisruptionBudget), and the team's workloads have none";
const ONLY_DURING: Readonly<Record<string, string>> = {
  kube_pod_container_status_waiting_reason: "kube-state-metrics lists it only while a container waits",
  kube_pod_container_status_last_terminated_reason: "kube-state-metrics lists it only once a container has terminated",
  kube_pod_container_status_last_terminated_timestamp: "kube-state-metrics lists it only once a container has terminated",
  kube_job_failed: "kube-state-metrics lists it only for a Job that failed",
  kube_poddisruptionbudget_status_current_healthy: PDB_ONLY,
  kube_poddisruptionbudget_status_desired_healthy: PDB_ONLY,
};
/** The share of its requests the app of the 5xx burst fails. */
const BURST_ERROR_RATIO = 0.5;
/** Allowance for what the config does not bound: process scheduling, the HTTP calls to the sink. */
const SLACK_SECONDS = 5;
/** The marker a panel's description carries when it has data only in some setups. */
export const CONDITIONAL = /\bConditional: ([^.]+)\./;
/**
 * What a contract app's panels lack, by the part of the contract it breaks: the queries that read
 * the series that part feeds (the status codes, the latency buckets). Such a panel is empty for it.
 */
const CONTRACT_GAPS: Record<(typeof CONTRACT_APPS)[number]["key"], RegExp> = {
  statusLabel: /app:http_requests:rate5m\{[^}]*\bcode=~/,
  duration: /app:http_request_duration_seconds_bucket:rate5m\b/,
};
/** The contract alerts, as `alertname app` pairs, each of its own app. */
const CONTRACT_ALERTS = CONTRACT_APPS.map((a) => `${a.alert} ${a.name}`).sort();

interface PanelResult {
  dashboard: string;
  panel: string;
  expr: string;
  variables: Record<string, string>;
  series: number;
  conditional?: string;
}
interface AlertResult {
  fault: string;
  alert: string;
  receiver: string;
  firedAfterSeconds?: number;
  boundSeconds: number;
  delivered: boolean;
}
const report: {
  startedAt: string;
  panels: PanelResult[];
  logPanels: PanelResult[];
  recordingRules: Array<{ record: string; series: number }>;
  alertInputs: Array<{ alert: string; missing: string[] }>;
  faults: AlertResult[];
  /** The stack's routes as k3s's Traefik served them: statuses and the security headers. */
  traefik?: Array<Record<string, unknown>>;
  /** The OTLP app: what it sent, and what each backend holds of it (one line per finding). */
  otlp: Array<{ check: string; finding: string }>;
  /** The app that exploded its series: what Prometheus did with it, and what it cost. */
  scrapeLimit?: Record<string, string | number | boolean | undefined>;
  /** The namesake of the stopped app, during the fault (issue 35). */
  borrowed?: Record<string, string | number | boolean | undefined>;
  /** The apps that break their contract: what fired for them, and for no other app (issue 35). */
  contract?: Record<string, string | number | boolean | undefined>;
  /** Queries of the panels and variables reading a Prometheus variable at All, compared at `.*` and `.+`, and how many answered series. */
  allValue?: { compared: number; withSeries: number };
  /** Node Exporter Full, imported by npm run dashboard:import: how many of its panels show data (issue 36). */
  imported?: Record<string, string | number>;
  /** The reliability suite's faults (issue 46), as the fault tests recorded them under out/live/faults/. */
  reliability?: FaultRecord[];
} = {
  otlp: [],
  startedAt: new Date().toISOString(),
  panels: [],
  logPanels: [],
  recordingRules: [],
  alertInputs: [],
  faults: [],
};

interface PromResponse<T> {
  status: string;
  data: T;
  error?: string;
}
type Vector = Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }>;

let lab: Lab;

/**
 * Each pod's workload (`namespace/pod` → kind and name), from the API server's objects: the
 * pod's controller, or for a ReplicaSet that a Deployment controls, the Deployment; "<none>" for a bare pod.
 */
async function workloadsOfPods(): Promise<Map<string, { kind: string; name: string }>> {
  const controller = (o: KubeObject) => o.metadata.ownerReferences?.find((r) => r.controller);
  const replicaSets = new Map((await list("replicasets")).map((rs) => [`${rs.metadata.namespace}/${rs.metadata.name}`, controller(rs)]));
  const workloads = new Map<string, { kind: string; name: string }>();
  for (const pod of await list("pods")) {
    const owner = controller(pod);
    const above = owner?.kind === "ReplicaSet" ? replicaSets.get(`${pod.metadata.namespace}/${owner.name}`) : undefined;
    const w = above?.kind === "Deployment" ? above : owner;
    workloads.set(`${pod.metadata.namespace}/${pod.metadata.name}`, { kind: w?.kind ?? "<none>", name: w?.name ?? "<none>" });
  }
  return workloads;
}

async function promQuery(expr: string, range?: { seconds: number; step: number }): Promise<Vector> {
  const now = Date.now() / 1000;
  const url = range
    ? `${lab.url("prometheus")}/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${now - range.seconds}&end=${now}&step=${range.step}`
    : `${lab.url("prometheus")}/api/v1/query?query=${encodeURIComponent(expr)}`;
  const r = await httpGet(url, 15_000);
  const body = JSON.parse(r.body) as PromResponse<{ result: Vector }>;
  if (body.status !== "success") throw new Error(`${expr}: ${body.error ?? r.status}`);
  return body.data.result;
}

const VARIABLE = /\$\{([A-Za-z_]\w*)(?::[^}]*)?\}|\[\[([A-Za-z_]\w*)\]\]|\$([A-Za-z_]\w*)/g;
/** Grafana's built-in intervals for the lab's scrape interval (its $__rate_interval is four scrape intervals). */
function builtIns(): Record<string, string> {
  const scrape = durationSeconds(LAB_TIMING.scrapeInterval) ?? 2;
  const age = Math.max(60, Math.round((Date.now() - lab.startedAt) / 1000));
  return { __rate_interval: `${4 * scrape}s`, __interval: `${scrape}s`, __range: `${age}s`, __auto: `${4 * scrape}s` };
}
function substitute(expr: string, values: Record<string, string>): string {
  const all = { ...builtIns(), ...values };
  return expr.replace(VARIABLE, (m, a?: string, b?: string, c?: string) => all[a ?? b ?? c ?? ""] ?? m);
}

/** A Prometheus query variable resolved as Grafana does: its label values, live; "All" where the variable allows it. */
async function variableChoices(dashboard: JsonObject): Promise<Array<Record<string, string>>> {
  let choices: Array<Record<string, string>> = [{}];
  for (const { variable, name } of templateVariables(dashboard)) {
    if (variable.type !== "query") continue;
    const q = isObject(variable.query) ? String(variable.query.query ?? "") : String(variable.query ?? "");
    const m = /^label_values\(\s*(.+)\s*,\s*([a-zA-Z_]\w*)\s*\)$/s.exec(q.trim());
    if (!m) continue;
    if (variable.includeAll === true && typeof variable.allValue === "string") {
      // Grafana's default for these: All, i.e. the variable's allValue.
      choices = choices.map((c) => ({ ...c, [name]: variable.allValue as string }));
      continue;
    }
    // A single-value variable: every value it offers under the choices made above it (a chained
    // variable offers only what its query finds for them), each as a user would pick it.
    const next: Array<Record<string, string>> = [];
    for (const choice of choices) {
      const values = new Set<string>();
      for (const s of await promQuery(substitute(m[1], choice))) if (s.metric[m[2]]) values.add(s.metric[m[2]]);
      const sorted = [...values].sort();
      next.push(...(sorted.length ? sorted : ["(none)"]).map((v) => ({ ...choice, [name]: v })));
    }
    choices = next;
  }
  return choices;
}

/** The variables of a dashboard that offer All, at their allValue: what Grafana starts them at. */
function allValues(dashboard: JsonObject): Record<string, string> {
  const all: Record<string, string> = {};
  for (const { variable, name } of templateVariables(dashboard))
    if (variable.includeAll === true && typeof variable.allValue === "string") all[name] = variable.allValue;
  return all;
}

/** The LogQL targets of a dashboard's panels, each with where it is, the panel's condition if it says one, and its expression. */
function logqlTargets(dashboard: JsonObject): Array<{ where: string; conditional?: string; expr: string }> {
  const out: Array<{ where: string; conditional?: string; expr: string }> = [];
  for (const { panel, where } of walkPanels(dashboard)) {
    const conditional = CONDITIONAL.exec(String(panel.description ?? ""))?.[1];
    for (const target of Array.isArray(panel.targets) ? (panel.targets as JsonObject[]) : []) {
      const ds = isObject(target.datasource) ? String(target.datasource.uid ?? "") : "";
      if (typeof target.expr === "string" && ds.includes("loki"))
        out.push({ where, expr: target.expr, ...(conditional ? { conditional } : {}) });
    }
  }
  return out;
}

/** How many series (or streams) a LogQL query finds over the last 5 minutes, and the HTTP status. */
async function logqlSeries(expr: string): Promise<{ series: number; status: number }> {
  const r = await httpGet(`${lab.url("loki")}/loki/api/v1/query_range?query=${encodeURIComponent(expr)}&since=5m&step=10`, 15_000);
  return { series: (JSON.parse(r.body) as { data?: { result?: unknown[] } }).data?.result?.length ?? 0, status: r.status };
}

function prometheusDashboards(): Array<DashboardFile & { dashboard: JsonObject }> {
  return loadDashboards().filter((d): d is DashboardFile & { dashboard: JsonObject } => d.dashboard !== undefined);
}

beforeAll(async () => {
  lab = await Lab.start();
  // Data for the rate windows: a few scrape and evaluation rounds.
  await waitFor(
    "every target up",
    async () => {
      const r = JSON.parse((await httpGet(`${lab.url("prometheus")}/api/v1/targets`)).body) as PromResponse<{
        activeTargets: Array<{ health: string }>;
      }>;
      const targets = r.data.activeTargets;
      return targets.length > 0 && targets.every((t) => t.health === "up") ? true : undefined;
    },
    120_000,
    1000,
  ).catch(() => undefined);
  // Enough history for every window the panels and rules read at the lab's intervals (the
  // SLO panels' subqueries step by the minute).
  await new Promise((r) => setTimeout(r, 75_000));
}, 600_000);

// A process of the lab that ended is named after the check that met it, rather than left to "connection refused".
afterEach(() => {
  const ended = lab?.earlyExits() ?? [];
  if (ended.length > 0) throw new Error(`a process of the lab has ended:\n${ended.join("\n")}`);
});

afterAll(async () => {
  fs.mkdirSync(REPORT_DIR, { recursive: true });
  report.reliability = readFaults();
  fs.writeFileSync(path.join(REPORT_DIR, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(path.join(REPORT_DIR, "report.md"), markdownReport());
  await lab?.stop();
});

function markdownReport(): string {
  const lines = [
    `# Live lab report`,
    "",
    `Started ${report.startedAt}; stack ${"staging"}, scrape interval ${LAB_TIMING.scrapeInterval}.`,
    "",
  ];
  lines.push("## Dashboard panels", "", "| dashboard | panel | series | variables | conditional |", "|---|---|---|---|---|");
  for (const p of [...report.panels, ...report.logPanels]) {
    lines.push(
      `| ${p.dashboard} | ${p.panel.replace(/\|/g, "\\|")} | ${p.series} | ${Object.entries(p.variables)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")} | ${p.conditional ?? ""} |`,
    );
  }
  lines.push(
    "",
    "## The stack's routes, served by k3s's Traefik",
    "",
    "| service | no credentials | wrong password | credentials | security headers |",
    "|---|---|---|---|---|",
  );
  for (const t of report.traefik ?? []) {
    lines.push(
      `| ${String(t.service)} | ${String(t.refused)} | ${String(t.wrongPassword)} | ${String(t.loggedIn)} | ${JSON.stringify(t.headers).replace(/\|/g, "\\|")} |`,
    );
  }
  lines.push(
    "",
    `## The app that speaks OpenTelemetry (${OTLP_APP.name}, ${OTLP_APP.rate} requests/s)`,
    "",
    "| check | finding |",
    "|---|---|",
  );
  for (const o of report.otlp) lines.push(`| ${o.check} | ${o.finding.replace(/\|/g, "\\|")} |`);
  lines.push("", "## Recording rules", "", "| rule | series |", "|---|---|");
  for (const r of report.recordingRules) lines.push(`| ${r.record} | ${r.series} |`);
  lines.push("", "## Alert inputs", "", "| alert | missing series |", "|---|---|");
  for (const a of report.alertInputs) lines.push(`| ${a.alert} | ${a.missing.join(", ")} |`);
  if (report.scrapeLimit) {
    lines.push("", `## A target that explodes its series (${FLOOD_APP.name})`, "", "| finding | value |", "|---|---|");
    for (const [k, v] of Object.entries(report.scrapeLimit)) lines.push(`| ${k} | ${String(v).replace(/\|/g, "\\|")} |`);
  }
  for (const [title, findings] of [
    [`A namesake of app ${NAMESAKE.app} in ${NAMESAKE.namespace}, up while the app is down`, report.borrowed],
    ["The app contract checked on live data", report.contract],
    ["Variables at All, as .* and as .+ (the same series)", report.allValue],
  ] as const) {
    if (!findings) continue;
    lines.push("", `## ${title}`, "", "| finding | value |", "|---|---|");
    for (const [k, v] of Object.entries(findings)) lines.push(`| ${k} | ${String(v).replace(/\|/g, "\\|")} |`);
  }
  lines.push("", "## Scripted faults", "", "| fault | alert | receiver | delivered after | bound |", "|---|---|---|---|---|");
  for (const f of report.faults) {
    lines.push(
      `| ${f.fault} | ${f.alert} | ${f.receiver} | ${f.firedAfterSeconds === undefined ? "not delivered" : `${f.firedAfterSeconds.toFixed(1)} s`} | ${f.boundSeconds} s |`,
    );
  }
  lines.push("", ...faultsMarkdown(report.reliability ?? []));
  return `${lines.join("\n")}\n`;
}

describe("the live lab (staging stack, exact binaries)", () => {
  test("every scrape job of the rendered config has all its targets up", async () => {
    const config = YAML.parse(lab.rendered.files.get("prometheus/prometheus.yml") ?? "") as { scrape_configs: Array<{ job_name: string }> };
    const r = JSON.parse((await httpGet(`${lab.url("prometheus")}/api/v1/targets`)).body) as PromResponse<{
      activeTargets: Array<{ labels: Record<string, string>; scrapePool: string; health: string; lastError: string }>;
    }>;
    const byPool = new Map<string, string[]>();
    for (const t of r.data.activeTargets)
      byPool.set(t.scrapePool, [...(byPool.get(t.scrapePool) ?? []), t.health === "up" ? "up" : `${t.health}: ${t.lastError}`]);
    // Every job has a target here: kubernetes-pods the namesake (NAMESAKE), the one annotated pod.
    const problems = config.scrape_configs
      .map((j) => j.job_name)
      .filter((job) => !(byPool.get(job) ?? []).length || (byPool.get(job) ?? []).some((h) => h !== "up"))
      .map((job) => `${job}: ${JSON.stringify(byPool.get(job) ?? "no target")}`);
    expect(problems).toEqual([]);
  });

  test("the lab's node-exporter, which job node-exporter scrapes up, serves TLS only and answers 401 without credentials", async () => {
    const cert = renderedNodeExporterWeb(lab.rendered)["tls.crt"];
    const status = (auth?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = https.get(
          `https://127.0.0.1:${lab.stack.ports.nodeExporter}/metrics`,
          { ca: cert, servername: (new crypto.X509Certificate(cert).subjectAltName ?? "").replace(/^DNS:/, ""), auth, timeout: 5000 },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("timeout", () => req.destroy(new Error("node-exporter timed out")));
        req.on("error", reject);
      });
    expect(await status()).toBe(401);
    expect(await status(`${NODE_EXPORTER_USER}:not-the-password`)).toBe(401);
  });

  test("the stack's IngressRoutes and Middlewares, served by k3s's Traefik from the control plane: 401 without credentials, the real Prometheus and Alertmanager with them, the security headers", async () => {
    const hosts = lab.config.hostnames;
    const served: Array<Record<string, unknown>> = [];
    for (const [service, urlPath, body] of [
      ["prometheus", "/api/v1/status/buildinfo", /"version":"3\.13\./],
      ["alertmanager", "/api/v2/status", /"versionInfo"/],
    ] as const) {
      const host = hosts[service] ?? "";
      const refused = await lab.traefik.request(host, urlPath);
      const wrong = await lab.traefik.request(host, urlPath, { user: LAB_BASIC_AUTH.user, password: "not-the-password" });
      // Ten in a row, every one from the real backend: a route balanced onto a stale endpoint fails some.
      const replies = [];
      for (let i = 0; i < 10; i++) replies.push(await lab.traefik.request(host, urlPath, LAB_BASIC_AUTH));
      const ok = replies.find((r) => r.status !== 200 || !body.test(r.body)) ?? replies[0];
      const headers = Object.fromEntries(Object.keys(SECURITY_HEADERS).map((h) => [h, ok.headers[h.toLowerCase()]]));
      served.push({
        service,
        refused: refused.status,
        wrongPassword: wrong.status,
        loggedIn: ok.status,
        headers,
        server: ok.headers.server,
      });
      const answer = body.test(ok.body) ? "the backend's" : ok.body.slice(0, 300);
      expect({ service, refused: refused.status, wrong: wrong.status, ok: ok.status, answer }).toEqual({
        service,
        refused: 401,
        wrong: 401,
        ok: 200,
        answer: "the backend's",
      });
      // Traefik's spelling may differ from the backend's own (DENY, deny), and a backend may send its own too.
      const missing = Object.entries(SECURITY_HEADERS).filter(
        ([h, v]) =>
          !String(headers[h] ?? "")
            .toLowerCase()
            .includes(v.toLowerCase()),
      );
      expect({ service, missing }).toEqual({ service, missing: [] });
      expect(ok.headers.server).toBeUndefined();
      expect(refused.headers["www-authenticate"]).toMatch(/^Basic realm=/);
    }
    report.traefik = served;
  });

  test("every recording rule produces series", async () => {
    const r = JSON.parse((await httpGet(`${lab.url("prometheus")}/api/v1/rules?type=record`)).body) as PromResponse<{
      groups: Array<{ rules: Array<{ name: string }> }>;
    }>;
    const records = [...new Set(r.data.groups.flatMap((g) => g.rules.map((x) => x.name)))];
    expect(records.length).toBeGreaterThan(10);
    for (const record of records) report.recordingRules.push({ record, series: (await promQuery(record)).length });
    expect(report.recordingRules.filter((x) => x.series === 0).map((x) => x.record)).toEqual([]);
  });

  test("every series an alert reads exists, unless its source is not part of this stack", async () => {
    const r = JSON.parse((await httpGet(`${lab.url("prometheus")}/api/v1/rules`)).body) as PromResponse<{
      groups: Array<{ rules: Array<{ type: string; name: string; query: string }> }>;
    }>;
    const rules = r.data.groups.flatMap((g) => g.rules);
    const alerts = rules.filter((x) => x.type === "alerting");
    const recorded = new Set(rules.filter((x) => x.type === "recording").map((x) => x.name));
    expect(alerts.length).toBeGreaterThan(10);
    // A metric's source is its catalogue file, named after the job that scrapes it (kubelet: kubelet and cadvisor).
    const catalog = loadCatalog();
    const onlyIn = conditionalMetrics();
    const jobs = new Set(
      (
        YAML.parse(lab.rendered.files.get("prometheus/prometheus.yml") ?? "") as { scrape_configs: Array<{ job_name: string }> }
      ).scrape_configs.map((j) => j.job_name),
    );
    const deployed = (source: string) => jobs.has(source) || (source === "kubelet" && jobs.has("cadvisor"));
    const problems: string[] = [];
    for (const alert of alerts) {
      const missing: string[] = [];
      const conditional: string[] = [];
      for (const name of promqlMetricNames(alert.query)) {
        if ((await promQuery(`count({__name__="${name}"})`)).length > 0) continue;
        const source = catalog.get(name);
        if (source && !deployed(source)) conditional.push(`${name} (${source} is not part of this stack)`);
        else if (ONLY_DURING[name]) conditional.push(`${name} (${ONLY_DURING[name]})`);
        else if (onlyIn.has(name)) conditional.push(`${name} (only with ${onlyIn.get(name)})`);
        else if (!source && name.startsWith("app:") && !recorded.has(name))
          conditional.push(`${name} (recorded only for apps that set its option)`);
        else missing.push(name);
      }
      report.alertInputs.push({ alert: alert.name, missing: [...missing, ...conditional.map((c) => `conditional: ${c}`)] });
      if (missing.length) problems.push(`${alert.name}: ${missing.join(", ")}`);
    }
    expect(problems).toEqual([]);
  });

  test("every PromQL panel of every dashboard has data, or says when it can", async () => {
    const empty: string[] = [];
    for (const file of prometheusDashboards()) {
      const choices = await variableChoices(file.dashboard);
      // A dashboard about one kind of source (MongoDB) says so for all its panels.
      const dashboardConditional = CONDITIONAL.exec(String(file.dashboard.description ?? ""))?.[1];
      for (const { panel, where } of walkPanels(file.dashboard)) {
        const targets = (Array.isArray(panel.targets) ? (panel.targets as JsonObject[]) : []).filter(
          (t) => typeof t.expr === "string" && !(isObject(t.datasource) && String(t.datasource.uid ?? "").includes("loki")),
        );
        const exprs = targets.map((t) => t.expr as string);
        if (exprs.length === 0) continue;
        const conditional = CONDITIONAL.exec(String(panel.description ?? ""))?.[1] ?? dashboardConditional;
        for (const choice of choices) {
          // A panel shows data when any of its queries returns some, as in Grafana.
          let series = 0;
          // An instant target (a stat's or gauge's one value) asks for the value now, as Grafana does; the others the last minute.
          for (const t of targets)
            series += (await promQuery(substitute(t.expr as string, choice), t.instant === true ? undefined : { seconds: 60, step: 5 }))
              .length;
          // A contract app's panel that reads what its broken part feeds has nothing to show: its alert says why.
          const broken = CONTRACT_APPS.find((a) => a.name === choice.app);
          const gap =
            series === 0 && broken && exprs.some((e) => CONTRACT_GAPS[broken.key].test(substitute(e, choice)))
              ? `app ${broken.name} breaks its contract (${broken.alert})`
              : undefined;
          const why = conditional ?? gap;
          report.panels.push({
            dashboard: file.relPath,
            panel: where,
            expr: exprs.map((e) => substitute(e, choice)).join(" ; "),
            variables: choice,
            series,
            ...(why ? { conditional: why } : {}),
          });
          if (series === 0 && !why)
            empty.push(`${file.relPath} ${where} ${JSON.stringify(choice)}: ${exprs.map((e) => substitute(e, choice)).join(" ; ")}`);
        }
      }
    }
    expect(empty).toEqual([]);
  });

  test("a variable's All (.*) selects what .+ would: every panel and variable reading one, at All, the same series both ways", async () => {
    // docs/dashboards.md, "All, without merging every value": `.*` and `.+` differ only on a series without the label.
    const at = Date.now() / 1000 - 10;
    /** The label sets a query answers at `at` (PromQL), or the streams of the last 5 minutes (LogQL), sorted. */
    const labelSets = async (expr: string, loki: boolean) => {
      const url = loki
        ? `${lab.url("loki")}/loki/api/v1/query_range?query=${encodeURIComponent(expr)}&since=5m&step=10`
        : `${lab.url("prometheus")}/api/v1/query?query=${encodeURIComponent(expr)}&time=${at}`;
      const body = JSON.parse((await httpGet(url, 15_000)).body) as PromResponse<{
        result: Array<{ metric?: Record<string, string>; stream?: Record<string, string> }>;
      }>;
      if (body.status !== "success") throw new Error(`${expr}: ${body.error ?? "failed"}`);
      return body.data.result.map((s) => JSON.stringify(Object.entries(s.metric ?? s.stream ?? {}).sort())).sort();
    };
    const differ: string[] = [];
    let compared = 0;
    let withSeries = 0;
    /** `expr`'s label sets at `.*` and at `.+`; for a variable (`listed`), the values of its label, as Grafana lists them. */
    const compare = async (
      what: string,
      expr: string,
      choice: Record<string, string>,
      strict: Record<string, string>,
      loki: boolean,
      listed?: string,
    ) => {
      const answer = async (values: Record<string, string>) => {
        const sets = await labelSets(substitute(listed ? `count by (${listed}) (${expr})` : expr, values), loki);
        return listed ? sets.filter((s) => s !== "[]") : sets;
      };
      const [all, plus] = [await answer(choice), await answer({ ...choice, ...strict })];
      compared++;
      if (plus.length > 0) withSeries++;
      if (JSON.stringify(all) !== JSON.stringify(plus))
        differ.push(`${what}: ${substitute(expr, choice)}: ${all.length} series at .*, ${plus.length} at .+`);
    };
    for (const file of prometheusDashboards()) {
      // Prometheus' variables (the Logs dashboard's are Loki's, where `.*` keeps streams without the label on purpose).
      const matchAll = templateVariables(file.dashboard)
        .filter(({ variable }) => variable.allValue === ".*" && isObject(variable.datasource) && variable.datasource.type === "prometheus")
        .map(({ name }) => name);
      if (matchAll.length === 0) continue;
      const reads = new RegExp(`\\$\\{?(${matchAll.join("|")})\\b`);
      const strict = Object.fromEntries(matchAll.map((name) => [name, ".+"]));
      for (const choice of await variableChoices(file.dashboard)) {
        // A variable listing its values under another's All (the Networking view's pods under its namespaces).
        for (const { variable, name } of templateVariables(file.dashboard)) {
          const q = isObject(variable.query) ? String(variable.query.query ?? "") : String(variable.query ?? "");
          const m = /^label_values\(\s*(.+)\s*,\s*([a-zA-Z_]\w*)\s*\)$/s.exec(q.trim());
          if (m && reads.test(m[1])) await compare(`${file.relPath} variable ${name}`, m[1], choice, strict, false, m[2]);
        }
        for (const { panel, where } of walkPanels(file.dashboard)) {
          for (const t of Array.isArray(panel.targets) ? (panel.targets as JsonObject[]) : []) {
            if (typeof t.expr !== "string" || !reads.test(t.expr)) continue;
            const loki = isObject(t.datasource) && String(t.datasource.uid ?? "").includes("loki");
            await compare(`${file.relPath} ${where}`, t.expr, choice, strict, loki);
          }
        }
      }
    }
    report.allValue = { compared, withSeries };
    expect(differ).toEqual([]);
    expect(compared).toBeGreaterThan(100);
    expect(withSeries).toBeGreaterThan(50);
  });

  test("workload panels show the pods (and workloads) of a k3s node, whose cAdvisor series carry no container or image label", async () => {
    const k3sPods = lab.nodes.find((n) => n.name === K3S_NODE)?.pods.map((p) => p.pod) ?? [];
    // Per-workload panels: the workloads whose pods all run on the k3s node.
    const owners = [...(await workloadsOfPods()).entries()].map(([key, w]) => ({ pod: key.split("/")[1], workload: w.name }));
    const elsewhere = new Set(owners.filter((o) => !k3sPods.includes(o.pod)).map((o) => o.workload));
    const k3sOwners = new Set(owners.filter((o) => k3sPods.includes(o.pod) && !elsewhere.has(o.workload)).map((o) => o.workload));
    expect(k3sOwners.size).toBeGreaterThan(0);
    const workloads = report.panels.filter((p) => p.dashboard === "infrastructure/workloads.json" && /container_(cpu|memory)/.test(p.expr));
    expect(workloads.length).toBeGreaterThan(0);
    for (const p of workloads) {
      for (const expr of p.expr.split(" ; ").filter((e) => /container_(cpu|memory)/.test(e))) {
        const series = await promQuery(expr, { seconds: 60, step: 5 });
        const k3s = series.some((s) => k3sPods.includes(s.metric.pod) || k3sOwners.has(s.metric.owner_name));
        expect({ panel: p.panel, expr, k3s }).toEqual({
          panel: p.panel,
          expr,
          k3s: true,
        });
      }
    }
  });

  test("the Workloads view lists each pod's workload as the API server owns it: a Deployment's pods by the Deployment, through their ReplicaSet", async () => {
    // The namespaces kube-state-metrics watches; a Job's pods (the team's CronJob runs every minute) left out, as they come and go.
    const watched = new Set((await promQuery("kube_pod_owner")).map((s) => s.metric.namespace));
    const expected = new Map([...(await workloadsOfPods())].filter(([key, w]) => watched.has(key.split("/")[0]) && w.kind !== "Job"));
    const deployments = [...expected.values()].filter((w) => w.kind === "Deployment");
    expect(deployments.length).toBeGreaterThan(0);
    // The Workloads table's pod count per workload, as the dashboard queries it for every namespace.
    const table = prometheusDashboards().find((f) => f.relPath === "infrastructure/workloads.json");
    const counts = [...walkPanels(table?.dashboard ?? {})]
      .flatMap(({ panel }) => (Array.isArray(panel.targets) ? (panel.targets as JsonObject[]) : []))
      .map((t) => String(t.expr ?? ""))
      .find((e) => e.startsWith("count by (namespace, owner_kind, owner_name)"));
    expect(counts).toBeDefined();
    const rows = (await promQuery(substitute(counts ?? "", { namespace: ".*" }))).filter((r) => r.metric.owner_kind !== "Job");
    const shown = new Map(rows.map((r) => [`${r.metric.namespace}/${r.metric.owner_kind}/${r.metric.owner_name}`, Number(r.value?.[1])]));
    const wanted = new Map<string, number>();
    for (const [key, w] of expected) {
      const id = `${key.split("/")[0]}/${w.kind}/${w.name}`;
      wanted.set(id, (wanted.get(id) ?? 0) + 1);
    }
    expect(Object.fromEntries(shown)).toEqual(Object.fromEntries(wanted));
  });

  test("the pod dashboard shows a k3s pod as a whole and a labelled node's pod per container", async () => {
    const k3sPods = new Set(lab.nodes.find((n) => n.name === K3S_NODE)?.pods.map((p) => p.pod) ?? []);
    const usage = report.panels.filter(
      (p) => p.dashboard === "infrastructure/pod.json" && /container_(cpu_usage|memory_working_set)/.test(p.expr),
    );
    const shapes = new Set<string>();
    for (const p of usage) {
      const expr = p.expr.split(" ; ")[0];
      const containers = (await promQuery(expr, { seconds: 60, step: 5 })).map((s) => s.metric.container);
      const shape = k3sPods.has(p.variables.pod) ? "k3s" : "labelled";
      shapes.add(shape);
      expect({
        panel: p.panel,
        pod: p.variables.pod,
        shape,
        containers: containers.length > 0,
        whole: containers.includes("whole pod"),
      }).toEqual({
        panel: p.panel,
        pod: p.variables.pod,
        shape,
        containers: true,
        whole: shape === "k3s",
      });
    }
    expect([...shapes].sort()).toEqual(["k3s", "labelled"]);
  });

  test("every LogQL panel has data, or says when it can", async () => {
    const empty: string[] = [];
    for (const file of prometheusDashboards()) {
      // A panel of events that may not occur here (a Warning event, a node's) says so in its description.
      for (const { where, conditional, expr: query } of logqlTargets(file.dashboard)) {
        // Every filter at "All" (the Kubernetes events' kind, object, reason and type, the journal's node, unit and priority).
        const expr = substitute(query, {
          ...allValues(file.dashboard),
          namespace: ".+",
          app: ".+",
          pod: ".+",
          search: "payment",
          kind: ".*",
          object: ".*",
          reason: ".*",
          type: ".*",
        });
        const { series, status } = await logqlSeries(expr);
        report.logPanels.push({
          dashboard: file.relPath,
          panel: where,
          expr,
          variables: {},
          series,
          ...(conditional ? { conditional } : {}),
        });
        if (series === 0 && !conditional) empty.push(`${file.relPath} ${where}: ${expr} (HTTP ${status})`);
      }
    }
    expect(empty).toEqual([]);
  });
});

describe("the k3s node's journal, written by systemd-journal-remote and read by the rendered journal source", () => {
  test("its units and priorities are in Loki, and the Logs dashboard's three Node journal panels have data (the Journal searched for text its lines hold)", async () => {
    expect(lab.journal.failure).toBeUndefined();
    // What the node wrote arrives as the collector labels it: every unit, every priority, the node's name.
    const r = await httpGet(
      `${lab.url("loki")}/loki/api/v1/series?match[]=${encodeURIComponent(`{job="${JOURNAL_JOB}"}`)}&start=${(Date.now() - 300_000) * 1e6}`,
      15_000,
    );
    const series = (JSON.parse(r.body) as { data?: Array<Record<string, string>> }).data ?? [];
    expect({
      nodes: [...new Set(series.map((s) => s.node))].sort(),
      units: [...new Set(series.map((s) => s.unit))].sort(),
      priorities: [...new Set(series.map((s) => s.priority))].sort(),
    }).toEqual({ nodes: [K3S_NODE], units: [...NODE_JOURNAL_UNITS], priorities: [...NODE_JOURNAL_PRIORITIES] });

    const logs = prometheusDashboards().find((d) => d.relPath === "logs/logs.json");
    if (!logs) throw new Error("no Logs dashboard (logs/logs.json)");
    const panels: Array<{ panel: string; series: number }> = [];
    for (const { where, expr: query } of logqlTargets(logs.dashboard).filter((t) => t.expr.includes(`job="${JOURNAL_JOB}"`))) {
      const expr = substitute(query, { ...allValues(logs.dashboard), search: JOURNAL_SEARCH });
      panels.push({ panel: where, series: (await logqlSeries(expr)).series });
    }
    expect(panels.map((p) => p.panel.replace(/^.*"(.*)"$/, "$1"))).toEqual([
      "Journal lines by unit",
      "Journal errors by node and unit",
      "Journal",
    ]);
    expect(panels.filter((p) => p.series === 0)).toEqual([]);
  });
});

describe("a community dashboard imported with npm run dashboard:import (issue 36)", () => {
  test("Node Exporter Full, as grafana.com exports it, shows the lab's node: every panel whose metrics the node exposes has data", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "lab-import-"));
    const fixture = path.join(__dirname, "..", "fixtures", "community-dashboards", "node-exporter-full.json");
    const result = await importDashboard({ file: fixture, folder: "imported", force: false, team: "team" }, root);
    expect(result.checkProblems).toEqual([]);
    const dashboard = JSON.parse(fs.readFileSync(path.join(root, result.file), "utf8")) as JsonObject;
    fs.rmSync(root, { recursive: true, force: true });
    // Its custom variable (the disk devices' pattern) at the value it is exported with, as Grafana starts it.
    const custom: Record<string, string> = {};
    for (const { variable, name } of templateVariables(dashboard)) {
      const current = isObject(variable.current) ? variable.current.value : undefined;
      if (variable.type === "custom" && typeof current === "string") custom[name] = current;
    }
    const choices = (await variableChoices(dashboard)).map((c) => ({ ...custom, ...c }));
    // The rendered job scrapes the lab's node-exporter: the job and node variables offer it.
    expect(choices.map((c) => c.job)).toContain("node-exporter");
    const choice = choices.find((c) => c.job === "node-exporter") as Record<string, string>;
    const exposed = new Set((await promQuery('count by (__name__) ({__name__=~"node_.+"})')).map((s) => s.metric.__name__));
    const panels: Array<{ where: string; headline: boolean; series: number; missing: string[] }> = [];
    for (const { panel, where, nested } of walkPanels(dashboard)) {
      const exprs = (Array.isArray(panel.targets) ? (panel.targets as JsonObject[]) : [])
        .filter((t) => typeof t.expr === "string" && t.expr !== "")
        .map((t) => substitute(t.expr as string, choice));
      if (exprs.length === 0) continue;
      let series = 0;
      for (const expr of exprs) series += (await promQuery(expr, { seconds: 60, step: 5 })).length;
      // What the panel reads that this host's node-exporter does not expose (no such hardware, a collector off).
      const missing = [...new Set(exprs.flatMap((e) => promqlMetricNames(e)))]
        .filter((m) => m.startsWith("node_") && !exposed.has(m))
        .sort();
      panels.push({ where, headline: !nested, series, missing });
    }
    report.imported = {
      dashboard: "node-exporter-full.json (grafana.com 1860)",
      panels: panels.length,
      withData: panels.filter((p) => p.series > 0).length,
      emptyForWantOfMetrics: panels.filter((p) => p.series === 0 && p.missing.length > 0).length,
    };
    // The top rows (CPU, memory, disk and network at a glance) all show data, bar what the host lacks.
    const headline = panels.filter((p) => p.headline);
    expect(headline.length).toBeGreaterThanOrEqual(10);
    expect(headline.filter((p) => p.series === 0 && p.missing.length === 0).map((p) => p.where)).toEqual([]);
    expect(headline.filter((p) => p.series > 0).length).toBeGreaterThanOrEqual(headline.length - 2);
    // Every other panel has data unless a metric it reads is not exposed here.
    expect(panels.filter((p) => p.series === 0 && p.missing.length === 0).map((p) => p.where)).toEqual([]);
  });
});

describe("Kubernetes events, from the lab's control plane through the real Alloy's rendered events source to Loki", () => {
  test("the pods' events (Scheduled, by the real scheduler) are in Loki labelled job, namespace, kind, name, reason and type", async () => {
    const query = encodeURIComponent('{job="kubernetes-events", kind="Pod", reason="Scheduled"}');
    const streams = await waitFor(
      "Scheduled events of pods in Loki",
      async () => {
        const r = await httpGet(`${lab.url("loki")}/loki/api/v1/query_range?query=${query}&since=30m&limit=50`, 15_000);
        const result = (JSON.parse(r.body) as { data?: { result?: Array<{ stream: Record<string, string> }> } }).data?.result ?? [];
        return result.length > 0 ? result.map((s) => s.stream) : undefined;
      },
      120_000,
    );
    expect(streams.length).toBeGreaterThan(0);
    // The streams' own labels (the index), as the series API lists them: query results add Loki's detected_level.
    const series = await httpGet(`${lab.url("loki")}/loki/api/v1/series?match[]=${query}&since=30m`, 15_000);
    const labelSets = (JSON.parse(series.body) as { data: Array<Record<string, string>> }).data;
    expect(labelSets.length).toBeGreaterThan(0);
    for (const labels of labelSets) {
      expect(Object.keys(labels).sort()).toEqual(["job", "kind", "name", "namespace", "reason", "type"]);
      expect(labels).toMatchObject({ job: "kubernetes-events", kind: "Pod", reason: "Scheduled", type: "Normal" });
    }
  });
});

describe("an app that speaks OpenTelemetry, through Alloy's OTLP endpoint to Jaeger, Prometheus and Loki", () => {
  const note = (check: string, finding: string) => report.otlp.push({ check, finding });
  const pick = (attributes: Record<string, string>, keys: string[]) => keys.map((k) => `${k}=${attributes[k] ?? "(none)"}`).join(" ");

  test("its traces are in Jaeger by service, nested, with the stack's labels on their resource and its pod looked up in the cluster", async () => {
    const status = appStatus(lab);
    note(
      "sent by the app (official SDK, OTLP/HTTP protobuf)",
      `${status.requests} requests, ${status.spans} spans, ${status.logs} log records`,
    );
    const traces = await waitFor(
      "the app's traces in Jaeger",
      async () => {
        const found = await tracesOf(lab, OTLP_APP.name);
        return found.length > 0 ? found : undefined;
      },
      60_000,
      2000,
    );
    const services = await jaegerServices(lab);
    const spans = traces.flatMap((t) => t.spans);
    const depth = (t: (typeof traces)[number]) => {
      const parent = new Map(t.spans.map((s) => [s.spanID, s.references.find((r) => r.refType === "CHILD_OF")?.spanID]));
      const levels = (id: string | undefined): number => (id === undefined ? 0 : 1 + levels(parent.get(id)));
      return Math.max(...t.spans.map((s) => levels(s.spanID)));
    };
    const deep = traces.filter((t) => depth(t) >= 3).length;
    const resource = resourceOf(traces[0]);
    note("Jaeger's services", services.join(", "));
    note(
      `traces found by service ${OTLP_APP.name} (Jaeger's search, limit 100)`,
      `${traces.length} traces, ${spans.length} spans (${spans.filter(failed).length} in error), ${deep} traces three levels deep`,
    );
    note("a span's resource: the stack's labels (Alloy's transform)", pick(resource, ["namespace", "pod", "app", "service.instance.id"]));
    note(
      "a span's resource: what the pod lookup added (k8sattributes, from the local control plane)",
      pick(resource, ["k8s.node.name", "k8s.pod.uid"]),
    );
    expect(services).toContain(OTLP_APP.name);
    expect(traces.length).toBeGreaterThan(10);
    expect(deep).toBeGreaterThan(0);
    expect({ namespace: resource.namespace, pod: resource.pod, app: resource.app, instance: resource["service.instance.id"] }).toEqual({
      namespace: lab.otlpApp.namespace,
      pod: lab.otlpApp.pod,
      app: OTLP_APP.name,
      instance: lab.otlpApp.pod,
    });
    expect(resource["k8s.node.name"]).toBe(K3S_NODE);
  });

  test("by trace id: each trace the app reports is whole in Jaeger, its failed payment attempt in error", async () => {
    const sent = appStatus(lab).traces;
    const withFailure = sent.filter((t) => t.failedAttempt);
    expect(withFailure.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const t of [...withFailure, ...sent.filter((x) => !x.failedAttempt).slice(0, 5)]) {
      const trace = await waitFor(
        `trace ${t.traceId} whole in Jaeger`,
        async () => {
          const found = await traceById(lab, t.traceId);
          return found && found.spans.length >= t.spans ? found : undefined;
        },
        30_000,
        1000,
      ).catch(() => undefined);
      const errors = trace?.spans.filter(failed).map((s) => s.operationName) ?? [];
      note(
        `trace ${t.traceId} (${t.route}, ${t.status})`,
        trace ? `${trace.spans.length} of ${t.spans} spans${errors.length ? `; in error: ${errors.join(", ")}` : ""}` : "not found",
      );
      if (!trace || trace.spans.length !== t.spans) problems.push(`${t.traceId}: ${trace?.spans.length ?? 0} of ${t.spans} spans`);
      else if (t.failedAttempt !== errors.includes("POST /charge"))
        problems.push(`${t.traceId}: failed attempt ${t.failedAttempt}, in error: ${errors.join(", ")}`);
    }
    expect(problems).toEqual([]);
  });

  test("its log lines are in Loki with a tailed pod's labels and their trace ids, which the Loki datasource's derived field finds and which open their trace", async () => {
    const ns = lab.otlpApp.namespace;
    const lines = await waitFor(
      "the app's OTLP log lines in Loki",
      async () => {
        const found = await logLines(lab, `{namespace="${ns}", app="${OTLP_APP.name}"} | trace_id != ""`);
        return found.length > 0 ? found : undefined;
      },
      60_000,
      2000,
    );
    const derived = (
      (datasources(lab).get("loki")?.jsonData as { derivedFields?: Array<Record<string, string>> }).derivedFields ?? []
    ).find((f) => f.datasourceUid === "traces");
    expect(derived?.matcherType).toBe("label");
    // A label matcher names the label (here structured metadata) whose value is the trace id.
    const matcher = new RegExp(`^(?:${derived?.matcherRegex ?? "(none)"})$`);
    const traceIdOf = (l: (typeof lines)[number]) => Object.entries(l.metadata).find(([k]) => matcher.test(k))?.[1];
    const linked = lines.filter((l) => /^[0-9a-f]{32}$/.test(traceIdOf(l) ?? ""));
    const indexLabels = [...new Set(lines.flatMap((l) => Object.keys(l.labels)))].sort();
    const metadata = [...new Set(lines.flatMap((l) => Object.keys(l.metadata)))].sort();
    const oldest = linked[linked.length - 1];
    const trace = oldest ? await traceById(lab, traceIdOf(oldest) ?? "") : undefined;
    note(
      "Loki lines of the app with a trace_id (last 10 minutes, limit 200)",
      `${lines.length} lines, ${linked.length} matched by the derived field (${derived?.matcherType} ${derived?.matcherRegex})`,
    );
    note("their stream labels / structured metadata", `${indexLabels.join(", ")} / ${metadata.join(", ")}`);
    note(
      "a line's trace, opened in Jaeger",
      oldest ? `"${oldest.line}" → trace ${traceIdOf(oldest)}: ${trace ? `${trace.spans.length} spans` : "not found"}` : "no line",
    );
    expect(linked.length).toBe(lines.length);
    expect(indexLabels).toEqual(expect.arrayContaining(["namespace", "pod", "app", "job", "node"]));
    expect(trace?.spans.length ?? 0).toBeGreaterThan(0);
  });

  test("its series are in Prometheus with the stack's labels; environment is the external label, on what leaves Prometheus", async () => {
    const requests = await promQuery(`http_server_request_duration_seconds_count{app="${OTLP_APP.name}"}`);
    const info = await promQuery(`target_info{app="${OTLP_APP.name}"}`);
    const federated = (
      await httpGet(`${lab.url("prometheus")}/federate?match[]=${encodeURIComponent(`target_info{app="${OTLP_APP.name}"}`)}`)
    ).body;
    const now = Date.now() / 1000;
    const exemplars = JSON.parse(
      (
        await httpGet(
          `${lab.url("prometheus")}/api/v1/query_exemplars?query=${encodeURIComponent(`http_server_request_duration_seconds_bucket{app="${OTLP_APP.name}"}`)}&start=${now - 600}&end=${now}`,
        )
      ).body,
    ) as PromResponse<Array<{ exemplars: unknown[] }>>;
    const labels = requests[0]?.metric ?? {};
    note(
      "http_server_request_duration_seconds_count of the app",
      `${requests.length} series; ${pick(labels, ["job", "instance", "namespace", "pod", "app"])}`,
    );
    note("target_info of the app", `${info.length} series; ${pick(info[0]?.metric ?? {}, ["job", "instance", "namespace", "pod", "app"])}`);
    note(
      "environment (Prometheus' external label), on /federate",
      /environment="staging"/.test(federated) ? 'environment="staging"' : "missing",
    );
    note(
      "exemplars of its latency histogram",
      `${(exemplars.data ?? []).reduce((n, s) => n + s.exemplars.length, 0)} (the JavaScript SDK attaches none)`,
    );
    expect(requests.length).toBeGreaterThan(0);
    expect({ job: labels.job, namespace: labels.namespace, pod: labels.pod, app: labels.app, instance: labels.instance }).toEqual({
      job: OTLP_APP.name,
      namespace: lab.otlpApp.namespace,
      pod: lab.otlpApp.pod,
      app: OTLP_APP.name,
      instance: lab.otlpApp.pod,
    });
    expect(info.length).toBeGreaterThan(0);
    expect(federated).toMatch(/environment="staging"/);
  });

  test("the span metrics Alloy derives from its spans are in Prometheus, their exemplars' trace ids open in Jaeger (the Prometheus datasource's exemplar link)", async () => {
    const destination = (
      datasources(lab).get("prometheus")?.jsonData as { exemplarTraceIdDestinations?: Array<{ name: string; datasourceUid: string }> }
    ).exemplarTraceIdDestinations?.find((d) => d.datasourceUid === "traces");
    const query = `traces_span_metrics_duration_seconds_bucket{app="${OTLP_APP.name}"}`;
    const exemplars = await waitFor(
      "exemplars of the span metrics",
      async () => {
        const now = Date.now() / 1000;
        const url = `${lab.url("prometheus")}/api/v1/query_exemplars?query=${encodeURIComponent(query)}&start=${now - 600}&end=${now}`;
        const body = JSON.parse((await httpGet(url, 15_000)).body) as PromResponse<
          Array<{ exemplars: Array<{ labels: Record<string, string> }> }>
        >;
        const all = (body.data ?? []).flatMap((s) => s.exemplars);
        return all.length > 0 ? all : undefined;
      },
      60_000,
      3000,
    ).catch(() => []);
    const calls = await promQuery(`sum by (span_name) (traces_span_metrics_calls_total{app="${OTLP_APP.name}"})`);
    const traceId = exemplars[0]?.labels[destination?.name ?? "trace_id"];
    const trace = traceId ? await traceById(lab, traceId) : undefined;
    note("span metrics of the app (traces_span_metrics_calls_total, by span name)", calls.map((s) => s.metric.span_name).join(", "));
    note(
      `exemplars of ${query} (the datasource links label ${destination?.name ?? "(none)"})`,
      `${exemplars.length}; the first's trace ${traceId ?? "(none)"}: ${trace ? `${trace.spans.length} spans in Jaeger` : "not found"}`,
    );
    expect(calls.length).toBeGreaterThan(0);
    expect(exemplars.length).toBeGreaterThan(0);
    expect(trace?.spans.length ?? 0).toBeGreaterThan(0);
  });

  test("the panels whose condition the OTLP app meets (an app that sends OTLP, its traces) have data for it", async () => {
    // Read from the panel check above: a panel may be empty for a scraped app when it says so, not for the app it is about.
    const meets = report.panels.filter(
      (p) => p.conditional !== undefined && /\bOTLP\b/.test(p.conditional) && (p.variables.app ?? OTLP_APP.name) === OTLP_APP.name,
    );
    for (const p of meets) note(`panel with its condition met: ${p.dashboard} ${p.panel}`, `${p.series} series`);
    expect(meets.length).toBeGreaterThan(0);
    expect(meets.filter((p) => p.series === 0).map((p) => `${p.dashboard} ${p.panel}: ${p.expr}`)).toEqual([]);
  });

  test("the Traces datasource's links answer: from a span to its logs and to its app's metrics, as Grafana fills them in", async () => {
    const jsonData = datasources(lab).get("traces")?.jsonData as {
      tracesToLogsV2: { tags: Array<{ key: string }>; query: string };
      tracesToMetrics: { tags: Array<{ key: string }>; queries: Array<{ name: string; query: string }> };
    };
    // A trace some seconds old: the newest one's log lines may still be on their way (the SDK's batch, Alloy's, Loki's ingestion).
    const traces = await tracesOf(lab, OTLP_APP.name, 100);
    const settled = Date.now() * 1000 - 15e6;
    const trace = traces.find((t) => Math.min(...t.spans.map((s) => s.startTime)) < settled) ?? traces[traces.length - 1];
    const resource = resourceOf(trace);
    const tags = (keys: Array<{ key: string }>) => keys.map(({ key }) => `${key}="${resource[key] ?? ""}"`).join(", ");
    const logsQuery = jsonData.tracesToLogsV2.query
      .replace("${__tags}", tags(jsonData.tracesToLogsV2.tags))
      .replace("${__trace.traceId}", trace.traceID);
    const logs = await waitFor(
      "the span's log lines",
      async () => {
        const found = await logLines(lab, logsQuery);
        return found.length > 0 ? found : undefined;
      },
      20_000,
      2000,
    ).catch(() => []);
    note("span → logs (tracesToLogsV2)", `${logsQuery}: ${logs.length} lines`);
    const empty: string[] = [];
    for (const q of jsonData.tracesToMetrics.queries) {
      const expr = q.query.replace("$__tags", tags(jsonData.tracesToMetrics.tags));
      const series = (await promQuery(expr)).length;
      note(`span → metrics (tracesToMetrics: ${q.name})`, `${expr}: ${series} series`);
      if (series === 0) empty.push(expr);
    }
    expect(logs.length).toBeGreaterThan(0);
    expect(empty).toEqual([]);
  });
});

interface RuleInfo {
  name: string;
  query: string;
  duration: number;
  labels: Record<string, string>;
}

type Target = { labels: Record<string, string>; scrapePool: string; health: string; lastError: string };
async function activeTargets(): Promise<Target[]> {
  const r = JSON.parse((await httpGet(`${lab.url("prometheus")}/api/v1/targets?state=active`)).body) as PromResponse<{
    activeTargets: Target[];
  }>;
  return r.data.activeTargets;
}
const scalar = async (expr: string) => Number((await promQuery(expr))[0]?.value?.[1] ?? NaN);
const targetKey = (t: Target) => `${t.scrapePool} ${t.labels.instance}`;

/**
 * The app that explodes its series (FLOOD_APP), started with the scripted faults so that its
 * alert's 5 minutes run beside theirs: what Prometheus looked like before, and the worst seen
 * while it exploded, sampled every 5 s until the lab stops it.
 */
const flood = {
  startedAt: 0,
  headBefore: 0,
  rssBefore: 0,
  headMax: 0,
  rssMax: 0,
  /** The most series of the exploded metric Prometheus ever held. */
  stored: 0,
  /** The most other targets seen not up at once, besides those the other faults take down. */
  othersDown: [] as string[],
  /** Scrape pools the other faults take down (the stopped app, PostgreSQL's exporter). */
  faultPools: [] as string[],
  async start(faultPools: string[]): Promise<void> {
    this.faultPools = faultPools;
    this.headBefore = this.headMax = await scalar('prometheus_tsdb_head_series{job="prometheus"}');
    this.rssBefore = this.rssMax = await scalar('process_resident_memory_bytes{job="prometheus"}');
    lab.floodSeries = FLOOD_APP.explodedSeries;
    this.startedAt = Date.now();
    const sample = async () => {
      const down = (await activeTargets())
        .filter((t) => t.scrapePool !== FLOOD_APP.name && t.health !== "up" && !this.faultPools.includes(t.scrapePool))
        .map((t) => `${targetKey(t)}: ${t.health} ${t.lastError}`);
      if (down.length > this.othersDown.length) this.othersDown = down;
      this.headMax = Math.max(this.headMax, await scalar('prometheus_tsdb_head_series{job="prometheus"}'));
      this.rssMax = Math.max(this.rssMax, await scalar('process_resident_memory_bytes{job="prometheus"}'));
      this.stored = Math.max(this.stored, Number((await promQuery(`count(${FLOOD_APP.metric})`))[0]?.value?.[1] ?? 0));
    };
    lab.stack.every(5000, () => void sample().catch(() => undefined));
  },
};

/** AppDown as it was before issue 35 (rules/apps.yml at 7b93536^): any target with the app's `app` label counted as the app's. */
const APP_DOWN_BEFORE_ISSUE_35 = `(
    max by (app) (up{app!=""}) == 0
  or
    0 * max by (app) (app:slo_availability_target:ratio) unless on (app) (up{app!=""} or target_info{app!=""})
)
and on (app)
app:slo_availability_target:ratio`;

/**
 * The namesake of the app the faults stop (NAMESAKE): when the app stopped, and what Prometheus
 * held over the fault once every fault was delivered (the app still down).
 */
const borrowed = {
  stoppedAt: 0,
  /** Seconds from the stop to the sample. */
  window: 0,
  /** The namesake's target (job kubernetes-pods, its namespace): its lowest `up` over the fault, and how many scrapes. */
  namesakeUpMin: NaN,
  namesakeScrapes: 0,
  /** The app's own target's `up` at the sample. */
  ownUp: [] as string[],
  /** max by (app) (up{app="<app>"}) at its lowest over the fault: what a rule over every `app` label reads. */
  anyUpMin: NaN,
  /** Evaluations of the shipped AppDown expression that held for the app over the fault, and of the one before issue 35. */
  shippedHeld: 0,
  beforeHeld: 0,
  appDownFiring: 0,
  async sample(): Promise<void> {
    if (!this.stoppedAt) return;
    const step = durationSeconds(LAB_TIMING.evaluationInterval) ?? 2;
    this.window = Math.floor((Date.now() - this.stoppedAt) / 1000);
    const range = `[${this.window}s]`;
    const namesake = `up{job="kubernetes-pods", namespace="${NAMESAKE.namespace}", app="${NAMESAKE.app}"}`;
    this.namesakeUpMin = await scalar(`min_over_time(${namesake}${range})`);
    this.namesakeScrapes = await scalar(`count_over_time(${namesake}${range})`);
    this.ownUp = (await promQuery(`up{job="${NAMESAKE.app}"}`)).map((x) => x.value?.[1] ?? "");
    this.anyUpMin = await scalar(`min_over_time((max by (app) (up{app="${NAMESAKE.app}"}))[${this.window}s:${step}s])`);
    const rules = JSON.parse((await httpGet(`${lab.url("prometheus")}/api/v1/rules?type=alert`)).body) as PromResponse<{
      groups: Array<{ rules: Array<{ name: string; query: string }> }>;
    }>;
    const shipped = rules.data.groups.flatMap((g) => g.rules).find((r) => r.name === "AppDown")?.query ?? "absent";
    const held = async (expr: string) =>
      (await promQuery(`count_over_time((${expr})[${this.window}s:${step}s])`)).find((x) => x.metric.app === NAMESAKE.app)?.value?.[1];
    this.shippedHeld = Number((await held(shipped)) ?? 0);
    this.beforeHeld = Number((await held(APP_DOWN_BEFORE_ISSUE_35)) ?? 0);
    this.appDownFiring = (await promQuery(`ALERTS{alertname="AppDown", alertstate="firing", app="${NAMESAKE.app}"}`)).length;
  },
};

describe("scripted faults on the live lab", () => {
  test("on the healthy stack, no alert but the Watchdog fires; the contract apps' alerts are on their way, for them only", async () => {
    const contract = (s: { metric: Record<string, string> }) => CONTRACT_ALERTS.includes(`${s.metric.alertname} ${s.metric.app}`);
    const firing = await promQuery('ALERTS{alertstate="firing", alertname!="Watchdog"}');
    expect(firing.filter((s) => !contract(s)).map((s) => `${s.metric.alertname} ${JSON.stringify(s.metric)}`)).toEqual([]);
    expect((await promQuery('ALERTS{alertstate="firing", alertname="Watchdog"}')).length).toBe(1);
    // Every app has served requests for a while: only the apps that break their contract have its alerts, pending (or fired,
    // on a slow run). The counts and the alerts are evaluated once a minute, in two groups: the alerts are pending at most
    // two minutes (and a scrape) after the apps' first requests, so the check waits that long for them, no longer.
    const contractAlerts = async () =>
      (await promQuery(`ALERTS{alertname=~"${CONTRACT_APPS.map((a) => a.alert).join("|")}"}`))
        .map((s) => `${s.metric.alertname} ${s.metric.app}`)
        .sort();
    const checks = await waitFor(
      "the contract apps' alerts pending",
      async () => {
        const now = await contractAlerts();
        return now.length >= CONTRACT_ALERTS.length ? now : undefined;
      },
      2 * 60_000 + 10_000,
      2000,
    ).catch(() => contractAlerts());
    expect(checks).toEqual(CONTRACT_ALERTS);
  });

  test("every configured database has its exporter-missing alert, inactive, and Loki's volume alert is inactive, not even pending", async () => {
    // Their `for` (10m, 15m) is longer than the lab runs: firing alone would prove nothing.
    const rules = JSON.parse((await httpGet(`${lab.url("prometheus")}/api/v1/rules?type=alert`)).body) as PromResponse<{
      groups: Array<{ rules: Array<{ name: string; query: string; state: string }> }>;
    }>;
    const missing = rules.data.groups.flatMap((g) => g.rules).filter((r) => r.name === "DatabaseExporterMissing");
    expect(missing).toHaveLength(lab.config.databases.length);
    for (const db of lab.config.databases) {
      const rule = missing.find((r) => r.query.includes(`database="${db.name}"`) && r.query.includes(`job="${db.type}-exporter"`));
      expect({ database: db.name, state: rule?.state }).toEqual({ database: db.name, state: "inactive" });
    }
    const active = await promQuery('ALERTS{alertname=~"DatabaseExporterMissing|LokiVolumeAlmostFull"}');
    expect(active.map((s) => `${s.metric.alertname} ${s.metric.alertstate} ${JSON.stringify(s.metric)}`)).toEqual([]);
    expect((await promQuery('loki_ingester_wal_disk_usage_percent{job="loki"}')).length).toBe(1);
  });

  test("an app down (its namesake elsewhere up), a 5xx burst, a database lost and a filesystem filling up each reach the critical receiver; a target exploding its series and the apps breaking their contract the warning one; within the bound", async () => {
    const rules = JSON.parse((await httpGet(`${lab.url("prometheus")}/api/v1/rules?type=alert`)).body) as PromResponse<{
      groups: Array<{ interval: number; rules: RuleInfo[] }>;
    }>;
    const evaluation = durationSeconds(LAB_TIMING.evaluationInterval) ?? 2;
    const scrape = durationSeconds(LAB_TIMING.scrapeInterval) ?? 2;
    const groupWait = durationSeconds(LAB_TIMING.groupWait) ?? 1;
    /** The shortest `for` of the rules of that name and severity: a fault that meets every window fires that one first. */
    const forOf = (alert: string, severity = "critical") =>
      Math.min(
        ...rules.data.groups
          .flatMap((g) => g.rules)
          .filter((r) => r.name === alert && r.labels.severity === severity)
          .map((r) => r.duration),
      );
    /** The longest interval of the groups that evaluate the rules of that name and severity (a group once a minute: 60). */
    const everyOf = (alert: string, severity = "critical") =>
      Math.max(
        evaluation,
        ...rules.data.groups.filter((g) => g.rules.some((r) => r.name === alert && r.labels.severity === severity)).map((g) => g.interval),
      );
    // Next scrape sees the fault; the next evaluation of the alert's group makes it pending; `for` later the
    // evaluation that fires; Alertmanager holds a new group for group_wait. A rate-based signal
    // also needs its window to turn: `settle` seconds the fault itself takes to show.
    const bound = (alert: string, settle = 0, severity = "critical") =>
      scrape + everyOf(alert, severity) + forOf(alert, severity) + everyOf(alert, severity) + groupWait + settle + SLACK_SECONDS;
    /**
     * How long a burst of errors takes to show in both windows of the page it raises (the critical
     * AppErrorBudgetBurn: its labels name the windows, its query the burn factor). An error ratio
     * over a window of w seconds is the raw counters' rate over it, which holds min(w, history)
     * seconds of the app's requests: a burst at ratio r passes the threshold k (the factor times
     * the app's error budget) once r t / (min(w, history) + t) > k, t = min(w, history) k / (r - k).
     * Then one scrape and one evaluation to be seen. `history` runs from Prometheus' start.
     */
    const burstSettle = (appName: string) => {
      const page = rules.data.groups
        .flatMap((g) => g.rules)
        .find((r) => r.name === "AppErrorBudgetBurn" && r.labels.severity === "critical" && r.labels.long_window === "1h");
      const factor = Number(/\(([\d.]+) \* \(1 - app:slo_availability_target:ratio\)\)/.exec(page?.query ?? "")?.[1]);
      const objective = lab.config.apps.find((a) => a.name === appName)?.slo.availabilityRatio;
      if (!page || !Number.isFinite(factor) || objective === undefined)
        throw new Error(`no 14.4x page for ${appName}: rule ${page?.query ?? "absent"}, objective ${objective}`);
      const k = factor * (1 - objective);
      const history = (Date.now() - lab.prometheusReadyAt) / 1000;
      const crossing = (window: string) => (Math.min(durationSeconds(window) ?? 0, history) * k) / (BURST_ERROR_RATIO - k);
      const [short, long] = [crossing(page.labels.short_window), crossing(page.labels.long_window)];
      process.stderr.write(
        `5xx burst on ${appName}: threshold ${(k * 100).toFixed(3)} %, ${history.toFixed(0)} s of history; crossing the ${page.labels.short_window} and ${page.labels.long_window} windows after ${short.toFixed(1)} and ${long.toFixed(1)} s\n`,
      );
      return Math.ceil(Math.max(short, long) + scrape + evaluation);
    };

    // web: the app whose namesake runs in another namespace (NAMESAKE).
    const web = lab.apps.get(NAMESAKE.app);
    const api = [...lab.apps.values()].find(({ app }) => app.sendsContentType);
    if (!web || !api || web === api) throw new Error("the lab has no two apps");
    const { mountPoint } = lab.mountFilesystem();
    // Let node-exporter report the new filesystem healthy before it fills.
    await waitFor(
      "the lab filesystem in node-exporter",
      async () => ((await promQuery(`node_filesystem_size_bytes{mountpoint="${mountPoint}"}`)).length ? true : undefined),
      30_000,
      1000,
    );

    /**
     * Each fault's alert, the text its message names (the culprit, and what else it must say), and
     * the receiver it reaches: the critical one unless it says (the warning one is the sink's
     * `monitoring`). A fault present from the start (`since`) counts its time from then.
     */
    const faults: Array<{
      fault: string;
      alert: string;
      culprit: string;
      mentions?: string[];
      settle?: number;
      severity?: "warning";
      since?: number;
      start: () => Promise<void>;
    }> = [
      {
        fault: `app ${web.target.name} down, its namesake in ${NAMESAKE.namespace} up`,
        alert: "AppDown",
        culprit: web.target.name,
        start: async () => {
          await web.server.stop();
          borrowed.stoppedAt = Date.now();
        },
      },
      {
        fault: `app ${api.target.name} answers ${BURST_ERROR_RATIO * 100} % of its requests with 5xx`,
        alert: "AppErrorBudgetBurn",
        culprit: api.target.name,
        settle: burstSettle(api.target.name),
        start: async () => {
          api.app.errorRatio = BURST_ERROR_RATIO;
        },
      },
      {
        fault: "PostgreSQL stopped under its exporter",
        alert: "PostgresDown",
        culprit: "shop-postgres",
        start: () => lab.postgres.proc.stop(),
      },
      {
        fault: `filesystem ${mountPoint} filled to 98 %`,
        alert: "NodeFilesystemAlmostFull",
        culprit: mountPoint,
        start: async () => {
          const free = Number(execFileSync("df", ["--output=avail", "-B1", mountPoint], { encoding: "utf8" }).split("\n")[1]);
          const size = Number(execFileSync("df", ["--output=size", "-B1", mountPoint], { encoding: "utf8" }).split("\n")[1]);
          execFileSync("fallocate", ["-l", String(Math.floor(free - 0.02 * size)), path.join(mountPoint, "fill")]);
        },
      },
    ];
    faults.push({
      fault: `app ${FLOOD_APP.name} serves ${FLOOD_APP.explodedSeries} series over its sample limit of ${FLOOD_APP.sampleLimit}`,
      alert: "PrometheusScrapeLimitHit",
      // Its labels are Prometheus' own (job="prometheus"): the message names no target.
      culprit: "",
      severity: "warning",
      start: () => flood.start([web.target.name, "postgres-exporter"]),
    });
    // The apps that break their contract have done so since Prometheus started: their alerts'
    // 15 minutes run from then, beside the faults' own waits. The recorded counts come first, once a
    // minute as the alerts (app-contract-every-minute beside apps-every-minute: the same interval).
    for (const a of CONTRACT_APPS) {
      const index = lab.config.apps.findIndex((x) => x.name === a.name);
      const says = lab.config.apps[index]?.metrics[a.key];
      faults.push({
        fault: `app ${a.name} serves its ${a.key} as ${a.serves[a.key as keyof typeof a.serves]}, its apps[] entry says ${says} (since Prometheus started)`,
        alert: a.alert,
        culprit: a.name,
        mentions: [`monitoring:apps[${index}].metrics.${a.key}`],
        settle: everyOf(a.alert, "warning"),
        severity: "warning",
        since: lab.prometheusReadyAt,
        start: async () => undefined,
      });
    }
    const channelOf = (f: (typeof faults)[number]) => (f.severity === "warning" ? "monitoring" : "critical");
    const started = new Map<string, number>();
    for (const f of faults) {
      await f.start();
      started.set(f.fault, f.since ?? Date.now());
    }
    const lastDue = Math.max(...faults.map((f) => (started.get(f.fault) ?? 0) + bound(f.alert, f.settle, f.severity) * 1000));
    const delivered = (f: (typeof faults)[number]) =>
      lab.messages.find((m) => {
        const embed = m.body.embeds?.[0];
        const text = `${embed?.title ?? ""} ${embed?.description ?? ""}`;
        return (
          m.channel === channelOf(f) &&
          (embed?.title ?? "").startsWith("[FIRING") &&
          text.includes(f.alert) &&
          [f.culprit, ...(f.mentions ?? [])].every((t) => text.includes(t))
        );
      });
    await waitFor(
      "every fault delivered",
      async () => (faults.every((f) => delivered(f)) ? true : undefined),
      lastDue - Date.now() + 60_000,
      1000,
    ).catch(() => undefined);
    // The namesake while web is still down: what the old rule would have read.
    await borrowed.sample();
    for (const f of faults) {
      const message = delivered(f);
      const after = message ? (message.receivedAt - (started.get(f.fault) ?? 0)) / 1000 : undefined;
      report.faults.push({
        fault: f.fault,
        alert: f.alert,
        receiver: channelOf(f) === "critical" ? "critical" : "warning",
        firedAfterSeconds: after,
        boundSeconds: bound(f.alert, f.settle, f.severity),
        delivered: message !== undefined,
      });
    }
    const problems = report.faults.filter((f) => !f.delivered || (f.firedAfterSeconds ?? Infinity) > f.boundSeconds);
    expect(
      problems.map(
        (p) =>
          `${p.fault}: ${p.alert} ${p.delivered ? `after ${p.firedAfterSeconds?.toFixed(1)} s, bound ${p.boundSeconds} s` : "not delivered"}`,
      ),
    ).toEqual([]);
  });

  test("the target that exploded its series (issue 32): its scrapes dropped at its sample limit, none of its series stored, every other target up, Prometheus' series and memory bounded", async () => {
    if (!flood.startedAt) throw new Error("the flood did not start: the scripted faults' test failed before it");
    const now = await activeTargets();
    const target = now.find((t) => t.scrapePool === FLOOD_APP.name);
    const exceeded = await scalar('prometheus_target_scrapes_exceeded_sample_limit_total{job="prometheus"}');
    const up = (await promQuery(`up{job="${FLOOD_APP.name}"}`)).map((x) => x.value?.[1]);
    const delivered = report.faults.find((f) => f.alert === "PrometheusScrapeLimitHit");
    report.scrapeLimit = {
      "sample limit (apps[].limits.sampleLimit)": FLOOD_APP.sampleLimit,
      "series served once exploded": FLOOD_APP.explodedSeries,
      "exploding for (s)": ((Date.now() - flood.startedAt) / 1000).toFixed(0),
      "its target": `${target?.health ?? "missing"}: ${target?.lastError ?? ""}`,
      "scrapes refused (prometheus_target_scrapes_exceeded_sample_limit_total)": exceeded,
      "other targets not up at once, besides the other faults' (web, postgres-exporter)": flood.othersDown.join("; ") || "none",
      "head series before / highest after": `${flood.headBefore} / ${flood.headMax}`,
      "Prometheus RSS before / highest after (MiB)": `${(flood.rssBefore / 2 ** 20).toFixed(0)} / ${(flood.rssMax / 2 ** 20).toFixed(0)}`,
      "series of the exploded metric stored, at most": flood.stored,
      "PrometheusScrapeLimitHit delivered after (s), bound (s)": `${delivered?.firedAfterSeconds?.toFixed(1) ?? "not delivered"}, ${delivered?.boundSeconds}`,
    };
    lab.floodSeries = 0;
    expect({ health: target?.health, error: target?.lastError, up }).toEqual({ health: "down", error: "sample limit exceeded", up: ["0"] });
    // Every 2 s scrape of it refused since it exploded, give or take the first and the last.
    expect(exceeded).toBeGreaterThan((Date.now() - flood.startedAt) / 1000 / (durationSeconds(LAB_TIMING.scrapeInterval) ?? 2) / 2);
    expect(flood.othersDown).toEqual([]);
    // None of the exploded series is stored, so the head never takes the thousands served.
    expect(flood.stored).toBe(0);
    expect(flood.headMax - flood.headBefore).toBeLessThan(FLOOD_APP.explodedSeries);
    expect(delivered?.delivered).toBe(true);
  });
  test("identity cannot be borrowed (issue 35): while the app is down, its namesake in another namespace is up, and AppDown still fires for the app alone", async () => {
    if (!borrowed.stoppedAt) throw new Error("the app was not stopped: the scripted faults' test failed before it");
    const delivered = report.faults.find((f) => f.alert === "AppDown");
    const scrape = durationSeconds(LAB_TIMING.scrapeInterval) ?? 2;
    report.borrowed = {
      "the namesake": `pod ${lab.namesake.pod} in ${NAMESAKE.namespace}, labelled app: ${NAMESAKE.app}, annotated prometheus.io/scrape`,
      "seconds since the app stopped": borrowed.window,
      "the app's own target: up (job web)": borrowed.ownUp.join(", ") || "none",
      "the namesake's up, lowest over the fault (job kubernetes-pods)": borrowed.namesakeUpMin,
      "the namesake's scrapes over the fault": borrowed.namesakeScrapes,
      [`max by (app) (up{app="${NAMESAKE.app}"}), lowest over the fault`]: borrowed.anyUpMin,
      "evaluations where the shipped AppDown held for the app": borrowed.shippedHeld,
      "evaluations where AppDown before issue 35 held for the app": borrowed.beforeHeld,
      "AppDown firing for the app at the sample": borrowed.appDownFiring,
      "AppDown delivered after (s), bound (s)": `${delivered?.firedAfterSeconds?.toFixed(1) ?? "not delivered"}, ${delivered?.boundSeconds}`,
    };
    expect(delivered?.delivered).toBe(true);
    expect({ own: borrowed.ownUp, firing: borrowed.appDownFiring }).toEqual({ own: ["0"], firing: 1 });
    // The namesake was scraped and up all along: a rule that took any target labelled app="web" for the app's
    // (max by (app) (up)) read 1 throughout, and the rule before issue 35 never held.
    expect(borrowed.namesakeUpMin).toBe(1);
    expect(borrowed.namesakeScrapes).toBeGreaterThan(borrowed.window / scrape / 2);
    expect(borrowed.anyUpMin).toBe(1);
    expect(borrowed.beforeHeld).toBe(0);
    expect(borrowed.shippedHeld).toBeGreaterThan(0);
  });

  test("the app contract checks itself (issue 35): each app that breaks it has its alert at the warning receiver, naming the app and its config key; no other app has either", async () => {
    const alerts: string[] = CONTRACT_APPS.map((a) => a.alert);
    const active = await promQuery(`ALERTS{alertname=~"${alerts.join("|")}"}`);
    /** The first value of `expr` now, "absent" when it has none. */
    const value = async (expr: string) => (await promQuery(expr))[0]?.value?.[1] ?? "absent";
    const recorded = (record: string, app: string) => value(`${record}{app="${app}"}`);
    // The apps each message lists (its `where:` lines), by alert.
    const messaged = new Map<string, Set<string>>();
    for (const m of lab.messages) {
      const embed = m.body.embeds?.[0];
      const alert = alerts.find((a) => (embed?.title ?? "").includes(a));
      if (!alert || !(embed?.title ?? "").startsWith("[FIRING")) continue;
      for (const [, app] of (embed?.description ?? "").matchAll(/where: .*\bapp=([a-z0-9-]+)/g))
        messaged.set(alert, new Set([...(messaged.get(alert) ?? []), app]));
    }
    report.contract = {
      "alerts active (alertname app state)": active.map((s) => `${s.metric.alertname} ${s.metric.app} ${s.metric.alertstate}`).join("; "),
      "apps the warning messages name": [...messaged].map(([a, apps]) => `${a}: ${[...apps].join(", ")}`).join("; "),
    };
    for (const a of CONTRACT_APPS) {
      const f = report.faults.find((x) => x.alert === a.alert);
      report.contract[`${a.alert} for ${a.name}: delivered after (s, since Prometheus started), bound (s)`] =
        `${f?.firedAfterSeconds?.toFixed(1) ?? "not delivered"}, ${f?.boundSeconds}`;
      report.contract[`${a.name}: series of its request metric / with its status label / of its histogram`] = [
        await recorded("app:contract_requests:count", a.name),
        await recorded("app:contract_requests_with_status:count", a.name),
        await recorded("app:contract_duration_histograms:count", a.name),
      ].join(" / ");
      // What resets a `for` of 15 minutes: a scrape of the app that failed (its series stale, the count absent at one
      // evaluation) or an evaluation of the contract's group missed. The alert's pending state gives when it last began.
      const since = `${Math.max(1, Math.ceil((Date.now() - lab.prometheusReadyAt) / 1000))}s`;
      const activeAt = Number(await value(`ALERTS_FOR_STATE{alertname="${a.alert}", app="${a.name}"}`));
      report.contract[`${a.name}: scrapes failed / of, slowest scrape (s), ${a.alert} active since (s after Prometheus started)`] = [
        `${await value(`count_over_time(up{job="${a.name}"}[${since}]) - sum_over_time(up{job="${a.name}"}[${since}])`)} / ${await value(`count_over_time(up{job="${a.name}"}[${since}])`)}`,
        await value(`max_over_time(scrape_duration_seconds{job="${a.name}"}[${since}])`),
        Number.isFinite(activeAt) ? (activeAt - lab.prometheusReadyAt / 1000).toFixed(1) : "absent",
      ].join(", ");
    }
    report.contract["evaluations of the app contract's groups missed"] = await value(
      `sum(prometheus_rule_group_iterations_missed_total{rule_group=~".*;app-contract.*"})`,
    );
    expect(report.faults.filter((f) => alerts.includes(f.alert)).map((f) => `${f.alert} ${f.delivered}`)).toEqual(
      CONTRACT_APPS.map((a) => `${a.alert} true`),
    );
    expect(active.map((s) => `${s.metric.alertname} ${s.metric.app} ${s.metric.alertstate}`).sort()).toEqual(
      CONTRACT_APPS.map((a) => `${a.alert} ${a.name} firing`).sort(),
    );
    expect(Object.fromEntries([...messaged].map(([a, apps]) => [a, [...apps]]))).toEqual(
      Object.fromEntries(CONTRACT_APPS.map((a) => [a.alert, [a.name]])),
    );
  });
});
