/**
 * Which of the operator's four CRDs this stack installs (monitors.crds): read before any resource,
 * at preview and up, from the cluster (preflight/kube-api.ts: the engine's read of a CRD that does
 * not exist would fail the update). A CRD that does not exist is installed; one that carries this
 * stack's mark (components/monitors/args.ts: the monitoring stack's label and this stack's namespace
 * in the annotation) is this stack's and stays managed; any other was installed by someone else (the
 * operator's chart, another stack) and is left alone, with a warning naming its owner as its
 * labels and annotations say.
 */
import {
  CRD_OWNER_ANNOTATION,
  CRD_OWNER_LABEL,
  CRD_OWNER_VALUE,
  CrdMode,
  MONITOR_KINDS,
  MonitorKind,
  crdName,
} from "../components/monitors/args";
import { KubeGet } from "./kube-api";

/** A CRD as read: absent, or its labels and annotations. */
export type CrdFound = { exists: false } | { exists: true; labels: Record<string, string>; annotations: Record<string, string> };

/** Reads one CRD by name. */
export type CrdReader = (name: string) => Promise<CrdFound>;

export function crdReader(get: KubeGet): CrdReader {
  return async (name) => {
    const answer = await get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
    if (answer.status === 404) return { exists: false };
    if (answer.status !== 200) throw new Error(`reading CRD ${name} answered HTTP ${answer.status}`);
    const metadata = ((answer.body ?? {}) as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } })
      .metadata;
    return { exists: true, labels: metadata?.labels ?? {}, annotations: metadata?.annotations ?? {} };
  };
}

/** Who installed a CRD, as its labels and annotations say (Helm's release, a manager, another stack). */
export function ownerOf(found: Extract<CrdFound, { exists: true }>): string {
  const release = found.annotations["meta.helm.sh/release-name"];
  if (release) return `Helm release ${found.annotations["meta.helm.sh/release-namespace"] ?? "?"}/${release}`;
  if (found.labels[CRD_OWNER_LABEL] === CRD_OWNER_VALUE && found.annotations[CRD_OWNER_ANNOTATION]) {
    return `the monitoring stack in ${found.annotations[CRD_OWNER_ANNOTATION]}`;
  }
  const manager = found.labels["app.kubernetes.io/managed-by"];
  return manager ? `${manager} (app.kubernetes.io/managed-by)` : "an owner its labels do not name";
}

/** Whether a found CRD is this stack's own. */
function ours(found: CrdFound, namespace: string): boolean {
  return found.exists && found.labels[CRD_OWNER_LABEL] === CRD_OWNER_VALUE && found.annotations[CRD_OWNER_ANNOTATION] === namespace;
}

/** The kinds whose CRD this stack installs, and the warnings to print, for what was found of each. */
export function crdPlan(
  mode: CrdMode,
  namespace: string,
  found: Readonly<Record<MonitorKind, CrdFound>>,
  key: string,
): { kinds: MonitorKind[]; warnings: string[] } {
  const kinds = Object.keys(MONITOR_KINDS) as MonitorKind[];
  if (mode === "install") return { kinds, warnings: [] };
  const warnings: string[] = [];
  const install: MonitorKind[] = [];
  for (const kind of kinds) {
    const crd = found[kind];
    if (mode === "external") {
      if (!crd.exists)
        warnings.push(`${key} is external, but the cluster has no CRD ${crdName(kind)}: no ${kind} can exist until its owner installs it`);
      continue;
    }
    if (!crd.exists || ours(crd, namespace)) install.push(kind);
    else
      warnings.push(
        `${key}: CRD ${crdName(kind)} was installed by ${ownerOf(crd)}; this stack leaves it alone and reads its ${kind} objects`,
      );
  }
  return { kinds: install, warnings };
}

/** Reads the four CRDs and plans: `read` is preflight/kube-api.ts' reader of the cluster. */
export async function readCrdPlan(
  mode: CrdMode,
  namespace: string,
  read: CrdReader,
  key: string,
): Promise<{ kinds: MonitorKind[]; warnings: string[] }> {
  if (mode === "install") return crdPlan(mode, namespace, {} as Record<MonitorKind, CrdFound>, key);
  const kinds = Object.keys(MONITOR_KINDS) as MonitorKind[];
  const found = Object.fromEntries(await Promise.all(kinds.map(async (k) => [k, await read(crdName(k))] as const))) as Record<
    MonitorKind,
    CrdFound
  >;
  return crdPlan(mode, namespace, found, key);
}
