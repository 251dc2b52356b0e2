/**
 * Production on three nodes, then one of them drained: the tier's cluster gets three more kwok
 * nodes (k3s-agent-1 to -3, as `npm run cluster -- up --nodes 4` makes them; removed at the end),
 * the last tainted as k3s documents for a server kept to the control plane, which the stack's
 * workloads do not tolerate; and the production stack file, with `nodes: 3`, is deployed by the
 * real engine. Read from the API server:
 *
 * - placement: the two Prometheus replicas on two nodes, the three Alertmanager peers on three,
 *   each pod bound apart by its own required anti-affinity (kube-scheduler's default spreading
 *   alone keeps them apart on a quiet cluster, as seen with the constraint removed: the nodes
 *   they landed on cannot tell); none of the stack's workloads on the tainted node;
 *   node-exporter and the log collector once on every node, the tainted one too; each claim's
 *   volume (local-path, WaitForFirstConsumer) on the node of the pod that mounts it;
 * - `kubectl drain` of the node of a Prometheus replica (eviction, so the budgets count): it
 *   completes; the budgets then allow no second eviction (an eviction of the other replica, or of a
 *   peer elsewhere, is refused); the other replica and the two peers elsewhere stay Ready, and are
 *   what Prometheus' Alertmanager discovery (its rendered relabels over the Endpoints) and the
 *   Prometheus Service point at; a drained pod with a claim waits, Pending, for its claim's node
 *   (local-path volumes never move), one without comes back on another node;
 * - drained, the alerts still reach the sink: kwok runs no process, so the test runs the pods left
 *   Running — the other Prometheus replica and the two peers elsewhere — on the exact binaries, from
 *   what the API server holds (their specs, ConfigMaps, Secrets, a token of Prometheus' service
 *   account), each on its pod's address in one network namespace whose hosts file answers as the
 *   cluster's DNS (lab/local/cluster-pods.ts). Prometheus' own Kubernetes discovery, through the API
 *   server with its RBAC, finds the two peers and no other; they gossip as one cluster; the Watchdog
 *   reaches the dead man's switch (the stack file's receiver, a sink on an address of that network)
 *   once, without the `replica` label;
 * - uncordoned, the waiting pods go back to their node and every workload is Ready.
 *
 * Real engine, real API server, real provider, real scheduler, real Prometheus and Alertmanager.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { PROMETHEUS_PATHS } from "../../components/prometheus/args";
import { nodeNames, nodeObject } from "../../lab/cluster/manifests";
import { stackBinary } from "../../lab/local/binaries";
import { ApiServerBridge, ClusterPod, DataObject, headlessHosts, layOutContainer } from "../../lab/local/cluster-pods";
import { PodNetwork } from "../../lab/local/pod-network";
import { clusterPodConfig } from "../../lab/local/prometheus";
import { LocalRun } from "../../lab/processes/children";
import { createTeamWorkloads, deleteNamespace } from "./support/apps";
import { KubeObject, get, kubectl, list, notReady, waitFor } from "./support/kube";
import { StackHandle, openStack } from "./support/stack";

const TEAM = "shop";
const NAMESPACE = "monitoring-production";
const AGENTS = "monitoring-production-agents";
/** The nodes the test adds beside the tier's k3s-server: two like it, and a third that only the agents may use. */
const ADDED = nodeNames(4).slice(1);
/**
 * The third added node is tainted as k3s documents for servers kept to the control plane
 * (`--node-taint CriticalAddonsOnly=true:NoExecute`): the stack's workloads do not tolerate it,
 * its DaemonSets must (a node's metrics and logs are wanted from every node).
 */
const TAINTED = ADDED[2].name;
const TAINT = { key: "CriticalAddonsOnly", value: "true", effect: "NoExecute" };
/**
 * The receivers' sink: an address of the pods' network outside the cluster's pod and service
 * ranges (RFC 5737), where the stack file's Discord webhook and dead man's switch point.
 */
const SINK = { address: "198.51.100.7", port: 8080 };

interface Pod {
  name: string;
  namespace: string;
  uid: string;
  /** `Kind/name` of the workload that owns it (a ReplicaSet's Deployment by its name prefix). */
  owner: string;
  node?: string;
  phase: string;
  ready: boolean;
  /** The scheduler's message when it could not place the pod. */
  unschedulable?: string;
  claims: string[];
  /**
   * The pod's own spec binds the scheduler to keep it off a node that runs a pod with its labels:
   * a required pod anti-affinity term over kubernetes.io/hostname whose selector its own labels match.
   */
  keptApart: boolean;
}

