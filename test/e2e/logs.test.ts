/**
 * Logs end to end, with the releases the stack deploys on 127.0.0.1: Loki with the
 * staging stack's rendered loki.yaml, and Grafana Alloy with its rendered config.alloy,
 * tailing pod log files written the way containerd writes them.
 *
 * Only what needs a cluster is swapped for local equivalents: the listen addresses and
 * data paths of Loki, Alloy's Kubernetes pod discovery (replaced by file discovery of the
 * same `__meta_kubernetes_*` labels, so the rendered relabelling runs unchanged), the
 * pod log directory, and Loki's address.
 *
 * It proves: `loki -verify-config` accepts the rendered file as is; a push and a query
 * round trip; Alloy ships the files with exactly the stream labels the dashboards use;
 * and every LogQL panel of the logs dashboard returns data, its variables resolved as
 * Grafana would resolve them.
 */
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import type { Rendered } from "../../cli/render";
import { runBinary, stackBinary } from "../../lab/local/binaries";
import { DiscoveredPod, localAlloyConfig, localLokiConfig, podDiscoveryTargets, writePodLogs } from "../../lab/local/logs";
import { JOURNAL_JOB } from "../../components/log-collector/journal";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { waitFor } from "../../lab/processes/supervision";
import { httpGet } from "../../lab/local/http";
import { objectOf, render } from "../support/render";
import { localRun } from "./support/local-run";

jest.setTimeout(240_000);

/** The pods whose log files the lab writes: as discovery reports them, and what they log. */
const PODS: Array<DiscoveredPod & { lines: string[] }> = [
  {
    namespace: "shop",
    pod: "checkout-7d9c5b6f4-x2x7z",
    uid: "0b6f1c3e-1111-4a4a-9c9c-000000000001",
    container: "checkout",
    controller: ["ReplicaSet", "checkout-7d9c5b6f4"],
    labels: { pod_template_hash: "7d9c5b6f4", app: "checkout" },
    // JSON lines with a level, some of them errors.
    lines: [
      { level: "info", msg: "order accepted", order: 1 },
      { level: "error", msg: "payment failed: card declined", order: 2 },
      { level: "info", msg: "order accepted", order: 3 },
    ].map((l) => JSON.stringify(l)),
  },
  {
    namespace: "shop",
    pod: "worker-0",
    uid: "0b6f1c3e-2222-4a4a-9c9c-000000000002",
    container: "worker",
    controller: ["StatefulSet", "worker"],
    labels: {},
    // logfmt lines, one fatal.
    lines: ['level=info msg="job done" id=41', 'level=fatal msg="queue unreachable" id=42', 'level=warn msg="retrying" id=43'],
  },
];
const NODE = "k3s-server";

function post(url: string, body: string, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers: { "Content-Type": "application/json" }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error(`POST ${url} timed out`)));
    req.on("error", reject);
    req.end(body);
  });
}

interface LokiResult {
  status: string;
  data: {
    resultType: "streams" | "matrix" | "vector";
    result: Array<{ stream?: Record<string, string>; metric?: Record<string, string>; values?: unknown[] }>;
  };
}

/** The logs dashboard's LogQL expressions, panel by panel. */
function logqlPanels(): Array<{ title: string; expr: string }> {
  const dashboard = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "dashboards", "logs", "logs.json"), "utf8")) as {
    panels: Array<{ title: string; type: string; targets?: Array<{ expr?: string; datasource?: { uid?: string } }>; panels?: unknown[] }>;
  };
  const out: Array<{ title: string; expr: string }> = [];
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      if (target.expr && target.datasource?.uid === "${loki_datasource}") out.push({ title: panel.title, expr: target.expr });
    }
  }
  return out;
}

/** Grafana's substitution of the dashboard's variables: every namespace, app and pod ("All"), a search word, the ranges. */
function resolveVariables(expr: string): string {
  return (
    expr
      .replace(/\$\{search:regex\}/g, "payment")
      .replace(/\$namespace/g, ".+")
      .replace(/\$app/g, ".+")
      .replace(/\$pod/g, ".+")
      // The Kubernetes events' filters at "All".
      .replace(/\$(kind|object|reason|type)\b/g, ".*")
      // The nodes' journal's filters at "All".
      .replace(/\$(journal_node|journal_unit|priority)\b/g, ".*")
      .replace(/\$__auto/g, "5m")
      .replace(/\$__range/g, "15m")
  );
}

