/** Names Kubernetes would refuse, and limits below requests, refused before any resource exists. */
import { CheckInput } from "./check";
import { AGENTS_SUFFIX } from "../../components/kit/labels";
import { z } from "zod";
import { quantityValue } from "../../components/kit/units";
import { defaultNamespace } from "../defaults";
import { resources } from "../../components/kit/fields";
import { ResourceRequirements } from "../../components/kit/resources";
import { sectionsWith } from "../../components/stack/sections";

/** The namespace of the node agents is `<namespace>-agents`, a DNS label of at most 63 characters. */

/** Names Kubernetes would refuse, limits below requests. */
export function kubernetesLimits({ raw, resolved, key, problems }: CheckInput): void {
  // A limit below its request: the API server refuses the workload.
  type Sized = { path: string; raw?: z.infer<typeof resources>; resolved: ResourceRequirements };
  const sized: Sized[] = [
    ...sectionsWith("resources").map((s) => ({ path: `${s}.resources`, raw: raw[s]?.resources, resolved: resolved[s].resources })),
    ...resolved.databases.map((db, i) => ({
      path: `databases[${i}].resources`,
      raw: raw.databases?.[i]?.resources,
      resolved: db.resources,
    })),
  ];
  for (const { path, raw: rawResources, resolved: requirements } of sized) {
    for (const resource of ["cpu", "memory"] as const) {
      const request = requirements.requests[resource];
      const limit = requirements.limits[resource];
      if (limit === undefined) continue;
      if ((quantityValue(limit) ?? Infinity) >= (quantityValue(request) ?? 0)) continue;
      if (rawResources?.limits?.[resource] !== undefined) {
        problems.push({
          key: key(`${path}.limits.${resource}`),
          message: `must be at least the request, ${request}${rawResources.requests?.[resource] === undefined ? ` (the default ${path}.requests.${resource})` : ""}: Kubernetes refuses a limit below its request (got ${JSON.stringify(limit)})`,
          involves: [key(`${path}.requests.${resource}`)],
        });
      } else {
        problems.push({
          key: key(`${path}.requests.${resource}`),
          message: `must not exceed the limit, ${limit} (the default ${path}.limits.${resource}): raise that too, since Kubernetes refuses a request above its limit (got ${JSON.stringify(request)})`,
        });
      }
    }
  }

  // Names the program derives from config values.
  const agents = resolved.nodeExporter.enabled || resolved.logCollector.enabled;
  if (
    raw.namespace === undefined &&
    (resolved.namespace.length > 63 || (agents && resolved.namespace.length + AGENTS_SUFFIX.length > 63))
  ) {
    // The default comes from the environment: the key to set is namespace.
    const limit = agents ? 63 - AGENTS_SUFFIX.length : 63;
    problems.push({
      key: key("namespace"),
      message:
        `must be set: its default, "${defaultNamespace("<environment>")}", would have ${resolved.namespace.length} characters with the environment ` +
        `"${resolved.environment}", and a namespace has at most ${limit}${agents ? ` while node agents run (their namespace is "<namespace>${AGENTS_SUFFIX}")` : ""}: ` +
        `pulumi config set namespace <name> (got nothing)`,
      involves: [key("environment")],
    });
  } else if (agents && resolved.namespace.length + AGENTS_SUFFIX.length > 63) {
    problems.push({
      key: key("namespace"),
      message:
        `must be at most ${63 - AGENTS_SUFFIX.length} characters while node agents run (nodeExporter or logCollector enabled): ` +
        `their namespace "<namespace>${AGENTS_SUFFIX}" is a DNS label of at most 63 (got ${JSON.stringify(resolved.namespace)}, ${resolved.namespace.length} characters)`,
      involves: [key("nodeExporter.enabled"), key("logCollector.enabled")],
    });
  }
  resolved.databases.forEach((db, i) => {
    if (!/^[a-z]/.test(db.name)) {
      problems.push({
        key: key(`databases[${i}].name`),
        message: `must start with a letter for a standalone exporter: its Service "<name>-exporter" is a DNS-1035 label (got ${JSON.stringify(db.name)})`,
        involves: [key(`databases[${i}].mode`)],
      });
    } else if (db.name.length + "-exporter".length > 63) {
      problems.push({
        key: key(`databases[${i}].name`),
        message: `must be at most ${63 - "-exporter".length} characters for a standalone exporter: its Service "<name>-exporter" is a DNS label of at most 63 (got ${JSON.stringify(db.name)}, ${db.name.length} characters)`,
        involves: [key(`databases[${i}].mode`)],
      });
    }
  });
}
