/**
 * The operator's objects on the exact binaries, live: the local control plane (real kube-apiserver,
 * kwok for the kubelet) holds the four CRDs the stack writes and charts' objects as they publish
 * them (test/fixtures/operator-objects/, accepted by the API server's own validation against those
 * CRDs); Alloy runs the collector's rendered monitors (a one-peer cluster, as on one node) watching
 * it, and remote-writes to Prometheus, which loads the charts' PrometheusRules as the stack turns
 * them into rule files. A ServiceMonitor and a Probe created after both are running are scraped
 * (their target a server on 127.0.0.1: the ServiceMonitor's own relabeling moves the address its
 * EndpointSlice gives there, as the API refuses loopback endpoints), their series reach Prometheus,
 * and CloudNativePG's LongRunningTransaction fires on the fault the target reports.
 *
 * A hostile namespace (HOSTILE, read like the other): its PrometheusRules, through the API server
 * and the stack's own lister, that take a built-in name, record `up`, route to the dead man's
 * switch or give `severity: Critical` are refused by name; the one that loads reads and
 * writes its own namespace only; its ServiceMonitor relabelled into the victim's identity with
 * honorLabels lands in its own namespace, the victim's `up` untouched; its sample bomb is cut at
 * the stack's limit while its other target is scraped. The victim is also an app of the stack
 * (VICTIM_APP, scraped by Prometheus as rendered, with the rendered rules and the rendered
 * Alertmanager sending to local sinks): with a hostile monitor wearing that app's identity
 * (its job and app, its namespace label dropped, honorLabels), the app goes down and its AppDown
 * still reaches the critical sink within the bound its config gives. Hostile monitors that wear the
 * stack's own jobs (a Service named node-exporter, a relabeling and honorLabels into
 * kube-state-metrics and node-exporter) land as `<namespace>/<job>`: no series of theirs carries one.
 *
 * The limits (monitors.limits) are the rendered MutatingAdmissionPolicy's, applied as rendered: a
 * monitor's own larger sampleLimit, targetLimit or labelLimit is lowered to the stack's by the API
 * server when written, a lower one kept; the crowd of targets and the series with too many labels
 * fail their scrapes at the stack's limits though each monitor asked for more.
 *
 * Where a monitor may send the collector: a hostile ServiceMonitor selecting another namespace's
 * Service (`namespaceSelector` any, or by name) gets no request from Alloy while the same monitor on
 * its own namespace is scraped; a ServiceMonitor endpoint naming a file of the collector's
 * (`bearerTokenFile`) never has it sent; the rendered ValidatingAdmissionPolicy, applied after
 * that, refuses such selectors, such files and a Probe's prober in the stack's namespaces, naming
 * the field.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { MONITOR_KINDS, MONITOR_LIMITS, MonitorKind, crdName } from "../../components/monitors/args";
import { crdSpec } from "../../components/monitors/crds";
import { down as clusterDown, up as clusterUp } from "../../lab/cluster";
import { stackBinary } from "../../lab/local/binaries";
import { runCommand } from "../../lab/local/databases";
import { LoopbackServer, getOk, httpGetJson, isReady, sinkHandler } from "../../lab/local/http";
import { alloyRunArgs } from "../../lab/local/logs";
import { LOOPBACK, freePort } from "../../lab/ports";
import { durationSeconds } from "../../components/kit/units";
import { stackJobsRegex } from "../../components/kit/stack-jobs";
import { binPath } from "../../lab/tools/tools";
import { operatorRuleFiles, ruleLister } from "../../preflight/operator-rules";
import { kubeConnection, kubeGetter } from "../../preflight/kube-api";
import { kubeStateMetricsFlags } from "../../components/exporters/kube-state-metrics";
import { prometheusRuleStateConfig } from "../../components/monitors/state-metrics";
import { OPERATOR_LOADED_KEY } from "../../components/prometheus/rules/operator-rules";
import { tenantRulePolicy } from "../../preflight/tenant-policy";
import { parse } from "../config/support";
import { render } from "../support/render";
import { localRun } from "./support/local-run";
import { renderedAlertmanager } from "./support/alertmanager";

jest.setTimeout(600_000);

const NS = "e2e-charts";
const HOSTILE = "e2e-hostile";
/** The hostile namespace's PrometheusRules: three refused, one loaded (held to its namespace). */
const HOSTILE_RULES = [
  { name: "fake-up", rules: [{ record: "up", expr: "vector(1)", labels: { job: "shop-db", namespace: NS } }] },
  {
    name: "mute",
    rules: [{ alert: "KubePodCrashLooping", expr: "vector(1)", labels: { severity: "critical", watchdog: "true", namespace: NS } }],
  },
  { name: "fake-warning", rules: [{ alert: "ShopWarning", expr: "vector(1)", labels: { severity: "Critical" } }] },
  { name: "reader", rules: [{ record: "hostile:tx_seconds:max", expr: `max(cnpg_backends_max_tx_duration_seconds{namespace="${NS}"})` }] },
].map((o) => ({ namespace: HOSTILE, name: o.name, generation: 1, spec: { groups: [{ name: o.name, rules: o.rules }] } }));
let ruleWarnings: string[] = [];
/** An app of the stack (apps[], scraped at a URL), the victim whose identity a hostile monitor wears. */
const VICTIM_APP = "checkout";
/** What the config does not bound (process scheduling, the HTTP calls Prometheus -> Alertmanager -> sink). */
const SLACK_SECONDS = 5;
/** Alerts the rendered Alertmanager delivered to the sinks: channel (critical, warning, deadmans-switch), labels, when. */
const delivered: Array<{ channel: string; labels: Record<string, string>; at: number }> = [];
let victim: LoopbackServer;
/** AppDown's bound from the app going down: a scrape, an evaluation, `for`, the evaluation that fires, group_wait, slack. */
let appDownBoundSeconds = 0;
const FIXTURES = path.join(__dirname, "..", "fixtures", "operator-objects");
const run = localRun();
const alertmanagerOf = renderedAlertmanager(run, "monitors-live");
let dir: string;
let kubeconfig: string;
const kubectl = (...args: string[]) => runCommand(binPath("kubectl"), [`--kubeconfig=${kubeconfig}`, ...args], { timeoutMs: 60_000 });
const apply = (name: string, objects: unknown[]) => {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, objects.map((o) => YAML.stringify(o)).join("---\n"));
  return kubectl("apply", "-f", file);
};
let prometheus: string;
let targetPort: number;
let notLoadedExpr: string;
/** The rendered ValidatingAdmissionPolicy on monitors' targets and its binding, applied by the test that shows them. */
let targetPolicy: unknown[] = [];
const query = async (q: string) =>
  (
    await httpGetJson<{ data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(
      `${prometheus}/api/v1/query?query=${encodeURIComponent(q)}`,
    )
  ).data.result;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "monitors-live-"));
  // A control plane of its own, in its own directory: the cluster tier may be running beside the
  // offline tier's e2e part (.ci/run), on the checkout's .cluster/, which this file must never touch.
  process.env.LOCAL_CLUSTER_DIR = path.join(dir, ".cluster");
  const cluster = await clusterUp({ owned: true, ttlSeconds: 1200, log: (m) => console.error(`cluster: ${m}`) });
  kubeconfig = cluster.kubeconfig;

  // The CRDs as the stack installs them, then the charts' objects into a namespace of the test's.
  apply(
    "crds",
    (Object.keys(MONITOR_KINDS) as MonitorKind[]).map((kind) => ({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: crdName(kind) },
      spec: crdSpec(kind),
    })),
  );
  for (const kind of Object.keys(MONITOR_KINDS) as MonitorKind[])
    kubectl("wait", "--for=condition=Established", `crd/${crdName(kind)}`, "--timeout=60s");
  apply("namespace", [{ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } }]);
  const fixtures = fs
    .readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => YAML.parse(fs.readFileSync(path.join(FIXTURES, f), "utf8")) as { metadata: Record<string, unknown> });
  apply(
    "fixtures",
    fixtures.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: NS } })),
  );

  // The target: what CloudNativePG's exporter reports during a long transaction, and a blackbox exporter's /probe.
  targetPort = await freePort();
  await run.serve(targetPort, (req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
    res.end(
      req.url?.startsWith("/probe")
        ? "probe_success 1\nprobe_duration_seconds 0.01\n"
        : '# TYPE cnpg_backends_max_tx_duration_seconds gauge\ncnpg_backends_max_tx_duration_seconds{datname="app"} 400\n',
    );
  });

  // The victim app's metrics endpoint (down later), and the sinks of the rendered Alertmanager.
  const [victimPort, sinkPort] = [await freePort(), await freePort()];
  victim = await run.serve(victimPort, (_req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
    res.end('http_requests_total{method="GET",status="200"} 42\n');
  });
  await run.serve(
    sinkPort,
    sinkHandler((req) => {
      const body = JSON.parse(req.body) as { alerts?: Array<{ labels: Record<string, string>; status: string }> };
      for (const a of body.alerts ?? [])
        if (a.status === "firing") delivered.push({ channel: req.path.slice(1), labels: a.labels, at: req.receivedAt });
      return { status: 200 };
    }),
  );
  const sink = (channel: string) => `http://${LOOPBACK}:${sinkPort}/${channel}`;
  const receivers = [
    { name: "pager", webhook: {} },
    { name: "chat", webhook: {} },
  ];
  const TIMING = { scrape: "5s", evaluation: "5s", groupWait: "1s" };
  const rendered = await render("staging", [
    "monitors.enabled=true",
    `watch.namespaces=["${NS}", "${HOSTILE}"]`,
    `monitors.namespaces=["${NS}", "${HOSTILE}"]`,
    `apps=[{name: ${VICTIM_APP}, url: "http://${LOOPBACK}:${victimPort}/metrics"}]`,
    `prometheus.scrapeInterval=${TIMING.scrape}`,
    "prometheus.scrapeTimeout=4s",
    `prometheus.evaluationInterval=${TIMING.evaluation}`,
    `alertmanager.groupWait=${TIMING.groupWait}`,
    "alertmanager.groupInterval=2s",
    `alertmanager.receivers=${JSON.stringify(receivers)}`,
    `alertmanager.routes=${JSON.stringify([
      { receiver: "pager", matchers: ['severity="critical"'] },
      { receiver: "chat", matchers: ['severity=~"warning|info"'] },
    ])}`,
    "alertmanager.defaultReceiver=chat",
    `webhookUrls.pager=${sink("critical")}`,
    `webhookUrls.chat=${sink("warning")}`,
    `deadMansSwitchUrl=${sink("deadmans-switch")}`,
  ]);
  const am = await alertmanagerOf.start(rendered, { extra: () => `sink received: ${JSON.stringify(delivered)}` });

  // Prometheus with its remote-write receiver, the stack's rules and app job as rendered, and the charts' rules as the stack writes them.
  const rules = path.join(dir, "rules");
  fs.mkdirSync(rules);
  const stackRules = path.join(dir, "stack-rules");
  fs.mkdirSync(stackRules);
  let appDown: { for?: string } | undefined;
  for (const [file, content] of rendered.files) {
    const doc = file.startsWith("prometheus/") && file.endsWith(".yml") ? (YAML.parse(content) as { groups?: unknown } | null) : null;
    // The operators' loaded-rules file is the test's own (below, from the objects listed live).
    if (!doc || !Array.isArray(doc.groups) || path.basename(file) === OPERATOR_LOADED_KEY) continue;
    fs.writeFileSync(path.join(stackRules, path.basename(file)), content);
    for (const g of doc.groups as Array<{ interval?: string; rules: Array<{ alert?: string; for?: string }> }>) {
      const rule = g.rules.find((r) => r.alert === "AppDown");
      if (rule) {
        expect(g.interval ?? TIMING.evaluation).toBe(TIMING.evaluation);
        appDown = rule;
      }
    }
  }
  const secondsOf = (d: string | undefined) => durationSeconds(d ?? "0s") ?? NaN;
  if (!appDown) throw new Error("no AppDown in the rendered rules");
  appDownBoundSeconds =
    secondsOf(TIMING.scrape) + 2 * secondsOf(TIMING.evaluation) + secondsOf(appDown.for) + secondsOf(TIMING.groupWait) + SLACK_SECONDS;
  const renderedProm = YAML.parse(rendered.files.get("prometheus/prometheus.yml") ?? "") as {
    scrape_configs: Array<{ job_name: string; static_configs?: Array<{ targets: string[] }> }>;
  };
  const appJobs = renderedProm.scrape_configs.filter((j) => j.static_configs?.some((c) => c.targets.includes(`${LOOPBACK}:${victimPort}`)));
  expect(appJobs.map((j) => j.job_name)).toEqual([VICTIM_APP]);
  // The hostile namespace's PrometheusRules through the API server, then every object as pulumi up lists them.
  apply("hostile-rules", [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: HOSTILE } },
    ...HOSTILE_RULES.map((o) => ({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { name: o.name, namespace: o.namespace },
      spec: o.spec,
    })),
  ]);
  const objects = await ruleLister(kubeGetter(kubeConnection(kubeconfig)))([NS, HOSTILE], {});
  expect(objects.map((o) => `${o.namespace}/${o.name}`)).toEqual([
    `${NS}/alertmanager-main-rules`,
    `${NS}/cnpg-default-alerts`,
    ...HOSTILE_RULES.map((o) => `${HOSTILE}/${o.name}`).sort(),
  ]);
  const loadedRules = operatorRuleFiles(
    objects,
    tenantRulePolicy(parse("staging", { profile: "staging", environment: "staging", monitors: { enabled: true } }).config),
    [],
    "monitoring:monitors.rules",
  );
  ruleWarnings = loadedRules.warnings;
  for (const [key, text] of loadedRules.files) {
    fs.writeFileSync(path.join(rules, key), text);
    if (key === OPERATOR_LOADED_KEY) {
      const doc = YAML.parse(text) as { groups: Array<{ rules: Array<{ alert?: string; expr: string }> }> };
      notLoadedExpr = doc.groups[0].rules.find((r) => r.alert === "PrometheusRuleNotLoaded")?.expr ?? "";
    }
  }

  // kube-state-metrics with the custom resource state config the stack passes: the PrometheusRules there are.
  const [ksmPort, ksmTelemetry] = [await freePort(), await freePort()];
  run.start("kube-state-metrics", stackBinary("kube-state-metrics"), [
    ...kubeStateMetricsFlags([NS], prometheusRuleStateConfig({}).config).map((f) =>
      f.startsWith("--port=") ? `--port=${ksmPort}` : f.startsWith("--telemetry-port=") ? `--telemetry-port=${ksmTelemetry}` : f,
    ),
    `--host=${LOOPBACK}`,
    `--telemetry-host=${LOOPBACK}`,
    `--kubeconfig=${kubeconfig}`,
  ]);
  const promConfig = path.join(dir, "prometheus.yml");
  fs.writeFileSync(
    promConfig,
    YAML.stringify({
      global: { evaluation_interval: TIMING.evaluation, scrape_interval: TIMING.scrape },
      rule_files: [`${rules}/*.yml`, `${stackRules}/*.yml`],
      scrape_configs: [
        { job_name: "kube-state-metrics", honor_labels: true, static_configs: [{ targets: [`${LOOPBACK}:${ksmPort}`] }] },
        ...appJobs,
      ],
      alerting: { alertmanagers: [{ api_version: "v2", static_configs: [{ targets: [am.url.replace(/^http:\/\//, "")] }] }] },
    }),
  );
  const promPort = await freePort();
  prometheus = `http://${LOOPBACK}:${promPort}`;
  run.start("prometheus", stackBinary("prometheus"), [
    `--config.file=${promConfig}`,
    `--storage.tsdb.path=${path.join(dir, "tsdb")}`,
    `--web.listen-address=${LOOPBACK}:${promPort}`,
    "--web.enable-remote-write-receiver",
  ]);
  await run.waitFor("Prometheus ready", () => isReady(prometheus), 60_000, 500);

  // The collector's monitors as rendered, made local: the control plane's kubeconfig, the local Prometheus.
  const alloy = rendered.files.get("log-collector/config.alloy") ?? "";
  const monitors = alloy
    .slice(alloy.indexOf("prometheus.operator."))
    .replace(
      /(prometheus\.operator\.\w+ "monitors_\w+" \{\n)/g,
      `$1\tclient {\n\t\tkubeconfig_file = ${JSON.stringify(kubeconfig)}\n\t}\n\n`,
    )
    .replace(/url = "http:\/\/prometheus\.[^"]+\/api\/v1\/write"/, `url = "${prometheus}/api/v1/write"`);
  expect(monitors).toContain(`namespaces      = ["${NS}"]`);
  // The monitors' limits as rendered (the policy and its binding), then a server-side dry run until the API server sets them on a monitor that gives none.
  const limitObjects = rendered.kubernetes
    .filter((o) => ["MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"].includes(o.object.kind))
    .map((o) => o.object);
  expect(limitObjects.map((o) => o.kind).sort()).toEqual(["MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"]);
  apply("monitor-limits", limitObjects);
  targetPolicy = rendered.kubernetes
    .filter((o) => ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"].includes(o.object.kind))
    .map((o) => o.object);
  const probeFile = path.join(dir, "limits-probe.yaml");
  fs.writeFileSync(
    probeFile,
    YAML.stringify({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: { name: "limits-probe", namespace: HOSTILE },
      spec: { selector: { matchLabels: { app: "none" } }, endpoints: [{ port: "metrics" }] },
    }),
  );
  await run.waitFor(
    "the monitor limits policy in force",
    async () => {
      const out = kubectl("apply", "--dry-run=server", "-o", "jsonpath={.spec.sampleLimit}", "-f", probeFile);
      return out.trim() === String(MONITOR_LIMITS.samples) ? true : undefined;
    },
    60_000,
    1000,
  );
  const alloyFile = path.join(dir, "config.alloy");
  fs.writeFileSync(alloyFile, monitors);
  const alloyPort = await freePort();
  const daemonArgs = rendered.kubernetes.find((o) => o.object.kind === "DaemonSet" && o.object.metadata.name === "alloy")?.object.spec as {
    template: { spec: { containers: Array<{ args: string[] }> } };
  };
  const clusterFlags = daemonArgs.template.spec.containers[0].args.filter(
    (a) => a.startsWith("--cluster.") && !a.startsWith("--cluster.join-addresses"),
  );
  expect(clusterFlags).toEqual(["--cluster.enabled=true", "--cluster.name=monitoring-staging-agents"]);
  run.start("alloy", stackBinary("alloy"), [
    ...alloyRunArgs(alloyFile, alloyPort, path.join(dir, "alloy-data")),
    ...clusterFlags,
    `--cluster.advertise-address=${LOOPBACK}:${alloyPort}`,
  ]);
  await run.waitFor("Alloy ready", () => isReady(`http://${LOOPBACK}:${alloyPort}`), 90_000, 500);
}, 600_000);

afterAll(async () => {
  if (dir !== undefined) await clusterDown();
  delete process.env.LOCAL_CLUSTER_DIR;
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
}, 120_000);

test("the API server took the charts' objects under the stack's CRDs", () => {
  const listed = kubectl("-n", NS, "get", "servicemonitors,podmonitors,probes,prometheusrules", "-o", "name").trim().split("\n").sort();
  expect(listed).toEqual([
    "podmonitor.monitoring.coreos.com/cnpg-controller-manager",
    "probe.monitoring.coreos.com/website",
    "prometheusrule.monitoring.coreos.com/alertmanager-main-rules",
    "prometheusrule.monitoring.coreos.com/cnpg-default-alerts",
    "servicemonitor.monitoring.coreos.com/blackbox-exporter",
    "servicemonitor.monitoring.coreos.com/kube-state-metrics",
  ]);
});

test("a ServiceMonitor and a Probe created now are scraped live, their series in Prometheus", async () => {
  const created = Date.now();
  apply("live", [
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "shop-db", namespace: NS, labels: { app: "shop-db" } },
      spec: { ports: [{ name: "metrics", port: 9187 }] },
    },
    {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "shop-db-1", namespace: NS, labels: { "kubernetes.io/service-name": "shop-db" } },
      addressType: "IPv4",
      endpoints: [{ addresses: ["10.42.0.50"], conditions: { ready: true } }],
      ports: [{ name: "metrics", port: 9187, protocol: "TCP" }],
    },
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: { name: "shop-db", namespace: NS },
      spec: {
        selector: { matchLabels: { app: "shop-db" } },
        endpoints: [
          {
            port: "metrics",
            path: "/metrics",
            interval: "5s",
            // Alloy gives a monitor without a timeout the default one (10 s), even over a shorter interval, and refuses it.
            scrapeTimeout: "4s",
            relabelings: [{ action: "replace", targetLabel: "__address__", replacement: `${LOOPBACK}:${targetPort}` }],
          },
        ],
      },
    },
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "Probe",
      metadata: { name: "shop-site", namespace: NS },
      spec: {
        interval: "5s",
        scrapeTimeout: "4s",
        prober: { url: `${LOOPBACK}:${targetPort}`, path: "/probe" },
        targets: { staticConfig: { static: ["https://shop.example.com/"] } },
      },
    },
  ]);
  const series = await run.waitFor(
    "the ServiceMonitor's series in Prometheus",
    async () => {
      const found = await query("cnpg_backends_max_tx_duration_seconds");
      return found.length > 0 ? found : undefined;
    },
    120_000,
    1000,
  );
  const seconds = (Date.now() - created) / 1000;
  console.log(`monitors: the ServiceMonitor's first series reached Prometheus ${seconds.toFixed(1)} s after it was created`);
  expect(seconds).toBeLessThan(60);
  expect(series[0].metric).toMatchObject({ namespace: NS, service: "shop-db", job: "shop-db", endpoint: "metrics", datname: "app" });
  const probe = await run.waitFor(
    "the Probe's series in Prometheus",
    async () => {
      const found = await query("probe_success");
      return found.length > 0 ? found : undefined;
    },
    120_000,
    1000,
  );
  expect(probe[0].metric).toMatchObject({ namespace: NS, instance: "https://shop.example.com/" });
  console.log(`monitors: the Probe's first series reached Prometheus ${((Date.now() - created) / 1000).toFixed(1)} s after it was created`);
});

test("the charts' rules are loaded, and CloudNativePG's LongRunningTransaction fires on the fault", async () => {
  const groups = (await httpGetJson<{ data: { groups: Array<{ name: string; file: string }> } }>(`${prometheus}/api/v1/rules`)).data.groups;
  expect(groups.map((g) => g.name)).toEqual(expect.arrayContaining(["cnp-default.rules", "cnp-operator.rules", "operator-rules"]));
  // kube-prometheus' Alertmanager rules name an alert like a built-in one: refused, not loaded.
  expect(groups.map((g) => g.name)).not.toContain("alertmanager.rules");
  const firing = await run.waitFor(
    "LongRunningTransaction firing",
    async () => {
      const found = await query('ALERTS{alertname="LongRunningTransaction", alertstate="firing"}');
      return found.length > 0 ? found : undefined;
    },
    180_000,
    2000,
  );
  expect(firing[0].metric).toMatchObject({ severity: "warning", namespace: NS, datname: "app" });
  expect(await getOk(`${prometheus}/api/v1/query?query=monitoring_stack:prometheusrule_loaded:generation`)).toContain(
    "cnpg-default-alerts",
  );
});

test("kube-state-metrics reports each PrometheusRule; the alert's expression names only the one created after the rules were read", async () => {
  apply("late-rule", [
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { name: "added-after-up", namespace: NS },
      spec: { groups: [{ name: "late", rules: [{ alert: "Late", expr: "vector(1)", for: "1m", labels: { severity: "info" } }] }] },
    },
  ]);
  const existing = await run.waitFor(
    "kube-state-metrics' series of the three PrometheusRules",
    async () => {
      const found = await query("kube_customresource_prometheusrule_generation");
      return found.length >= 3 ? found : undefined;
    },
    120_000,
    1000,
  );
  expect(existing.map((r) => r.metric.name).sort()).toEqual(["added-after-up", "alertmanager-main-rules", "cnpg-default-alerts"]);
  const notLoaded = await run.waitFor(
    "PrometheusRuleNotLoaded's expression over the loaded record",
    async () => {
      const found = await query(notLoadedExpr);
      return found.length > 0 ? found : undefined;
    },
    60_000,
    1000,
  );
  expect(notLoaded.map((r) => r.metric).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
    { namespace: NS, name: "added-after-up" },
    { namespace: NS, name: "alertmanager-main-rules" },
  ]);
});

