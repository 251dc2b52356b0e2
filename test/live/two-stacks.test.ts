/**
 * Two stacks on one node with one set of agents and no duplicate alert (issue 35), live on the
 * exact binaries (test/live/support/two-stacks.ts boots them): production and staging from the
 * shipped stack files, production's collector serving staging, as the cluster tier deploys them, and
 * its kube-state-metrics too (the answer of npm run bench's measurement).
 *
 * - One set of agents: one Alloy and one node-exporter, production's; staging scrapes neither. One
 *   kube-state-metrics, production's, reports both teams' objects (kubeStateMetrics.shareWith):
 *   staging's Prometheus scrapes it keeping its namespaces' series (sharedFrom), production's its own.
 * - A container killed for its memory in production's team namespace (KubeContainerOomKilled,
 *   `for: 1m`) reaches production's sink once and staging's not at all; the same in staging's
 *   namespace reaches staging's only.
 * - The node's kubelet stops answering: both Prometheus scrape it and see it down, production (which
 *   watches the cluster) delivers KubeletDown (its `for: 5m` as shipped: the lab shortens no `for`),
 *   staging, which has no node alert, stays silent.
 * - Each namespace's pod log lines are in its own stack's Loki only.
 * - Staging then goes as a destroy takes it (its processes stopped, its namespace deleted), and
 *   production keeps scraping every target of its own and alerting: a container killed in its own
 *   namespace (Grafana's pod: a notification group of its own) reaches its sink.
 *
 * About 8 minutes, most of it KubeletDown's `for`.
 */
import { durationSeconds } from "../../components/kit/units";
import { httpGet } from "../../lab/local/http";
import { waitFor } from "../../lab/processes/supervision";
import { kubectl } from "../cluster/support/kube";
import { K3S_NODE, LAB_TIMING, SinkMessage } from "./support/lab";
import { StackName, TwoStacks } from "./support/two-stacks";

jest.setTimeout(600_000);

/** Allowance for what the config does not bound: process scheduling, the HTTP calls to the sink. */
const SLACK_SECONDS = 10;

interface PromResponse<T> {
  status: string;
  data: T;
  error?: string;
}
type Vector = Array<{ metric: Record<string, string>; value: [number, string] }>;

let lab: TwoStacks;

async function query(stack: StackName, expr: string): Promise<Vector> {
  const r = await httpGet(`${lab.url(stack, "prometheus")}/api/v1/query?query=${encodeURIComponent(expr)}`, 15_000);
  const body = JSON.parse(r.body) as PromResponse<{ result: Vector }>;
  if (body.status !== "success") throw new Error(`${stack}: ${expr}: ${body.error ?? r.status}`);
  return body.data.result;
}

async function targets(
  stack: StackName,
): Promise<Array<{ scrapePool: string; health: string; lastScrape: string; labels: Record<string, string> }>> {
  const r = JSON.parse((await httpGet(`${lab.url(stack, "prometheus")}/api/v1/targets?state=active`)).body) as PromResponse<{
    activeTargets: Array<{ scrapePool: string; health: string; lastScrape: string; labels: Record<string, string> }>;
  }>;
  return r.data.activeTargets;
}

async function alertRules(stack: StackName): Promise<Array<{ name: string; duration: number; labels: Record<string, string> }>> {
  const r = JSON.parse((await httpGet(`${lab.url(stack, "prometheus")}/api/v1/rules?type=alert`)).body) as PromResponse<{
    groups: Array<{ rules: Array<{ name: string; duration: number; labels: Record<string, string> }> }>;
  }>;
  return r.data.groups.flatMap((g) => g.rules);
}

/** The firing notifications of a stack's sink on `channel` that name `alert` and every one of `mentions`. */
function firing(stack: StackName, channel: string, alert: string, ...mentions: string[]): SinkMessage[] {
  return lab.stacks[stack].messages.filter((m) => {
    const embed = m.body.embeds?.[0];
    const text = `${embed?.title ?? ""} ${embed?.description ?? ""}`;
    return (
      m.channel === channel && (embed?.title ?? "").startsWith("[FIRING") && text.includes(alert) && mentions.every((t) => text.includes(t))
    );
  });
}

/** Every notification of a stack's sink that mentions `text`, whatever its channel. */
function mentioning(stack: StackName, text: string): string[] {
  return lab.stacks[stack].messages
    .map((m) => `${m.channel}: ${m.body.embeds?.map((e) => `${e.title ?? ""} ${e.description ?? ""}`).join(" ") ?? ""}${m.body.text ?? ""}`)
    .filter((t) => t.includes(text));
}

