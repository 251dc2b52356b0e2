/**
 * Synthetic targets for the live lab (test/live/) and the benchmark (scripts/bench.ts): what no real process here can serve.
 *
 * - Apps in the dialects users have, with traffic: requests counted under the app's own
 *   names (a prefixed counter labelled `status_code`, or the default
 *   `http_requests_total{method,endpoint,status}`), a latency histogram, 5xx errors and
 *   slow requests in the mix; the error ratio can be raised (a 5xx burst).
 * - The kubelet and its cAdvisor, in both shapes k3s emits: container series with their
 *   `container` and `image` labels, and without them (k3s-io/k3s #6210, #5782), where
 *   only the cgroup `id` tells a pod's own series from its containers'.
 * - Grafana's own metrics (no Grafana binary can be built here), from its catalogue.
 *
 * Everything is computed from counters advanced by the traffic, so rates are real rates.
 */
import type { AppTarget } from "../../components/prometheus/args";
import { catalogFile, listedNames } from "../../cli/catalog";

/** The metric names of an app, as apps[].metrics sets them (defaults in config/index.ts). */
export type AppDialect = AppTarget["metrics"];

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const ROUTES = ["/", "/cart", "/checkout"];
const METHODS = ["GET", "POST"];

/** A deterministic generator, so that a failing lab run can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface Series {
  count: number;
}

/** One app: its counters, what a request does to them, and its /metrics text. */
export class SyntheticApp {
  /**
   * Share of requests answered 5xx: 0.05 % by default, well inside a 99.9 % objective so that
   * a healthy lab raises no alert; a burst raises it.
   */
  errorRatio = 0.0005;
  /** Share of requests slower than a second: 1 %, so the p95 stays far below the alert thresholds. */
  slowRatio = 0.01;
  private readonly requests = new Map<string, Series>();
  private readonly buckets = new Map<string, number[]>();
  private readonly sums = new Map<string, number>();
  private readonly random: () => number;
  private active = 0;

  constructor(
    readonly name: string,
    readonly dialect: AppDialect,
    /** Whether /metrics says what it is: many hand-written endpoints send no Content-Type at all. */
    readonly sendsContentType: boolean,
    seed = 1,
  ) {
    this.random = seeded(seed);
  }

  /** Serves `count` requests. */
  serve(count: number): void {
    for (let i = 0; i < count; i++) {
      const method = METHODS[Math.floor(this.random() * METHODS.length)];
      const route = ROUTES[Math.floor(this.random() * ROUTES.length)];
      const status = this.random() < this.errorRatio ? (this.random() < 0.5 ? "500" : "503") : this.random() < 0.05 ? "404" : "200";
      const seconds = this.random() < this.slowRatio ? 1 + this.random() * 2 : 0.005 + this.random() * 0.2;
      const key = `${method}\u0000${route}\u0000${status}`;
      const series = this.requests.get(key) ?? { count: 0 };
      series.count++;
      this.requests.set(key, series);
      const hkey = `${method}\u0000${route}`;
      const counts = this.buckets.get(hkey) ?? BUCKETS.map(() => 0);
      BUCKETS.forEach((le, b) => {
        if (seconds <= le) counts[b]++;
      });
      this.buckets.set(hkey, counts);
      this.sums.set(hkey, (this.sums.get(hkey) ?? 0) + seconds);
    }
    this.active = Math.round(count / 2 + this.random() * 3);
  }

  metricsText(): string {
    const d = this.dialect;
    const lines = [`# HELP ${d.requests} Requests served.`, `# TYPE ${d.requests} counter`];
    for (const [key, s] of [...this.requests.entries()].sort()) {
      const [method, route, status] = key.split("\u0000");
      lines.push(`${d.requests}{${d.methodLabel}="${method}",${d.routeLabel}="${route}",${d.statusLabel}="${status}"} ${s.count}`);
    }
    lines.push(`# HELP ${d.duration} Request latency.`, `# TYPE ${d.duration} histogram`);
    for (const [key, counts] of [...this.buckets.entries()].sort()) {
      const [method, route] = key.split("\u0000");
      const labels = `${d.methodLabel}="${method}",${d.routeLabel}="${route}"`;
      BUCKETS.forEach((le, b) => lines.push(`${d.duration}_bucket{${labels},le="${le}"} ${counts[b]}`));
      const total = [...this.requests.entries()].filter(([k]) => k.startsWith(`${key}\u0000`)).reduce((n, [, s]) => n + s.count, 0);
      lines.push(`${d.duration}_bucket{${labels},le="+Inf"} ${total}`);
      lines.push(`${d.duration}_sum{${labels}} ${(this.sums.get(key) ?? 0).toFixed(3)}`);
      lines.push(`${d.duration}_count{${labels}} ${total}`);
    }
    lines.push(
      `# HELP ${d.activeConnections} Open connections.`,
      `# TYPE ${d.activeConnections} gauge`,
      `${d.activeConnections} ${this.active}`,
    );
    return `${lines.join("\n")}\n`;
  }

