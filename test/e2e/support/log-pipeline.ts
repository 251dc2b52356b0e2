/**
 * The stack's log pipeline on the exact binaries, for the faults that kill its processes
 * (test/e2e/loki-kill.test.ts, test/e2e/alloy-restart.test.ts): Loki with the rendered loki.yaml and
 * args, Alloy with the rendered config.alloy and args (lab/local/logs.ts makes both local), and a
 * generator that writes numbered lines to a pod's log file the way containerd does, so that every
 * line sent can be looked for in Loki.
 *
 * Each process restarts on its data as its workload keeps it (what the render mounts, never what
 * the test picks): Loki on its claim (the StatefulSet's volumeClaimTemplate under its data path);
 * Alloy's `--storage.path` (its positions) on the volume the DaemonSet mounts there: a hostPath is
 * the node's directory, kept across every restart; an emptyDir is the pod's, kept when the
 * container restarts in its pod (a SIGKILL: the kubelet starts it again) and new with a new pod (a
 * SIGTERM here: a rollout replaces the pod).
 */
import * as fs from "fs";
import * as path from "path";
import type { Rendered } from "../../../cli/render";
import { LOKI_PATHS } from "../../../components/loki";
import { stackBinary } from "../../../lab/local/binaries";
import { httpGet, isReady } from "../../../lab/local/http";
import { DiscoveredPod, criLine, localAlloyConfig, localLokiArgs, podDiscoveryTargets } from "../../../lab/local/logs";
import { objectOf } from "../../../lab/local/rendered";
import { LOOPBACK, freePorts } from "../../../lab/ports";
import type { LocalRun, ManagedProcess } from "../../../lab/processes/children";

/** The pod whose log file the generator writes. */
export const FAULT_POD: DiscoveredPod = {
  namespace: "faults-lab",
  pod: "numbers-0",
  uid: "5a0c1e2d-4646-4a4a-9c9c-000000000046",
  container: "numbers",
  controller: ["StatefulSet", "numbers"],
  labels: {},
};
const NODE = "k3s-server";
/** A line's number, as the generator writes it. */
const NUMBERED = /^seq=(\d+) /;

/** Starts a process of the run. */
export type Launch = (name: string, binary: string, args: string[]) => ManagedProcess;

interface PodSpec {
  containers: Array<{ args: string[]; volumeMounts: Array<{ name: string; mountPath: string }> }>;
  volumes: Array<{ name: string; hostPath?: { path: string }; emptyDir?: object }>;
}

/** What Loki holds of the generator's lines: every entry's number, and the numbers stored more than once. */
export interface Stored {
  entries: number;
  distinct: Set<number>;
  duplicates: number;
}

export class LogPipeline {
  readonly lokiUrl: string;
  readonly alloyUrl: string;
  /** The byte offset where each line written ends, by number (line n ends at ends[n - 1]). */
  readonly ends: number[] = [];
  loki: ManagedProcess | undefined;
  alloy: ManagedProcess | undefined;
  /** The pods Alloy ran in so far (a new one per pod replacement). */
  private alloyPod = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly logFile: string;
  private readonly targets: string;
  private readonly alloyConfig: string;
  private readonly alloyArgs: string[];
  private readonly storage: { mountPath: string; kind: "hostPath" | "emptyDir"; hostPath?: string };

  private constructor(
    private readonly run: LocalRun,
    private readonly rendered: Rendered,
    readonly dir: string,
    private readonly ports: { loki: number; lokiGrpc: number; alloy: number },
    private readonly launchLoki: Launch,
  ) {
    this.lokiUrl = `http://${LOOPBACK}:${ports.loki}`;
    this.alloyUrl = `http://${LOOPBACK}:${ports.alloy}`;
    const podLogs = path.join(dir, "pods");
    const at = path.join(podLogs, `${FAULT_POD.namespace}_${FAULT_POD.pod}_${FAULT_POD.uid}`, FAULT_POD.container);
    fs.mkdirSync(at, { recursive: true });
    this.logFile = path.join(at, "0.log");
    fs.writeFileSync(this.logFile, "");
    this.targets = path.join(dir, "targets.json");
    fs.writeFileSync(this.targets, JSON.stringify(podDiscoveryTargets([FAULT_POD], NODE)));
    this.alloyConfig = path.join(dir, "config.alloy");
    fs.writeFileSync(
      this.alloyConfig,
      localAlloyConfig(rendered.files.get("log-collector/config.alloy") ?? "", this.targets, podLogs, `${this.lokiUrl}/loki/api/v1/push`),
    );
    const pod = (objectOf(rendered, "DaemonSet", "alloy").spec as { template: { spec: PodSpec } }).template.spec;
    const container = pod.containers[0];
    this.alloyArgs = container.args;
    const storagePath = container.args.find((a) => a.startsWith("--storage.path="))?.slice("--storage.path=".length);
    if (!storagePath) throw new Error("the rendered Alloy has no --storage.path: its positions would be in its container's filesystem");
    const mount = container.volumeMounts.find((m) => m.mountPath === storagePath);
    const volume = pod.volumes.find((v) => v.name === mount?.name);
    if (volume?.hostPath) this.storage = { mountPath: storagePath, kind: "hostPath", hostPath: volume.hostPath.path };
    else if (volume?.emptyDir) this.storage = { mountPath: storagePath, kind: "emptyDir" };
    else throw new Error(`the rendered Alloy's --storage.path ${storagePath} is on no hostPath or emptyDir volume`);
  }