describe("logs end to end: the deployed Loki and Alloy with the rendered configs", () => {
  let rendered: Rendered;
  let tmp: string;
  let lokiUrl: string;
  let alloyUrl: string;
  const run = localRun();

  beforeAll(async () => {
    rendered = await render("staging");
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "logs-e2e-"));
    const [lokiHttp, lokiGrpc, alloyHttp] = await freePorts(3);
    lokiUrl = `http://${LOOPBACK}:${lokiHttp}`;
    alloyUrl = `http://${LOOPBACK}:${alloyHttp}`;

    // Loki: the rendered args, with the local config.
    const lokiArgs = (
      objectOf(rendered, "StatefulSet", "loki").spec as {
        template: { spec: { containers: Array<{ name: string; args: string[] }> } };
      }
    ).template.spec.containers.find((c) => c.name === "loki")?.args;
    expect(lokiArgs).toContain("-target=all");
    const lokiConfig = path.join(tmp, "loki.yaml");
    fs.writeFileSync(
      lokiConfig,
      YAML.stringify(localLokiConfig(rendered.files.get("loki/loki.yaml") ?? "", tmp, { http: lokiHttp, grpc: lokiGrpc })),
    );
    run.start("loki", stackBinary("loki"), [
      ...(lokiArgs ?? []).filter((a) => !a.startsWith("-config.file=")),
      `-config.file=${lokiConfig}`,
    ]);
    // Loki exiting fails the wait at once, with its last lines.
    await run.waitFor(
      "Loki ready",
      async () => {
        const r = await httpGet(`${lokiUrl}/ready`).catch(() => undefined);
        return r?.status === 200 ? true : undefined;
      },
      90_000,
      500,
    );

    // The pods' log files, as the kubelet lays them out, with lines from the last minutes.
    const podLogs = path.join(tmp, "pods");
    writePodLogs(podLogs, PODS, Date.now(), (i) => (i % 2 ? "stderr" : "stdout"));
    const targets = path.join(tmp, "targets.json");
    fs.writeFileSync(targets, JSON.stringify(podDiscoveryTargets(PODS, NODE)));
    const alloyConfig = path.join(tmp, "config.alloy");
    fs.writeFileSync(
      alloyConfig,
      localAlloyConfig(rendered.files.get("log-collector/config.alloy") ?? "", targets, podLogs, `${lokiUrl}/loki/api/v1/push`),
    );
    const alloyArgs = (
      objectOf(rendered, "DaemonSet", "alloy").spec as {
        template: { spec: { containers: Array<{ args: string[] }> } };
      }
    ).template.spec.containers[0].args;
    run.start(
      "alloy",
      stackBinary("alloy"),
      [
        "run",
        alloyConfig,
        ...alloyArgs.filter((a) => a.startsWith("--") && !a.startsWith("--server.http.listen-addr=") && !a.startsWith("--storage.path=")),
        `--server.http.listen-addr=${LOOPBACK}:${alloyHttp}`,
        `--storage.path=${path.join(tmp, "alloy-data")}`,
      ],
      { env: { HOSTNAME: NODE } },
    );
  });

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("loki -verify-config accepts the rendered loki.yaml as it is", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "loki-verify-"));
    try {
      const file = path.join(dir, "loki.yaml");
      fs.writeFileSync(file, rendered.files.get("loki/loki.yaml") ?? "");
      const ok = runBinary("loki", ["-verify-config", `-config.file=${file}`]);
      expect(ok.output).not.toMatch(/level=error/);
      expect(ok.ok).toBe(true);
      // And it refuses an unknown field, so the check above can fail.
      fs.writeFileSync(file, `${rendered.files.get("loki/loki.yaml") ?? ""}\nno_such_block: {}\n`);
      expect(runBinary("loki", ["-verify-config", `-config.file=${file}`]).ok).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a line pushed to Loki is queried back", async () => {
    const line = `round trip ${Date.now()}`;
    const status = await post(
      `${lokiUrl}/loki/api/v1/push`,
      JSON.stringify({ streams: [{ stream: { namespace: "lab", app: "round-trip" }, values: [[`${Date.now()}000000`, line]] }] }),
    );
    expect(status).toBe(204);
    const query = encodeURIComponent('{namespace="lab", app="round-trip"}');
    const lines = await waitFor(
      "the pushed line",
      async () => {
        const r = await httpGet(`${lokiUrl}/loki/api/v1/query_range?query=${query}&since=5m`);
        const values = (JSON.parse(r.body) as LokiResult).data.result.flatMap((s) => (s.values ?? []) as Array<[string, string]>);
        return values.length > 0 ? values.map((v) => v[1]) : undefined;
      },
      30_000,
      500,
    );
    expect(lines).toEqual([line]);
  });

  test("Alloy ships every pod's lines with exactly the stream labels the dashboards use", async () => {
    const query = encodeURIComponent('{namespace="shop"}');
    const streams = await run.waitFor(
      "Alloy's streams in Loki",
      async () => {
        const r = await httpGet(`${lokiUrl}/loki/api/v1/query_range?query=${query}&since=15m&limit=100`);
        const result = (JSON.parse(r.body) as LokiResult).data.result;
        const lines = result.reduce((n, s) => n + (s.values?.length ?? 0), 0);
        return lines >= PODS.reduce((n, p) => n + p.lines.length, 0) ? result : undefined;
      },
      90_000,
      1000,
    );
    // The streams' own labels (the index), as the series API lists them: Loki adds its
    // detected_level as structured metadata, which query results show beside them.
    const series = await httpGet(`${lokiUrl}/loki/api/v1/series?match[]=${query}&since=15m`);
    const labelSets = (JSON.parse(series.body) as { data: Array<Record<string, string>> }).data;
    expect(labelSets.length).toBeGreaterThanOrEqual(PODS.length);
    for (const labels of labelSets)
      expect(Object.keys(labels).sort()).toEqual(["app", "container", "job", "namespace", "node", "pod", "stream"]);
    expect(new Set(labelSets.map((l) => `${l.job} ${l.pod} ${l.container} ${l.node}`))).toEqual(
      new Set([`shop/checkout checkout-7d9c5b6f4-x2x7z checkout ${NODE}`, `shop/worker worker-0 worker ${NODE}`]),
    );
    // The CRI prefix is parsed away: lines are what the app wrote.
    const lines = streams.flatMap((s) => ((s.values ?? []) as Array<[string, string]>).map((v) => v[1]));
    expect(lines.sort()).toEqual(PODS.flatMap((p) => p.lines).sort());
  });

  test("every LogQL panel of the logs dashboard returns data", async () => {
    const panels = logqlPanels();
    expect(panels.length).toBeGreaterThanOrEqual(10);
    // The Kubernetes events' panels read what the collector's events source ships, which needs an API server
    // (test/e2e/log-alerts.test.ts runs its pipeline): a pod's Warning event and a node's, labelled as it labels them.
    const event = (labels: Record<string, string>, line: string) => ({
      stream: { job: "kubernetes-events", type: "Warning", ...labels },
      values: [[`${Date.now()}000000`, line]],
    });
    const status = await post(
      `${lokiUrl}/loki/api/v1/push`,
      JSON.stringify({
        streams: [
          event(
            { namespace: "shop", kind: "Pod", name: "worker-0", reason: "BackOff" },
            'name=worker-0 kind=Pod reason=BackOff type=Warning count=1 msg="Back-off restarting failed container worker in pod worker-0_shop(0b6f1c3e)" ',
          ),
          event(
            { kind: "Node", name: NODE, reason: "SystemOOM" },
            `name=${NODE} kind=Node reason=SystemOOM type=Warning count=1 msg="System OOM encountered, victim process: worker, pid: 42" `,
          ),
          // The nodes' journal's panels read what the collector's journal source ships (test/e2e/node-logs.test.ts runs
          // its pipeline on a journal file): a k3s error line, labelled as it labels them.
          {
            stream: { job: JOURNAL_JOB, node: NODE, unit: "k3s.service", priority: "error" },
            values: [
              [
                `${Date.now()}000000`,
                'E1125 pod_workers.go:1301] "Error syncing pod" pod="shop/payment-api-0" err="context deadline exceeded"',
              ],
            ],
          },
        ],
      }),
    );
    expect(status).toBe(204);
    const empty = await run.waitFor(
      "every panel with data",
      async () => {
        const missing: string[] = [];
        for (const { title, expr } of panels) {
          const q = encodeURIComponent(resolveVariables(expr));
          const r = await httpGet(`${lokiUrl}/loki/api/v1/query_range?query=${q}&since=15m&step=60`, 10_000);
          const body = JSON.parse(r.body) as LokiResult;
          if (r.status !== 200 || body.data.result.length === 0) missing.push(`${title}: ${resolveVariables(expr)} (HTTP ${r.status})`);
        }
        return missing.length === 0 ? [] : undefined;
      },
      60_000,
      2000,
    );
    expect(empty).toEqual([]);
  });

  test("Alloy's own metrics count what it sent", async () => {
    const r = await httpGet(`${alloyUrl}/metrics`, 5000);
    const sent = /^loki_write_sent_entries_total\{[^}]*\} (\d+)/m.exec(r.body);
    expect(sent).not.toBeNull();
    expect(Number(sent?.[1])).toBeGreaterThanOrEqual(PODS.reduce((n, p) => n + p.lines.length, 0));
  });

  // A tenant's monitor can point the collector at its own server (components/log-collector/alloy.ts, alloyRunArgs):
  // what the rendered flags leave of it answers no profile and no support bundle, however asked.
  test("the collector's own server, with the rendered flags, serves its metrics and readiness but no profile and no support bundle", async () => {
    expect((await httpGet(`${alloyUrl}/metrics`, 5000)).status).toBe(200);
    expect((await httpGet(`${alloyUrl}/-/ready`, 5000)).status).toBe(200);
    for (const probe of [
      "/debug/pprof/",
      "/debug/pprof/heap",
      "/debug/pprof/profile?seconds=1",
      "/debug/pprof/trace?seconds=1",
      "/debug/pprof/goroutine?debug=2",
    ]) {
      const r = await httpGet(`${alloyUrl}${probe}`, 10_000);
      expect(`${probe} ${r.status}`).toBe(`${probe} 404`);
    }
    const bundle = await httpGet(`${alloyUrl}/-/support?duration=1`, 10_000);
    expect(`/-/support ${bundle.status} ${bundle.body.split(";")[0]}`).toBe("/-/support 403 support bundle generation is disabled");
  });
});