/**
 * A ServiceMonitor in HOSTILE, its Service and EndpointSlice (at `addresses`), every target moved to 127.0.0.1:<port>
 * by the monitor's own relabeling; `before`: relabelings run ahead of that move, `spec`: the monitor's own spec fields.
 */
const hostileTarget = (
  name: string,
  addresses: string[],
  port: number,
  endpoint: Record<string, unknown>,
  spec: Record<string, unknown> = {},
  before: unknown[] = [],
) => [
  {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: HOSTILE, labels: { app: name } },
    spec: { ports: [{ name: "metrics", port: 9187 }] },
  },
  {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: `${name}-1`, namespace: HOSTILE, labels: { "kubernetes.io/service-name": name } },
    addressType: "IPv4",
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
    ports: [{ name: "metrics", port: 9187, protocol: "TCP" }],
  },
  {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: { name, namespace: HOSTILE },
    spec: {
      selector: { matchLabels: { app: name } },
      ...spec,
      endpoints: [
        {
          port: "metrics",
          interval: "5s",
          scrapeTimeout: "4s",
          ...endpoint,
          relabelings: [
            ...before,
            { action: "replace", targetLabel: "__address__", replacement: `${LOOPBACK}:${port}` },
            ...((endpoint.relabelings as unknown[] | undefined) ?? []),
          ],
        },
      ],
    },
  },
];

