/**
 * Loki's and Alloy's rendered configs made runnable on 127.0.0.1, for the tests that run
 * the real binaries: only listen addresses, data paths, pod discovery and addresses change.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { LOKI_PATHS } from "../../components/loki";
import { alloyRunArgs as stackAlloyRunArgs } from "../../components/log-collector/alloy";
import { POD_LOGS_DIR } from "../../components/log-collector/relabelling";
import { LOOPBACK } from "../ports";
import { ManagedProcess } from "../processes/children";
import { waitFor } from "../processes/supervision";
import { isReady } from "./http";
import { LocalOtlp, OTLP_RECEIVER_BLOCK, localOtlpBlocks } from "./tracing";
import { localJournal } from "./journal";

/** Moves every absolute path under Loki's data and rules directories to `root`. */
export function localLokiConfig(text: string, root: string, ports?: { http: number; grpc: number }): Record<string, unknown> {
  const config = YAML.parse(text) as Record<string, unknown>;
  const reroot = (node: unknown): unknown => {
    if (typeof node === "string") {
      for (const dir of [LOKI_PATHS.data, LOKI_PATHS.rules]) if (node === dir || node.startsWith(`${dir}/`)) return path.join(root, node);
      return node;
    }
    if (Array.isArray(node)) return node.map(reroot);
    if (node && typeof node === "object") return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, reroot(v)]));
    return node;
  };
  const local = reroot(config) as Record<string, Record<string, unknown>>;
  // Without ports the server stays as rendered: every address of the network it runs in (lab/local/loki-pod.ts).
  if (!ports) return local;
  local.server = {
    ...local.server,
    http_listen_address: LOOPBACK,
    http_listen_port: ports.http,
    grpc_listen_address: LOOPBACK,
    grpc_listen_port: ports.grpc,
  };
  return local;
}

/** The events source of config.alloy (components/log-collector/events.ts) and the pipeline after it. */
const EVENTS_SOURCE = /^loki\.source\.kubernetes_events "events" \{\n[\s\S]*?\n\}\n\n/m;
const EVENTS_PROCESS = /^loki\.process "events" \{\n[\s\S]*?\n\}\n\n/m;

/**
 * The rendered events blocks made local: the source reads the API server of `kubeconfig` (a
 * control plane on the loopback) instead of the pod's in-cluster one, as one Alloy on its own
 * (clustering on, without peers: it owns every namespace); without a kubeconfig they are left out,
 * since the source cannot build its client without an API server.
 */
function localEvents(text: string, kubeconfig: string | undefined): string {
  if (!EVENTS_SOURCE.test(text)) return text;
  if (kubeconfig === undefined) return text.replace(EVENTS_SOURCE, "").replace(EVENTS_PROCESS, "");
  return text.replace(EVENTS_SOURCE, (block) =>
    block.replace("\n\tclustering {", `\n\tclient {\n\t\tkubeconfig_file = ${JSON.stringify(kubeconfig)}\n\t}\n\n\tclustering {`),
  );
}

/**
 * The rendered config.alloy with pod discovery read from a file of the same labels, the
 * pod log directory under `podLogs`, and pushes to `pushUrl`; everything else as rendered. The
 * OTLP endpoint for apps (the blocks from `otelcol.receiver.otlp` to the end) is made local as
 * localOtlpBlocks says when `otlp` says where it listens and sends; without, the pod-log runs
 * leave it out (it listens on fixed ports, and its pod lookup needs a cluster's API). The Kubernetes
 * events read the API server of `kubeconfig`, or are left out without one (localEvents); the node's journal the
 * journal files of the directory `journal`, or is left out without one (localJournal).
 */
export function localAlloyConfig(
  text: string,
  targetsFile: string,
  podLogs: string,
  pushUrl: string,
  otlp?: LocalOtlp,
  kubeconfig?: string,
  journal?: string,
): string {
  const at = text.indexOf(OTLP_RECEIVER_BLOCK);
  const podLogsOnly = localJournal(localEvents(at >= 0 ? text.slice(0, at) : text, kubeconfig), journal);
  const discovery = /^discovery\.kubernetes "pods" \{\n[\s\S]*?\n\}\n/m;
  if (!discovery.test(podLogsOnly)) throw new Error('config.alloy has no discovery.kubernetes "pods" block');
  const renderedPush = /^\t\turl\s+= "([^"]+)"$/m.exec(podLogsOnly)?.[1];
  if (!renderedPush) throw new Error("config.alloy has no loki.write endpoint url");
  return podLogsOnly
    .replace(discovery, `discovery.file "pods" {\n\tfiles = [${JSON.stringify(targetsFile)}]\n}\n`)
    .replace("discovery.kubernetes.pods.targets", "discovery.file.pods.targets")
    .split(`"${POD_LOGS_DIR}/`)
    .join(`"${podLogs}/`)
    .replace(`"${renderedPush}"`, JSON.stringify(pushUrl))
    .concat(at >= 0 && otlp ? localOtlpBlocks(text.slice(at), otlp) : "");
}

