/**
 * The alert rules under rules/: the house style of every alert (kube-prometheus
 * conventions), runbooks, PromQL parsed with Prometheus' grammar, every metric known to
 * the catalogue, and the catalogue itself pinned to the images the stack runs. promtool's
 * own checks and unit tests run in test/e2e/rules.test.ts.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { databaseExporterRules } from "../../components/prometheus/rules/database-rules";
import { LOADED_RECORD, operatorLoadedRules } from "../../components/prometheus/rules/operator-rules";
import { backupRules } from "../../components/prometheus/rules/rule-files";
import { ImageName, imageVersion } from "../../components/images";
import { CATALOG_DIR, loadCatalog } from "../../cli/catalog";
import { promqlMetricNames, promqlProblem } from "../../cli/promql";
import { logqlRuleProblems } from "../../cli/logql-rules";
import { EVENTS_JOB } from "../../components/log-collector/events";
import { loadDashboards, walkPanels, type JsonObject } from "../../cli/dashboards/files";
import { substituteVariables } from "../../cli/dashboards/queries";
import { durationSeconds } from "../../components/kit/units";
import { THRESHOLD_NAMES, THRESHOLD_SPECS } from "../../components/prometheus/rules/thresholds";
import { appRuleFiles } from "../../components/prometheus/rules/rule-files";
import { appRecordingRules } from "../../components/prometheus/rules/app-rules";
import { app, shop } from "../support/apps";
import { POD_CGROUP_LABEL, kubeletJob } from "../../components/prometheus/scrape-jobs";
import { JOURNAL_JOB } from "../../components/log-collector/journal";
import {
  AlertRule,
  RULES_DIR,
  RuleGroup,
  allRules,
  alertRules,
  expectedAlertMatchesRule,
  loadRuleFile,
  loadRuleFiles,
  loadRuleTestFiles,
  parseDuration,
  recordedMetricNames,
  ruleFilePaths,
  ruleTestFilePaths,
  runbookSections,
  runbookRef,
} from "../support/rules";

/** The areas this repository ships rules for: rules/<area>.yml, tested by test/rules/<area>.test.yml. */
const AREAS = ["apps", "backup", "databases", "kubernetes", "logs", "nodes", "probes", "slo", "stack", "traefik", "tracing"];
const SEVERITIES = new Set(["critical", "warning", "info"]);
const REQUIRED_ANNOTATIONS = ["summary", "description", "runbook"];
const WATCHDOG = "Watchdog";
/** PascalCase: capitalised words, acronyms included (Tsdb, not TSDB). */
const PASCAL_CASE = /^(?:[A-Z][a-z0-9]+)+$/;

/** Catalogue files that describe an image pinned in components/images.ts. */
const PINNED_CATALOGUES: Record<string, ImageName> = {
  "node-exporter": "nodeExporter",
  "kube-state-metrics": "kubeStateMetrics",
  "postgres-exporter": "postgresExporter",
  "redis-exporter": "redisExporter",
  "mongodb-exporter": "mongodbExporter",
  prometheus: "prometheus",
  alertmanager: "alertmanager",
  loki: "loki",
  alloy: "alloy",
  jaeger: "jaeger",
  "span-metrics": "alloy",
  cloudflared: "cloudflared",
  "blackbox-exporter": "blackboxExporter",
};
/** The other catalogue files this suite relies on. */
const UNPINNED_CATALOGUES = ["kubelet", "app-contract", "backup"];

const ruleFiles = loadRuleFiles();
const rules = allRules(ruleFiles);
const alerts = alertRules(ruleFiles);
const ruleTestFiles = loadRuleTestFiles();

/**
 * The alerts the program generates from the config (components/prometheus/rules/database-rules.ts), as a
 * stack with one database of each type gets them: held to the same house style and runbooks
 * as rules/ (their promtool unit tests are in test/e2e/database-rules.test.ts).
 */
