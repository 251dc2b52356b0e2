/**
 * A local Kubernetes control plane shaped like the single k3s node this stack's users
 * run, for the cluster test tier. One helper owns process start, readiness, logs and
 * teardown; callers only get a kubeconfig (envtest's shape).
 *
 *   import { up, down, status, kubeconfigPath } from "../lab/cluster";
 *   const cluster = await up({ nodes: 1, ttlSeconds: 3 * 3600 }); // idempotent
 *   process.env.KUBECONFIG = cluster.kubeconfig;
 *   ...
 *   await down(); // idempotent
 *
 * What runs (all from .tools/bin, built by `npm run tools`; all on 127.0.0.1 only):
 * etcd, kube-apiserver (token auth, Node+RBAC, PodSecurity), kube-controller-manager
 * (every default controller), kube-scheduler, and kwok, which plays the kubelet of the
 * simulated nodes: pods on them go Running and Ready at once (containers are never run,
 * probes never checked), Job pods Succeeded, deleted pods go away; and the local-path
 * provisioner (provisioner.ts, run by Node.js).
 *
 * What exists after `up`:
 * - Node `k3s-server` (and `k3s-agent-1`... with `nodes` > 1): k3s labels, 4 CPU, 8Gi,
 *   110 pods, 100Gi ephemeral storage, no taints, pod CIDRs from 10.42.0.0/16;
 * - StorageClass `local-path`, the default, exactly as k3s ships it, and its provisioner
 *   (provisioner.ts, one more process of the cluster): a claim of a rancher.io/local-path
 *   class gets its own volume `pvc-<uid>` when its first pod is scheduled
 *   (WaitForFirstConsumer), of the size it asks for, in its own directory
 *   .cluster/volumes/pvc-<uid>_<namespace>_<claim> on that pod's node. When the claim goes,
 *   a Delete volume goes with its directory; a Retain one stays Released, data and all.
 *   Nothing writes into the directories (no container runs): a test that must prove data
 *   survived writes a marker into the bound PV's spec.hostPath.path itself, then checks
 *   the PV object (still there, Bound or Released, claimRef to its claim) and the marker.
 * - CRDs for Traefik's traefik.io/v1alpha1 kinds (see traefik-crds.ts).
 * NetworkPolicies are accepted (built-in API) but nothing enforces them; k3s would.
 *
 * State lives in .cluster/ at the root of the checkout, or in the directory LOCAL_CLUSTER_DIR
 * names (each live test file's is .lab/<file>/.cluster, so that the labs and the cluster tier can run at once
 * in one checkout; both git-ignored, not under .tools, which worktrees may share): kubeconfig, state.json, pki/, logs/<name>.log, pids/<name>.pid, etcd/, volumes/. Every process is detached and runs under `timeout`,
 * so it dies after `ttlSeconds` (default 3 h) even if `down` never runs.
 */
import * as fs from "fs";
import * as path from "path";
import { Component, etcd, kubeApiserver, kubeControllerManager, kubeScheduler, kwok, localPathProvisioner, Ports } from "./control-plane";
import { KubeClient } from "./kube";
import { kwokConfigYaml } from "./kwok-stages";
import { nodeNames, nodeObject, SimulatedNode, storageClassObject } from "./manifests";
import { locateBinaries, StateDir } from "./paths";
import { generateCredentials, IDENTITIES, writeKubeconfig } from "./pki";
import { timeoutCommand, waitFor } from "../processes/supervision";
import { childPids, identityOf, ProcessIdentity, ownerState, residentBytes } from "../processes/proc";
import { clearCommand, withLock } from "../processes/lock";
import { DetachedProcess, isOurs, ProcessRecord, readPidFiles, startDetached, stopProcess } from "../processes/detached";
import { freePorts, LOOPBACK } from "../ports";
import { traefikCrds, TRAEFIK_KINDS } from "./traefik-crds";

export { MissingToolError } from "./paths";