/** Next scrape, next evaluation, `for`, the evaluation that fires, group_wait, and `settle` for the signal itself. */
function bound(forSeconds: number, settle = 0): number {
  const scrape = durationSeconds(LAB_TIMING.scrapeInterval) ?? 2;
  const evaluation = durationSeconds(LAB_TIMING.evaluationInterval) ?? 2;
  return scrape + evaluation + forSeconds + evaluation + (durationSeconds(LAB_TIMING.groupWait) ?? 1) + settle + SLACK_SECONDS;
}

/**
 * The kubelet's record of a container killed for its memory and restarted: what kube-state-metrics
 * reads as a last termination, OOMKilled, that finished now (and a restart, its count up by one). kwok
 * leaves a running pod's status alone, so the patch stays.
 */
async function oomKill(namespace: string, pod: string, container: string): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const status = {
    status: {
      containerStatuses: [
        {
          name: container,
          image: `example.com/shop/${container}:1.0.0`,
          imageID: "",
          ready: true,
          started: true,
          restartCount: 1,
          state: { running: { startedAt: now } },
          lastState: { terminated: { exitCode: 137, reason: "OOMKilled", startedAt: now, finishedAt: now } },
        },
      ],
    },
  };
  await kubectl(["-n", namespace, "patch", "pod", pod, "--subresource=status", "--type=merge", "-p", JSON.stringify(status)]);
}

const OOM_ALERT = "KubeContainerOomKilled";
const NODE_ALERT = "KubeletDown";

beforeAll(async () => {
  lab = await TwoStacks.start();
  for (const stack of ["production", "staging"] as const) {
    await waitFor(
      `every target of ${stack} up`,
      async () => {
        const t = await targets(stack);
        return t.length > 0 && t.every((x) => x.health === "up") ? true : undefined;
      },
      120_000,
      1000,
    ).catch(async () => {
      const down = (await targets(stack)).filter((x) => x.health !== "up").map((x) => `${x.scrapePool} ${JSON.stringify(x.labels)}`);
      throw new Error(`${stack}: targets not up: ${down.join("; ")}\n${lab.diagnostics()}`);
    });
  }
});

afterAll(async () => {
  await lab?.stop();
});

/** Pods the faults use, and when each fault started. */
const faults: Record<string, { namespace: string; pod: string; startedAt: number }> = {};