test("a hostile monitor wearing the victim app's identity lands in its own namespace and the app's AppDown still reaches the critical sink within its bound; its sample bomb is cut at the stack's limit though it asks for a million, its other target kept", async () => {
  const [impostorPort, bombPort] = [await freePort(), await freePort()];
  // Claims the victim's namespace, job and app in its exposition, for honorLabels to keep.
  await run.serve(impostorPort, (_req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
    res.end(`cnpg_backends_max_tx_duration_seconds{datname="impostor",namespace="${NS}",job="${VICTIM_APP}",app="${VICTIM_APP}"} 7\n`);
  });
  const bomb = Array.from({ length: 10_050 }, (_, i) => `bomb_series{i="${i}"} 1`).join("\n") + "\n";
  await run.serve(bombPort, (_req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
    res.end(bomb);
  });
  // The victim app is up, scraped by the stack's own job.
  const victimUp = `up{job="${VICTIM_APP}", instance="${LOOPBACK}:${victim.port}"}`;
  await run.waitFor("the victim app up", async () => ((await query(`${victimUp} == 1`)).length === 1 ? true : undefined), 60_000, 1000);
  apply("hostile", [
    ...hostileTarget(
      "impostor",
      ["10.42.0.51"],
      impostorPort,
      {
        honorLabels: true,
        // The app's identity: its job and app, and no namespace (an app scraped at a URL has none).
        relabelings: [
          { action: "replace", targetLabel: "job", replacement: VICTIM_APP },
          { action: "replace", targetLabel: "app", replacement: VICTIM_APP },
          { action: "replace", targetLabel: "service", replacement: VICTIM_APP },
          { action: "labeldrop", regex: "namespace" },
        ],
        metricRelabelings: [{ action: "labeldrop", regex: "namespace" }],
      },
      { sampleLimit: 500 },
    ),
    ...hostileTarget("bomb", ["10.42.0.52"], bombPort, {}, { sampleLimit: 1_000_000, labelLimit: 0 }),
  ]);
  // The impostor answering in the app's job, beside the app's own target, before the app goes down.
  await run.waitFor(
    "the impostor's up in the app's job",
    async () =>
      (await query(`up{job="${VICTIM_APP}", app="${VICTIM_APP}", instance!="${LOOPBACK}:${victim.port}"} == 1`)).length > 0
        ? true
        : undefined,
    120_000,
    1000,
  );
  await victim.stop();
  const down = Date.now();
  const pages = await run.waitFor(
    `AppDown of ${VICTIM_APP} at the critical sink`,
    async () => {
      const found = delivered.filter((d) => d.channel === "critical" && d.labels.alertname === "AppDown" && d.at >= down);
      return found.length > 0 ? found : undefined;
    },
    (appDownBoundSeconds + 60) * 1000,
    500,
    () => `sink received: ${JSON.stringify(delivered)}`,
  );
  const seconds = (pages[0].at - down) / 1000;
  console.log(
    `monitors: AppDown of ${VICTIM_APP} reached the critical sink ${seconds.toFixed(1)} s after it went down (bound ${appDownBoundSeconds} s), its impostor up`,
  );
  expect(pages[0].labels).toMatchObject({ alertname: "AppDown", app: VICTIM_APP, severity: "critical" });
  expect(seconds).toBeLessThanOrEqual(appDownBoundSeconds);
  // The impostor was up throughout, in its own namespace.
  expect(
    (await query(`up{job="${VICTIM_APP}", app="${VICTIM_APP}", instance!="${LOOPBACK}:${victim.port}"}`)).map((r) => [
      r.metric.namespace,
      r.value[1],
    ]),
  ).toEqual([[HOSTILE, "1"]]);
  const impostor = await query('cnpg_backends_max_tx_duration_seconds{datname="impostor"}');
  expect(impostor.map((r) => r.metric.namespace)).toEqual([HOSTILE]);
  expect(impostor[0].metric).toMatchObject({ job: VICTIM_APP, app: VICTIM_APP });
  const bombUp = await run.waitFor(
    "the bomb's up",
    async () => {
      const found = await query(`up{namespace="${HOSTILE}", job="bomb"}`);
      return found.length > 0 ? found : undefined;
    },
    120_000,
    1000,
  );
  expect(bombUp.map((r) => r.value[1])).toEqual(["0"]);
  expect(await query("bomb_series")).toEqual([]);
  // The charts' target, and the hostile one, both up in their own namespaces.
  expect((await query(`up{namespace="${NS}", job="shop-db"}`)).map((r) => r.value[1])).toEqual(["1"]);
  expect((await query(`up{namespace="${HOSTILE}", job="${VICTIM_APP}"}`)).map((r) => r.value[1])).toEqual(["1"]);
});