export interface UpOptions {
  /** Simulated nodes: k3s-server plus nodes-1 agents. Default 1; on a running cluster, undefined accepts any count. */
  nodes?: number;
  /** Every process is killed after this many seconds. Default 3 h. */
  ttlSeconds?: number;
  /** Progress messages (default: none). */
  log?: (message: string) => void;
  /** How long `up` may take before it gives up and cleans up. Default 180 s. */
  timeoutMs?: number;
  /**
   * The cluster is this process's (a test run's, which stops it at its end): once this process is
   * gone, the next `up` takes a cluster still there for one left by an aborted run, stops it and
   * says so, and while it runs, another process's owned `up` is refused (a plain one uses it). Default: a cluster started by
   * hand, which outlives the command that started it.
   */
  owned?: boolean;
}

export interface ClusterInfo {
  kubeconfig: string;
  /** https://127.0.0.1:<port> */
  server: string;
  nodes: string[];
  startedAt: string;
  expiresAt: string;
  /** True when `up` found the cluster already running and healthy (and left it as it was). */
  alreadyRunning: boolean;
}

/** What `up` records in state.json. */
interface ClusterState {
  server: string;
  ports: Ports;
  nodes: SimulatedNode[];
  ttlSeconds: number;
  startedAt: string;
  expiresAt: string;
  adminToken: string;
  processes: ProcessRecord[];
  /** The process the cluster belongs to (UpOptions.owned). */
  owner?: ProcessIdentity;
}

export interface ProcessStatus {
  name: string;
  /** The `timeout` wrapper's pid (pids/<name>.pid). */
  pid: number;
  /** The component's own pids (children of the wrapper). */
  componentPids: number[];
  alive: boolean;
  residentBytes: number;
  log: string;
  /** How it ended, when it is not alive: binary, exit code or signal. */
  exit?: string;
}

export interface ClusterStatus {
  /** The state directory exists. */
  present: boolean;
  /** Every process alive and /readyz ok. */
  healthy: boolean;
  readyz: string;
  kubeconfig: string;
  server?: string;
  expiresAt?: string;
  /** Its TTL has passed: the processes were killed (`up` starts a new one, `down` cleans up). */
  expired: boolean;
  nodes: string[];
  processes: ProcessStatus[];
}

const DEFAULT_TTL_SECONDS = 3 * 3600;
const COMPONENT_ORDER: Component["name"][] = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
  "local-path-provisioner",
];

/**
 * The cluster's directory: LOCAL_CLUSTER_DIR when set, else .cluster/. `down` removes it whole,
 * so its last part must be .cluster: anything else is refused before it is used.
 */
function defaultState(): StateDir {
  const asked = process.env.LOCAL_CLUSTER_DIR;
  if (!asked) return new StateDir();
  if (path.basename(asked) !== ".cluster") {
    throw new Error(`LOCAL_CLUSTER_DIR must name a directory called .cluster (down removes it whole); given ${asked}`);
  }
  return new StateDir(path.resolve(asked));
}

/** The admin kubeconfig (it exists only while the cluster is up). */
export function kubeconfigPath(): string {
  return defaultState().kubeconfig;
}

function readState(state: StateDir): ClusterState | undefined {
  try {
    return JSON.parse(fs.readFileSync(state.stateFile, "utf8")) as ClusterState;
  } catch {
    return undefined;
  }
}

function adminClient(state: StateDir, recorded: ClusterState): KubeClient {
  return new KubeClient(recorded.server, recorded.adminToken, state.apiserverCert);
}

/** Status of the cluster in the default state directory. */
export async function status(): Promise<ClusterStatus> {
  return statusOf(defaultState());
}