  headers(): Record<string, string> {
    return this.sendsContentType ? { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" } : {};
  }
}

// ---------------------------------------------------------------------------
// Kubernetes pods as the kubelet and cAdvisor see them

/** A container the synthetic cluster runs. */
export interface LabPod {
  namespace: string;
  pod: string;
  uid: string;
  containers: Array<{ name: string; image: string; cpuCores: number; memoryBytes: number; limitBytes?: number }>;
  /** Claims of the pod, for the kubelet's volume stats. */
  claims?: Array<{ name: string; capacityBytes: number; usedBytes: number }>;
}

/** The two shapes of cAdvisor's container series. */
export type CadvisorShape = "labelled" | "k3s-unlabelled";

const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const labelText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}="${escape(v)}"`)
    .join(",");

/** A node's kubelet: its pods, and counters that grow with time. */
export class SyntheticNode {
  private readonly startedAt = Date.now();

  constructor(
    readonly name: string,
    readonly shape: CadvisorShape,
    readonly pods: LabPod[],
  ) {}

  private elapsed(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  /** cAdvisor's /metrics/cadvisor: per container and per pod (the pod's own cgroup), in this node's shape. */
  cadvisorText(): string {
    const t = this.elapsed();
    const families = new Map<string, { type: string; lines: string[] }>();
    const add = (name: string, type: string, labels: Record<string, string>, value: number) => {
      const family = families.get(name) ?? { type, lines: [] };
      family.lines.push(`${name}{${labelText(labels)}} ${Number.isInteger(value) ? value : value.toFixed(6)}`);
      families.set(name, family);
    };
    for (const pod of this.pods) {
      const podCgroup = `/kubepods/burstable/pod${pod.uid}`;
      const podLabels = { namespace: pod.namespace, pod: pod.pod };
      // The pod's own cgroup: container="" in both shapes, id the pod's cgroup.
      const podCpu = pod.containers.reduce((n, c) => n + c.cpuCores, 0);
      const podMemory = pod.containers.reduce((n, c) => n + c.memoryBytes, 0);
      const own = { ...podLabels, container: "", image: "", name: "", id: podCgroup };
      add("container_cpu_usage_seconds_total", "counter", { ...own, cpu: "total" }, podCpu * t);
      add("container_memory_working_set_bytes", "gauge", own, podMemory);
      // CFS accounting of the pod's cgroup, which holds the sum of its containers' CPU limits.
      add("container_cpu_cfs_periods_total", "counter", own, 10 * t);
      add("container_cpu_cfs_throttled_periods_total", "counter", own, (podCpu > 0.1 ? 2 : 0.1) * t);
      // The pod's network is its sandbox's: one series per pod and interface.
      add("container_network_receive_bytes_total", "counter", { ...own, interface: "eth0" }, 20_000 * t);
      add("container_network_transmit_bytes_total", "counter", { ...own, interface: "eth0" }, 12_000 * t);
      add("container_network_receive_packets_total", "counter", { ...own, interface: "eth0" }, 40 * t);
      add("container_network_transmit_packets_total", "counter", { ...own, interface: "eth0" }, 30 * t);
      for (const name of [
        "container_network_receive_packets_dropped_total",
        "container_network_transmit_packets_dropped_total",
        "container_network_receive_errors_total",
        "container_network_transmit_errors_total",
      ])
        add(name, "counter", { ...own, interface: "eth0" }, 0);
      for (const c of pod.containers) {
        const id = `${podCgroup}/${c.name}-${pod.uid.slice(0, 8)}`;
        // k3s's shape (k3s-io/k3s #6210): the container's series without container, image and name.
        const labels =
          this.shape === "labelled"
            ? { ...podLabels, container: c.name, image: c.image, name: `k8s_${c.name}_${pod.pod}`, id }
            : { ...podLabels, container: "", image: "", name: "", id };
        add("container_cpu_usage_seconds_total", "counter", { ...labels, cpu: "total" }, c.cpuCores * t);
        add("container_cpu_cfs_periods_total", "counter", labels, 10 * t);
        add("container_cpu_cfs_throttled_periods_total", "counter", labels, (c.cpuCores > 0.1 ? 2 : 0.1) * t);
        add("container_cpu_cfs_throttled_seconds_total", "counter", labels, (c.cpuCores > 0.1 ? 0.05 : 0.001) * t);
        add("container_memory_working_set_bytes", "gauge", labels, c.memoryBytes);
        add("container_memory_usage_bytes", "gauge", labels, c.memoryBytes * 1.2);
        add("container_memory_rss", "gauge", labels, c.memoryBytes * 0.8);
        add("container_memory_cache", "gauge", labels, c.memoryBytes * 0.3);
        add("container_spec_memory_limit_bytes", "gauge", labels, c.limitBytes ?? 0);
        add("container_fs_reads_bytes_total", "counter", { ...labels, device: "/dev/vda" }, 4_096 * t);
        add("container_fs_writes_bytes_total", "counter", { ...labels, device: "/dev/vda" }, 8_192 * t);
        add("container_oom_events_total", "counter", labels, 0);
        add("container_start_time_seconds", "gauge", labels, Math.floor(this.startedAt / 1000));
      }
    }
    // The node's own cgroups, above and beside the pods': the root (the whole node, its network among them), the
    // kubepods and QoS class cgroups, and a system service. cAdvisor gives them no namespace, pod or container.
    const podsCpu = this.pods.reduce((n, p) => n + p.containers.reduce((m, c) => m + c.cpuCores, 0), 0);
    const podsMemory = this.pods.reduce((n, p) => n + p.containers.reduce((m, c) => m + c.memoryBytes, 0), 0);
    const system = { cpuCores: 0.15, memoryBytes: 600 * 2 ** 20 };
    const nodeCgroups: Array<[string, number, number]> = [
      ["/", podsCpu + system.cpuCores, podsMemory + system.memoryBytes],
      ["/kubepods", podsCpu, podsMemory],
      ["/kubepods/burstable", podsCpu, podsMemory],
      ["/system.slice/k3s.service", system.cpuCores, system.memoryBytes],
    ];
    for (const [id, cpu, memory] of nodeCgroups) {
      const labels = { container: "", image: "", name: "", namespace: "", pod: "", id };
      add("container_cpu_usage_seconds_total", "counter", { ...labels, cpu: "total" }, cpu * t);
      add("container_memory_working_set_bytes", "gauge", labels, memory);
    }
    add(
      "container_network_receive_bytes_total",
      "counter",
      { container: "", image: "", name: "", namespace: "", pod: "", id: "/", interface: "eth0" },
      20_000 * this.pods.length * t,
    );
    add(
      "container_network_transmit_bytes_total",
      "counter",
      { container: "", image: "", name: "", namespace: "", pod: "", id: "/", interface: "eth0" },
      12_000 * this.pods.length * t,
    );
    add("machine_cpu_cores", "gauge", {}, 4);
    add("machine_memory_bytes", "gauge", {}, 8 * 2 ** 30);
    const out: string[] = [];
    for (const [name, f] of families) out.push(`# HELP ${name} ${name}`, `# TYPE ${name} ${f.type}`, ...f.lines);
    return `${out.join("\n")}\n`;
  }

  /** The kubelet's own /metrics: volume stats of the pods' claims, and itself (its PLEG's relists among them). */
  kubeletText(): string {
    const t = this.elapsed();
    const out: string[] = [];
    const volume = (name: string, pick: (c: { capacityBytes: number; usedBytes: number }) => number) => {
      out.push(`# HELP ${name} ${name}`, `# TYPE ${name} gauge`);
      for (const pod of this.pods) {
        for (const claim of pod.claims ?? []) {
          out.push(`${name}{${labelText({ namespace: pod.namespace, persistentvolumeclaim: claim.name })}} ${pick(claim)}`);
        }
      }
    };
    volume("kubelet_volume_stats_capacity_bytes", (c) => c.capacityBytes);
    volume("kubelet_volume_stats_used_bytes", (c) => c.usedBytes);
    volume("kubelet_volume_stats_available_bytes", (c) => c.capacityBytes - c.usedBytes);
    volume("kubelet_volume_stats_inodes", () => 655_360);
    volume("kubelet_volume_stats_inodes_used", () => 1_200);
    volume("kubelet_volume_stats_inodes_free", () => 655_360 - 1_200);
    const containers = this.pods.reduce((n, p) => n + p.containers.length, 0);
    out.push(
      "# HELP kubelet_node_name The node's name.",
      "# TYPE kubelet_node_name gauge",
      `kubelet_node_name{node="${escape(this.name)}"} 1`,
      "# HELP kubelet_running_pods Pods running.",
      "# TYPE kubelet_running_pods gauge",
      `kubelet_running_pods ${this.pods.length}`,
      "# HELP kubelet_running_containers Containers by state.",
      "# TYPE kubelet_running_containers gauge",
      `kubelet_running_containers{container_state="running"} ${containers}`,
      "# HELP kubelet_runtime_operations_total Runtime operations.",
      "# TYPE kubelet_runtime_operations_total counter",
      `kubelet_runtime_operations_total{operation_type="container_status"} ${Math.round(5 * t)}`,
      "# HELP kubelet_runtime_operations_errors_total Runtime operation errors.",
      "# TYPE kubelet_runtime_operations_errors_total counter",
      `kubelet_runtime_operations_errors_total{operation_type="container_status"} 0`,
      // A healthy PLEG: one relist a second, each in a few milliseconds.
      "# HELP kubelet_pleg_relist_duration_seconds Duration of the PLEG's relists.",
      "# TYPE kubelet_pleg_relist_duration_seconds histogram",
      ...["0.005", "0.01", "0.1", "1", "10", "+Inf"].map(
        (le) => `kubelet_pleg_relist_duration_seconds_bucket{le="${le}"} ${le === "0.005" ? Math.round(0.9 * t) : Math.round(t)}`,
      ),
      `kubelet_pleg_relist_duration_seconds_sum ${(0.004 * t).toFixed(3)}`,
      `kubelet_pleg_relist_duration_seconds_count ${Math.round(t)}`,
    );
    // What every kubelet serves about itself: its version, and histograms of the work it does
    // (a relist every second, pod syncs, runtime calls, the volume mounts of its pods' claims).
    out.push(
      "# HELP kubernetes_build_info Kubernetes build.",
      "# TYPE kubernetes_build_info gauge",
      `kubernetes_build_info{${labelText({ major: "1", minor: "33", git_version: "v1.33.5+k3s1", go_version: "go1.24.6", platform: "linux/amd64" })}} 1`,
    );
    const histogram = (name: string, perSecond: number, seconds: number, labelSets: Array<Record<string, string>>) => {
      out.push(`# HELP ${name} ${name}`, `# TYPE ${name} histogram`);
      const count = Math.round(perSecond * t);
      for (const labels of labelSets) {
        const l = labelText(labels);
        for (const le of ["0.005", "0.1", "1", "10", "+Inf"])
          out.push(`${name}_bucket{${l}${l ? "," : ""}le="${le}"} ${Number(le) < seconds ? Math.floor(count / 10) : count}`);
        out.push(`${name}_sum{${l}} ${(count * seconds).toFixed(3)}`, `${name}_count{${l}} ${count}`);
      }
    };
    histogram("kubelet_pleg_relist_duration_seconds", 1, 0.02, [{}]);
    histogram("kubelet_pod_start_duration_seconds", 0.01, 2, [{}]);
    histogram("kubelet_pod_worker_duration_seconds", 0.2, 0.05, [{ operation_type: "sync" }]);
    histogram("kubelet_runtime_operations_duration_seconds", 5, 0.004, [{ operation_type: "container_status" }]);
    const plugins = ["kubernetes.io/configmap", "kubernetes.io/projected"];
    histogram(
      "storage_operation_duration_seconds",
      0.05,
      0.01,
      plugins.map((volume_plugin) => ({ migrated: "false", operation_name: "volume_mount", status: "success", volume_plugin })),
    );
    out.push("# HELP volume_manager_total_volumes Volumes in the volume manager.", "# TYPE volume_manager_total_volumes gauge");
    for (const state of ["actual_state_of_world", "desired_state_of_world"])
      for (const plugin_name of plugins) out.push(`volume_manager_total_volumes{${labelText({ plugin_name, state })}} ${this.pods.length}`);
    return `${out.join("\n")}\n`;
  }
}