test("a monitor's namespaceSelector reaches no other namespace: the collector never connects to the target it selects there, while the same monitor on its own namespace is scraped", async () => {
  const [ownPort, peekPort] = [await freePort(), await freePort()];
  const hits = { own: 0, peek: 0 };
  for (const [port, which] of [
    [ownPort, "own"],
    [peekPort, "peek"],
  ] as const) {
    await run.serve(port, (_req, res) => {
      hits[which] += 1;
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
      res.end(`selector_${which} 1\n`);
    });
  }
  // The peek: a ServiceMonitor in HOSTILE selecting a Service of NS (matchNames), or of any namespace (any).
  const peekTarget = hostileTarget("peek", ["10.42.0.61"], peekPort, {}, { namespaceSelector: { any: true } });
  const inVictim = (o: Record<string, unknown>) => ({ ...o, metadata: { ...(o.metadata as object), namespace: NS } });
  apply("selectors", [
    inVictim(peekTarget[0]),
    inVictim(peekTarget[1]),
    peekTarget[2],
    ...hostileTarget(
      "peek-by-name",
      [],
      peekPort,
      {},
      { selector: { matchLabels: { app: "peek" } }, namespaceSelector: { matchNames: [NS] } },
    ).slice(2),
    ...hostileTarget("own", ["10.42.0.62"], ownPort, {}, { namespaceSelector: { matchNames: [HOSTILE] } }),
  ]);
  await run.waitFor(
    "the own-namespace monitor scraped",
    async () => ((await query(`selector_own{namespace="${HOSTILE}"}`)).length > 0 ? true : undefined),
    120_000,
    1000,
  );
  // Three more scrape intervals (5s) of the peek's, had it a target.
  const after = hits.own;
  await run.waitFor("three more scrapes of the own target", async () => (hits.own >= after + 3 ? true : undefined), 60_000, 500);
  expect(hits.peek).toBe(0);
  expect(await query("selector_peek")).toEqual([]);
  expect(await query('up{job=~"peek.*"}')).toEqual([]);
});