interface Snapshot {
  nodes: string[];
  pods: Pod[];
  /** Claim name → the nodes its volume's node affinity allows (local-path: one). */
  claimNodes: Record<string, string[]>;
}

type RawPod = KubeObject & {
  spec: {
    nodeName?: string;
    volumes?: Array<{ persistentVolumeClaim?: { claimName: string } }>;
    affinity?: {
      podAntiAffinity?: {
        requiredDuringSchedulingIgnoredDuringExecution?: Array<{
          topologyKey: string;
          labelSelector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
        }>;
      };
    };
  };
  status: { phase: string; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
};

function podOf(p: RawPod): Pod {
  const ref = p.metadata.ownerReferences?.[0];
  const owner = ref
    ? ref.kind === "ReplicaSet"
      ? `Deployment/${ref.name.replace(/-[a-z0-9]+$/, "")}`
      : `${ref.kind}/${ref.name}`
    : "none";
  const condition = (type: string) => p.status.conditions?.find((c) => c.type === type);
  const scheduled = condition("PodScheduled");
  return {
    name: p.metadata.name,
    namespace: p.metadata.namespace ?? "",
    uid: p.metadata.uid,
    owner,
    node: p.spec.nodeName,
    phase: p.status.phase,
    ready: condition("Ready")?.status === "True",
    unschedulable: scheduled?.status === "False" ? `${scheduled.reason}: ${scheduled.message}` : undefined,
    claims: (p.spec.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [])),
    keptApart: (p.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).some(
      (t) =>
        t.topologyKey === "kubernetes.io/hostname" &&
        !t.labelSelector?.matchExpressions?.length &&
        Object.keys(t.labelSelector?.matchLabels ?? {}).length > 0 &&
        Object.entries(t.labelSelector?.matchLabels ?? {}).every(([k, v]) => p.metadata.labels?.[k] === v),
    ),
  };
}

async function snapshot(): Promise<Snapshot> {
  const pods = [...(await list("pods", NAMESPACE)), ...(await list("pods", AGENTS))]
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => podOf(p as RawPod));
  const claimNodes: Record<string, string[]> = {};
  for (const pv of await list("persistentvolumes")) {
    const spec = pv.spec as {
      claimRef?: { namespace: string; name: string };
      nodeAffinity?: { required?: { nodeSelectorTerms: Array<{ matchExpressions?: Array<{ key: string; values?: string[] }> }> } };
    };
    if (spec.claimRef?.namespace !== NAMESPACE) continue;
    claimNodes[spec.claimRef.name] = (spec.nodeAffinity?.required?.nodeSelectorTerms ?? []).flatMap((t) =>
      (t.matchExpressions ?? []).filter((e) => e.key === "kubernetes.io/hostname").flatMap((e) => e.values ?? []),
    );
  }
  return { nodes: (await list("nodes")).map((n) => n.metadata.name).sort(), pods, claimNodes };
}

const of = (s: Snapshot, owner: string) => s.pods.filter((p) => p.owner === owner);

/**
 * What the issue asks of the placement, on the snapshot: the replicas and peers each on a node
 * of their own (as many as the stack file's profile gives for three nodes), each DaemonSet's pod
 * once and Ready on every node, each claim's volume on its pod's node.
 */
