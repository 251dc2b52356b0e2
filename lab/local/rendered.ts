/** Reading a render (cli/render.ts): its objects, the args of a workload's container, a StatefulSet's pod and its mounted files. */
import * as fs from "fs";
import * as path from "path";
import type { Rendered, RenderedObject } from "../../cli/render";

/** The objects of a kind (and optionally name). */
export function objectsOf(rendered: Rendered, kind: string, name?: string): RenderedObject["object"][] {
  return rendered.kubernetes
    .filter((o) => o.object.kind === kind && (name === undefined || o.object.metadata.name === name))
    .map((o) => o.object);
}

/** The one object of a kind and name; fails when there is not exactly one. */
export function objectOf(rendered: Rendered, kind: string, name: string): RenderedObject["object"] {
  const found = objectsOf(rendered, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`);
  return found[0];
}

/** The args of a workload's container (the container of the workload's name unless given), as rendered. */
export function containerArgs(rendered: Rendered, kind: string, name: string, container = name): string[] {
  const spec = objectOf(rendered, kind, name).spec as { template: { spec: { containers: Array<{ name: string; args?: string[] }> } } };
  return spec.template.spec.containers.find((c) => c.name === container)?.args ?? [];
}

/** A container's probe, as rendered: an HTTP GET on a port (named or numbered), or a command. */
export interface Probe {
  httpGet?: { path: string; port: number | string };
  exec?: { command: string[] };
}

/** What the lab's pods read of a rendered container. */
export interface PodContainer {
  name: string;
  args: string[];
  ports?: Array<{ name: string; containerPort: number }>;
  readinessProbe: Probe;
  livenessProbe: Probe;
  volumeMounts: Array<{ name: string; mountPath: string }>;
}

/** What the lab's pods read of a rendered pod template. */
export interface PodSpec {
  containers: PodContainer[];
  volumes: Array<{ name: string; configMap?: { name: string } }>;
}

/** The pod template's spec of a rendered StatefulSet. */
export function statefulSetPod(rendered: Rendered, name: string): PodSpec {
  return (objectOf(rendered, "StatefulSet", name).spec as { template: { spec: PodSpec } }).template.spec;
}

/** One container of a rendered StatefulSet's pod. */
export function statefulSetContainer(rendered: Rendered, statefulSet: string, name: string): PodContainer {
  const found = statefulSetPod(rendered, statefulSet).containers.find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name} in the rendered ${statefulSet} pod`);
  return found;
}

/**
 * Lays out under `root` the files of the ConfigMaps a container of the pod mounts, each at its mount path (the
 * kubelet's projection of a ConfigMap volume: a file per key). Mounts of other volumes are left out.
 */
export function layOutConfigMapMounts(rendered: Rendered, spec: PodSpec, container: PodContainer, root: string): void {
  for (const mount of container.volumeMounts) {
    const volume = spec.volumes.find((v) => v.name === mount.name);
    if (!volume?.configMap) continue;
    const files = objectOf(rendered, "ConfigMap", volume.configMap.name).data as Record<string, string>;
    fs.mkdirSync(path.join(root, mount.mountPath), { recursive: true });
    for (const [key, text] of Object.entries(files)) fs.writeFileSync(path.join(root, mount.mountPath, key), text);
  }
}