test("a ServiceMonitor endpoint naming a file of the collector's (bearerTokenFile: its service-account token) never sends it: the collector scrapes the monitor without the file and not that one, written before the policy", async () => {
  // A stand-in for the collector pod's token: a file only the collector reads.
  const token = path.join(dir, "collector-token");
  fs.writeFileSync(token, "collector-service-account-token\n", { mode: 0o600 });
  const [plainPort, filePort] = [await freePort(), await freePort()];
  const seen = { plain: [] as string[], file: [] as string[] };
  for (const [port, which] of [
    [plainPort, "plain"],
    [filePort, "file"],
  ] as const) {
    await run.serve(port, (req, res) => {
      seen[which].push(String(req.headers.authorization ?? ""));
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
      res.end(`token_file_${which} 1\n`);
    });
  }
  apply("token-files", [
    ...hostileTarget("token-plain", ["10.42.0.63"], plainPort, {}),
    ...hostileTarget("token-file", ["10.42.0.64"], filePort, { bearerTokenFile: token }),
  ]);
  await run.waitFor(
    "the monitor without a file scraped",
    async () => ((await query(`token_file_plain{namespace="${HOSTILE}"}`)).length > 0 ? true : undefined),
    120_000,
    1000,
  );
  const after = seen.plain.length;
  await run.waitFor("three more scrapes of it", async () => (seen.plain.length >= after + 3 ? true : undefined), 60_000, 500);
  // Alloy (v1.19.2) refuses the endpoint's file (allow_arbitrary_file_access, which the rendered config leaves false).
  expect(seen.file).toEqual([]);
  expect(await query("token_file_file")).toEqual([]);
});