function placementProblems(s: Snapshot): string[] {
  const problems: string[] = [];
  for (const [owner, count] of [
    ["StatefulSet/prometheus", 2],
    ["StatefulSet/alertmanager", 3],
  ] as const) {
    const pods = of(s, owner);
    const nodes = new Set(pods.map((p) => p.node));
    if (pods.length !== count || nodes.size !== count || pods.some((p) => !p.node || !p.ready))
      problems.push(
        `${owner}: ${pods.map((p) => `${p.name}@${p.node}${p.ready ? "" : " (not Ready)"}`).join(", ")}, want ${count} on ${count} nodes`,
      );
    // Apart by the constraint, not by chance: kube-scheduler's default spreading alone put them
    // apart on this quiet cluster with the constraint removed from the render.
    for (const p of pods.filter((p) => !p.keptApart)) problems.push(`${p.name}: no required anti-affinity over kubernetes.io/hostname`);
  }
  const daemonSets = [...new Set(s.pods.filter((p) => p.owner.startsWith("DaemonSet/")).map((p) => p.owner))].sort();
  if (JSON.stringify(daemonSets) !== JSON.stringify(["DaemonSet/alloy", "DaemonSet/node-exporter"]))
    problems.push(`DaemonSets with pods: ${daemonSets.join(", ")}, want alloy and node-exporter`);
  for (const ds of daemonSets) {
    const onNodes = of(s, ds)
      .filter((p) => p.ready)
      .map((p) => p.node)
      .sort();
    if (JSON.stringify(onNodes) !== JSON.stringify(s.nodes))
      problems.push(`${ds}: Ready on ${onNodes.join(", ")}, want once on ${s.nodes.join(", ")}`);
  }
  for (const pod of s.pods.filter((p) => p.node)) {
    for (const claim of pod.claims) {
      const nodes = s.claimNodes[claim] ?? [];
      if (nodes.length !== 1 || nodes[0] !== pod.node)
        problems.push(`${pod.name} on ${pod.node}: claim ${claim}'s volume on ${nodes.join(", ") || "no node"}`);
    }
  }
  return problems;
}

/**
 * What the issue asks after the drain of `drained`, given the snapshot before it: the pods that
 * were elsewhere are the same pods and Ready; each workload that had a pod on the drained node
 * has it back Ready on another node, or, when the pod mounts a claim, Pending because its volume
 * is on the drained node; nothing but the DaemonSets' pods is on it.
 */
function drainProblems(before: Snapshot, after: Snapshot, drained: string): string[] {
  const problems: string[] = [];
  const uids = new Set(after.pods.map((p) => p.uid));
  for (const p of before.pods.filter((p) => p.node !== drained && p.namespace === NAMESPACE)) {
    const now = after.pods.find((q) => q.uid === p.uid);
    if (!now || !now.ready) problems.push(`${p.name} on ${p.node}: ${now ? "not Ready" : "gone"}`);
  }
  for (const p of before.pods.filter((p) => p.node === drained && p.phase === "Running" && !p.owner.startsWith("DaemonSet/"))) {
    if (uids.has(p.uid)) {
      problems.push(`${p.name}: still on ${drained}`);
      continue;
    }
    const replacements = of(after, p.owner).filter((q) => !before.pods.some((b) => b.uid === q.uid));
    const waiting = p.claims.length > 0;
    const fine = replacements.some((q) =>
      waiting
        ? q.phase === "Pending" &&
          !q.node &&
          q.unschedulable !== undefined &&
          q.claims.every((c) => (after.claimNodes[c] ?? []).includes(drained))
        : q.ready && q.node !== undefined && q.node !== drained,
    );
    if (!fine)
      problems.push(
        `${p.owner} (${p.name}, ${waiting ? "with a claim: want it Pending for its node" : "no claim: want it Ready elsewhere"}): ${
          replacements.map((q) => `${q.name}@${q.node ?? "-"} ${q.phase}${q.ready ? " Ready" : ""}`).join(", ") || "no replacement"
        }`,
      );
  }
  return problems;
}