function generatedAlerts(): AlertRule[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "generated-rules-"));
  try {
    const file = path.join(dir, "databases.rules.yml");
    const databases = (["postgres", "redis", "mongodb"] as const).map((type) => ({ name: `shop-${type}`, type }));
    fs.writeFileSync(file, YAML.stringify(databaseExporterRules(databases, "15s", "monitoring")));
    // The record of the PrometheusRules loaded (monitors), with one object: its alert, PrometheusRuleNotLoaded.
    const operator = path.join(dir, "operator-rules-loaded.yml");
    fs.writeFileSync(operator, operatorLoadedRules([{ namespace: "shop", name: "r", generation: 1, spec: {} }]));
    return alertRules([loadRuleFile(file), loadRuleFile(operator)]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
const generated = generatedAlerts();

/** The shipped LogQL alerting rules (rules/logs/*.yml), evaluated by Loki's ruler: same house style and runbooks. */
const LOG_RULES_DIR = path.join(RULES_DIR, "logs");
const logAlerts = alertRules(
  fs
    .readdirSync(LOG_RULES_DIR)
    .filter((f) => f.endsWith(".yml"))
    .sort()
    .map((f) => loadRuleFile(path.join(LOG_RULES_DIR, f))),
);

const ruleName = (r: AlertRule): string => `${r.file}: ${r.alert}${r.labels.severity ? ` (${r.labels.severity})` : ""}`;

describe("rule files", () => {
  test("every area has its rule file and its promtool unit tests", () => {
    const present = new Set(ruleFiles.map((f) => f.file));
    const tests = new Set(ruleTestFilePaths().map((p) => path.basename(p)));
    const missing = AREAS.flatMap((a) => [
      ...(present.has(`${a}.yml`) ? [] : [`rules/${a}.yml`]),
      ...(tests.has(`${a}.test.yml`) ? [] : [`test/rules/${a}.test.yml`]),
    ]);
    expect(missing).toEqual([]);
  });

  test("every rule file is loaded by a unit-test file, and every file a test loads exists", () => {
    const tested = new Set(ruleTestFiles.flatMap((t) => t.ruleFiles));
    const untested = ruleFilePaths()
      .filter((p) => !tested.has(p))
      .map((p) => path.relative(RULES_DIR, p));
    const dangling = ruleTestFiles.flatMap((t) => t.ruleFiles.filter((p) => !fs.existsSync(p)).map((p) => `${t.file} -> ${p}`));
    expect({ untested, dangling }).toEqual({ untested: [], dangling: [] });
  });
});

describe("alerts", () => {
  test("every alert has a PascalCase name, a severity, a for, and summary, description and runbook of the right form, and no runbook_url", () => {
    const problems: string[] = [];
    expect(generated.length).toBe(4);
    for (const a of [...alerts, ...generated]) {
      const at = ruleName(a);
      if (!PASCAL_CASE.test(a.alert)) problems.push(`${at}: name is not PascalCase`);
      if (!SEVERITIES.has(a.labels.severity ?? "")) problems.push(`${at}: severity must be one of ${[...SEVERITIES].join(", ")}`);
      for (const key of REQUIRED_ANNOTATIONS) if (!a.annotations[key]) problems.push(`${at}: no ${key} annotation`);
      const { summary, description, runbook } = a.annotations;
      if (summary && (summary.includes("{{") || summary.includes("\n"))) problems.push(`${at}: summary must be one fixed line`);
      if (description && !description.includes("{{")) problems.push(`${at}: description is not templated`);
      if (description && a.alert !== WATCHDOG && !description.includes("$labels.")) {
        problems.push(`${at}: description names no culprit from the labels`);
      }
      if (runbook !== undefined && runbook !== runbookRef(a.alert)) problems.push(`${at}: runbook must be ${runbookRef(a.alert)}`);
      // Links are added when shipping, only where prometheus.runbookBaseUrl says the runbooks are published.
      if (a.annotations.runbook_url !== undefined) problems.push(`${at}: no runbook_url in rules/ (set prometheus.runbookBaseUrl)`);
      if (a.alert === WATCHDOG) {
        if (a.for !== undefined) problems.push(`${at}: the Watchdog fires at once, without a for`);
      } else if (a.for === undefined) {
        problems.push(`${at}: no for`);
      } else if (parseDuration(a.for) <= 0) {
        problems.push(`${at}: for must be positive`);
      }
    }
    expect(problems).toEqual([]);
  });

  test("the Watchdog is the only alert routed to the dead man's switch", () => {
    const watchdogs = alerts.filter((a) => a.alert === WATCHDOG);
    expect(watchdogs.map((a) => a.labels)).toEqual([{ severity: "info", watchdog: "true" }]);
    expect(alerts.filter((a) => a.alert !== WATCHDOG && "watchdog" in a.labels).map(ruleName)).toEqual([]);
  });

  test("alert names are unique across files, and rules sharing a name differ in their labels", () => {
    const filesByName = new Map<string, Set<string>>();
    const seen = new Set<string>();
    const duplicates: string[] = [];
    for (const a of alerts) {
      filesByName.set(a.alert, (filesByName.get(a.alert) ?? new Set()).add(a.file));
      const key = `${a.alert} ${JSON.stringify(Object.entries(a.labels).sort())}`;
      if (seen.has(key)) duplicates.push(`${ruleName(a)}: same name and labels as another rule`);
      seen.add(key);
    }
    for (const g of generated)
      if (filesByName.has(g.alert)) duplicates.push(`${g.alert}: generated, and in ${[...(filesByName.get(g.alert) ?? [])].join(", ")}`);
    for (const [name, files] of filesByName) if (files.size > 1) duplicates.push(`${name}: in ${[...files].join(", ")}`);
    expect(duplicates).toEqual([]);
  });

  test("every alert has a runbook section, and every runbook section an alert", () => {
    const sections = runbookSections();
    const names = new Set([...alerts, ...generated, ...logAlerts].map((a) => a.alert));
    expect({
      withoutRunbook: [...names].filter((n) => !sections.has(n)),
      withoutAlert: [...sections].filter((s) => !names.has(s)),
    }).toEqual({ withoutRunbook: [], withoutAlert: [] });
  });

  test("every alert is unit-tested absent one evaluation before it fires, with full labels and annotations", () => {
    const problems: string[] = [];
    for (const a of alerts) {
      const rulePath = path.join(RULES_DIR, a.file);
      let firing = false;
      let boundary = false;
      for (const tf of ruleTestFiles.filter((t) => t.ruleFiles.includes(rulePath))) {
        for (const group of tf.tests) {
          const cases = group.alertTests.filter((c) => c.alertname === a.alert);
          const firesAt = (t: number) => cases.some((c) => c.evalTime === t && c.expAlerts.some((e) => expectedAlertMatchesRule(e, a)));
          const absentAt = (t: number) => cases.some((c) => c.evalTime === t && !c.expAlerts.some((e) => expectedAlertMatchesRule(e, a)));
          for (const c of cases) {
            if (!firesAt(c.evalTime)) continue;
            firing = true;
            if (absentAt(c.evalTime - tf.evaluationInterval)) boundary = true;
          }
        }
      }
      if (!firing) problems.push(`${ruleName(a)}: no unit test where it fires`);
      else if (a.for !== undefined && !boundary) {
        problems.push(`${ruleName(a)}: no unit test where it is absent one evaluation before it fires (its for boundary)`);
      }
    }
    for (const tf of ruleTestFiles) {
      for (const group of tf.tests) {
        for (const c of group.alertTests) {
          for (const e of c.expAlerts) {
            const missing = REQUIRED_ANNOTATIONS.filter((k) => !(k in e.annotations));
            if (!e.labels.severity || missing.length > 0) {
              problems.push(
                `${tf.file} tests[${group.index}] ${c.alertname}: expected alerts need severity and ${REQUIRED_ANNOTATIONS.join(", ")}`,
              );
            }
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe("PromQL", () => {
  test("every expression parses with Prometheus' own grammar", () => {
    const problems = [...rules, ...generated].flatMap((r) => {
      const p = promqlProblem(r.expr);
      return p ? [`${r.file}: ${r.kind === "alert" ? r.alert : r.record}: error at offset ${p.at} in ${r.expr}`] : [];
    });
    expect(problems).toEqual([]);
  });

  test("every metric a rule reads is in the catalogue or recorded by a rule", () => {
    const catalog = loadCatalog();
    // The generated record of the PrometheusRules loaded is written beside the alert that reads it; the
    // backups' longest wait (BackupTooOld) is generated from backup.schedule (backups.rules.yml).
    const backupRecords = (
      backupRules("monitoring", "staging", 86400, "15s").groups as Array<{ rules: Array<{ record: string }> }>
    ).flatMap((g) => g.rules.map((r) => r.record));
    const recorded = new Set([...recordedMetricNames(ruleFiles), LOADED_RECORD, ...backupRecords]);
    const unknown = [...rules, ...generated].flatMap((r) =>
      promqlMetricNames(r.expr)
        .filter((m) => !catalog.has(m) && !recorded.has(m))
        .map((m) => `${r.file}: ${r.kind === "alert" ? r.alert : r.record}: ${m}`),
    );
    expect(unknown).toEqual([]);
  });

  /**
   * A pod's own cgroup is selected by the label the cadvisor job gives it as Prometheus stores the series
   * (components/prometheus/scrape-jobs.ts, POD_CGROUP_LABEL; test/e2e/cadvisor-cgroup.test.ts runs the job), never
   * by a matcher on `id`, which Prometheus tests against the `id` of every cgroup in its head at each evaluation.
   */
  test("a rule reading a pod's own cgroup selects the label the cadvisor job sets, and none matches on id", () => {
    const label = `${POD_CGROUP_LABEL.name}="${POD_CGROUP_LABEL.value}"`;
    const relabel = kubeletJob("cadvisor", "/metrics/cadvisor").metric_relabel_configs ?? [];
    expect(relabel.filter((c) => c.target_label === POD_CGROUP_LABEL.name && c.replacement === POD_CGROUP_LABEL.value)).toHaveLength(1);
    expect(kubeletJob("kubelet", "/metrics").metric_relabel_configs).toBeUndefined();
    const named = (r: (typeof rules)[number]) => `${r.file}: ${r.kind === "alert" ? r.alert : r.record}`;
    const cgroupMatchers = (expr: string) => [
      ...expr.matchAll(new RegExp(`[{,]\\s*${POD_CGROUP_LABEL.name}\\s*(=~|!~|!=|=)\\s*"([^"]*)"`, "g")),
    ];
    const readers = rules.filter((r) => cgroupMatchers(r.expr).length > 0);
    expect(readers.map(named)).toEqual([
      "kubernetes.yml: node_namespace_pod:container_cpu_usage_seconds:rate5m",
      "kubernetes.yml: node_namespace_pod:container_memory_working_set_bytes:sum",
      "kubernetes.yml: namespace_pod:container_cpu_cfs_throttled_periods:rate5m",
      "kubernetes.yml: namespace_pod:container_cpu_cfs_periods:rate5m",
    ]);
    expect(
      readers.flatMap((r) => cgroupMatchers(r.expr).map((m) => `${m[1]}"${m[2]}"`)).filter((m) => m !== `="${POD_CGROUP_LABEL.value}"`),
    ).toEqual([]);
    expect(readers.filter((r) => !r.expr.includes(label)).map(named)).toEqual([]);
    const onId = (expr: string) => /[{,]\s*id\s*(=~|!~|!=|=)\s*"/.test(expr);
    expect([...rules, ...generated].filter((r) => onId(r.expr)).map(named)).toEqual([]);
    // The check sees a matcher on id, and a cgroup matcher other than the label's.
    expect(onId('rate(container_cpu_usage_seconds_total{job="cadvisor", id=~".*[/-]pod[^/]+"}[5m])')).toBe(true);
    expect(cgroupMatchers('x{job="cadvisor", cgroup!=""}').map((m) => m[1])).toEqual(["!="]);
  });

  test("a rule reading a recorded series comes after its recording rule, in the same group", () => {
    // Groups are evaluated independently (and in random order by promtool unless told):
    // only within a group do rules run in order, each seeing the previous ones' results.
    const recorded = recordedMetricNames(ruleFiles);
    const problems: string[] = [];
    for (const file of ruleFiles) {
      for (const group of file.groups) {
        const before = new Set<string>();
        for (const r of group.rules) {
          for (const m of promqlMetricNames(r.expr)) {
            if (recorded.has(m) && !before.has(m)) {
              problems.push(`${file.file}: ${group.name}: ${r.kind === "alert" ? r.alert : r.record} reads ${m} before it is recorded`);
            }
          }
          if (r.kind === "record") before.add(r.record);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

/**
 * What is wrong with the groups of `files` that set an interval of their own (evaluated less often than the
 * stack's evaluation interval, 15 s). Such a group holds recordings, alerts, or both (the recordings first, as in any group):
 * - recordings that no rule reads but rules evaluated as seldom, its own or another group's (an alert or a recording
 *   evaluated more often would wait for them; a recording as seldom is itself such a recording, its readers held in
 *   turn), and every dashboard panel whose range queries read one of them steps by the group's interval at least (its
 *   min interval), or it draws the same value several times over;
 * - alerts that may fire an interval late (WAITS_FOR_AN_INTERVAL): warnings and infos whose `for` is 15 intervals
 *   at least, and whose `for` and severity no stack setting changes (components/prometheus/rules/thresholds.ts).
 */
function ownIntervalProblems(files: typeof ruleFiles, dashboards: Array<{ relPath: string; dashboard?: JsonObject }>): string[] {
  const problems: string[] = [];
  const readers = allRules(files);
  const seconds = (g: { interval?: string }) => durationSeconds(g.interval ?? "") ?? EVALUATION_SECONDS;
  const intervals = new Map(files.flatMap((f) => f.groups.map((g) => [`${f.file}\u0000${g.name}`, seconds(g)])));
  const everyOf = (r: (typeof readers)[number]) => intervals.get(`${r.file}\u0000${r.group}`) ?? EVALUATION_SECONDS;
  for (const file of files) {
    for (const group of file.groups.filter((g) => seconds(g) > EVALUATION_SECONDS)) {
      const where = `${file.file}: ${group.name} (interval ${group.interval})`;
      const every = seconds(group);
      const records = new Set(group.rules.flatMap((r) => (r.kind === "record" ? [r.record] : [])));
      const groupAlerts = group.rules.flatMap((r) => (r.kind === "alert" ? [r] : []));
      for (const r of groupAlerts) {
        const why = lateAlertProblem(r, every);
        if (why) problems.push(`${where}: holds the alert ${r.alert}, ${why}`);
      }
      for (const r of readers) {
        const read = promqlMetricNames(r.expr).filter((m) => records.has(m));
        if (everyOf(r) >= every) continue;
        if (read.length > 0) problems.push(`${where}: ${r.kind === "alert" ? r.alert : r.record} reads ${read.join(", ")}`);
      }
      for (const { relPath, dashboard } of dashboards) {
        for (const { panel, where: at } of dashboard ? walkPanels(dashboard) : []) {
          // Range queries only: an instant query reads the last value recorded, however old the step.
          const exprs = (Array.isArray(panel.targets) ? (panel.targets as JsonObject[]) : [])
            .filter((t) => t.instant !== true)
            .map((t) => String(t.expr ?? ""));
          // The metrics each reads, by Prometheus' grammar, its Grafana variables stood in for (as the dashboards' checks do).
          const names = new Set(exprs.flatMap((e) => promqlMetricNames(substituteVariables(e).expr)));
          const read = [...records].filter((m) => names.has(m));
          if (read.length === 0) continue;
          const step = typeof panel.interval === "string" ? (durationSeconds(panel.interval) ?? 0) : 0;
          if (step < every)
            problems.push(`${relPath}: ${at} reads ${read.join(", ")} with min interval ${String(panel.interval ?? "none")}`);
        }
      }
    }
  }
  return problems;
}

/** The stack's evaluation interval in the shipped stack files (prometheus.evaluationInterval's default). */
const EVALUATION_SECONDS = 15;

/** How many intervals an alert evaluated every interval waits at least (`for`): it then fires at most an interval late, a fifteenth of its wait. */
const WAITS_FOR_AN_INTERVAL = 15;

/** The alerts whose `for` and severity a stack's thresholds may change: they stay at the stack's evaluation interval. */
const TUNABLE_ALERTS = new Set(THRESHOLD_NAMES.map((n) => THRESHOLD_SPECS[n].alert));

/** Why an alert may not be evaluated every `every` seconds; undefined when it may. */
function lateAlertProblem(rule: AlertRule, every: number): string | undefined {
  const severity = rule.labels.severity;
  if (severity !== "warning" && severity !== "info") return `a ${severity} (criticals keep the evaluation interval)`;
  if (TUNABLE_ALERTS.has(rule.alert)) return "whose threshold, for and severity a stack may change (thresholds.ts)";
  const waits = rule.for === undefined ? 0 : (durationSeconds(rule.for) ?? 0);
  if (waits < WAITS_FOR_AN_INTERVAL * every) return `which waits ${rule.for ?? "nothing"}, under ${WAITS_FOR_AN_INTERVAL} intervals`;
  return undefined;
}

/**
 * The alerts of `files` that may wait a minute and sit in a group evaluated at the stack's interval. One that reads
 * a recording of its group goes with it when nothing evaluated more often reads it (ownIntervalProblems), else reads
 * it from the group at the stack's interval, at most that interval old.
 */
function alertsNotEveryMinute(files: typeof ruleFiles): string[] {
  return files.flatMap((file) =>
    file.groups
      .filter((g) => g.interval === undefined)
      .flatMap((g) =>
        g.rules.flatMap((r) =>
          r.kind === "alert" && lateAlertProblem(r, 60) === undefined ? [`${file.file}: ${g.name}: ${r.alert} (for ${r.for})`] : [],
        ),
      ),
  );
}

describe("groups evaluated less often than the stack's evaluation interval", () => {
  const dashboards = loadDashboards();

  test("there are some, each holding recordings read only by alerts as seldom and panels that step by its interval, or alerts that may wait for it", () => {
    // The shipped files and the app contract's, generated for two apps named two ways.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "app-rules-"));
    const generated = appRuleFiles([shop, app("web")], "15s").map(([file, text]) => {
      fs.writeFileSync(path.join(dir, file), text);
      return loadRuleFile(path.join(dir, file));
    });
    const files = [...ruleFiles, ...generated];
    const intervals = files.flatMap((f) => f.groups.filter((g) => g.interval !== undefined && g.interval !== "15s"));
    expect(intervals.some((g) => g.rules.every((r) => r.kind === "record"))).toBe(true);
    expect(intervals.some((g) => g.rules.every((r) => r.kind === "alert"))).toBe(true);
    expect(generated.some((f) => f.groups.some((g) => g.interval === "1m"))).toBe(true);
    expect(ownIntervalProblems(files, dashboards)).toEqual([]);
  });

  test("every warning and info that waits 15 minutes or more and that no threshold tunes is evaluated once a minute", () => {
    expect(alertsNotEveryMinute(ruleFiles)).toEqual([]);
  });

  test("docs/alerts.md names each group of alerts evaluated once a minute, and the alerts that stay at the evaluation interval", () => {
    const doc = fs.readFileSync(path.join(__dirname, "../../docs/alerts.md"), "utf8");
    const section = /### Evaluated once a minute\n([\s\S]*?)\n###? /.exec(doc)?.[1] ?? "";
    const named = [...section.matchAll(/`([a-z]+(?:-[a-z]+)*-every-minute)`/g)].map((m) => m[1]);
    const groups = ruleFiles.flatMap((f) => f.groups.filter((g) => g.interval !== undefined && g.rules.some((r) => r.kind === "alert")));
    const generated = appRecordingRules([shop], "15s").groups.filter((g) => g.interval === "1m");
    expect([...new Set(named)].sort()).toEqual([...groups, ...generated].map((g) => g.name).sort());
    for (const alert of TUNABLE_ALERTS) expect(section).toContain(`\`${alert}\``);
    // What such a group records for its alerts, named too (the p95 over an hour in slo-every-minute).
    const recordedThere = groups.flatMap((g) => g.rules.flatMap((r) => (r.kind === "record" ? [r.record] : [])));
    expect(recordedThere.length).toBeGreaterThan(0);
    expect(recordedThere.filter((r) => !section.includes(`\`${r}\``))).toEqual([]);
  });

  test("the check fails on a critical beside recordings, on a rule reading them, and on a panel stepping faster", () => {
    const file = ruleFiles.find((f) => f.groups.some((g) => g.interval !== undefined && g.rules.some((r) => r.kind === "record")));
    if (!file) throw new Error("no group of recordings with an interval of its own");
    const group = file.groups.find((g) => g.interval !== undefined && g.rules.some((r) => r.kind === "record"));
    const recorded = group?.rules.find((r) => r.kind === "record");
    if (!group || !recorded || recorded.kind !== "record") throw new Error("no recording in the group");
    const alert = alerts.find((a) => a.labels.severity === "critical");
    if (!alert) throw new Error("no critical alert");
    // A critical moved into the group, and one of another group reading the group's first recording.
    const mutated = [
      { ...file, groups: [{ ...group, rules: [...group.rules, alert] }] },
      { ...file, file: "other.yml", groups: [{ name: "other", rules: [{ ...alert, expr: `${recorded.record} > 0` }] }] },
    ] as typeof ruleFiles;
    const problems = ownIntervalProblems(mutated, []);
    expect(problems).toEqual([
      expect.stringContaining(`holds the alert ${alert.alert}, a critical`),
      expect.stringContaining(`${alert.alert} reads ${recorded.record}`),
    ]);
    // A recording reading it: in a group at the stack's interval, refused; after it in its own group, allowed.
    const reader = { ...recorded, record: "test:reader:sum", expr: `sum(${recorded.record})` };
    expect(
      ownIntervalProblems(
        [{ ...file, groups: [group, { name: "other", rules: [{ ...reader, group: "other" }] }] }] as typeof ruleFiles,
        [],
      ),
    ).toEqual([expect.stringContaining(`test:reader:sum reads ${recorded.record}`)]);
    expect(ownIntervalProblems([{ ...file, groups: [{ ...group, rules: [...group.rules, reader] }] }] as typeof ruleFiles, [])).toEqual([]);
    // A panel reading the recording at the default step, and one stepping by the group's interval.
    const panel = (interval?: string) => ({
      title: "p",
      type: "timeseries",
      ...(interval ? { interval } : {}),
      targets: [{ expr: `sum(${recorded.record})` }],
    });
    const board = { relPath: "x.json", dashboard: { panels: [panel(), panel(group.interval)] } as JsonObject };
    expect(ownIntervalProblems([{ ...file, groups: [group] }], [board])).toEqual([
      expect.stringContaining(`reads ${recorded.record} with min interval none`),
    ]);
  });

  test("the check fails on a critical, a tuned alert or a short wait in a group of alerts evaluated every minute, and on a waiting alert left out", () => {
    const file = ruleFiles.find((f) => f.groups.some((g) => g.interval === "1m" && g.rules.every((r) => r.kind === "alert")));
    const group = file?.groups.find((g) => g.interval === "1m" && g.rules.every((r) => r.kind === "alert"));
    const waiting = group?.rules.find((r): r is AlertRule => r.kind === "alert");
    if (!file || !group || !waiting) throw new Error("no group of alerts evaluated every minute");
    const tuned = alerts.find((a) => TUNABLE_ALERTS.has(a.alert) && a.labels.severity === "warning");
    if (!tuned) throw new Error("no tunable warning");
    const inGroup = (...rules: AlertRule[]) => [{ ...file, groups: [{ ...group, rules }] }] as typeof ruleFiles;
    expect(ownIntervalProblems(inGroup(waiting), [])).toEqual([]);
    expect(ownIntervalProblems(inGroup({ ...waiting, labels: { ...waiting.labels, severity: "critical" } }), [])).toEqual([
      expect.stringContaining(`holds the alert ${waiting.alert}, a critical`),
    ]);
    expect(ownIntervalProblems(inGroup({ ...waiting, for: "10m" }), [])).toEqual([
      expect.stringContaining(`holds the alert ${waiting.alert}, which waits 10m, under 15 intervals`),
    ]);
    expect(ownIntervalProblems(inGroup({ ...tuned, for: "1h" }), [])).toEqual([
      expect.stringContaining(`holds the alert ${tuned.alert}, whose threshold`),
    ]);
    // A recording evaluated every minute, read by that alert in its group: allowed; by the same alert at the stack's interval: not.
    const recordings = ruleFiles.flatMap((f) => f.groups).find((g) => g.interval === "1m" && g.rules.every((r) => r.kind === "record"));
    const recorded = recordings?.rules[0];
    if (!recordings || recorded?.kind !== "record") throw new Error("no group of recordings evaluated every minute");
    // In the recordings' own file, where their rules read each other as they are.
    const recordingsFile = ruleFiles.find((f) => f.groups.includes(recordings));
    if (!recordingsFile) throw new Error("no file holds the recordings");
    const reading = { ...waiting, expr: `${recorded.record} > 0`, file: recordingsFile.file, group: group.name };
    const withRecordings = (readerGroup: RuleGroup) => [{ ...recordingsFile, groups: [recordings, readerGroup] }] as typeof ruleFiles;
    expect(ownIntervalProblems(withRecordings({ ...group, rules: [reading] }), [])).toEqual([]);
    // ...and after it, in its group: allowed too.
    const after = { ...reading, file: recordingsFile.file, group: recordings.name };
    expect(
      ownIntervalProblems(
        [{ ...recordingsFile, groups: [{ ...recordings, rules: [...recordings.rules, after] }] }] as typeof ruleFiles,
        [],
      ),
    ).toEqual([]);
    expect(ownIntervalProblems(withRecordings({ name: group.name, rules: [reading] }), [])).toEqual([
      expect.stringContaining(`${waiting.alert} reads ${recorded.record}`),
    ]);
    // The same alert in a group at the stack's interval: it should have been in one evaluated every minute.
    const { interval: _dropped, ...atStackInterval } = group;
    void _dropped;
    expect(alertsNotEveryMinute([{ ...file, groups: [{ ...atStackInterval, rules: [waiting] }] }] as typeof ruleFiles)).toEqual([
      expect.stringContaining(`${waiting.alert} (for ${waiting.for})`),
    ]);
  });
});

describe("metric catalogue", () => {
  const files = fs
    .readdirSync(CATALOG_DIR)
    .filter((f) => f.endsWith(".txt"))
    .sort();
  const header = (file: string) => fs.readFileSync(path.join(CATALOG_DIR, file), "utf8").split("\n")[0];

  test("holds the catalogues the rules rely on", () => {
    const needed = [...Object.keys(PINNED_CATALOGUES), ...UNPINNED_CATALOGUES].map((s) => `${s}.txt`);
    expect(needed.filter((f) => !files.includes(f))).toEqual([]);
  });

  test("every catalogue file opens with a comment naming the version it describes", () => {
    const bad = files.filter((f) => !/^#.*\bv?\d+\.\d+(\.\d+)?\b/.test(header(f)));
    expect(bad).toEqual([]);
  });

  test("exporter catalogues describe the versions pinned in components/images.ts", () => {
    const mismatched = Object.entries(PINNED_CATALOGUES)
      .filter(([source]) => files.includes(`${source}.txt`))
      .filter(([source, image]) => !header(`${source}.txt`).includes(` ${imageVersion(image)} `))
      .map(([source, image]) => `${source}.txt should name ${imageVersion(image)}`);
    expect(mismatched).toEqual([]);
  });

  test("every line is a valid metric name, listed once per file", () => {
    const problems: string[] = [];
    for (const f of files) {
      const seen = new Set<string>();
      for (const raw of fs.readFileSync(path.join(CATALOG_DIR, f), "utf8").split("\n")) {
        const name = raw.replace(/#.*/, "").trim();
        if (!name) continue;
        if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) problems.push(`${f}: ${JSON.stringify(name)} is not a metric name`);
        if (seen.has(name)) problems.push(`${f}: ${name} twice`);
        seen.add(name);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe("the LogQL alerting rules (rules/logs/, Loki's ruler)", () => {
  test("there are some, and none is named like a Prometheus alert", () => {
    expect(logAlerts.map((a) => a.alert).sort()).toEqual(["KubeNodeSystemOom", "KubePodBackOff", "NodeServiceRestartLoop"]);
    const prometheus = new Set([...alerts, ...generated].map((a) => a.alert));
    expect(logAlerts.filter((a) => prometheus.has(a.alert))).toEqual([]);
  });

  test("each is a LogQL metric query that Grafana's grammar parses, on the stream the collector writes for its file (events, the nodes' journal)", () => {
    for (const file of fs.readdirSync(LOG_RULES_DIR).filter((f) => f.endsWith(".yml"))) {
      expect({ file, problems: logqlRuleProblems(fs.readFileSync(path.join(LOG_RULES_DIR, file), "utf8")) }).toEqual({
        file,
        problems: [],
      });
    }
    const jobOf: Record<string, string> = { "events.yml": EVENTS_JOB, "node-journal.yml": JOURNAL_JOB };
    for (const a of logAlerts)
      expect({ alert: a.alert, job: a.expr.includes(`job="${jobOf[path.basename(a.file)]}"`) }).toEqual({ alert: a.alert, job: true });
  });

  test("each has a PascalCase name, a routed severity, a summary, a description and its runbook section", () => {
    for (const a of logAlerts) {
      expect(a.alert).toMatch(PASCAL_CASE);
      expect(SEVERITIES.has(a.labels.severity)).toBe(true);
      for (const k of REQUIRED_ANNOTATIONS) expect(a.annotations[k]).toBeTruthy();
      expect(a.annotations.runbook).toBe(runbookRef(a.alert));
    }
  });
});
