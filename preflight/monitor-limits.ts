/**
 * The monitors the stack's limit policy has not held yet (components/monitors/limits.ts): the
 * policy acts when an object is written, so a ServiceMonitor, PodMonitor or Probe written before
 * it existed keeps the limits it gives, or none (Alloy then gives it `default_sample_limit`, but no
 * target or label limit). Read at preview and up from the namespaces read, and named in one warning
 * with the way to have the policy hold them: write each again (any change, such as an annotation).
 */
import { MONITORING_GROUP, MONITORING_VERSION, MONITOR_KINDS, MONITOR_LIMIT_FIELDS, MonitorLimits } from "../components/monitors/args";
import { LIMITED_KINDS } from "../components/monitors/limits";
import { KubeGet } from "./kube-api";

/** A monitor whose limits are not the policy's, with what it gives for each limit it exceeds or leaves out. */
export interface UnheldMonitor {
  kind: (typeof LIMITED_KINDS)[number];
  namespace: string;
  name: string;
  /** `sampleLimit 1000000`, `no targetLimit`, `labelLimit 0`: each field over the limit, 0 or absent. */
  over: string[];
}

/** The fields of a monitor's spec over the stack's limits (absent, 0, not a number, or larger), as text. */
export function overLimits(spec: unknown, limits: MonitorLimits): string[] {
  const given = (typeof spec === "object" && spec !== null ? spec : {}) as Record<string, unknown>;
  return (Object.keys(MONITOR_LIMIT_FIELDS) as Array<keyof MonitorLimits>).flatMap((key) => {
    const field = MONITOR_LIMIT_FIELDS[key];
    const value = given[field];
    if (value === undefined || value === null) return [`no ${field}`];
    if (typeof value !== "number" || value <= 0 || value > limits[key]) return [`${field} ${JSON.stringify(value)}`];
    return [];
  });
}

/** The ServiceMonitors, PodMonitors and Probes of the namespaces whose limits the policy does not hold. */
export async function unheldMonitors(get: KubeGet, namespaces: readonly string[], limits: MonitorLimits): Promise<UnheldMonitor[]> {
  const found: UnheldMonitor[] = [];
  for (const kind of LIMITED_KINDS) {
    for (const ns of namespaces) {
      const p = `/apis/${MONITORING_GROUP}/${MONITORING_VERSION}/namespaces/${ns}/${MONITOR_KINDS[kind].plural}`;
      const answer = await get(p);
      // No CRD (yet): no object of the kind can exist.
      if (answer.status === 404) continue;
      if (answer.status !== 200) throw new Error(`listing ${kind}s (${p}) answered HTTP ${answer.status}`);
      for (const item of ((answer.body ?? {}) as { items?: unknown[] }).items ?? []) {
        const o = item as { metadata?: { namespace?: string; name?: string }; spec?: unknown };
        if (!o.metadata?.namespace || !o.metadata.name) continue;
        const over = overLimits(o.spec, limits);
        if (over.length > 0) found.push({ kind, namespace: o.metadata.namespace, name: o.metadata.name, over });
      }
    }
  }
  return found.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

/** The warning that names them, under `key` (monitors.limits); none when every monitor is held. */
export function unheldWarning(found: readonly UnheldMonitor[], key: string): string[] {
  if (found.length === 0) return [];
  const named = found.map((m) => `${m.kind} ${m.namespace}/${m.name} (${m.over.join(", ")})`).join("; ");
  const first = found[0];
  return [
    `${key}: ${found.length === 1 ? "a monitor keeps" : `${found.length} monitors keep`} limits above the stack's or none, written before its limit policy held them: ` +
      `${named}. The policy holds an object when it is next written: write each again, e.g. ` +
      `kubectl annotate ${first.kind.toLowerCase()} ${first.name} -n ${first.namespace} monitoring-stack/limits=held --overwrite (or its chart's next upgrade).`,
  ];
}