/** `kubectl drain` as k3s's upgrade runs it (eviction, so disruption budgets count). */
async function drain(node: string, timeoutSeconds: number): Promise<{ ok: boolean; output: string }> {
  try {
    return {
      ok: true,
      output: await kubectl(["drain", node, "--ignore-daemonsets", "--delete-emptydir-data", `--timeout=${timeoutSeconds}s`]),
    };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

/** An eviction of one pod through the API `kubectl drain` uses; what the API server answered. */
async function evict(pod: Pod): Promise<string> {
  const eviction = { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: pod.name, namespace: pod.namespace } };
  try {
    await kubectl(
      ["create", "--raw", `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}/eviction`, "-f", "-"],
      JSON.stringify(eviction),
    );
    return "evicted";
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
}

async function serviceTargets(name: string): Promise<string[]> {
  const ep = (await get("endpoints", name, NAMESPACE)) as KubeObject & {
    subsets?: Array<{ addresses?: Array<{ targetRef?: { name: string } }> }>;
  };
  return [...new Set((ep.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.targetRef?.name ?? "?")))].sort();
}

async function everyWorkloadReady(seconds = 240): Promise<void> {
  await waitFor(
    "every workload of the stack Ready",
    async () => {
      const waiting = [...(await list("deployments,statefulsets", NAMESPACE)), ...(await list("daemonsets", AGENTS))]
        .map(notReady)
        .filter((x) => x !== undefined);
      return waiting.length ? waiting.join("; ") : undefined;
    },
    seconds,
  );
}

/** The sink in the pods' network: each request it receives, a JSON line in `file`; it answers as Discord does (204). */
const SINK_SERVER = `
const fs = require("fs");
const http = require("http");
const [address, port, file] = process.argv.slice(1);
http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    fs.appendFileSync(file, JSON.stringify({ path: req.url, at: Date.now(), body: Buffer.concat(chunks).toString("utf8") }) + "\\n");
    res.writeHead(204).end();
  });
}).listen(Number(port), address, () => console.log("sink on " + address + ":" + port));
`;

interface Ping {
  status: string;
  labels: Record<string, string>;
}

/**
 * The pods left Running after the drain, run on the exact binaries (lab/local/cluster-pods.ts) in one network with
 * the sink, until the Watchdog has reached the sink and a peer's turn to send it again has passed: what Prometheus
 * discovered, how each peer sees its cluster, and the dead man's switch's pings.
 */
async function runDrainedPods(
  prometheus: ClusterPod,
  peers: ClusterPod[],
): Promise<{ alertmanagers: string[]; peerStatus: Array<{ status: string; peers: number }>; pings: Ping[]; firstPingSeconds: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "three-nodes-pods-"));
  const run = new LocalRun(10 * 60_000);
  let bridge: ApiServerBridge | undefined;
  try {
    const kubeconfig = YAML.parse(fs.readFileSync(process.env.KUBECONFIG as string, "utf8")) as {
      clusters: Array<{ cluster: { server: string } }>;
    };
    const { server } = kubeconfig.clusters[0].cluster;
    const objects = [...(await list("configmaps", NAMESPACE)), ...(await list("secrets", NAMESPACE))] as unknown as DataObject[];
    const account = prometheus.spec.serviceAccountName ?? "default";
    const token = (await kubectl(["create", "token", account, "-n", NAMESPACE, "--duration=1h"])).trim();
    const context = { objects, serviceAccountToken: token };

    const hostsFile = path.join(dir, "hosts");
    fs.writeFileSync(hostsFile, headlessHosts(await list("endpoints", NAMESPACE)));
    const pods = [prometheus, ...peers];
    const network = new PodNetwork(run, "drained-pods", {
      addresses: [...pods.map((p) => p.status?.podIP as string), SINK.address],
      hostsFile,
    });
    await network.ready();
    bridge = await ApiServerBridge.open(server, dir);
    await bridge.into(run, network);
    const pingsFile = path.join(dir, "sink.jsonl");
    network.start("sink", process.execPath, ["-e", SINK_SERVER, SINK.address, String(SINK.port), pingsFile]);

    for (const peer of peers) {
      const root = path.join(dir, peer.metadata.name);
      const { args, env } = layOutContainer(peer, "alertmanager", context, root);
      network.start(peer.metadata.name, stackBinary("alertmanager"), args, { env });
    }
    const root = path.join(dir, prometheus.metadata.name);
    const laidOut = layOutContainer(prometheus, "prometheus", context, root);
    const clientConfig = path.join(dir, "prometheus.kubeconfig");
    fs.writeFileSync(
      clientConfig,
      YAML.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          { name: "cluster", cluster: { server, "certificate-authority": path.join(root, PROMETHEUS_PATHS.serviceAccountDir, "ca.crt") } },
        ],
        users: [{ name: account, user: { tokenFile: path.join(root, PROMETHEUS_PATHS.serviceAccountDir, "token") } }],
        contexts: [{ name: "pod", context: { cluster: "cluster", user: account } }],
        "current-context": "pod",
      }),
    );
    const args = laidOut.args.map((a) =>
      a.startsWith("--config.file=") ? `--config.file=${clusterPodConfig(a.slice("--config.file=".length), root, clientConfig)}` : a,
    );
    const started = Date.now();
    network.start(prometheus.metadata.name, stackBinary("prometheus"), args, { env: laidOut.env });

    const promUrl = `http://${prometheus.status?.podIP}:9090`;
    const getJson = async <T>(url: string): Promise<T | undefined> => {
      const r = await network.request("GET", url);
      return "status" in r && r.status === 200 ? (JSON.parse(r.body) as T) : undefined;
    };
    const alertmanagers = await run.waitFor(
      "Prometheus' discovery of the Alertmanagers",
      async () => {
        const body = await getJson<{ data: { activeAlertmanagers: Array<{ url: string }> } }>(`${promUrl}/api/v1/alertmanagers`);
        const urls = (body?.data.activeAlertmanagers ?? []).map((a) => a.url).sort();
        return urls.length >= peers.length ? urls : undefined;
      },
      60_000,
      500,
    );
    const readPings = (): Ping[] =>
      (fs.existsSync(pingsFile) ? fs.readFileSync(pingsFile, "utf8").split("\n").filter(Boolean) : [])
        .map((line) => JSON.parse(line) as { path: string; body: string })
        .filter((r) => r.path === "/ping")
        .flatMap((r) => (JSON.parse(r.body) as { alerts: Ping[] }).alerts);
    await run.waitFor(
      "the Watchdog at the dead man's switch",
      () => (readPings().length > 0 ? true : undefined),
      120_000,
      500,
      () => (fs.existsSync(pingsFile) ? fs.readFileSync(pingsFile, "utf8") : "the sink received nothing"),
    );
    const firstPingSeconds = (Date.now() - started) / 1000;
    // The second peer in the cluster's order sends after its peer timeout (15 s) unless the first's notification
    // reached it by gossip; wait past that turn, then count.
    await new Promise((resolve) => setTimeout(resolve, 25_000));
    const peerStatus: Array<{ status: string; peers: number }> = [];
    for (const peer of peers) {
      const status = await getJson<{ cluster: { status: string; peers: unknown[] } }>(`http://${peer.status?.podIP}:9093/api/v2/status`);
      peerStatus.push({ status: status?.cluster.status ?? "no answer", peers: status?.cluster.peers.length ?? 0 });
    }
    return { alertmanagers, peerStatus, pings: readPings(), firstPingSeconds };
  } finally {
    await run.stop();
    await bridge?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let handle: StackHandle;
let placed: Snapshot;

beforeAll(async () => {
  for (const node of ADDED) {
    const object = nodeObject(node);
    if (node.name === TAINTED) object.spec = { taints: [TAINT] };
    await kubectl(["create", "-f", "-"], JSON.stringify(object));
  }
  await waitFor("the added nodes Ready (kwok)", async () => {
    const nodes = await list("nodes");
    const ready = nodes.filter((n) =>
      ((n.status as { conditions?: Array<{ type: string; status: string }> }).conditions ?? []).some(
        (c) => c.type === "Ready" && c.status === "True",
      ),
    );
    return ready.length === 4 ? undefined : `${ready.length} of ${nodes.length} Ready`;
  });
  await createTeamWorkloads(TEAM);
  handle = await openStack("production", {
    secrets: {
      grafanaAdminPassword: "three-nodes-grafana-admin-password",
      discordWebhookUrl: `http://${SINK.address}:${SINK.port}/discord`,
      deadMansSwitchUrl: `http://${SINK.address}:${SINK.port}/ping`,
      "basicAuthPasswords.admin": "three-nodes-basic-auth-password",
    },
  });
  handle.editStackFile((c) => {
    // The Cloudflare provider cannot be built here (lab/tools/tools.ts): the tunnel stays off.
    (c["monitoring:cloudflare"] as Record<string, unknown>).enabled = false;
    // What docs/operations.md ("Nodes") tells a team on three nodes to set.
    c["monitoring:nodes"] = 3;
  });
});

afterAll(async () => {
  for (const node of (await list("nodes")).map((n) => n.metadata.name)) await kubectl(["uncordon", node]).catch(() => undefined);
  if (handle) {
    await handle.cli(["state", "unprotect", "--all", "--yes"]).catch(() => undefined);
    await handle.stack.destroy().catch(() => undefined);
    handle.dispose();
  }
  for (const ns of [TEAM, NAMESPACE, AGENTS]) await deleteNamespace(ns);
  await kubectl(["delete", "node", ...ADDED.map((n) => n.name), "--ignore-not-found", "--wait=true", "--timeout=60s"]);
});

describe("production on three nodes, one drained", () => {
  test("pulumi up with nodes: 3 on three nodes (and a tainted fourth): replicas and peers apart, the agents on every node, claims on their pod's node", async () => {
    const result = await handle.stack.up();
    expect(result.summary.result).toBe("succeeded");
    await everyWorkloadReady();
    placed = await snapshot();
    expect(placed.nodes).toEqual(["k3s-agent-1", "k3s-agent-2", "k3s-agent-3", "k3s-server"]);
    // The stack's own pods on the three untainted nodes only; the agents on all four.
    expect(placed.pods.filter((p) => p.node === TAINTED && !p.owner.startsWith("DaemonSet/")).map((p) => p.name)).toEqual([]);
    expect(placementProblems(placed)).toEqual([]);
    // Every claim of the stack is bound, on one node.
    const claims = (await list("persistentvolumeclaims", NAMESPACE)).map((c) => c.metadata.name).sort();
    expect(Object.keys(placed.claimNodes).sort()).toEqual(claims);
    expect(claims).toEqual([
      "data-alertmanager-0",
      "data-alertmanager-1",
      "data-alertmanager-2",
      "data-loki-0",
      "data-prometheus-0",
      "data-prometheus-1",
      "grafana",
    ]);
    // Two replicas, three peers; every other workload once (Grafana, Loki, kube-state-metrics, the exporters).
    const replicas = Object.fromEntries(
      (await list("deployments,statefulsets", NAMESPACE)).map((w) => [w.metadata.name, (w.spec as { replicas: number }).replicas]),
    );
    expect(Object.entries(replicas).filter(([, n]) => n !== 1)).toEqual([
      ["alertmanager", 3],
      ["prometheus", 2],
    ]);
    expect(replicas).toMatchObject({ grafana: 1, loki: 1, "kube-state-metrics": 1 });
    const budgets = (await list("poddisruptionbudgets", NAMESPACE)).map(
      (b) => `${b.metadata.name}:${(b.spec as { maxUnavailable: number }).maxUnavailable}`,
    );
    expect(budgets.sort()).toEqual(["alertmanager:1", "prometheus:1"]);
  });

  test("the placement check can fail: replicas sharing a node, a peer not bound apart, an agent missing on a node, a volume on another node", () => {
    const broken = structuredClone(placed);
    const [first, second] = of(broken, "StatefulSet/prometheus");
    second.node = first.node;
    const peer = of(broken, "StatefulSet/alertmanager")[0];
    peer.keptApart = false;
    const collector = of(broken, "DaemonSet/alloy");
    broken.pods = broken.pods.filter((p) => p !== collector[0]);
    const claim = first.claims[0];
    broken.claimNodes[claim] = [broken.nodes.find((n) => n !== first.node) as string];
    const problems = placementProblems(broken);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^StatefulSet\/prometheus: .* want 2 on 2 nodes$/),
        expect.stringMatching(/^DaemonSet\/alloy: Ready on .* want once on /),
        expect.stringContaining(`${first.name} on ${first.node}: claim ${claim}'s volume on`),
        // Moved, the second replica is away from its own volume too.
        expect.stringContaining(`${second.name} on ${first.node}: claim ${second.claims[0]}'s volume on`),
      ]),
    );
    expect(problems).toContain(`${peer.name}: no required anti-affinity over kubernetes.io/hostname`);
    expect(problems).toHaveLength(5);
  });

  test("kubectl drain of a Prometheus replica's node completes; one eviction at a time; the rest stay Ready and keep receiving", async () => {
    const [victim, survivor] = of(placed, "StatefulSet/prometheus");
    const drained = victim.node as string;
    const peersElsewhere = of(placed, "StatefulSet/alertmanager").filter((p) => p.node !== drained);
    const started = Date.now();
    const result = await drain(drained, 180);
    const drainSeconds = (Date.now() - started) / 1000;
    expect(result).toMatchObject({ ok: true });
    expect(result.output).toContain(`node/${drained} drained`);
    process.stderr.write(`three nodes: ${drained} drained in ${drainSeconds.toFixed(1)} s\n`);

    // The budgets allow one at a time: the survivor and a peer elsewhere cannot be evicted now.
    const budgets = Object.fromEntries(
      (await list("poddisruptionbudgets", NAMESPACE)).map((b) => [
        b.metadata.name,
        (b.status as { disruptionsAllowed: number }).disruptionsAllowed,
      ]),
    );
    expect(budgets).toEqual({ alertmanager: 0, prometheus: 0 });
    expect(await evict(survivor)).toMatch(/disruption budget/);
    expect(await evict(peersElsewhere[0])).toMatch(/disruption budget/);

    let after: Snapshot = placed;
    await waitFor("the drained pods replaced or waiting for their node", async () => {
      after = await snapshot();
      const problems = drainProblems(placed, after, drained);
      return problems.length ? problems.join("; ") : undefined;
    });
    // The drained replica and peer wait for their claims' node, as local-path volumes never move.
    const waiting = after.pods.filter((p) => p.phase === "Pending").map((p) => `${p.name}: ${p.unschedulable}`);
    process.stderr.write(`three nodes: waiting for ${drained}: ${waiting.join(" | ")}\n`);
    expect(waiting).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${victim.name}: Unschedulable`))]));
    // The Prometheus Service points at the survivor; what Prometheus' own discovery finds, the next test reads from it.
    expect(await serviceTargets("prometheus")).toEqual([survivor.name]);
  });

  test("drained, the surviving replica and the two peers elsewhere, run on their binaries from the API server's objects, page the sink", async () => {
    const [victim, survivor] = of(placed, "StatefulSet/prometheus");
    const drained = victim.node as string;
    const raw = (await list("pods", NAMESPACE)) as unknown as Array<ClusterPod & RawPod>;
    const prometheus = raw.find((p) => p.metadata.name === survivor.name) as ClusterPod;
    const peers = raw.filter((p) => podOf(p).owner === "StatefulSet/alertmanager" && podOf(p).ready && p.spec.nodeName !== drained);
    expect(peers.map((p) => p.metadata.name).sort()).toEqual(
      of(placed, "StatefulSet/alertmanager")
        .filter((p) => p.node !== drained)
        .map((p) => p.name)
        .sort(),
    );
    const outcome = await runDrainedPods(prometheus, peers);
    process.stderr.write(
      `three nodes: drained, the Watchdog reached the sink ${outcome.firstPingSeconds.toFixed(1)} s after Prometheus started\n`,
    );
    // Prometheus' own discovery (the rendered relabels over the Endpoints, with its service account's RBAC): the two peers.
    expect(outcome.alertmanagers).toEqual(peers.map((p) => `http://${p.status?.podIP}:9093/api/v2/alerts`).sort());
    // The peers found each other by the names the cluster's DNS gives them, and settled as one cluster of two.
    for (const status of outcome.peerStatus) expect(status).toEqual({ status: "ready", peers: 2 });
    // One ping for the group, not one per peer, although both received the alert; no replica label on it.
    expect(outcome.pings).toHaveLength(1);
    expect(outcome.pings[0]).toMatchObject({ status: "firing", labels: { alertname: "Watchdog", environment: "production" } });
    expect(outcome.pings[0].labels).not.toHaveProperty("replica");
  });

  test("the drain check can fail: a pod still on the drained node, one elsewhere gone, a claimed pod placed elsewhere", () => {
    const [victim, survivor] = of(placed, "StatefulSet/prometheus");
    const drained = victim.node as string;
    const after = structuredClone(placed);
    after.pods = after.pods.filter((p) => p.uid !== survivor.uid);
    const peer = of(placed, "StatefulSet/alertmanager").find((p) => p.node === drained) as Pod;
    after.pods = after.pods.map((p) => (p.uid === peer.uid ? { ...p, uid: "new", node: survivor.node } : p));
    expect(drainProblems(placed, after, drained)).toEqual(
      expect.arrayContaining([
        `${survivor.name} on ${survivor.node}: gone`,
        `${victim.name}: still on ${drained}`,
        expect.stringMatching(/^StatefulSet\/alertmanager \(.*want it Pending for its node\)/),
      ]),
    );
  });

  test("uncordoned, the waiting pods go back to their claims' node and every workload is Ready", async () => {
    const [victim] = of(placed, "StatefulSet/prometheus");
    const drained = victim.node as string;
    await kubectl(["uncordon", drained]);
    await everyWorkloadReady();
    const back = await snapshot();
    expect(placementProblems(back)).toEqual([]);
    expect(of(back, "StatefulSet/prometheus").find((p) => p.name === victim.name)?.node).toBe(drained);
  });
});