async function statusOf(state: StateDir): Promise<ClusterStatus> {
  const present = fs.existsSync(state.root);
  const recorded = readState(state);
  const processes: ProcessStatus[] = readPidFiles(state)
    .sort((a, b) => COMPONENT_ORDER.indexOf(a.name as Component["name"]) - COMPONENT_ORDER.indexOf(b.name as Component["name"]))
    .map(({ name, pid }) => {
      const alive = isOurs(pid, state);
      const componentPids = alive ? childPids(pid) : [];
      return {
        name,
        pid,
        componentPids,
        alive,
        residentBytes: componentPids.reduce((sum, p) => sum + residentBytes(p), 0),
        log: state.logFile(name),
        exit: alive ? undefined : component(state, recorded, name, pid).exitReport(),
      };
    });
  let readyz = "not running";
  if (recorded && processes.some((p) => p.name === "kube-apiserver" && p.alive)) {
    try {
      const res = await adminClient(state, recorded).request("GET", "/readyz");
      readyz = res.status === 200 ? res.body.trim() : `HTTP ${res.status}`;
    } catch (err) {
      readyz = err instanceof Error ? err.message : String(err);
    }
  }
  const allAlive = processes.length === COMPONENT_ORDER.length && processes.every((p) => p.alive);
  return {
    present,
    healthy: present && recorded !== undefined && allAlive && readyz === "ok",
    readyz,
    kubeconfig: state.kubeconfig,
    server: recorded?.server,
    expiresAt: recorded?.expiresAt,
    expired: recorded !== undefined && Date.parse(recorded.expiresAt) <= Date.now(),
    nodes: recorded?.nodes.map((n) => n.name) ?? [],
    processes,
  };
}

/**
 * Starts the cluster and waits until it is usable: /readyz ok, every component healthy,
 * every node Ready, the default ServiceAccount there, the Traefik CRDs established.
 * When it is already up and healthy it is left as it is; a broken or expired one is
 * cleaned up first. On failure it stops what it started, keeps the logs (.cluster/logs/)
 * and throws with the log tail of the component that failed.
 */
export async function up(opts: UpOptions = {}): Promise<ClusterInfo> {
  const state = defaultState();
  const binaries = locateBinaries();
  timeoutCommand();
  fs.mkdirSync(path.dirname(state.root), { recursive: true });
  const log = opts.log ?? (() => undefined);
  return withLock(
    state.lockFile,
    async () => {
      const nodes = nodeNames(opts.nodes ?? 1);
      const current = await statusOf(state);
      const recorded = readState(state);
      const owner = recorded?.owner;
      const whose = ownerState(owner);
      // A run that would own the cluster (and stop it at its end) cannot share one another live run owns;
      // a plain `up` may use it, as it would a cluster started by hand.
      if (current.present && owner && whose === "running" && opts.owned) {
        throw new Error(
          `the cluster in ${state.root} belongs to a run still in progress: pid ${owner.pid} (${owner.command}), started at ` +
            `${recorded.startedAt}. Wait for it to end; if it is stuck, clear it with: ${clearCommand(owner.pid)}`,
        );
      }
      if (current.present && owner && whose === "ended") {
        log(
          `found a cluster left by an aborted run (pid ${owner.pid}, ${owner.command}, no longer running; started at ` +
            `${recorded.startedAt}): stopping it and removing ${state.root}`,
        );
        await downIn(state);
        return startOrClean(state, () => start(state, binaries, nodes, opts, log));
      }
      if (current.healthy && recorded) {
        if (opts.nodes !== undefined && opts.nodes !== recorded.nodes.length) {
          throw new Error(`the cluster is up with ${recorded.nodes.length} node(s); run \`npm run cluster -- down\` first to change that`);
        }
        const by = whose === "running" && owner ? ` (the run of pid ${owner.pid} owns it and stops it at its end)` : "";
        log(`cluster already up and healthy${by}`);
        return info(state, recorded, true);
      }
      if (current.present) {
        const ended = current.processes.map((p) => p.exit).filter((e): e is string => e !== undefined);
        log(`cleaning up a cluster that is not healthy (expired, crashed or half-started)${ended.length ? `: ${ended.join("; ")}` : ""}`);
        await downIn(state);
      }
      return startOrClean(state, () => start(state, binaries, nodes, opts, log));
    },
    { log },
  );
}

/** Starts a cluster; on failure stops what it started and keeps the logs. */
async function startOrClean(state: StateDir, starting: () => Promise<ClusterInfo>): Promise<ClusterInfo> {
  try {
    return await starting();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await stopAll(state).catch(() => undefined);
    throw new Error(`cluster up failed: ${message}\n(logs kept in ${state.logs}; \`npm run cluster -- down\` removes them)`);
  }
}

/** A component as a process a wait can depend on (its binary from the state's record when there is one). */
function component(state: StateDir, recorded: ClusterState | undefined, name: string, pid: number): DetachedProcess {
  const binary = recorded?.processes.find((p) => p.name === name)?.binary ?? name;
  return new DetachedProcess(state, name, pid, binary);
}