describe("two stacks on one node", () => {
  test("one set of agents and one kube-state-metrics, production's; each Prometheus keeps its own namespaces' objects only", async () => {
    const pools = async (stack: StackName) => new Set((await targets(stack)).map((t) => t.scrapePool));
    const production = await pools("production");
    const staging = await pools("staging");
    expect(["node-exporter", "alloy"].filter((p) => production.has(p))).toEqual(["node-exporter", "alloy"]);
    expect(["node-exporter", "alloy"].filter((p) => staging.has(p))).toEqual([]);
    const agents = Object.values(lab.stacks)
      .flatMap((s) => s.stack.local.processes.map((p) => p.name))
      .filter((n) => /alloy|node_exporter|kube-state-metrics/.test(n));
    expect(agents.sort()).toEqual(["alloy", "kube-state-metrics", "node_exporter"]);
    // The one kube-state-metrics reports both teams' objects; staging scrapes it in production's namespace.
    const reported = (await httpGet(`http://127.0.0.1:${lab.stacks.production.stack.ports.kubeStateMetrics}/metrics`)).body;
    expect(lab.teams().filter((ns) => !new RegExp(`^kube_pod_info\\{[^}]*\\bnamespace="${ns}"`, "m").test(reported))).toEqual([]);
    expect((await targets("staging")).filter((t) => t.scrapePool === "kube-state-metrics").map((t) => t.health)).toEqual(["up"]);
    const namespaces = async (stack: StackName) =>
      (await query(stack, 'count by (namespace) (kube_pod_info{job="kube-state-metrics"})')).map((s) => s.metric.namespace).sort();
    const [own, other] = lab.teams();
    expect(await namespaces("production")).toEqual(["monitoring-production", "monitoring-production-agents", own].sort());
    expect(await namespaces("staging")).toEqual(["monitoring-staging", other].sort());
    // The healthy pair: nothing fires but the Watchdog.
    for (const stack of ["production", "staging"] as const) {
      const fired = await query(stack, 'ALERTS{alertstate="firing", alertname!="Watchdog"}');
      expect({ stack, fired: fired.map((s) => `${s.metric.alertname} ${JSON.stringify(s.metric)}`) }).toEqual({ stack, fired: [] });
    }
  });

  test("a container killed for its memory in each team's namespace is alerted once, by that team's stack only; the node's kubelet goes down", async () => {
    const [own, other] = lab.teams();
    for (const [key, namespace] of [
      ["production", own],
      ["staging", other],
    ] as const) {
      const pod = lab.podOf("api", namespace).metadata.name;
      faults[key] = { namespace, pod, startedAt: Date.now() };
      await oomKill(namespace, pod, "api");
    }
    // The node-level fault starts with them: its `for` is the longest.
    await lab.kubelet.server.stop();
    faults.node = { namespace: "", pod: "", startedAt: Date.now() };

    const rules = await alertRules("production");
    const forOf = (alert: string) => Math.min(...rules.filter((r) => r.name === alert).map((r) => r.duration));
    const due = bound(forOf(OOM_ALERT), durationSeconds(LAB_TIMING.scrapeInterval) ?? 2) * 1000;
    const culprit = (stack: StackName) => `${faults[stack].namespace}/${faults[stack].pod}`;
    await waitFor(
      `${OOM_ALERT} delivered by each stack`,
      async () =>
        firing("production", "monitoring", OOM_ALERT, culprit("production")).length > 0 &&
        firing("staging", "monitoring", OOM_ALERT, culprit("staging")).length > 0
          ? true
          : undefined,
      due + 60_000,
      1000,
    ).catch(() => undefined);
    // A few group intervals more: a second notification of the same group would have come by now.
    await new Promise((r) => setTimeout(r, 4 * (durationSeconds(LAB_TIMING.groupInterval) ?? 2) * 1000));
    const delivered = {
      "production's fault at production's sink": firing("production", "monitoring", OOM_ALERT, culprit("production")).length,
      "production's fault at staging's sink": mentioning("staging", culprit("production")).length,
      "staging's fault at staging's sink": firing("staging", "monitoring", OOM_ALERT, culprit("staging")).length,
      "staging's fault at production's sink": mentioning("production", culprit("staging")).length,
    };
    expect(delivered).toEqual({
      "production's fault at production's sink": 1,
      "production's fault at staging's sink": 0,
      "staging's fault at staging's sink": 1,
      "staging's fault at production's sink": 0,
    });
    for (const stack of ["production", "staging"] as const) {
      const at = firing(stack, "monitoring", OOM_ALERT, culprit(stack))[0]?.receivedAt ?? 0;
      process.stderr.write(
        `two stacks: ${OOM_ALERT} for ${culprit(stack)} at ${stack}'s sink after ${((at - faults[stack].startedAt) / 1000).toFixed(1)} s (bound ${(due / 1000).toFixed(0)} s)\n`,
      );
    }
  });

  test("each namespace's pod log lines are in its own stack's Loki only, through the one collector", async () => {
    interface Streams {
      data: { result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> };
    }
    const lines = async (stack: StackName) => {
      const q = encodeURIComponent('{namespace=~".+"}');
      const r = await httpGet(`${lab.url(stack, "loki")}/loki/api/v1/query_range?query=${q}&since=15m&limit=5000`);
      return (JSON.parse(r.body) as Streams).data.result.flatMap((s) =>
        s.values.map((v) => ({ namespace: s.stream.namespace, line: v[1] })),
      );
    };
    const [own, other] = lab.teams();
    const found = await waitFor(
      "both teams' lines in their Lokis",
      async () => {
        const production = await lines("production");
        const staging = await lines("staging");
        return production.some((l) => l.namespace === own) && staging.some((l) => l.namespace === other)
          ? { production, staging }
          : undefined;
      },
      60_000,
      1000,
    );
    const namespaces = (ls: Array<{ namespace: string }>) => [...new Set(ls.map((l) => l.namespace))].sort();
    expect(namespaces(found.production)).toEqual(["monitoring-production", "monitoring-production-agents", own].sort());
    expect(namespaces(found.staging)).toEqual(["monitoring-staging", other].sort());
    // Every line is where its pod's namespace says, and says where it came from.
    for (const [stack, ls] of Object.entries(found)) {
      const astray = ls.filter((l) => !l.line.includes(`origin=${l.namespace} `));
      expect({ stack, astray: astray.slice(0, 3) }).toEqual({ stack, astray: [] });
    }
  });

  test("the node's kubelet down: both stacks see it, production alone (it watches the cluster) delivers KubeletDown", async () => {
    // Staging scrapes the kubelet too (its namespaces' cAdvisor and volume series), and sees it down.
    await waitFor(
      "staging seeing the kubelet down",
      async () => ((await query("staging", 'up{job="kubelet"} == 0')).length ? true : undefined),
      30_000,
      1000,
    );
    const productionRules = await alertRules("production");
    expect((await alertRules("staging")).map((r) => r.name)).not.toContain(NODE_ALERT);
    const forSeconds = Math.min(...productionRules.filter((r) => r.name === NODE_ALERT).map((r) => r.duration));
    const due = faults.node.startedAt + bound(forSeconds) * 1000;
    await waitFor(
      `${NODE_ALERT} at production's sink`,
      async () => (firing("production", "critical", NODE_ALERT, K3S_NODE).length ? true : undefined),
      due - Date.now() + 60_000,
      1000,
    ).catch(() => undefined);
    const at = firing("production", "critical", NODE_ALERT, K3S_NODE)[0]?.receivedAt;
    process.stderr.write(
      `two stacks: ${NODE_ALERT} at production's sink after ${at ? ((at - faults.node.startedAt) / 1000).toFixed(1) : "-"} s (bound ${((due - faults.node.startedAt) / 1000).toFixed(0)} s)\n`,
    );
    expect({
      production: firing("production", "critical", NODE_ALERT, K3S_NODE).length,
      staging: [...mentioning("staging", NODE_ALERT), ...mentioning("staging", "kubelet"), ...mentioning("staging", "Kubelet")],
    }).toEqual({ production: 1, staging: [] });
    // Nor does staging hold any alert of it, pending or firing.
    expect((await query("staging", 'ALERTS{job=~"kubelet|cadvisor"}')).map((s) => s.metric.alertname)).toEqual([]);
  });

  test("staging goes as a destroy takes it; production keeps scraping every target of its own and alerting", async () => {
    const staging = lab.stacks.staging;
    await lab.stopStaging();
    const stoppedAt = Date.now();
    expect(staging.stack.local.processes.filter((p) => p.alive).map((p) => p.name)).toEqual([]);
    await expect(httpGet(`${lab.url("staging", "prometheus")}/-/ready`, 2000)).rejects.toThrow();

    // Production scrapes on: every target but the node's kubelet (and its cAdvisor), down since the last fault, answers after the stop.
    await waitFor(
      "production's targets scraped after staging's stop",
      async () => {
        const t = (await targets("production")).filter((x) => !["kubelet", "cadvisor"].includes(x.scrapePool));
        return t.length > 0 && t.every((x) => x.health === "up" && Date.parse(x.lastScrape) > stoppedAt) ? true : undefined;
      },
      30_000,
      1000,
    );
    const pools = new Set((await targets("production")).map((t) => t.scrapePool));
    expect(["prometheus", "alertmanager", "loki", "kube-state-metrics", "node-exporter", "alloy"].filter((p) => !pools.has(p))).toEqual([]);

    // And alerts: a container killed in its own namespace (a new notification group: Grafana's pod) reaches its sink.
    const own = lab.stacks.production.config.namespace;
    const pod = lab.podOf("grafana", own).metadata.name;
    const startedAt = Date.now();
    await oomKill(own, pod, "grafana");
    const rules = await alertRules("production");
    const forSeconds = Math.min(...rules.filter((r) => r.name === OOM_ALERT).map((r) => r.duration));
    await waitFor(
      `${OOM_ALERT} for ${own}/${pod} at production's sink`,
      async () => (firing("production", "monitoring", OOM_ALERT, `${own}/${pod}`).length ? true : undefined),
      bound(forSeconds, durationSeconds(LAB_TIMING.scrapeInterval) ?? 2) * 1000 + 60_000,
      1000,
    ).catch(async (err: Error) => {
      // What production held of it, and what its sink received: where the chain stopped.
      const series = await query("production", `kube_pod_container_status_restarts_total{pod="${pod}"}`).catch((e: Error) => e.message);
      const alerts = await query("production", `ALERTS{alertname="${OOM_ALERT}"}`).catch((e: Error) => e.message);
      const received = lab.stacks.production.messages.map((m) => `${m.channel}: ${m.body.embeds?.[0]?.title ?? m.body.text ?? ""}`);
      throw new Error(
        `${err.message}\nrestarts: ${JSON.stringify(series)}\nALERTS: ${JSON.stringify(alerts)}\nsink: ${received.join("; ")}\n${lab.diagnostics()}`,
      );
    });
    const at = firing("production", "monitoring", OOM_ALERT, `${own}/${pod}`)[0].receivedAt;
    process.stderr.write(
      `two stacks: after staging's stop, ${OOM_ALERT} for ${own}/${pod} after ${((at - startedAt) / 1000).toFixed(1)} s\n`,
    );
  });
});
