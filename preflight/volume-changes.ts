/**
 * Volume changes that cannot be done in place, refused before anything changes.
 *
 * A data claim's StorageClass is immutable, and so is a StatefulSet's claim template: Pulumi
 * would replace the claims (their data goes with them) and the StatefulSets. A claim grows
 * only when its StorageClass expands volumes (k3s's local-path does not), and never shrinks.
 * The API server says so mid-update, after other objects have changed; the program says it
 * first, from what the previous deployment recorded in its `volumes` stack output (index.ts
 * reads it through a StackReference to its own stack before it registers anything else).
 *
 * Pure: the previous record and the config come in, problems or the config to deploy go out.
 */
import { ConfigError, ConfigProblem, RawConfig, StackConfig } from "../config";
import { STATEFUL_SETS, VOLUME_COMPONENTS, VolumeComponent, VolumeRecords, componentsWithClaims } from "../components/stack/volumes";
import { quantityBytes } from "../components/kit/units";
import { tracingDefaultProblems } from "./tracing-default";

/** Where the docs explain what to do instead. */
const CHANGING_VOLUMES = `docs/operations.md, "Changing volumes"`;

/** A section of the raw config as given (structured keys arrive as JSON), for which key set a value. */
function givenSection(raw: RawConfig, component: VolumeComponent): { replicas?: unknown; storage?: Record<string, unknown> } {
  try {
    const section = JSON.parse(raw.values[`${raw.project}:${component}`] ?? "{}") as {
      replicas?: unknown;
      storage?: Record<string, unknown>;
    } | null;
    return section ?? {};
  } catch {
    return {};
  }
}

function givenStorage(raw: RawConfig, component: VolumeComponent): { size?: unknown; storageClass?: unknown } {
  return givenSection(raw, component).storage ?? {};
}

const className = (c: string | null | undefined) => (c ? JSON.stringify(c) : "the cluster's default class (none named)");
const list = (names: string[]) => names.join(", ");

/**
 * What the config would change of the previous deployment's claims that cannot be done in
 * place, as config problems: another StorageClass (set, changed or unset), a smaller size,
 * and a larger one unless the component's `storage.expandable` says its class expands volumes.
 * A component with `storage.recreate` may change both, for that one deployment: its claims are
 * made anew (docs/operations.md, "Changing volumes"); left set once nothing changes, it is refused.
 */
export function volumeChangeProblems(raw: RawConfig, cfg: StackConfig, previous: VolumeRecords | undefined): ConfigProblem[] {
  if (!previous) return [];
  const k = (path: string) => `${raw.project}:${path}`;
  const componentProblems: ConfigProblem[] = [];
  // One problem per key: the top-level storageClass may move every component's claims at once.
  const classChanges = new Map<string, { from: string | null; to: string | undefined; components: VolumeComponent[]; claims: string[] }>();

  for (const c of componentsWithClaims(cfg)) {
    const before = previous[c];
    if (!before) continue;
    const storage = cfg[c].storage;
    const given = givenStorage(raw, c);

    // Fewer replicas than the last deployment ran, by default rather than by choice (the profile's
    // replicas follow `nodes`, default 1): the claims of the replicas that go would be dropped.
    if ((c === "prometheus" || c === "alertmanager") && givenSection(raw, c).replicas === undefined) {
      const replicas = cfg[c].replicas;
      if (before.claims.length > replicas) {
        const nodesGiven = raw.values[`${raw.project}:nodes`] !== undefined;
        componentProblems.push({
          key: k(`${c}.replicas`),
          message:
            `is ${replicas}, the ${cfg.profile} default on ${cfg.nodes} node${cfg.nodes === 1 ? "" : "s"} (nodes${nodesGiven ? "" : ", by default"}), ` +
            `but the last deployment ran ${before.claims.length} (claims ${list(before.claims)}): the claims of the replicas that go would be ` +
            `${cfg.protectVolumes ? "dropped, and Pulumi would stop at them, protected" : "deleted with their data"}. If the cluster has more ` +
            `nodes, say so: pulumi config set nodes <count>; to run ${replicas} anyway, set it: pulumi config set --path '${c}.replicas' ${replicas} ` +
            `(see docs/operations.md, "Good to know") (got nothing)`,
        });
      }
    }
    const classChanged = (storage.storageClass ?? null) !== before.storageClass;
    const was = quantityBytes(before.size) ?? 0;
    const now = quantityBytes(storage.size) ?? 0;

    // The way out: claims made anew, once their data is moved out. For one deployment only, so
    // that a later change is refused again.
    if (storage.recreate) {
      if (!classChanged && now === was) {
        componentProblems.push({
          key: k(`${c}.storage.recreate`),
          message:
            `is for the one deployment that makes the claims anew, and neither ${c}.storage.size nor its StorageClass differs from ` +
            `what the last deployment made (${before.size}, ${className(before.storageClass)}): remove it, so that a later change ` +
            `is refused again: pulumi config rm --path '${c}.storage.recreate' (got true)`,
        });
      }
      continue;
    }

    if (classChanged) {
      const key = given.storageClass !== undefined ? k(`${c}.storage.storageClass`) : k("storageClass");
      const change = classChanges.get(key) ?? { from: before.storageClass, to: storage.storageClass, components: [], claims: [] };
      change.components.push(c);
      change.claims.push(...before.claims);
      classChanges.set(key, change);
    }

    // A size not given is the profile's default: a change of profile changes it.
    const got = given.size === undefined ? `the ${cfg.profile} default, ${JSON.stringify(storage.size)}` : JSON.stringify(storage.size);
    const keep = given.size === undefined ? `set it to ${before.size}` : `keep ${before.size}`;
    if (now < was) {
      componentProblems.push({
        key: k(`${c}.storage.size`),
        message:
          `must be at least ${before.size}, the size of the existing claims (${list(before.claims)}): Kubernetes never shrinks a claim. ` +
          `${keep[0].toUpperCase()}${keep.slice(1)}; to use less space, move the data to a new, smaller claim (see ${CHANGING_VOLUMES}) (got ${got})`,
      });
    } else if (now > was && !storage.expandable) {
      componentProblems.push({
        key: k(`${c}.storage.size`),
        message:
          `cannot grow the existing claims (${list(before.claims)}) from ${before.size} to ${storage.size} unless their StorageClass, ` +
          `${className(before.storageClass)}, expands volumes (allowVolumeExpansion: true). If it does, say so: ` +
          `pulumi config set --path '${c}.storage.expandable' true. k3s's local-path does not: there, ${keep} and move the ` +
          `data to a new, larger claim (see ${CHANGING_VOLUMES}) (got ${got})`,
      });
    }
  }

  const classProblems = [...classChanges].map(([key, { from, to, components, claims }]) => {
    const replaced = components.some((c) => STATEFUL_SETS.includes(c)) ? "the claims and their StatefulSets" : "the claims";
    const outcome = cfg.protectVolumes
      ? "and stop mid-update at the claims, which are protected (protectVolumes), after other objects have changed"
      : "deleting the claims and with them their data (local-path, like most classes, deletes a volume with its claim)";
    return {
      key,
      message:
        `cannot move the existing claims (${list(claims)}) from ${className(from)} to ${className(to)}: a claim's StorageClass ` +
        `cannot change, so Pulumi would replace ${replaced}, ${outcome}. Keep ${from ? JSON.stringify(from) : "it unset"}; ` +
        `to move the data to another class, see ${CHANGING_VOLUMES} (got ${to ? JSON.stringify(to) : "nothing"})`,
    };
  });
  return [...classProblems, ...componentProblems];
}

