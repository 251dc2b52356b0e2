/**
 * The rendered Loki pod with its push port's proxy (components/loki/push-proxy.ts), run in a pod's network of its own
 * (./pod-network.ts) on the exact binaries: Loki with its rendered args and config, the proxy (Traefik, the release of
 * its image) with its rendered args and its mounted routes, only their paths made local (Loki's data and rules
 * directories and the mounts laid out under a directory). Addresses and ports stay as rendered: Loki on every
 * address of the pod, the proxy on its push port.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import type { Rendered } from "../../cli/render";
import type { LocalRun, ManagedProcess } from "../processes/children";
import { stackBinary } from "./binaries";
import { localPath } from "./cluster-pods";
import { localLokiConfig } from "./logs";
import { POD_ADDRESS, PodNetwork } from "./pod-network";
import { PodContainer, layOutConfigMapMounts, statefulSetContainer, statefulSetPod } from "./rendered";

/** One container of the rendered Loki pod. */
export function lokiPodContainer(rendered: Rendered, name: string): PodContainer {
  return statefulSetContainer(rendered, "loki", name);
}

/** A named port of one of the pod's containers, as rendered. */
export function lokiPodPort(rendered: Rendered, container: string, name: string): number {
  const port = lokiPodContainer(rendered, container).ports?.find((p) => p.name === name)?.containerPort;
  if (port === undefined) throw new Error(`the rendered Loki pod's ${container} has no port named ${name}`);
  return port;
}

export interface LokiPod {
  pod: PodNetwork;
  loki: ManagedProcess;
  proxy: ManagedProcess;
}

/** Starts the rendered pod under `root` (a directory of the caller's); waits for Loki ready and the proxy's ping. */
export async function startLokiPod(run: LocalRun, rendered: Rendered, root: string): Promise<LokiPod> {
  const pod = new PodNetwork(run, "loki-0");
  await pod.ready();
  const spec = statefulSetPod(rendered, "loki");

  const lokiContainer = lokiPodContainer(rendered, "loki");
  layOutConfigMapMounts(rendered, spec, lokiContainer, root);
  const lokiArgs = lokiContainer.args.map((a) => {
    const file = /^-config\.file=(.*)$/.exec(a)?.[1];
    if (file === undefined) return a;
    // The rendered config, its data and rules directories under root, its server as rendered.
    const local = path.join(root, file);
    fs.writeFileSync(local, YAML.stringify(localLokiConfig(fs.readFileSync(local, "utf8"), root)));
    return `-config.file=${local}`;
  });
  const loki = pod.start("loki", stackBinary("loki"), lokiArgs);

  const proxyContainer = lokiPodContainer(rendered, "proxy");
  layOutConfigMapMounts(rendered, spec, proxyContainer, root);
  const proxy = pod.start(
    "proxy",
    stackBinary("traefik"),
    proxyContainer.args.map((a) => localPath(a, root)),
  );
  const ready = async (what: string, container: PodContainer, port: number) => {
    const probe = container.readinessProbe.httpGet;
    if (!probe) throw new Error(`the rendered ${container.name} has no HTTP readiness probe`);
    await run.waitFor(
      what,
      async () => {
        const r = await pod.request("GET", `http://${POD_ADDRESS}:${port}${probe.path}`);
        return "status" in r && r.status === 200 ? true : undefined;
      },
      120_000,
      500,
    );
  };
  await ready("Loki ready", lokiContainer, lokiPodPort(rendered, "loki", "http"));
  await ready("the push proxy ready", proxyContainer, lokiPodPort(rendered, "proxy", "push"));
  return { pod, loki, proxy };
}
