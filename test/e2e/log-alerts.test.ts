/**
 * Alerts on logs, on the exact binaries: the staging stack's rendered loki.yaml (its ruler on,
 * rules/logs/events.yml in the rules ConfigMap laid out as Kubernetes mounts it in the tenant's
 * directory), the rendered Alertmanager routing to a webhook sink on 127.0.0.1, and the real
 * Alloy running the rendered events pipeline (`loki.process "events"`). What needs a cluster is
 * swapped: Alloy's loki.source.kubernetes_events (which watches an API server) is replaced by
 * loki.source.api, sent the lines and labels that source writes for an event (its logfmt line,
 * the involved object's namespace, its job and instance); addresses and paths are local, and the
 * ruler evaluates and polls every 5 s instead of every minute so that the test takes seconds.
 *
 * The events reach Loki labelled job, namespace, kind, name, reason and type (and not instance);
 * a pod with three BackOff events and a node with a SystemOOM event raise KubePodBackOff and
 * KubeNodeSystemOom at the sink, with the stack's environment; a pod with two BackOff events
 * raises nothing.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { LOKI_PATHS } from "../../components/loki";
import { LOKI_TENANT } from "../../components/loki/rules";
import { EVENTS_JOB } from "../../components/log-collector/events";
import { stackBinary } from "../../lab/local/binaries";
import { alloyRunArgs, localLokiConfig, lokiReady } from "../../lab/local/logs";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { httpGetJson, isReady, postJson, sinkHandler } from "../../lab/local/http";
import { objectOf, render } from "../support/render";
import { localRun } from "./support/local-run";
import { RunningAlertmanager, renderedAlertmanager } from "./support/alertmanager";

jest.setTimeout(240_000);

const STACK = "staging";
const NAMESPACE = "shop-staging";
const NODE = "k3s-server";
/** The pod whose container keeps failing (three BackOff events), and one that backed off twice only. */
const FAILING = "api-6f7c9d8b5-x2x4q";
const TWICE = "worker-5d8f7c6b9-q7k2m";

/** An event's line as loki.source.kubernetes_events writes it (log_format logfmt: each field, then a space). */
function eventLine(e: { name: string; kind: string; reason: string; type: string; count: number; msg: string }): string {
  return (
    `name=${e.name} kind=${e.kind} objectAPIversion=v1 objectRV=4242 eventRV=${4300 + e.count} reportingcontroller=kubelet ` +
    `reportinginstance=${NODE} sourcecomponent=kubelet sourcehost=${NODE} reason=${e.reason} type=${e.type} count=${e.count} msg=${JSON.stringify(e.msg)} `
  );
}

/** The labels that source gives an event's stream: the involved object's namespace (none for a Node), its job and its instance. */
function sourceLabels(namespace: string | undefined): Record<string, string> {
  return { ...(namespace ? { namespace } : {}), job: EVENTS_JOB, instance: "loki.source.kubernetes_events.events" };
}

interface Delivered {
  labels: Record<string, string>;
  status: string;
}