/** Writes Loki's rendered config, made local, to `<dir>/loki.yaml` (data under `<dir>/loki`); returns Loki's arguments. */
export function localLokiArgs(rendered: string, dir: string, ports: { http: number; grpc: number }): string[] {
  const file = path.join(dir, "loki.yaml");
  fs.writeFileSync(file, YAML.stringify(localLokiConfig(rendered, path.join(dir, "loki"), ports)));
  return [`-config.file=${file}`, "-target=all"];
}

/** Waits until the Loki at `url` is ready, failing at once when its process has exited. */
export async function lokiReady(loki: ManagedProcess, url: string, timeoutMs = 90_000): Promise<void> {
  await waitFor("Loki ready", () => isReady(url, "/ready"), timeoutMs, 500, [loki]);
}

/**
 * Writes the rendered config.alloy, made local (localAlloyConfig), to `<dir>/config.alloy`;
 * returns Alloy's arguments: its HTTP server on `port`, its state under `<dir>/alloy-data`.
 */
export function localAlloyArgs(
  rendered: string,
  dir: string,
  local: { targetsFile: string; podLogs: string; pushUrl: string; port: number; otlp?: LocalOtlp; kubeconfig?: string; journal?: string },
): string[] {
  const file = path.join(dir, "config.alloy");
  fs.writeFileSync(
    file,
    localAlloyConfig(rendered, local.targetsFile, local.podLogs, local.pushUrl, local.otlp, local.kubeconfig, local.journal),
  );
  return alloyRunArgs(file, local.port, path.join(dir, "alloy-data"));
}

/** Alloy's arguments as the stack passes them (components/log-collector's alloyRunArgs), with a local config file, port and state directory. */
export function alloyRunArgs(file: string, port: number, storage: string): string[] {
  return stackAlloyRunArgs(file, `${LOOPBACK}:${port}`, storage);
}

/** A container's log file as the kubelet lays it out: its namespace, pod, pod uid and container, and its lines. */
export interface PodLogFile {
  namespace: string;
  pod: string;
  uid: string;
  container: string;
  lines: readonly string[];
}

/** A line as containerd writes it: `<RFC 3339 nano> <stream> F <line>`. */
export function criLine(at: Date, stream: "stdout" | "stderr", line: string): string {
  return `${at.toISOString().replace("Z", "000000Z")} ${stream} F ${line}`;
}

/**
 * Writes each container's `0.log` under `dir` (`<namespace>_<pod>_<uid>/<container>/`), its lines a
 * second apart up to `now`, on the stream `streamOf` gives each (default stdout).
 */
export function writePodLogs(
  dir: string,
  files: readonly PodLogFile[],
  now = Date.now(),
  streamOf: (index: number) => "stdout" | "stderr" = () => "stdout",
): void {
  for (const f of files) {
    const at = path.join(dir, `${f.namespace}_${f.pod}_${f.uid}`, f.container);
    fs.mkdirSync(at, { recursive: true });
    const lines = f.lines.map((l, i) => criLine(new Date(now - (f.lines.length - i) * 1000), streamOf(i), l));
    fs.writeFileSync(path.join(at, "0.log"), `${lines.join("\n")}\n`);
  }
}

/** A pod as Kubernetes pod discovery reports it for one of its containers: its log file's names, its node, its owner and labels. */
export interface DiscoveredPod extends Omit<PodLogFile, "lines"> {
  controller: readonly [kind: string, name: string];
  labels: Readonly<Record<string, string>>;
}

/** What Alloy's file discovery reads in place of Kubernetes pod discovery: one target per container, with the same labels. */
export function podDiscoveryTargets(
  pods: readonly DiscoveredPod[],
  node: string,
): Array<{ targets: string[]; labels: Record<string, string> }> {
  return pods.map((p) => ({
    targets: ["10.42.0.10"],
    labels: {
      __meta_kubernetes_namespace: p.namespace,
      __meta_kubernetes_pod_name: p.pod,
      __meta_kubernetes_pod_uid: p.uid,
      __meta_kubernetes_pod_container_name: p.container,
      __meta_kubernetes_pod_node_name: node,
      __meta_kubernetes_pod_controller_kind: p.controller[0],
      __meta_kubernetes_pod_controller_name: p.controller[1],
      ...Object.fromEntries(Object.entries(p.labels).map(([k, v]) => [`__meta_kubernetes_pod_label_${k}`, v])),
    },
  }));
}