/** A gauge, counter or histogram for every name of a catalogue file, with one series each: for sources no binary serves. */
export function catalogueMetricsText(source: string, labels: Record<string, string> = {}): string {
  const names = listedNames(catalogFile(source));
  const histograms = new Set(names.filter((n) => n.endsWith("_bucket")).map((n) => n.slice(0, -"_bucket".length)));
  const out: string[] = [];
  const l = labelText(labels);
  for (const base of histograms) {
    out.push(`# HELP ${base} ${base}`, `# TYPE ${base} histogram`);
    for (const le of ["0.1", "1", "+Inf"]) out.push(`${base}_bucket{${l}${l ? "," : ""}le="${le}"} ${le === "0.1" ? 5 : 10}`);
    out.push(`${base}_sum{${l}} 3.5`, `${base}_count{${l}} 10`);
  }
  for (const name of names) {
    if ([...histograms].some((h) => name === `${h}_bucket` || name === `${h}_sum` || name === `${h}_count`)) continue;
    const type = name.endsWith("_total") ? "counter" : "gauge";
    out.push(
      `# HELP ${name} ${name}`,
      `# TYPE ${name} ${type}`,
      `${name}{${l}} ${type === "counter" ? Math.floor(Date.now() / 1000) % 100_000 : 1}`,
    );
  }
  return `${out.join("\n")}\n`;
}
