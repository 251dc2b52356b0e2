/**
 * The benchmark's workload: a small cluster on one node, as the stack sees it. The apps as a
 * stack file lists them, the pods the node runs (the stack's own, the apps' replicas, the
 * databases and other workloads up to a count), and what kube-state-metrics reports of them.
 * Pods can be replaced by a new generation (new names and uids: the series churn of a
 * rollout or of an incident's restarts).
 */
import { listedNames } from "../../cli/catalog";
import type { LabPod } from "../local/synthetic";

/** The node: k3s's cAdvisor shape (no container or image labels on container series). */
export const BENCH_NODE = "k3s-server";

/** The apps as a stack file lists them: a Service each, in five team namespaces, half in a prefixed dialect. */
export function benchApps(n: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => ({
    name: `app-${i}`,
    namespace: `team-${i % 5}`,
    service: `app-${i}`,
    port: "http",
    ...(i % 2 === 1
      ? { metrics: { requests: "shop_http_requests_total", duration: "shop_http_request_duration_seconds", statusLabel: "status_code" } }
      : {}),
  }));
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0").slice(-width);
const uid = (i: number, generation: number) => `${hex(generation, 8)}-0000-4000-8000-${hex(i, 12)}`;

/** Usage a container reports: modest, steady, by kind. */
function usage(kind: string, i: number): { cpuCores: number; memoryBytes: number; limitBytes: number } {
  const mi = kind === "prometheus" ? 420 : kind === "database" ? 180 : 40 + (i % 7) * 15;
  return { cpuCores: kind === "prometheus" ? 0.12 : 0.01 + (i % 5) / 100, memoryBytes: mi * 2 ** 20, limitBytes: 2 * mi * 2 ** 20 };
}

export interface WorkloadShape {
  /** The stack's namespace (its agents run in `<namespace>-agents`). */
  namespace: string;
  apps: number;
  /** Pods on the node, all told (at least the stack's, the apps' and the databases'). */
  pods: number;
  /** Bumped to replace every pod that is not the stack's by a new one. */
  generation: number;
  /** The stack file's databases (their names): each a server in namespace `databases` and its exporter in the stack's. */
  databases: Array<{ type: "postgres" | "redis"; name: string }>;
}

/** A pod with what kube-state-metrics knows of it beyond the kubelet. */
export interface BenchPod extends LabPod {
  owner: { kind: "Deployment" | "StatefulSet" | "DaemonSet"; name: string };
  /** A Deployment's pod's controller, as the cluster names it: the Deployment's name and its template's hash. */
  replicaSet?: string;
}

/** Every pod of the node for a shape. */
export function benchPods(shape: WorkloadShape): BenchPod[] {
  const pods: BenchPod[] = [];
  let i = 0;
  const add = (namespace: string, owner: BenchPod["owner"], pod: string, containers: string[], kind: string, churns: boolean) => {
    const n = i++;
    pods.push({
      namespace,
      pod,
      uid: uid(n, churns ? shape.generation : 0),
      owner,
      // A Deployment's pod is named after its ReplicaSet and a random suffix.
      ...(owner.kind === "Deployment" ? { replicaSet: pod.slice(0, pod.lastIndexOf("-")) } : {}),
      containers: containers.map((name) => ({ name, image: `registry.example/${name}:1.0`, ...usage(kind, n) })),
      claims:
        kind === "prometheus" || kind === "database"
          ? [{ name: `data-${pod}`, capacityBytes: 10 * 2 ** 30, usedBytes: 1.5 * 2 ** 30 }]
          : [],
    });
  };
  const suffix = (g: number, k: number) => `${hex(g * 7919 + k, 5)}`;
  const ns = shape.namespace;
  const agents = `${ns}-agents`;
  add(ns, { kind: "StatefulSet", name: "prometheus" }, "prometheus-0", ["prometheus", "config-reloader"], "prometheus", false);
  add(ns, { kind: "StatefulSet", name: "alertmanager" }, "alertmanager-0", ["alertmanager"], "stack", false);
  add(ns, { kind: "StatefulSet", name: "loki" }, "loki-0", ["loki"], "stack", false);
  add(ns, { kind: "Deployment", name: "grafana" }, "grafana-6d5f7c9b8-abcde", ["grafana"], "stack", false);
  add(ns, { kind: "Deployment", name: "kube-state-metrics" }, "kube-state-metrics-7b9c-fghij", ["kube-state-metrics"], "stack", false);
  add(agents, { kind: "DaemonSet", name: "node-exporter" }, "node-exporter-klmno", ["node-exporter"], "stack", false);
  add(agents, { kind: "DaemonSet", name: "alloy" }, "alloy-pqrst", ["alloy"], "stack", false);
  for (const db of shape.databases) {
    const kind = db.type === "postgres" ? "StatefulSet" : "Deployment";
    const pod = kind === "StatefulSet" ? `${db.name}-0` : `${db.name}-5c8d9f-${suffix(shape.generation, i)}`;
    add("databases", { kind, name: db.name }, pod, [db.type], "database", kind === "Deployment");
    add(
      ns,
      { kind: "Deployment", name: `${db.name}-exporter` },
      `${db.name}-exporter-6b7c8d-${hex(i, 5)}`,
      [`${db.type}-exporter`],
      "stack",
      false,
    );
  }
  for (let a = 0; a < shape.apps; a++)
    for (let r = 0; r < 2; r++)
      add(
        `team-${a % 5}`,
        { kind: "Deployment", name: `app-${a}` },
        `app-${a}-6f7d8c-${suffix(shape.generation, i)}`,
        [`app-${a}`],
        "app",
        true,
      );
  for (let w = 0; pods.length < shape.pods; w++)
    add(
      `team-${w % 5}`,
      { kind: "Deployment", name: `worker-${w % 40}` },
      `worker-${w % 40}-8c9d-${suffix(shape.generation, i)}`,
      w % 4 === 0 ? [`worker-${w % 40}`, "sidecar"] : [`worker-${w % 40}`],
      "worker",
      true,
    );
  return pods;
}

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
const labels = (l: Record<string, string>) =>
  Object.entries(l)
    .map(([k, v]) => `${k}="${esc(v)}"`)
    .join(",");

