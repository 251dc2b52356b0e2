/**
 * The cadvisor job labels a pod's own cgroup `cgroup="pod"` as it stores the series (its metric relabelling,
 * components/prometheus/scrape-jobs.ts POD_CGROUP_LABEL), on the deployed release of Prometheus: the rendered
 * staging stack's cadvisor job, made local and pointed at a kubelet stand-in (support/kubelet-stand-in.ts),
 * scraping cAdvisor's series in both shapes k3s emits
 * (docs/dashboards.md, "Both cAdvisor shapes") under both cgroup drivers. rules/kubernetes.yml's
 * `kubernetes-usage` selects that label; test/rules/kubernetes.test.yml feeds the rules series as stored here.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { POD_CGROUP_LABEL } from "../../components/prometheus/scrape-jobs";
import { metricsHandler } from "../../lab/local/http";
import { freePorts } from "../../lab/ports";
import { render } from "../support/render";
import { localKubeletJob, prometheusOnStandIn, StandInSeries, storedOnStandIn } from "./support/kubelet-stand-in";
import { localRun } from "./support/local-run";

/** A cgroup as cAdvisor reports it: its `id`, the labels the kubelet gives it, and whether it is a pod's own. */
interface Cgroup {
  id: string;
  labels: Record<string, string>;
  podCgroup: boolean;
}

const CONTAINER = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const PAUSE = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

/** The node's cgroups: one labelled pod and one of k3s' shape under each driver, their containers, QoS classes, the root. */
const CGROUPS: Cgroup[] = [
  // cgroupfs, the labelled shape: the pod's cgroup, its container, its sandbox (pause) container without a container label.
  {
    id: "/kubepods/burstable/pod6f1d2c3b-8a7e-4f5d-9c1b-2e3f4a5b6c7d",
    labels: { namespace: "shop-staging", pod: "api-1", container: "" },
    podCgroup: true,
  },
  {
    id: `/kubepods/burstable/pod6f1d2c3b-8a7e-4f5d-9c1b-2e3f4a5b6c7d/${CONTAINER}`,
    labels: { namespace: "shop-staging", pod: "api-1", container: "api" },
    podCgroup: false,
  },
  {
    id: `/kubepods/burstable/pod6f1d2c3b-8a7e-4f5d-9c1b-2e3f4a5b6c7d/${PAUSE}`,
    labels: { namespace: "shop-staging", pod: "api-1", container: "" },
    podCgroup: false,
  },
  // cgroupfs, k3s' shape: the container's series carry no container, pod or namespace.
  {
    id: "/kubepods/besteffort/pod22222222-3333-4444-5555-666666666666",
    labels: { namespace: "shop-staging", pod: "web-1", container: "" },
    podCgroup: true,
  },
  { id: `/kubepods/besteffort/pod22222222-3333-4444-5555-666666666666/${CONTAINER}`, labels: { container: "" }, podCgroup: false },
  // systemd: a Guaranteed pod's cgroup sits under kubepods.slice itself; a container's scope under its pod's slice.
  {
    id: "/kubepods.slice/kubepods-pod33333333_4444_5555_6666_777777777777.slice",
    labels: { namespace: "monitoring-staging", pod: "prometheus-0", container: "" },
    podCgroup: true,
  },
  {
    id: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod44444444_5555_6666_7777_888888888888.slice",
    labels: { namespace: "monitoring-staging", pod: "grafana-1", container: "" },
    podCgroup: true,
  },
  {
    id: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod44444444_5555_6666_7777_888888888888.slice/cri-containerd-${CONTAINER}.scope`,
    labels: { namespace: "monitoring-staging", pod: "grafana-1", container: "" },
    podCgroup: false,
  },
  // A pod's cgroup that cAdvisor gave no pod: nothing to sum it by.
  { id: "/kubepods/burstable/pod55555555-6666-7777-8888-999999999999", labels: { container: "" }, podCgroup: false },
  // QoS classes, the node's own services, the root: no pod.
  { id: "/kubepods", labels: {}, podCgroup: false },
  { id: "/kubepods/burstable", labels: {}, podCgroup: false },
  { id: "/kubepods.slice/kubepods-besteffort.slice", labels: {}, podCgroup: false },
  { id: "/system.slice/k3s.service", labels: {}, podCgroup: false },
  { id: "/", labels: {}, podCgroup: false },
];

/** cAdvisor's /metrics/cadvisor: each cgroup's CPU and memory. */
function cadvisorMetrics(): string {
  const series = (metric: string, value: number) =>
    CGROUPS.map(({ id, labels }) => {
      const all = { ...labels, id, image: "", name: "" };
      return `${metric}{${Object.entries(all)
        .map(([k, v]) => `${k}="${v}"`)
        .join(",")}} ${value}`;
    });
  return [
    "# TYPE container_cpu_usage_seconds_total counter",
    ...series("container_cpu_usage_seconds_total", 12.5),
    "# TYPE container_memory_working_set_bytes gauge",
    ...series("container_memory_working_set_bytes", 1048576),
    "",
  ].join("\n");
}

describe("the cadvisor job labels a pod's own cgroup, in both shapes and under both cgroup drivers", () => {
  const run = localRun();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cadvisor-cgroup-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  let stored: (promql: string) => Promise<StandInSeries[]>;

  beforeAll(async () => {
    const staging = await render("staging");
    const [kubelet, prometheus] = await freePorts(2);
    await run.serve(kubelet, metricsHandler(cadvisorMetrics, "/metrics/cadvisor"));
    stored = storedOnStandIn(
      run,
      await prometheusOnStandIn(run, staging, [localKubeletJob(staging, "cadvisor", dir)], { kubelet, prometheus }, dir),
      1,
    );
  });

  const ids = (series: StandInSeries[]) => series.map((s) => s.metric.id).sort();
  const selector = `${POD_CGROUP_LABEL.name}="${POD_CGROUP_LABEL.value}"`;

  test.each(["container_cpu_usage_seconds_total", "container_memory_working_set_bytes"])(
    "%s: the pods' own cgroups, and only they, carry the label; every cgroup is stored",
    async (metric) => {
      expect(ids(await stored(`${metric}{job="cadvisor", ${selector}}`))).toEqual(
        CGROUPS.filter((c) => c.podCgroup)
          .map((c) => c.id)
          .sort(),
      );
      const all = await stored(`${metric}{job="cadvisor"}`);
      expect(ids(all)).toEqual(CGROUPS.map((c) => c.id).sort());
      // The label is the relabelling's only change: every other label as cAdvisor served it, the job's own added.
      const served = (id: string) => CGROUPS.find((c) => c.id === id)?.labels ?? {};
      expect(
        all.filter((s) => Object.entries(served(s.metric.id)).some(([k, v]) => v !== "" && s.metric[k] !== v)).map((s) => s.metric.id),
      ).toEqual([]);
    },
  );
});