  /** `launchLoki`: how Loki's process is started (by default a process of `run`; in a mount namespace for the full volume). */
  static async create(run: LocalRun, rendered: Rendered, dir: string, launchLoki?: Launch): Promise<LogPipeline> {
    const [loki, lokiGrpc, alloy] = await freePorts(3);
    return new LogPipeline(
      run,
      rendered,
      dir,
      { loki, lokiGrpc, alloy },
      launchLoki ?? ((name, binary, args) => run.start(name, binary, args)),
    );
  }

  /** Loki's claim, as the local config places it (its data path under the run's directory). */
  get lokiData(): string {
    return path.join(this.dir, "loki", LOKI_PATHS.data);
  }

  /** How Alloy's state volume is rendered: `hostPath <path>` or `emptyDir`. */
  get alloyState(): string {
    return this.storage.kind === "hostPath" ? `hostPath ${this.storage.hostPath}` : "emptyDir";
  }

  /** Starts Loki (its rendered args, the local config) on its data under the run's directory; resolves once it is ready. */
  async startLoki(): Promise<number> {
    const started = Date.now();
    const rendered = (
      objectOf(this.rendered, "StatefulSet", "loki").spec as { template: { spec: { containers: Array<{ name: string; args: string[] }> } } }
    ).template.spec.containers.find((c) => c.name === "loki")?.args;
    const local = localLokiArgs(this.rendered.files.get("loki/loki.yaml") ?? "", this.dir, {
      http: this.ports.loki,
      grpc: this.ports.lokiGrpc,
    });
    const args = [...(rendered ?? []).filter((a) => !a.startsWith("-config.file=")), ...local.filter((a) => a.startsWith("-config.file="))];
    this.loki = this.launchLoki("loki", stackBinary("loki"), args);
    await this.run.waitFor("Loki ready", () => isReady(this.lokiUrl, "/ready"), 120_000, 250);
    return (Date.now() - started) / 1000;
  }

  /** Alloy's state directory for the pod it runs in now. */
  get alloyStorage(): string {
    return this.storage.kind === "hostPath"
      ? path.join(this.dir, "node", this.storage.hostPath ?? "")
      : path.join(this.dir, "pods", `alloy-${this.alloyPod}`, "state");
  }

  /** Where Alloy keeps its positions for the pod logs (loki.source.file "pod_logs"). */
  get positionsFile(): string {
    return path.join(this.alloyStorage, "loki.source.file.pod_logs", "positions.yml");
  }

  /**
   * Alloy's pod replaced (a rollout): the next start is in a new pod, with a new emptyDir (its
   * positions gone) or the node's hostPath (its positions kept), as the DaemonSet mounts its state.
   */
  newAlloyPod(): void {
    this.alloyPod++;
  }

  /** Starts Alloy (its rendered args, the local config) in its current pod; resolves once it is ready. */
  async startAlloy(): Promise<number> {
    const started = Date.now();
    fs.mkdirSync(this.alloyStorage, { recursive: true });
    const local: Record<string, string> = {
      "--server.http.listen-addr": `${LOOPBACK}:${this.ports.alloy}`,
      "--storage.path": this.alloyStorage,
    };
    const args = this.alloyArgs.map((a) => {
      const flag = a.split("=")[0];
      if (a === "/etc/alloy/config.alloy" || a.endsWith("/config.alloy")) return this.alloyConfig;
      return flag in local ? `${flag}=${local[flag]}` : a;
    });
    this.alloy = this.run.start("alloy", stackBinary("alloy"), args, { env: { HOSTNAME: NODE } });
    await this.run.waitFor("Alloy ready", () => isReady(this.alloyUrl), 60_000, 250);
    return (Date.now() - started) / 1000;
  }