/**
 * What kube-state-metrics reports for these pods and their owners on one node: the pod,
 * container, deployment, replicaset, statefulset, daemonset, namespace and node families the
 * stack's rules and dashboards (and kube-prometheus') read, one series per object (and per phase,
 * condition, resource as kube-state-metrics splits them). As in a cluster, a Deployment's pods
 * are owned by its ReplicaSet, and the ReplicaSet by the Deployment. Names of its catalogue not
 * generated here get one series each, so that every name exists.
 */
export function kubeStateMetricsText(pods: BenchPod[], node: string, catalogFile?: string): string {
  const families = new Map<string, { type: string; lines: string[] }>();
  const add = (name: string, type: string, l: Record<string, string>, value: number) => {
    const f = families.get(name) ?? { type, lines: [] };
    f.lines.push(`${name}{${labels(l)}} ${value}`);
    families.set(name, f);
  };
  const started = Math.floor(Date.now() / 1000) - 3600;
  const owners = new Map<string, { kind: string; namespace: string; name: string; replicas: number }>();
  const replicaSets = new Map<string, { namespace: string; name: string; deployment: string; replicas: number }>();
  const namespaces = new Set<string>();
  for (const p of pods) {
    namespaces.add(p.namespace);
    const key = `${p.owner.kind}/${p.namespace}/${p.owner.name}`;
    const o = owners.get(key) ?? { kind: p.owner.kind, namespace: p.namespace, name: p.owner.name, replicas: 0 };
    o.replicas++;
    owners.set(key, o);
    // The pod's own controller: its ReplicaSet for a Deployment's pod.
    const controller = p.replicaSet ? { kind: "ReplicaSet", name: p.replicaSet } : p.owner;
    if (p.replicaSet) {
      const rsKey = `${p.namespace}/${p.replicaSet}`;
      const rs = replicaSets.get(rsKey) ?? { namespace: p.namespace, name: p.replicaSet, deployment: p.owner.name, replicas: 0 };
      rs.replicas++;
      replicaSets.set(rsKey, rs);
    }
    const pl = { namespace: p.namespace, pod: p.pod, uid: p.uid };
    add(
      "kube_pod_info",
      "gauge",
      {
        ...pl,
        node,
        host_ip: "10.0.0.10",
        pod_ip: "10.42.0.10",
        created_by_kind: controller.kind,
        created_by_name: controller.name,
        priority_class: "",
        host_network: "false",
      },
      1,
    );
    add(
      "kube_pod_owner",
      "gauge",
      {
        ...pl,
        owner_kind: controller.kind,
        owner_name: controller.name,
        owner_is_controller: "true",
      },
      1,
    );
    add("kube_pod_labels", "gauge", { ...pl, label_app_kubernetes_io_name: p.owner.name }, 1);
    add("kube_pod_created", "gauge", pl, started);
    add("kube_pod_start_time", "gauge", pl, started);
    add("kube_pod_status_scheduled", "gauge", { ...pl, condition: "true" }, 1);
    for (const phase of ["Pending", "Running", "Succeeded", "Failed", "Unknown"])
      add("kube_pod_status_phase", "gauge", { ...pl, phase }, phase === "Running" ? 1 : 0);
    for (const condition of ["true", "false", "unknown"])
      add("kube_pod_status_ready", "gauge", { ...pl, condition }, condition === "true" ? 1 : 0);
    for (const c of p.containers) {
      const cl = { ...pl, container: c.name };
      add(
        "kube_pod_container_info",
        "gauge",
        { ...cl, image: c.image, image_spec: c.image, image_id: `${c.image}@sha256:0`, container_id: `containerd://${p.uid}-${c.name}` },
        1,
      );
      add("kube_pod_container_status_ready", "gauge", cl, 1);
      add("kube_pod_container_status_running", "gauge", cl, 1);
      add("kube_pod_container_status_waiting", "gauge", cl, 0);
      add("kube_pod_container_status_terminated", "gauge", cl, 0);
      add("kube_pod_container_status_restarts_total", "counter", cl, 0);
      for (const [resource, unit, req, lim] of [
        ["cpu", "core", c.cpuCores * 2, c.cpuCores * 10],
        ["memory", "byte", c.memoryBytes, c.limitBytes ?? c.memoryBytes * 2],
      ] as const) {
        add("kube_pod_container_resource_requests", "gauge", { ...cl, node, resource, unit }, req);
        add("kube_pod_container_resource_limits", "gauge", { ...cl, node, resource, unit }, lim);
      }
    }
  }
  for (const o of owners.values()) {
    const l = { namespace: o.namespace, [o.kind.toLowerCase()]: o.name };
    if (o.kind === "Deployment") {
      for (const [name, v] of [
        ["kube_deployment_spec_replicas", o.replicas],
        ["kube_deployment_status_replicas", o.replicas],
        ["kube_deployment_status_replicas_available", o.replicas],
        ["kube_deployment_status_replicas_unavailable", 0],
        ["kube_deployment_status_replicas_updated", o.replicas],
        ["kube_deployment_status_observed_generation", 1],
        ["kube_deployment_metadata_generation", 1],
        ["kube_deployment_created", started],
      ] as const)
        add(name, "gauge", l, v);
      for (const condition of ["Available", "Progressing"])
        for (const status of ["true", "false", "unknown"])
          add("kube_deployment_status_condition", "gauge", { ...l, condition, status }, status === "true" ? 1 : 0);
    } else if (o.kind === "StatefulSet") {
      for (const [name, v] of [
        ["kube_statefulset_replicas", o.replicas],
        ["kube_statefulset_status_replicas", o.replicas],
        ["kube_statefulset_status_replicas_ready", o.replicas],
        ["kube_statefulset_status_replicas_current", o.replicas],
        ["kube_statefulset_status_replicas_updated", o.replicas],
        ["kube_statefulset_status_observed_generation", 1],
        ["kube_statefulset_metadata_generation", 1],
      ] as const)
        add(name, "gauge", l, v);
    } else {
      for (const [name, v] of [
        ["kube_daemonset_status_desired_number_scheduled", 1],
        ["kube_daemonset_status_current_number_scheduled", 1],
        ["kube_daemonset_status_number_ready", 1],
        ["kube_daemonset_status_number_available", 1],
        ["kube_daemonset_status_number_unavailable", 0],
        ["kube_daemonset_status_number_misscheduled", 0],
        ["kube_daemonset_status_updated_number_scheduled", 1],
        ["kube_daemonset_status_observed_generation", 1],
        ["kube_daemonset_metadata_generation", 1],
      ] as const)
        add(name, "gauge", l, v);
    }
  }
  for (const rs of replicaSets.values()) {
    const l = { namespace: rs.namespace, replicaset: rs.name };
    add("kube_replicaset_owner", "gauge", { ...l, owner_kind: "Deployment", owner_name: rs.deployment, owner_is_controller: "true" }, 1);
    for (const [name, v] of [
      ["kube_replicaset_spec_replicas", rs.replicas],
      ["kube_replicaset_status_replicas", rs.replicas],
      ["kube_replicaset_status_ready_replicas", rs.replicas],
      ["kube_replicaset_status_fully_labeled_replicas", rs.replicas],
      ["kube_replicaset_status_observed_generation", 1],
      ["kube_replicaset_metadata_generation", 1],
      ["kube_replicaset_created", started],
    ] as const)
      add(name, "gauge", l, v);
  }
  for (const namespace of namespaces) {
    for (const phase of ["Active", "Terminating"])
      add("kube_namespace_status_phase", "gauge", { namespace, phase }, phase === "Active" ? 1 : 0);
    add("kube_namespace_created", "gauge", { namespace }, started);
  }
  add("kube_node_info", "gauge", { node, kubelet_version: "v1.31.4+k3s1", os_image: "Debian GNU/Linux 12", internal_ip: "10.0.0.10" }, 1);
  for (const condition of ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"])
    for (const status of ["true", "false", "unknown"])
      add(
        "kube_node_status_condition",
        "gauge",
        { node, condition, status },
        (condition === "Ready") === (status === "true") && status !== "unknown" ? 1 : 0,
      );
  for (const [resource, unit, v] of [
    ["cpu", "core", 4],
    ["memory", "byte", 8 * 2 ** 30],
    ["pods", "integer", 110],
  ] as const) {
    add("kube_node_status_capacity", "gauge", { node, resource, unit }, v);
    add("kube_node_status_allocatable", "gauge", { node, resource, unit }, v);
  }
  add("kube_node_spec_unschedulable", "gauge", { node }, 0);
  const out: string[] = [];
  for (const [name, f] of families) out.push(`# HELP ${name} ${name}`, `# TYPE ${name} ${f.type}`, ...f.lines);
  if (catalogFile) {
    for (const name of listedNames(catalogFile)) {
      if (families.has(name) || /_(bucket|sum|count)$/.test(name)) continue;
      const type = name.endsWith("_total") ? "counter" : "gauge";
      out.push(`# HELP ${name} ${name}`, `# TYPE ${name} ${type}`, `${name} 0`);
    }
  }
  return `${out.join("\n")}\n`;
}
