/** What a workload asks of its node and its volume: requests and limits, and a data claim's size and class. */

export interface ResourceRequirements {
  requests: { cpu: string; memory: string };
  limits: { cpu?: string; memory: string };
}

export interface StorageSpec {
  size: string;
  storageClass?: string;
  /** The StorageClass expands volumes: a larger `size` may grow existing claims (preflight/volume-changes.ts). Default false. */
  expandable?: boolean;
  /** For one deployment: another size or StorageClass is allowed, for claims made anew (preflight/volume-changes.ts). Default false. */
  recreate?: boolean;
  /**
   * Size in a StatefulSet's claim template, when it differs from `size`: the claims' size when
   * the StatefulSet was created. The template is immutable, so growing the claims leaves it as
   * it was (preflight/volume-changes.ts). Default `size`.
   */
  templateSize?: string;
}

/** Requests and limits as the profiles' defaults write them: requests, then limits (no CPU limit when none is given). */
export function requirements(cpu: string, memory: string, cpuLimit: string | undefined, memoryLimit: string): ResourceRequirements {
  return {
    requests: { cpu, memory },
    limits: cpuLimit ? { cpu: cpuLimit, memory: memoryLimit } : { memory: memoryLimit },
  };
}
