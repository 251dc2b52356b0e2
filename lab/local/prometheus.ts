/**
 * Prometheus' files as its container sees them, for the tests and local runs of the real
 * binary on a render: the mounts laid out under a directory, prometheus.yml with its paths
 * moved there, its Kubernetes discovery replaced by file discovery of fixtures (what
 * discovery would report), so that the relabelling runs without an API server, and its
 * container's args with only paths and addresses made local.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { PROMETHEUS_PATHS } from "../../components/prometheus/args";
import type { Rendered } from "../../cli/render";
import { LOOPBACK } from "../ports";
import { objectOf } from "./rendered";

export interface Container {
  name: string;
  args: string[];
  env?: Array<{ name: string; valueFrom?: unknown }>;
  securityContext: unknown;
  readinessProbe: { httpGet: { path: string } };
  livenessProbe: { httpGet: { path: string } };
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string }>;
}
export interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string };
  projected?: {
    sources: Array<{
      configMap?: { name: string };
      secret?: { name: string; optional?: boolean; items?: Array<{ key: string; path: string }> };
    }>;
  };
  emptyDir?: object;
}
export interface StatefulSetSpec {
  replicas: number;
  template: {
    spec: {
      automountServiceAccountToken?: boolean;
      serviceAccountName: string;
      securityContext: unknown;
      affinity?: unknown;
      containers: Container[];
      volumes: Volume[];
    };
  };
  volumeClaimTemplates: Array<{
    metadata: { name: string };
    spec: { resources: { requests: { storage: string } }; storageClassName?: string };
  }>;
}

/** A target group as file_sd reads it. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}
export type Role = "endpoints" | "pod" | "node";

export function meta(prefix: string, name: string): string {
  return `${prefix}${name.replace(/[^a-zA-Z0-9_]/g, "_")}`;
}

export interface ServiceLike {
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: { ports?: Array<{ name?: string; port: number; targetPort?: number | string }> };
}

/** What Kubernetes endpoints discovery reports for a Service: one target per port, backed by one pod. */
export function endpointsOf(service: ServiceLike, podIp: string): TargetGroup[] {
  const name = service.metadata.name ?? "";
  return (service.spec?.ports ?? []).map((port) => ({
    targets: [`${podIp}:${typeof port.targetPort === "number" ? port.targetPort : port.port}`],
    labels: {
      __meta_kubernetes_namespace: service.metadata.namespace ?? "",
      __meta_kubernetes_service_name: name,
      ...Object.fromEntries(
        Object.entries(service.metadata.labels ?? {}).map(([k, v]) => [meta("__meta_kubernetes_service_label_", k), v]),
      ),
      __meta_kubernetes_endpoint_port_name: port.name ?? "",
      __meta_kubernetes_endpoint_ready: "true",
      __meta_kubernetes_pod_name: `${name}-0`,
      __meta_kubernetes_pod_node_name: "node-a",
    },
  }));
}

