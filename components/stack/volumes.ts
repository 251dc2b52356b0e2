/**
 * The stack's record of its volumes: what the claims of each component that holds data are, as
 * the stack output `volumes` writes them, so that the next deployment compares its config with
 * them before anything changes (preflight/volume-changes.ts).
 */
import type { StackConfig } from "./config";
import type { StorageSpec } from "../kit/resources";
import { quantityBytes } from "../kit/units";
import { grafanaHasClaim } from "../grafana";
import { lokiArgs, tracingArgs } from "./args";

/** The components that hold data on claims, in the order their problems are listed. */
export const VOLUME_COMPONENTS = ["prometheus", "alertmanager", "loki", "grafana", "tracing"] as const;
export type VolumeComponent = (typeof VOLUME_COMPONENTS)[number];
/** The components whose claims belong to a StatefulSet, which has an (immutable) claim template. */
export const STATEFUL_SETS: readonly VolumeComponent[] = ["prometheus", "alertmanager", "loki", "tracing"];

/** What a deployment's claims of one component are: the stack output `volumes.<component>`. */
export interface VolumeRecord {
  /** The size the claims request, e.g. "10Gi". */
  size: string;
  /** The StorageClass the claims name; null when they name none (the cluster's default class when they were made). */
  storageClass: string | null;
  /** The size in the StatefulSet's claim template (immutable), when the claims belong to a StatefulSet. */
  templateSize?: string;
  /** The claims' names. */
  claims: string[];
}
export type VolumeRecords = Partial<Record<VolumeComponent, VolumeRecord>>;

/** The name of the stack output that records the volumes. */
export const VOLUMES_OUTPUT = "volumes";

/**
 * The components whose claims the config keeps in the cluster: Loki's and the traces backend's
 * only while they run or their volumes are protected (lokiArgs, tracingArgs), Grafana's unless several pods share an external database in a
 * stack that does not keep its volumes (grafanaHasClaim). A component without claims has
 * nothing to compare: its claims go, or are made new.
 */
export function componentsWithClaims(cfg: StackConfig): VolumeComponent[] {
  return VOLUME_COMPONENTS.filter((c) => {
    if (c === "loki") return lokiArgs(cfg) !== undefined;
    if (c === "tracing") return tracingArgs(cfg) !== undefined;
    if (c === "grafana") return grafanaHasClaim({ ...cfg.grafana, protectVolume: cfg.protectVolumes });
    return true;
  });
}

/**
 * The `volumes` output of a previous deployment, or undefined when there is none (a first
 * deployment, or one made before the program recorded it). An entry that is not a record is
 * left out: there is nothing to compare it with.
 */
export function parseVolumeRecords(value: unknown): VolumeRecords | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const records: VolumeRecords = {};
  for (const c of VOLUME_COMPONENTS) {
    const r = (value as Record<string, unknown>)[c] as Record<string, unknown> | undefined;
    if (typeof r !== "object" || r === null) continue;
    const { size, storageClass, templateSize, claims } = r;
    const isSize = (s: unknown): s is string => typeof s === "string" && quantityBytes(s) !== undefined;
    // No class is written null; a path that drops null values would leave the key out.
    if (!isSize(size) || !(typeof storageClass === "string" || storageClass === null || storageClass === undefined)) continue;
    if (templateSize !== undefined && !isSize(templateSize)) continue;
    if (!Array.isArray(claims) || !claims.every((n) => typeof n === "string")) continue;
    records[c] = {
      size,
      storageClass: storageClass ?? null,
      ...(templateSize !== undefined ? { templateSize } : {}),
      claims: claims as string[],
    };
  }
  return records;
}

/** The `volumes` record of one component's storage (the claims' names come from the component). */
export function volumeRecord(component: VolumeComponent, storage: StorageSpec, claims: string[]): VolumeRecord {
  return {
    size: storage.size,
    storageClass: storage.storageClass ?? null,
    ...(STATEFUL_SETS.includes(component) ? { templateSize: storage.templateSize ?? storage.size } : {}),
    claims,
  };
}
