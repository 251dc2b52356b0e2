/** Reading a render (cli/render.ts): its objects, and the args of a workload's container. */
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