  /** Appends `perSecond` numbered lines a second to the pod's log file until `stopWriting`. */
  startWriting(perSecond: number): void {
    this.timer = setInterval(() => this.write(), Math.round(1000 / perSecond));
  }

  stopWriting(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** How many lines were written. */
  get written(): number {
    return this.ends.length;
  }

  private write(): void {
    const n = this.ends.length + 1;
    const line = `${criLine(new Date(), "stdout", `seq=${String(n).padStart(6, "0")} a numbered line of the faults lab`)}\n`;
    fs.appendFileSync(this.logFile, line);
    this.ends.push((this.ends[this.ends.length - 1] ?? 0) + Buffer.byteLength(line));
  }

  /** The offset Alloy's positions file holds for the pod's log file (0 without one), and the lines before it. */
  savedPosition(): { offset: number; lines: number } {
    const text = fs.existsSync(this.positionsFile) ? fs.readFileSync(this.positionsFile, "utf8") : "";
    if (text !== "" && !text.includes(this.logFile)) throw new Error(`Alloy's positions file does not name ${this.logFile}:\n${text}`);
    const offset = Number(/^\s*:\s*"?(\d+)"?\s*$/m.exec(text)?.[1] ?? 0);
    const lines = this.ends.filter((end) => end <= offset).length;
    return { offset, lines };
  }

  /** Every entry of the pod's stream in Loki since `since` (ms), as the query API returns them. */
  async stored(since: number): Promise<Stored> {
    const query = encodeURIComponent(`{namespace="${FAULT_POD.namespace}", pod="${FAULT_POD.pod}"}`);
    const numbers: number[] = [];
    let start = `${since - 60_000}000000`;
    // Pages of 5000 (Loki's most per query), forward from the oldest.
    for (;;) {
      const r = await httpGet(
        `${this.lokiUrl}/loki/api/v1/query_range?query=${query}&start=${start}&end=${Date.now() + 60_000}000000&limit=5000&direction=forward`,
        15_000,
      );
      if (r.status !== 200) throw new Error(`Loki's query answered ${r.status}: ${r.body.slice(0, 300)}`);
      const values = (JSON.parse(r.body) as { data: { result: Array<{ values: Array<[string, string]> }> } }).data.result
        .flatMap((s) => s.values)
        .sort((a, b) => (BigInt(a[0]) < BigInt(b[0]) ? -1 : BigInt(a[0]) > BigInt(b[0]) ? 1 : 0));
      for (const [, line] of values) {
        const m = NUMBERED.exec(line);
        if (!m) throw new Error(`a line in Loki that the generator did not write: ${line}`);
        numbers.push(Number(m[1]));
      }
      if (values.length < 5000) break;
      start = (BigInt(values[values.length - 1][0]) + 1n).toString();
    }
    const distinct = new Set(numbers);
    return { entries: numbers.length, distinct, duplicates: numbers.length - distinct.size };
  }

  /** The numbers written that Loki does not hold. */
  missing(stored: Stored, upTo = this.written): number[] {
    const out: number[] = [];
    for (let n = 1; n <= upTo; n++) if (!stored.distinct.has(n)) out.push(n);
    return out;
  }

  /** Waits until Loki holds every line written (or fails with what it lacks after `timeoutMs`); the seconds it took. */
  async allStored(since: number, timeoutMs: number): Promise<{ stored: Stored; seconds: number }> {
    const started = Date.now();
    let last: Stored | undefined;
    const stored = await this.run
      .waitFor(
        `Loki holding all ${this.written} lines`,
        async () => {
          last = await this.stored(since);
          return this.missing(last).length === 0 ? last : undefined;
        },
        timeoutMs,
        1000,
      )
      .catch((err: Error) => {
        const lacking = last ? this.missing(last) : [];
        throw new Error(`${err.message}\nlines missing (${lacking.length}): ${lacking.slice(0, 50).join(", ")}`);
      });
    return { stored, seconds: (Date.now() - started) / 1000 };
  }

  /**
   * The line Alloy's running process started reading at, as Alloy counts it: once it has read every
   * line written (the writing paused and Loki holding them all), the lines written less those this
   * process read (loki.source.file's read_lines_total, counted from its start).
   */
  async alloyStartedAt(): Promise<number> {
    return this.written - (await this.alloyCounter("loki_source_file_read_lines_total"));
  }

  /** A counter of Alloy's own metrics, summed over its series (0 when Alloy does not list it). */
  async alloyCounter(name: string): Promise<number> {
    const r = await httpGet(`${this.alloyUrl}/metrics`, 5000);
    let sum = 0;
    for (const m of r.body.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))) sum += Number(m[1]);
    return sum;
  }
}