test("the rendered policies refuse, on writing, a namespaceSelector beyond the object's namespace and a prober in the stack's namespaces, naming the field, and warn of an endpoint naming a file of the scraper's pod", async () => {
  // Two policies, each with its binding: the targets' (Deny) and the files' (Warn).
  expect(targetPolicy.map((o) => (o as { kind: string }).kind).sort()).toEqual([
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingAdmissionPolicyBinding",
  ]);
  apply("monitor-targets", targetPolicy);
  const dryRun = (name: string, object: Record<string, unknown>) => {
    const file = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(file, YAML.stringify(object));
    try {
      kubectl("apply", "--dry-run=server", "-f", file);
      return "accepted";
    } catch (e) {
      return (e as Error).message;
    }
  };
  const monitor = (kind: string, spec: Record<string, unknown>) => ({
    apiVersion: "monitoring.coreos.com/v1",
    kind,
    metadata: { name: "policy-check", namespace: HOSTILE },
    spec,
  });
  const serviceMonitor = (namespaceSelector?: unknown) =>
    monitor("ServiceMonitor", { selector: {}, endpoints: [{ port: "metrics" }], ...(namespaceSelector ? { namespaceSelector } : {}) });
  const podMonitor = (namespaceSelector: unknown) =>
    monitor("PodMonitor", { selector: {}, podMetricsEndpoints: [{ port: "m" }], namespaceSelector });
  const probe = (prober: Record<string, unknown>, targets: unknown = { staticConfig: { static: ["https://example.com"] } }) =>
    monitor("Probe", { prober: { path: "/probe", ...prober }, module: "http_2xx", targets });
  await run.waitFor(
    "the monitor targets policy in force",
    async () => (dryRun("any", serviceMonitor({ any: true })) !== "accepted" ? true : undefined),
    60_000,
    1000,
  );
  const selectorRefusal = `spec.namespaceSelector may select namespace ${HOSTILE} only`;
  expect(dryRun("sm-any", serviceMonitor({ any: true }))).toContain(selectorRefusal);
  expect(dryRun("sm-other", serviceMonitor({ matchNames: [NS] }))).toContain(selectorRefusal);
  expect(dryRun("sm-both", serviceMonitor({ matchNames: [HOSTILE, NS] }))).toContain(selectorRefusal);
  expect(dryRun("pm-any", podMonitor({ any: true }))).toContain(selectorRefusal);
  expect(dryRun("sm-none", serviceMonitor())).toBe("accepted");
  // An endpoint naming a file of the scraper's pod: taken, with the API server's warning naming the fields.
  const fileWarning = "an entry of spec.endpoints sets one of bearerTokenFile, tlsConfig.caFile, tlsConfig.certFile, tlsConfig.keyFile";
  const warnings = (name: string, endpoint: Record<string, unknown>) => {
    const file = path.join(dir, `${name}.yaml`);
    const object = monitor("ServiceMonitor", { selector: {}, endpoints: [{ port: "metrics" }, { port: "metrics", ...endpoint }] });
    fs.writeFileSync(file, YAML.stringify(object));
    const r = spawnSync(binPath("kubectl"), [`--kubeconfig=${kubeconfig}`, "apply", "--dry-run=server", "-f", file], {
      encoding: "utf8",
      timeout: 60_000,
    });
    return [r.status, r.stderr.includes(fileWarning) ? "warned" : r.stderr.trim()];
  };
  await run.waitFor(
    "the monitor files policy in force",
    async () =>
      warnings("sm-token-file", { bearerTokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token" })[1] === "warned"
        ? true
        : undefined,
    60_000,
    1000,
  );
  expect(warnings("sm-key-file", { tlsConfig: { keyFile: "/etc/alloy/key.pem" } })).toEqual([0, "warned"]);
  expect(warnings("sm-token-secret", { bearerTokenSecret: { name: "scrape", key: "token" } })).toEqual([0, ""]);
  expect(warnings("sm-empty-file", { bearerTokenFile: "" })).toEqual([0, ""]);
  expect(dryRun("sm-own", serviceMonitor({ matchNames: [HOSTILE] }))).toBe("accepted");
  expect(dryRun("pm-own", podMonitor({ any: false, matchNames: [] }))).toBe("accepted");
  expect(
    dryRun("probe-ingress", probe({ url: "blackbox.e2e-hostile.svc:9115" }, { ingress: { namespaceSelector: { any: true } } })),
  ).toContain(`spec.targets.ingress.namespaceSelector may select namespace ${HOSTILE} only`);
  const proberRefusal = (field: string, url: string) =>
    `spec.prober.${field} is ${url}: a Probe's prober may not be in the stack's namespaces (monitoring-staging, monitoring-staging-agents)`;
  for (const url of [
    "loki.monitoring-staging.svc:3100",
    "LOKI.Monitoring-Staging.svc.cluster.local.:3100",
    "loki-0.loki-headless.monitoring-staging.svc:3100",
    "http://loki.monitoring-staging:3100",
    "alloy-0.alloy.monitoring-staging-agents.svc:12345",
    "alloy:12345",
    "localhost:12345",
    "127.0.0.1:12345",
  ]) {
    expect(dryRun("probe-url", probe({ url }))).toContain(proberRefusal("url", url));
  }
  expect(
    dryRun("probe-proxy", probe({ url: "blackbox.e2e-hostile.svc:9115", proxyUrl: "http://loki.monitoring-staging.svc:3100" })),
  ).toContain(proberRefusal("proxyUrl", "http://loki.monitoring-staging.svc:3100"));
  for (const url of ["blackbox.e2e-hostile.svc:9115", "blackbox-exporter.probes.svc.cluster.local:9115", "prober.example.com:443"]) {
    expect(dryRun("probe-ok", probe({ url }))).toBe("accepted");
  }
});

test("hostile monitors wearing the stack's own jobs (a Service named node-exporter; a relabeling and honorLabels into kube-state-metrics and node-exporter) land as <namespace>/<job>, never as the stack's", async () => {
  const [namedPort, spoofPort] = [await freePort(), await freePort()];
  // What an idle node reports, and kube-state-metrics' up, claimed in the exposition for honorLabels to keep.
  await run.serve(namedPort, (_req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
    res.end('node_cpu_seconds_total{cpu="f1",mode="idle"} 1\n');
  });
  await run.serve(spoofPort, (_req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
    res.end(
      'node_memory_MemAvailable_bytes{job="node-exporter",instance="node1"} 1e12\n' +
        'node_filesystem_readonly{job="node-exporter",instance="node1",mountpoint="/"} 1\n',
    );
  });
  apply("stack-jobs", [
    // The job a ServiceMonitor gives by default is its Service's name.
    ...hostileTarget("node-exporter", ["10.42.0.61"], namedPort, {}),
    ...hostileTarget("spoof", ["10.42.0.62"], spoofPort, {
      honorLabels: true,
      relabelings: [
        { action: "replace", targetLabel: "job", replacement: "kube-state-metrics" },
        { action: "replace", targetLabel: "instance", replacement: "node1" },
      ],
    }),
  ]);
  const reserved = `job=~"${stackJobsRegex()}"`;
  const found = await run.waitFor(
    "both hostile targets' series",
    async () => {
      const series = await query(`{namespace="${HOSTILE}", job=~"${HOSTILE}/.+", __name__=~"up|node_.+"}`);
      return series.length >= 5 ? series : undefined;
    },
    120_000,
    1000,
  );
  const seen = found.map((r) => `${r.metric.__name__}{job="${r.metric.job}"}`).sort();
  expect(seen).toEqual([
    `node_cpu_seconds_total{job="${HOSTILE}/node-exporter"}`,
    `node_filesystem_readonly{job="${HOSTILE}/node-exporter"}`,
    `node_memory_MemAvailable_bytes{job="${HOSTILE}/node-exporter"}`,
    `up{job="${HOSTILE}/kube-state-metrics"}`,
    `up{job="${HOSTILE}/node-exporter"}`,
  ]);
  // The spoof's instance is the node's, as it asked: only the job gives it away.
  expect(found.filter((r) => r.metric.job === `${HOSTILE}/kube-state-metrics`).map((r) => r.metric.instance)).toEqual(["node1"]);
  // The stack's own kube-state-metrics is the one target of its job (it reports the hostile namespace's objects
  // under that namespace, as it should): no other series of the hostile namespace carries a job of the stack's, and none at all node-exporter's.
  const ksm = (await query('up{job="kube-state-metrics"}')).map((r) => r.metric.instance);
  expect(ksm).toEqual([expect.stringMatching(/^127\.0\.0\.1:[0-9]+$/)]);
  expect(await query(`{namespace="${HOSTILE}", ${reserved}, instance!="${ksm[0]}"}`)).toEqual([]);
  expect(await query('{job="node-exporter"}')).toEqual([]);
});

/** A monitor's limits as the API server stored them: sampleLimit, targetLimit, labelLimit. */
const storedLimits = (name: string) =>
  kubectl("-n", HOSTILE, "get", "servicemonitor", name, "-o", "jsonpath={.spec.sampleLimit},{.spec.targetLimit},{.spec.labelLimit}");

test("the monitors' own limits as stored: a larger one, 0 or none lowered to the stack's, a lower one kept", () => {
  const { samples, targets, labels } = MONITOR_LIMITS;
  // bomb asked for a million samples and 0 labels (no limit), the impostor for 500 samples.
  expect(storedLimits("bomb")).toBe(`${samples},${targets},${labels}`);
  expect(storedLimits("impostor")).toBe(`500,${targets},${labels}`);
  // An update is held as a creation is.
  kubectl(
    "-n",
    HOSTILE,
    "patch",
    "servicemonitor",
    "impostor",
    "--type=merge",
    "-p",
    JSON.stringify({ spec: { targetLimit: 100_000, labelLimit: 25 } }),
  );
  expect(storedLimits("impostor")).toBe(`500,${targets},25`);
});

test("a crowd of targets and a series with too many labels fail at the stack's limits though their monitors ask for more", async () => {
  const { targets, labels } = MONITOR_LIMITS;
  const [crowdPort, widePort] = [await freePort(), await freePort()];
  await run.serve(crowdPort, (_req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
    res.end("crowd_series 1\n");
  });
  // One series of more labels than the limit (its name and the target labels come on top).
  const wideLabels = Array.from({ length: labels }, (_, i) => `l${i}="v"`).join(",");
  await run.serve(widePort, (_req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
    res.end(`wide_series{${wideLabels}} 1\nnarrow_series 1\n`);
  });
  // One target more than the limit, each its own instance (its address before the move to 127.0.0.1).
  const crowd = Array.from({ length: targets + 1 }, (_, i) => `10.42.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`);
  apply("limits", [
    ...hostileTarget("crowd", crowd, crowdPort, {}, { targetLimit: 500 }, [
      { action: "replace", sourceLabels: ["__address__"], targetLabel: "instance" },
    ]),
    ...hostileTarget("wide", ["10.42.0.53"], widePort, {}, { labelLimit: 1000 }),
  ]);
  expect(storedLimits("crowd").split(",")[1]).toBe(String(targets));
  expect(storedLimits("wide").split(",")[2]).toBe(String(labels));
  const crowdUp = await run.waitFor(
    "the crowd's up",
    async () => {
      const found = await query(`up{namespace="${HOSTILE}", job="crowd"}`);
      return found.length === targets + 1 ? found : undefined;
    },
    120_000,
    1000,
  );
  expect([...new Set(crowdUp.map((r) => r.value[1]))]).toEqual(["0"]);
  const wideUp = await run.waitFor(
    "the wide target's up",
    async () => {
      const found = await query(`up{namespace="${HOSTILE}", job="wide"}`);
      return found.length > 0 ? found : undefined;
    },
    120_000,
    1000,
  );
  expect(wideUp.map((r) => r.value[1])).toEqual(["0"]);
  expect(await query("crowd_series")).toEqual([]);
  expect(await query("narrow_series")).toEqual([]);
  // The other monitors of the namespace untouched.
  expect((await query(`up{namespace="${HOSTILE}", job="${VICTIM_APP}"}`)).map((r) => r.value[1])).toEqual(["1"]);
});

test("a hostile namespace's rules: the refused ones named, the loaded one reading and writing its own namespace only", async () => {
  const refused = ruleWarnings.map((w) => /PrometheusRule ([\w-]+\/[\w-]+) is not loaded/.exec(w)?.[1]).sort();
  expect(refused).toEqual([`${HOSTILE}/fake-up`, `${HOSTILE}/fake-warning`, `${HOSTILE}/mute`, `${NS}/alertmanager-main-rules`].sort());
  expect(ruleWarnings.join("\n")).toMatch(/fake-up .*records up, a series the built-in rules read/);
  expect(ruleWarnings.join("\n")).toMatch(/mute .*alert KubePodCrashLooping is a built-in alert.*watchdog routes alerts/);
  expect(ruleWarnings.join("\n")).toMatch(/fake-warning .*severity is "Critical"/);
  // The victim's transaction (400 s) is in NS; the hostile reader sees its own namespace's series only (the impostor's 7 s, below).
  const read = await run.waitFor(
    "the hostile reader's record",
    async () => {
      const found = await query("hostile:tx_seconds:max");
      return found.length > 0 ? found : undefined;
    },
    180_000,
    2000,
  );
  expect(read.map((r) => [r.metric, r.value[1]])).toEqual([[{ __name__: "hostile:tx_seconds:max", namespace: HOSTILE }, "7"]]);
});