describe("alerts on Kubernetes events: the rendered Alloy pipeline, Loki's ruler and Alertmanager", () => {
  const run = localRun();
  const alertmanagerOf = renderedAlertmanager(run, "log-alerts");
  const delivered: Delivered[] = [];
  let tmp = "";
  let lokiUrl = "";
  let alloyPush = "";
  let am: RunningAlertmanager;
  const state = () => `sink received: ${JSON.stringify(delivered)}`;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "log-alerts-"));
    const [sinkPort, lokiHttp, lokiGrpc, alloyPort, apiHttp, apiGrpc] = await freePorts(6);
    await run.serve(
      sinkPort,
      sinkHandler((req) => {
        const body = JSON.parse(req.body) as { alerts?: Delivered[] };
        delivered.push(...(body.alerts ?? []).map((a) => ({ labels: a.labels, status: a.status })));
        return { status: 200 };
      }),
    );
    const rendered = await render(STACK, [
      "alertmanager.groupWait=1s",
      "alertmanager.groupInterval=2s",
      "alertmanager.receivers=[{name: sink, webhook: {}}]",
      "alertmanager.defaultReceiver=sink",
      `webhookUrls.sink=http://${LOOPBACK}:${sinkPort}/sink`,
    ]);
    am = await alertmanagerOf.start(rendered, { extra: state });

    // Loki: the rendered config with local addresses and paths; the ruler sends to the local Alertmanager.
    lokiUrl = `http://${LOOPBACK}:${lokiHttp}`;
    const root = path.join(tmp, "loki");
    const config = localLokiConfig(rendered.files.get("loki/loki.yaml") ?? "", root, { http: lokiHttp, grpc: lokiGrpc });
    const ruler = config.ruler as Record<string, unknown>;
    expect(ruler.alertmanager_url).toBe(`http://alertmanager.monitoring-${STACK}.svc:9093`);
    expect(ruler.external_labels).toEqual({ environment: STACK });
    Object.assign(ruler, { alertmanager_url: am.url, evaluation_interval: "5s", poll_interval: "5s" });
    fs.writeFileSync(path.join(tmp, "loki.yaml"), YAML.stringify(config));

    // The rules ConfigMap where the StatefulSet mounts it, as the kubelet lays a ConfigMap volume out:
    // the files in a timestamped directory, `..data` pointing to it, and each key a link through `..data`.
    const spec = objectOf(rendered, "StatefulSet", "loki").spec as {
      template: {
        spec: { containers: Array<{ volumeMounts: Array<{ name: string; mountPath: string }> }>; volumes: Array<Record<string, unknown>> };
      };
    };
    const mount = spec.template.spec.containers[0].volumeMounts.find((m) => m.name === "rules");
    expect(mount?.mountPath).toBe(`${LOKI_PATHS.rules}/${LOKI_TENANT}`);
    expect(spec.template.spec.volumes.find((v) => v.name === "rules")).toEqual({ name: "rules", configMap: { name: "loki-rules" } });
    const rulesData = (objectOf(rendered, "ConfigMap", "loki-rules").data ?? {}) as Record<string, string>;
    expect(Object.keys(rulesData)).toEqual(["events.yml"]);
    const tenantDir = path.join(root, mount?.mountPath ?? "");
    const stamped = path.join(tenantDir, "..2026_11_24_09_00_00.000000001");
    fs.mkdirSync(stamped, { recursive: true });
    for (const [key, text] of Object.entries(rulesData)) fs.writeFileSync(path.join(stamped, key), text);
    fs.symlinkSync(path.basename(stamped), path.join(tenantDir, "..data"));
    for (const key of Object.keys(rulesData)) fs.symlinkSync(path.join("..data", key), path.join(tenantDir, key));
    await lokiReady(run.start("loki", stackBinary("loki"), [`-config.file=${path.join(tmp, "loki.yaml")}`, "-target=all"]), lokiUrl);

    // Alloy: the rendered events pipeline, fed by loki.source.api instead of the Kubernetes API, writing to the local Loki.
    const text = rendered.files.get("log-collector/config.alloy") ?? "";
    const process_ = /^loki\.process "events" \{\n[\s\S]*?\n\}\n/m.exec(text)?.[0];
    if (!process_) throw new Error('config.alloy has no loki.process "events" block');
    expect(text).toMatch(/^loki\.source\.kubernetes_events "events" \{\n[\s\S]*?forward_to = \[loki\.process\.events\.receiver\]/m);
    const alloyConfig = [
      `loki.source.api "events" {`,
      `\thttp {\n\t\tlisten_address = "${LOOPBACK}"\n\t\tlisten_port = ${apiHttp}\n\t}`,
      `\tgrpc {\n\t\tlisten_address = "${LOOPBACK}"\n\t\tlisten_port = ${apiGrpc}\n\t}`,
      `\tuse_incoming_timestamp = true`,
      `\tforward_to = [loki.process.events.receiver]`,
      `}`,
      "",
      process_,
      `loki.write "loki" {\n\tendpoint {\n\t\turl = "${lokiUrl}/loki/api/v1/push"\n\t}\n}`,
      "",
    ].join("\n");
    const file = path.join(tmp, "config.alloy");
    fs.writeFileSync(file, alloyConfig);
    const alloy = run.start("alloy", stackBinary("alloy"), alloyRunArgs(file, alloyPort, path.join(tmp, "alloy-data")));
    await run.waitFor("Alloy ready", () => isReady(`http://${LOOPBACK}:${alloyPort}`), 60_000, 500);
    void alloy;
    alloyPush = `http://${LOOPBACK}:${apiHttp}/loki/api/v1/push`;
  }, 180_000);
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test("the events reach Loki labelled job, namespace, kind, name, reason and type; KubePodBackOff and KubeNodeSystemOom reach the receiver, a pod that backed off twice raises nothing", async () => {
    const now = Date.now();
    const ns = (ms: number) => `${BigInt(now - ms) * 1_000_000n}`;
    const backOff = (pod: string, count: number) => ({
      stream: sourceLabels(NAMESPACE),
      values: [
        [
          ns(30_000 - count * 1000),
          eventLine({
            name: pod,
            kind: "Pod",
            reason: "BackOff",
            type: "Warning",
            count,
            msg: `Back-off restarting failed container ${pod.split("-")[0]} in pod ${pod}_${NAMESPACE}(0d7c1e52-6b4f-4b7e-9a51-3f2d0c9e8a11)`,
          }),
        ],
      ],
    });
    const streams = [
      backOff(FAILING, 1),
      backOff(FAILING, 2),
      backOff(FAILING, 3),
      backOff(TWICE, 1),
      backOff(TWICE, 2),
      {
        stream: sourceLabels(undefined),
        values: [
          [
            ns(20_000),
            eventLine({
              name: NODE,
              kind: "Node",
              reason: "SystemOOM",
              type: "Warning",
              count: 1,
              msg: "System OOM encountered, victim process: stress, pid: 4242",
            }),
          ],
        ],
      },
    ];
    // One push per event, as the source sends each event when the informer sees it.
    for (const s of streams) expect((await postJson(alloyPush, { streams: [s] })).status).toBe(204);

    const series = await run.waitFor(
      "the six events in Loki",
      async () => {
        const match = encodeURIComponent(`{job="${EVENTS_JOB}"}`);
        const reply = await httpGetJson<{ data: Array<Record<string, string>> }>(
          `${lokiUrl}/loki/api/v1/series?match[]=${match}&start=${now - 3_600_000}000000&end=${now + 60_000}000000`,
        ).catch(() => undefined);
        const got = reply?.data ?? [];
        return got.length >= 3 ? got : undefined;
      },
      30_000,
      500,
      state,
    );
    const pod = (name: string) => ({ job: EVENTS_JOB, namespace: NAMESPACE, kind: "Pod", name, reason: "BackOff", type: "Warning" });
    expect([...series].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      pod(FAILING),
      { job: EVENTS_JOB, kind: "Node", name: NODE, reason: "SystemOOM", type: "Warning" },
      pod(TWICE),
    ]);

    const fired = (alertname: string, name: string) =>
      delivered.find((d) => d.status === "firing" && d.labels.alertname === alertname && d.labels.name === name);
    await run.waitFor(
      "KubePodBackOff and KubeNodeSystemOom at the sink",
      () => (fired("KubePodBackOff", FAILING) && fired("KubeNodeSystemOom", NODE) ? true : undefined),
      90_000,
      500,
      state,
    );
    expect(fired("KubePodBackOff", FAILING)?.labels).toEqual({
      alertname: "KubePodBackOff",
      environment: STACK,
      name: FAILING,
      namespace: NAMESPACE,
      severity: "warning",
    });
    expect(fired("KubeNodeSystemOom", NODE)?.labels).toEqual({
      alertname: "KubeNodeSystemOom",
      environment: STACK,
      name: NODE,
      severity: "warning",
    });
    // Both were evaluated together (one group): the pod that backed off twice was below the rule's three.
    const active = await httpGetJson<Array<{ labels: Record<string, string> }>>(`${am.url}/api/v2/alerts`);
    expect(active.filter((a) => a.labels.name === TWICE)).toEqual([]);
    expect(delivered.filter((d) => d.labels.name === TWICE)).toEqual([]);
  });
});