/**
 * How each component of the cluster that is not running ended (binary, exit code or signal) and
 * its log's last lines; empty when all run or there is no cluster. For a failure message: a test
 * that meets "connection refused" says which process went and why.
 */
export function exitReports(lines = 15): string[] {
  const state = defaultState();
  const recorded = readState(state);
  return readPidFiles(state)
    .map(({ name, pid }) => component(state, recorded, name, pid))
    .flatMap((p) => {
      const report = p.exitReport();
      return report === undefined ? [] : [`${report}\n${p.output(lines)}`];
    });
}

function info(state: StateDir, recorded: ClusterState, alreadyRunning: boolean): ClusterInfo {
  return {
    kubeconfig: state.kubeconfig,
    server: recorded.server,
    nodes: recorded.nodes.map((n) => n.name),
    startedAt: recorded.startedAt,
    expiresAt: recorded.expiresAt,
    alreadyRunning,
  };
}

async function start(
  state: StateDir,
  binaries: ReturnType<typeof locateBinaries>,
  nodes: SimulatedNode[],
  opts: UpOptions,
  log: (message: string) => void,
): Promise<ClusterInfo> {
  const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
  const remaining = () => Math.max(1000, deadline - Date.now());
  const ttlSeconds = opts.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  if (!(ttlSeconds > 0)) throw new Error(`ttlSeconds must be positive, got ${ttlSeconds}`);
  const startedAt = new Date();
  const expiresAt = new Date(startedAt.getTime() + ttlSeconds * 1000);

  for (const dir of [state.root, state.logs, state.pids, state.volumes, state.manifests, state.kwok]) {
    fs.mkdirSync(dir, { recursive: true });
  }
  const creds = generateCredentials(state.pki);
  const [etcdClient, etcdPeer, apiserver, controllerManager, scheduler, kwokPort, provisioner] = await freePorts(7);
  const ports: Ports = { etcdClient, etcdPeer, apiserver, controllerManager, scheduler, kwok: kwokPort, provisioner };
  const server = `https://${LOOPBACK}:${apiserver}`;
  for (const id of IDENTITIES) {
    const file = id.name === "admin" ? state.kubeconfig : state.componentKubeconfig(id.name);
    writeKubeconfig(file, server, state.apiserverCert, creds.tokens[id.name]);
  }
  const kwokConfig = path.join(state.kwok, "kwok.yaml");
  fs.writeFileSync(kwokConfig, kwokConfigYaml());

  const recorded: ClusterState = {
    server,
    ports,
    nodes,
    ttlSeconds,
    startedAt: startedAt.toISOString(),
    expiresAt: expiresAt.toISOString(),
    adminToken: creds.tokens.admin,
    processes: [],
    owner: opts.owned ? identityOf() : undefined,
  };
  const saveState = () => fs.writeFileSync(state.stateFile, JSON.stringify(recorded, null, 2) + "\n", { mode: 0o600 });
  saveState();
  const client = adminClient(state, recorded);

  const watched: DetachedProcess[] = [];
  const launch = async (c: Component): Promise<DetachedProcess> => {
    const ttlLeft = (expiresAt.getTime() - Date.now()) / 1000;
    const executable = c.binary === "node" ? process.execPath : binaries[c.binary];
    const record = await startDetached(state, c.name, executable, c.args, { ttlSeconds: ttlLeft, env: c.env });
    recorded.processes.push(record);
    saveState();
    const proc = new DetachedProcess(state, c.name, record.pid, executable);
    watched.push(proc);
    return proc;
  };
  /** Waits for a component's health, failing at once (how it ended, its log) if any component started so far exits. */
  const healthy = (c: Component, proc: DetachedProcess, what = `${c.name} to be healthy`) =>
    waitFor(what, async () => ((await c.healthy()) ? true : undefined), remaining(), 250, [proc, ...watched.filter((w) => w !== proc)]);

  const etcdComponent = etcd(state, ports);
  await healthy(etcdComponent, await launch(etcdComponent));
  log(`etcd up on ${LOOPBACK}:${ports.etcdClient}`);

  const apiserverReady = async () => fs.existsSync(state.apiserverCert) && (await client.ready());
  const apiserverComponent = kubeApiserver(state, ports, creds, apiserverReady);
  await healthy(apiserverComponent, await launch(apiserverComponent), "kube-apiserver /readyz");
  log(`kube-apiserver ready at ${server}`);

  const rest = [
    kubeControllerManager(state, ports, creds),
    kubeScheduler(state, ports),
    kwok(state, ports, kwokConfig),
    localPathProvisioner(state, ports),
  ];
  const records: DetachedProcess[] = [];
  for (const c of rest) records.push(await launch(c));

  const bootstrap = [...nodes.map((n) => nodeObject(n)), storageClassObject(), ...traefikCrds()];
  fs.writeFileSync(path.join(state.manifests, "bootstrap.json"), JSON.stringify(bootstrap, null, 2) + "\n");
  for (const obj of bootstrap) await client.create(obj);
  log(`created ${nodes.length} node(s), StorageClass local-path, ${TRAEFIK_KINDS.length} Traefik CRDs`);

  await Promise.all(rest.map((c, i) => healthy(c, records[i])));
  log("kube-controller-manager, kube-scheduler, kwok and the local-path provisioner healthy");

  await waitFor(
    `node(s) ${nodes.map((n) => n.name).join(", ")} to be Ready`,
    async () => {
      const list = await client.get<{
        items: Array<{ metadata: { name: string }; status?: { conditions?: Array<{ type: string; status: string }> } }>;
      }>("/api/v1/nodes");
      const ready = new Set(
        list.items.filter((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")).map((n) => n.metadata.name),
      );
      return nodes.every((n) => ready.has(n.name)) ? true : undefined;
    },
    remaining(),
    250,
    watched,
  );
  log(`node(s) Ready`);
  // Pods are refused until their namespace's default ServiceAccount exists; tests should not race it.
  const find = (what: string, url: string) => waitFor(what, () => client.find(url), remaining(), 250, watched);
  await find("the default ServiceAccount", "/api/v1/namespaces/default/serviceaccounts/default");
  await find("ConfigMap kube-root-ca.crt", "/api/v1/namespaces/default/configmaps/kube-root-ca.crt");
  await waitFor(
    "the Traefik CRDs to be established",
    async () => {
      for (const kind of TRAEFIK_KINDS) {
        const crd = await client.get<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(
          `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${kind.toLowerCase()}s.traefik.io`,
        );
        if (!crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) return undefined;
      }
      return true;
    },
    remaining(),
    250,
    watched,
  );
  log(`cluster ready; it stops by itself at ${recorded.expiresAt}`);
  return info(state, recorded, false);
}

/** Stops every process of the cluster (SIGTERM, then SIGKILL) and removes its directory. Succeeds when nothing runs. */
export async function down(): Promise<void> {
  const state = defaultState();
  if (!fs.existsSync(state.root)) return;
  await withLock(state.lockFile, () => downIn(state), { log: (m) => process.stderr.write(`cluster: ${m}\n`) });
}

async function downIn(state: StateDir): Promise<void> {
  await stopAll(state);
  // Never remove anything but the cluster's own directory.
  if (path.basename(state.root) !== ".cluster") {
    throw new Error(`refusing to remove ${state.root}: not a .cluster directory`);
  }
  fs.rmSync(state.root, { recursive: true, force: true, maxRetries: 3 });
}

/** Stops every process with a pid file, clients first. */
async function stopAll(state: StateDir): Promise<void> {
  const pids = readPidFiles(state);
  const byName = (names: string[]) => pids.filter((p) => names.includes(p.name));
  // Clients first, so that they do not spend their last seconds retrying a dead API server.
  const waves = [
    byName(["local-path-provisioner", "kwok", "kube-scheduler", "kube-controller-manager"]),
    byName(["kube-apiserver"]),
    byName(["etcd"]),
  ];
  const others = pids.filter((p) => !COMPONENT_ORDER.includes(p.name as Component["name"]));
  for (const wave of [...waves, others]) await Promise.all(wave.map((p) => stopProcess(p.pid, state)));
}

/** Aliases for callers that prefer envtest's names. */
export const startCluster = up;
export const stopCluster = down;