/** What pod discovery reports: one target per container port. */
export function podTargets(pod: {
  namespace: string;
  name: string;
  ip: string;
  phase?: string;
  ports: number[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}): TargetGroup[] {
  return pod.ports.map((port) => ({
    targets: [pod.ip.includes(":") ? `[${pod.ip}]:${port}` : `${pod.ip}:${port}`],
    labels: {
      __meta_kubernetes_namespace: pod.namespace,
      __meta_kubernetes_pod_name: pod.name,
      __meta_kubernetes_pod_ip: pod.ip,
      __meta_kubernetes_pod_phase: pod.phase ?? "Running",
      __meta_kubernetes_pod_container_port_number: String(port),
      ...Object.fromEntries(Object.entries(pod.labels ?? {}).map(([k, v]) => [meta("__meta_kubernetes_pod_label_", k), v])),
      ...Object.fromEntries(Object.entries(pod.annotations ?? {}).map(([k, v]) => [meta("__meta_kubernetes_pod_annotation_", k), v])),
    },
  }));
}

interface StatefulSetForLayout {
  spec: StatefulSetSpec;
}

/** Writes every file the prometheus container sees under `root`, from the StatefulSet's own mounts. */
export function layOutContainer(rendered: Rendered, root: string): void {
  const sts = objectOf(rendered, "StatefulSet", "prometheus") as unknown as StatefulSetForLayout;
  const pod = sts.spec.template.spec;
  const container = pod.containers.find((c) => c.name === "prometheus");
  if (!container) throw new Error("no prometheus container");
  for (const mount of container.volumeMounts) {
    const dir = path.join(root, mount.mountPath);
    fs.mkdirSync(dir, { recursive: true });
    const volume = pod.volumes.find((v) => v.name === mount.name);
    let data: Record<string, string> = {};
    if (volume?.configMap) data = objectOf(rendered, "ConfigMap", volume.configMap.name).data as Record<string, string>;
    if (volume?.secret) data = objectOf(rendered, "Secret", volume.secret.secretName).stringData as Record<string, string>;
    for (const source of volume?.projected?.sources ?? []) {
      if (source.configMap) Object.assign(data, objectOf(rendered, "ConfigMap", source.configMap.name).data);
      const ref = source.secret;
      if (!ref) continue;
      const own = rendered.kubernetes.find((o) => o.object.kind === "Secret" && o.object.metadata.name === ref.name);
      if (own) Object.assign(data, own.object.stringData);
      // A Secret the stack does not make (an existing one it names): its keys as the kubelet projects them once it exists.
      else for (const item of ref.items ?? []) data[item.path] = `content of ${ref.name}/${item.key}\n`;
    }
    if (!volume && !sts.spec.volumeClaimTemplates.some((t) => t.metadata.name === mount.name))
      throw new Error(`mount ${mount.name} has no volume`);
    for (const [key, content] of Object.entries(data)) fs.writeFileSync(path.join(dir, key), content);
  }
  if (pod.automountServiceAccountToken) {
    const sa = path.join(root, PROMETHEUS_PATHS.serviceAccountDir);
    fs.mkdirSync(sa, { recursive: true });
    for (const file of ["token", "ca.crt", "namespace"]) fs.writeFileSync(path.join(sa, file), `${file}\n`);
  }
}

export interface KubernetesSd {
  role: Role;
  namespaces?: { names: string[] };
}
export interface CheckableJob {
  job_name: string;
  kubernetes_sd_configs?: KubernetesSd[];
  file_sd_configs?: Array<{ files: string[] }>;
  relabel_configs?: unknown[];
  [key: string]: unknown;
}

export interface ParsedConfig {
  rule_files: string[];
  scrape_configs: CheckableJob[];
  alerting?: { alertmanagers: CheckableJob[] };
}

/** The rendered prometheus.yml with every absolute path moved under `root` (where layOutContainer put the files). */
export function rerooted(text: string, root: string): ParsedConfig {
  const config = YAML.parse(text) as ParsedConfig;
  const reroot = (p: string) => (path.isAbsolute(p) ? path.join(root, p) : p);
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === "object" && node !== null) {
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
        if (k.endsWith("_file") && typeof v === "string") (node as Record<string, unknown>)[k] = reroot(v);
        else walk(v);
      }
    }
  };
  walk(config);
  config.rule_files = config.rule_files.map(reroot);
  return config;
}

/**
 * prometheus.yml as a pod of the cluster tier runs it (./cluster-pods.ts): its paths under `root`, and each Kubernetes
 * discovery (scrape jobs and Alertmanagers) given `kubeconfig` (the API server through the pod network's bridge, with
 * the pod's service-account token) in place of the in-cluster config it would read in a pod. Everything else, the
 * relabelling and the namespaces it watches among them, is as rendered. Written beside the rendered file; returns its path.
 */
export function clusterPodConfig(file: string, root: string, kubeconfig: string): string {
  const config = rerooted(fs.readFileSync(file, "utf8"), root);
  const sds = [...config.scrape_configs, ...(config.alerting?.alertmanagers ?? [])].flatMap((job) => job.kubernetes_sd_configs ?? []);
  for (const sd of sds) {
    if ("api_server" in sd) throw new Error("a rendered Kubernetes discovery names an api_server: the runner would replace it");
    (sd as KubernetesSd & { kubeconfig_file?: string }).kubeconfig_file = kubeconfig;
  }
  const out = path.join(path.dirname(file), "prometheus.cluster-pod.yml");
  fs.writeFileSync(out, YAML.stringify(config));
  return out;
}

/** prometheus.yml as the container reads it, paths under `root`: what `promtool check config` checks. */
export function containerConfig(text: string, root: string): string {
  const file = path.join(root, PROMETHEUS_PATHS.configDir, "prometheus.rerooted.yml");
  fs.writeFileSync(file, YAML.stringify(rerooted(text, root)));
  return file;
}

/**
 * A copy of the rendered prometheus.yml whose discovery promtool can run without an API
 * server: every Kubernetes discovery replaced by file discovery of the fixtures it would
 * select, and one extra job per Alertmanager discovery so that its relabelling runs too.
 * Returns the copy's path and the Kubernetes discovery blocks it replaced.
 */
export function discoverableConfig(
  text: string,
  root: string,
  fixtures: Record<Role, TargetGroup[]>,
): { file: string; sds: KubernetesSd[] } {
  const config = rerooted(text, root);
  const sds: KubernetesSd[] = [];
  fileDiscovery(config, path.join(root, "discovery"), fixtures, (sd) => sds.push(sd));
  (config.alerting?.alertmanagers ?? []).forEach((am, i) => {
    config.scrape_configs.push({
      job_name: `check-alertmanagers-${i}`,
      file_sd_configs: am.file_sd_configs,
      relabel_configs: am.relabel_configs,
    });
  });
  const file = path.join(root, PROMETHEUS_PATHS.configDir, "prometheus.discoverable.yml");
  fs.writeFileSync(file, YAML.stringify(config));
  return { file, sds };
}