/**
 * The namespace of the previous deployment (its `namespace` stack output), when the config
 * would move the stack elsewhere: the namespace is replaced, and the claims in it with it.
 * Without saying so (the default namespace follows the environment, monitoring-<environment>,
 * and a stack deployed before that default, in `monitoring`, would otherwise be replaced in a
 * new namespace), refused in any stack, naming the key to set. Set explicitly, it is the user's
 * choice, except in a stack that protects its volumes (protectVolumes): there the namespace and
 * its claims are protected, so Pulumi would make the stack anew in the other namespace and stop
 * at the old one, halfway through. Refused with a ConfigError.
 */
export function applyPreviousNamespace(raw: RawConfig, cfg: StackConfig, previous: unknown): StackConfig {
  if (typeof previous !== "string" || previous === "" || previous === cfg.namespace) return cfg;
  const key = `${raw.project}:namespace`;
  const given = raw.values[key];
  if (given === undefined) {
    throw new ConfigError([
      {
        key,
        message:
          `is not set, so it defaults to "${cfg.namespace}" (monitoring-<environment>), but this stack runs in "${previous}": moving ` +
          `it would replace the namespace and delete the claims in it, data included. Keep it: pulumi config set namespace ${previous} (got nothing)`,
      },
    ]);
  }
  if (!cfg.protectVolumes) return cfg;
  throw new ConfigError([
    {
      key,
      message:
        `cannot move a stack that protects its volumes (protectVolumes) from "${previous}", where it runs, to "${cfg.namespace}": ` +
        `Pulumi would make the stack anew in "${cfg.namespace}" and stop mid-update at the namespace "${previous}" and its claims, ` +
        `which are protected, after other objects have changed. Keep it: pulumi config set namespace ${previous}; to move the ` +
        `stack and its data, see "Moving a protected stack" in docs/operations.md (got ${JSON.stringify(cfg.namespace)})`,
    },
  ]);
}

/**
 * The config to deploy over a previous deployment whose volumes are `previous`: refused with
 * a ConfigError listing every change that cannot be done in place, Jaeger's claim given up only
 * because tracing's default changed first (preflight/tracing-default.ts). Otherwise each
 * StatefulSet's claim template keeps the size it was created with (it is immutable, and an
 * expansion grows only the claims), a size written another way for the same quantity (10Gi,
 * 10240Mi) keeps the previous spelling, and `expandable` and `recreate`, which only this
 * comparison reads, are left out: the components record their args, so a flag set or removed
 * would show as a change where nothing changes.
 */
export function applyPreviousVolumes(raw: RawConfig, cfg: StackConfig, previous: VolumeRecords | undefined): StackConfig {
  const problems = [...tracingDefaultProblems(raw, cfg, previous), ...volumeChangeProblems(raw, cfg, previous)];
  if (problems.length > 0) throw new ConfigError(problems);
  const next = {
    ...cfg,
    prometheus: { ...cfg.prometheus },
    alertmanager: { ...cfg.alertmanager },
    loki: { ...cfg.loki },
    grafana: { ...cfg.grafana },
    tracing: { ...cfg.tracing },
  };
  const kept = componentsWithClaims(cfg);
  for (const c of VOLUME_COMPONENTS) {
    const { size, storageClass, recreate } = cfg[c].storage;
    // Claims made anew get a StatefulSet whose template says what they are.
    const before = kept.includes(c) && !recreate ? previous?.[c] : undefined;
    const same = before !== undefined && quantityBytes(size) === quantityBytes(before.size);
    next[c].storage = {
      size: same ? before.size : size,
      ...(storageClass ? { storageClass } : {}),
      ...(STATEFUL_SETS.includes(c) ? { templateSize: before?.templateSize ?? before?.size ?? size } : {}),
    };
  }
  return next;
}
