/**
 * What a stack watches (`watch`), a section the kit owns because several components follow it:
 * the namespaces whose objects, containers, annotated pods and logs the stack reads, and whether
 * it watches what the cluster shares (its nodes, `kube-system`, the cluster's own Traefik).
 * Staging and production often share one node: each watches its own namespaces, and one of them,
 * production by default, the cluster's shared pieces, so that a node or a Job alert pages once.
 */
import { z } from "zod";
import { bool, matching } from "./fields";
import { ArgsProblem, duplicates } from "./problems";
import { Profile } from "./profiles";
import { FieldsOf, componentSection, overDefaults } from "./section";

/** `watch.namespaces: ["*"]`: every namespace of the cluster, as before the stack watched its own. */
export const EVERY_NAMESPACE = "*";

/** The cluster's system namespace (k3s runs its Traefik, CoreDNS and metrics-server there): watched by the stack that watches the cluster. */
export const SYSTEM_NAMESPACE = "kube-system";

const NAMESPACE_OR_EVERY = /^(\*|[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)$/;

const schema = z.strictObject({
  /** The namespaces given beyond the ones the stack always watches, or [EVERY_NAMESPACE]. */
  namespaces: z
    .array(
      matching(NAMESPACE_OR_EVERY, `a namespace (a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters) or "*"`),
      { error: 'must be a list of namespaces, or ["*"] for every namespace' },
    )
    .optional()
    .describe(
      'Namespaces the stack watches beyond its own, its agents\', and those of its apps and targets; ["*"] for every namespace; default none.',
    ),
  /** Whether the stack watches the cluster's shared pieces: nodes, kube-system, the cluster's Traefik. */
  cluster: bool
    .optional()
    .describe(
      "Watch what the cluster shares: its nodes (node-exporter, node alerts), kube-system and the cluster's Traefik; default true in production, false in staging.",
    ),
});

/** What the stack watches, as the section resolves it. */
export type WatchSettings = FieldsOf<typeof schema>;

/** One stack per cluster owns the shared pieces: production by default, which pages for them. */
export const WATCH_DEFAULTS: Record<Profile, WatchSettings> = {
  staging: { namespaces: [], cluster: false },
  production: { namespaces: [], cluster: true },
};

/** Whether the stack watches every namespace (`watch.namespaces: ["*"]`). */
export function watchesEveryNamespace(watch: Pick<WatchSettings, "namespaces">): boolean {
  return watch.namespaces.includes(EVERY_NAMESPACE);
}

/**
 * The namespaces a stack watches: the ones it always does (`own`: its namespace, its agents', its
 * apps' and targets'), kube-system when it watches the cluster, and the ones given; sorted, each
 * once. Undefined when it watches every namespace.
 */
export function watchedNamespaces(watch: WatchSettings, own: readonly string[]): string[] | undefined {
  if (watchesEveryNamespace(watch)) return undefined;
  return [...new Set([...own, ...(watch.cluster ? [SYSTEM_NAMESPACE] : []), ...watch.namespaces])].sort();
}

/** A namespace given twice, and "*" beside other namespaces. */
function watchProblems(watch: WatchSettings): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  const given = watch.namespaces;
  for (const name of duplicates(given)) {
    const i = given.lastIndexOf(name);
    found.push({
      key: `namespaces[${i}]`,
      message: `names "${name}" a second time (first at namespaces[${given.indexOf(name)}]): give each namespace once`,
    });
  }
  const i = given.findIndex((n) => n !== EVERY_NAMESPACE);
  if (watchesEveryNamespace(watch) && i >= 0) {
    found.push({
      key: `namespaces[${i}]`,
      message: `"*" already watches every namespace, so it stands alone: give ["*"], or the namespaces without "*" (got ${JSON.stringify(given)})`,
    });
  }
  return found;
}

/** The `watch` section: each key given over its profile's default. */
export const watchSection = componentSection({
  schema,
  defaults: (profile): WatchSettings => WATCH_DEFAULTS[profile],
  resolve: (given, context): WatchSettings => overDefaults(WATCH_DEFAULTS[context.profile], given, context),
  problems: watchProblems,
});