/**
 * Replaces every Kubernetes discovery of `config` (scrape jobs and Alertmanagers) by file
 * discovery of the fixtures it would select, written under `sdDir` (each file replaced whole,
 * so that a running Prometheus never reads half of one); `seen` gets each block replaced.
 *
 * Each file sits in a directory of its own, and a file whose text is unchanged is not written again:
 * Prometheus' file discovery watches the directory of each of its files and, on any event there,
 * reads all its files again (discovery/file/file.go, Run). With every job's file in one directory, a
 * rewrite of N files woke each of the N discoveries several times per file: with the bench's 100 apps
 * and 500 pods, a CPU profile of each Prometheus put 77 % of its CPU in file discovery's readFile
 * (18.9 of 24.6 CPU-seconds over 31 s), and its rule groups then took seconds (docs/benchmark.md).
 */
export function fileDiscovery(
  config: ParsedConfig,
  sdDir: string,
  fixtures: Record<Role, TargetGroup[]>,
  seen: (sd: KubernetesSd) => void = () => undefined,
): void {
  fs.mkdirSync(sdDir, { recursive: true });
  const replace = (holder: CheckableJob, id: string) => {
    if (!holder.kubernetes_sd_configs) return;
    holder.file_sd_configs = holder.kubernetes_sd_configs.map((sd, i) => {
      seen(sd);
      const groups = fixtures[sd.role].filter((g) => !sd.namespaces || sd.namespaces.names.includes(g.labels.__meta_kubernetes_namespace));
      const dir = path.join(sdDir, `${id.replace(/[^a-z0-9-]/gi, "_")}-${i}`);
      const file = path.join(dir, "targets.json");
      const text = JSON.stringify(groups);
      if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== text) {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(`${file}.tmp`, text);
        fs.renameSync(`${file}.tmp`, file);
      }
      return { files: [file] };
    });
    delete holder.kubernetes_sd_configs;
  };
  config.scrape_configs.forEach((job) => replace(job, job.job_name));
  (config.alerting?.alertmanagers ?? []).forEach((am, i) => replace(am, `alertmanagers-${i}`));
}

/** Where a Service port of the stack is served locally, and the pod and node that back it. */
export interface LocalEndpoint {
  address: string;
  pod: string;
  node: string;
}

/**
 * What endpoints discovery reports for the rendered Services whose ports are served locally:
 * `local` maps `<namespace>/<service>/<port name>` to the address that serves it.
 */
export function renderedEndpoints(rendered: Rendered, local: Record<string, LocalEndpoint>): TargetGroup[] {
  const endpoints: TargetGroup[] = [];
  for (const { object: svc } of rendered.kubernetes.filter((o) => o.object.kind === "Service")) {
    const ns = svc.metadata.namespace ?? "";
    for (const port of (svc.spec as { ports?: Array<{ name?: string }> }).ports ?? []) {
      const where = local[`${ns}/${svc.metadata.name}/${port.name}`];
      if (!where) continue;
      endpoints.push({
        targets: [where.address],
        labels: {
          __meta_kubernetes_namespace: ns,
          __meta_kubernetes_service_name: svc.metadata.name ?? "",
          ...Object.fromEntries(
            Object.entries(svc.metadata.labels ?? {}).map(([k, v]) => [meta("__meta_kubernetes_service_label_", k), v]),
          ),
          __meta_kubernetes_endpoint_port_name: port.name ?? "",
          __meta_kubernetes_endpoint_ready: "true",
          __meta_kubernetes_pod_name: where.pod,
          __meta_kubernetes_pod_node_name: where.node,
        },
      });
    }
  }
  return endpoints;
}

/**
 * The rendered Prometheus container's args with only paths and addresses made local, for a run
 * on 127.0.0.1 (the live lab, the benchmark): its config and data where the run keeps them, its
 * web config (`--web.config.file`: the security headers) written from the render into `dir`, as
 * the container reads it beside its config.
 */
export function localPrometheusArgs(
  renderedArgs: string[],
  webConfig: string | undefined,
  local: { config: string; data: string; port: number; dir: string },
): string[] {
  const args = renderedArgs.filter(
    (a) => !/^--(config\.file|storage\.tsdb\.path|web\.listen-address|web\.external-url|web\.config\.file)=/.test(a),
  );
  const out = [
    ...args,
    `--config.file=${local.config}`,
    `--storage.tsdb.path=${local.data}`,
    `--web.listen-address=${LOOPBACK}:${local.port}`,
  ];
  const flag = renderedArgs.find((a) => a.startsWith("--web.config.file="));
  if (flag) {
    if (webConfig === undefined) throw new Error(`Prometheus is rendered with ${flag} but the render has no such file`);
    const file = path.join(local.dir, path.basename(flag.slice(flag.indexOf("=") + 1)));
    fs.writeFileSync(file, webConfig);
    out.push(`--web.config.file=${file}`);
  }
  return out;
}
