/**
 * The rendered Prometheus pod behind its proxy (components/prometheus/admin-proxy.ts: the admin API, the write
 * port), run in a pod's network of its own (./pod-network.ts) on the exact binaries: Prometheus with its rendered args, the proxy
 * (Traefik, the release of its image) with its rendered args and its mounted files (the routes ConfigMap), only their
 * paths made local: the mounts laid out under a directory, and prometheus.yml's Kubernetes discovery, which needs an
 * API server, swapped for file discovery of nothing. Addresses and ports stay as rendered. The end-to-end test and the
 * bench both run it.
 */
import * as fs from "fs";
import * as path from "path";
import type { Rendered } from "../../cli/render";
import { PROMETHEUS_PATHS } from "../../components/prometheus/args";
import type { LocalRun, ManagedProcess } from "../processes/children";
import { stackBinary } from "./binaries";
import { localPath } from "./cluster-pods";
import { POD_ADDRESS, PodNetwork } from "./pod-network";
import { discoverableConfig, layOutContainer } from "./prometheus";
import { PodContainer, PodSpec, layOutConfigMapMounts, statefulSetContainer, statefulSetPod } from "./rendered";

/** The rendered Prometheus pod's spec. */
export function prometheusPodSpec(rendered: Rendered): PodSpec {
  return statefulSetPod(rendered, "prometheus");
}

/** One container of the rendered Prometheus pod. */
export function prometheusPodContainer(rendered: Rendered, name: string): PodContainer {
  return statefulSetContainer(rendered, "prometheus", name);
}

export interface PrometheusPod {
  pod: PodNetwork;
  prometheus: ManagedProcess;
  proxy: ManagedProcess;
  /** Prometheus' data directory (its claim), under root. */
  data: string;
}

/** Starts the rendered pod under `root` (a directory of the caller's), and waits for Prometheus to answer through the proxy. */
export async function startPrometheusPod(run: LocalRun, rendered: Rendered, root: string): Promise<PrometheusPod> {
  const pod = new PodNetwork(run, "prometheus-0");
  await pod.ready();

  layOutContainer(rendered, root);
  const config = discoverableConfig(rendered.files.get("prometheus/prometheus.yml") ?? "", root, { endpoints: [], pod: [], node: [] });
  const promArgs = prometheusPodContainer(rendered, "prometheus").args.map((a) =>
    a.startsWith("--config.file=") ? `--config.file=${config.file}` : localPath(a, root),
  );
  const data = path.join(root, PROMETHEUS_PATHS.data);
  fs.mkdirSync(data, { recursive: true });
  const prometheus = pod.start("prometheus", stackBinary("prometheus"), promArgs);

  const proxyContainer = prometheusPodContainer(rendered, "proxy");
  layOutConfigMapMounts(rendered, prometheusPodSpec(rendered), proxyContainer, root);
  const proxy = pod.start(
    "proxy",
    stackBinary("traefik"),
    proxyContainer.args.map((a) => localPath(a, root)),
  );
  const http = proxyContainer.ports?.find((p) => p.name === "http")?.containerPort;
  if (http === undefined) throw new Error("the rendered proxy has no port named http");
  await run.waitFor(
    "Prometheus ready through the proxy",
    async () => {
      const r = await pod.request("GET", `http://${POD_ADDRESS}:${http}/-/ready`);
      return "status" in r && r.status === 200 ? true : undefined;
    },
    90_000,
    500,
  );
  return { pod, prometheus, proxy, data };
}
