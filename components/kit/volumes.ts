/** The stack's volumes: data claims of StatefulSets as Pulumi resources, their protection, scratch space. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StorageSpec } from "./resources";
import { WorkloadIdentity, objectMeta, selectorLabels, standardLabels } from "./labels";
import { oneAtATimeDisruptionBudget } from "./pods";

/** A data claim's spec: one pod at a time, the storage's class, the given size. */
function claimSpec(storage: StorageSpec, size: string): k8s.types.input.core.v1.PersistentVolumeClaimSpec {
  return {
    accessModes: ["ReadWriteOnce"],
    ...(storage.storageClass ? { storageClassName: storage.storageClass } : {}),
    resources: { requests: { storage: size } },
  };
}

/**
 * A StatefulSet volume claim template from a storage spec. Its size is `templateSize` when
 * set: the template is immutable (a change replaces the StatefulSet), so it keeps the size
 * the claims had when the StatefulSet was created while an expansion grows the claims.
 */
export function volumeClaimTemplate(
  id: WorkloadIdentity,
  name: string,
  storage: StorageSpec,
): k8s.types.input.core.v1.PersistentVolumeClaim {
  return { metadata: { name, labels: selectorLabels(id) }, spec: claimSpec(storage, storage.templateSize ?? storage.size) };
}

/** The name the StatefulSet controller gives a replica's claim: `<template>-<statefulSet>-<ordinal>`. */
export function statefulSetClaimName(template: string, statefulSet: string, ordinal: number): string {
  return `${template}-${statefulSet}-${ordinal}`;
}

/**
 * Annotations of a data claim. Pulumi otherwise waits for a new claim to be Bound, which
 * never happens before a pod uses it when the StorageClass binds on first consumer
 * (local-path, most CSI drivers) and Pulumi cannot look the class up (no storageClassName:
 * the cluster default): the workload, which depends on its claim, would never start.
 */
export const DATA_CLAIM_ANNOTATIONS: Record<string, string> = { "pulumi.com/skipAwait": "true" };

/**
 * What the StatefulSet controller does with the claims of its volumeClaimTemplates: never
 * delete them, neither with the StatefulSet nor when it scales down. The claims are
 * Pulumi resources (statefulSetClaims), so Pulumi alone decides when they go: with
 * `Delete`, the controller would put owner references on them and the garbage collector
 * would delete Pulumi's claims, data included, whenever the StatefulSet is replaced
 * (a change of its immutable fields, such as the claim template's size).
 */
export function claimRetentionPolicy(): k8s.types.input.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy {
  return { whenDeleted: "Retain", whenScaled: "Retain" };
}

/**
 * A StatefulSet's data claims as Pulumi resources: for each replica, exactly the claim the
 * controller would make from the `template` claim template (its name from
 * statefulSetClaimName, the template's labels, size and class), so that the controller
 * finds it and uses it instead of making its own. Pass them to the StatefulSet's
 * `dependsOn`. The StatefulSet keeps its volumeClaimTemplates: they are how each replica's
 * pod mounts its own claim (a pod template cannot name a per-replica claim), and a replica
 * added outside Pulumi (kubectl scale) still gets one.
 *
 * Resources are named `<name>-<ordinal>`: the ordinal is the replica's stable identity.
 * Protected and kept in the cluster when removed (volumeOptions) when `protect`. The claims
 * request `storage.size`, which may exceed the template's `templateSize` after an expansion.
 */
export function statefulSetClaims(
  name: string,
  args: {
    id: WorkloadIdentity;
    namespace: pulumi.Input<string>;
    statefulSet: string;
    replicas: number;
    storage: StorageSpec;
    protect: boolean;
  },
  parent: pulumi.Resource,
  template = "data",
): k8s.core.v1.PersistentVolumeClaim[] {
  const { metadata } = volumeClaimTemplate(args.id, template, args.storage);
  const spec = claimSpec(args.storage, args.storage.size);
  return Array.from(
    { length: args.replicas },
    (_, ordinal) =>
      new k8s.core.v1.PersistentVolumeClaim(
        `${name}-${ordinal}`,
        {
          metadata: {
            ...metadata,
            name: statefulSetClaimName(template, args.statefulSet, ordinal),
            namespace: args.namespace,
            annotations: DATA_CLAIM_ANNOTATIONS,
          },
          spec,
        },
        { parent, ...volumeOptions(args.protect) },
      ),
  );
}

/** An emptyDir for scratch space (/tmp) under a read-only root filesystem. */
export function scratchVolume(name = "tmp", sizeLimit = "64Mi"): k8s.types.input.core.v1.Volume {
  return { name, emptyDir: { sizeLimit } };
}

/**
 * Resource options for what holds data (volume claims, the namespace they live in) in a
 * stack that keeps its data (config protectVolumes): `protect`, so that Pulumi refuses to
 * delete or replace them (destroy stops at them), and `retainOnDelete`, so that once
 * unprotected, removing them from the stack leaves them, and the data, in the cluster.
 */
export function volumeOptions(protect: boolean): pulumi.CustomResourceOptions {
  return protect ? { protect: true, retainOnDelete: true } : {};
}

/**
 * A replicated store (Prometheus, Alertmanager): each replica's claim (statefulSetClaims,
 * `<name>-data-<ordinal>`), made first so that Pulumi owns (and, when `protect`, protects) it and
 * the StatefulSet's controller adopts it, then the StatefulSet (`<name>-statefulset`), its replicas
 * independent, started and replaced in parallel, and with more than one replica a disruption budget
 * that lets one go at a time (`<name>-pdb`). The StatefulSet is never protected: it holds no
 * data (its claims do), and a change of its immutable fields must be able to replace it; deleting,
 * replacing or scaling it down never deletes a claim (claimRetentionPolicy).
 */
export function replicatedStore(
  name: string,
  args: {
    id: WorkloadIdentity;
    namespace: pulumi.Input<string>;
    statefulSet: string;
    serviceName: pulumi.Input<string>;
    podSpec: k8s.types.input.core.v1.PodSpec;
  },
  { replicas, storage, protectVolumes }: { replicas: number; storage: StorageSpec; protectVolumes?: boolean },
  parent: pulumi.Resource,
): { claims: k8s.core.v1.PersistentVolumeClaim[]; statefulSet: k8s.apps.v1.StatefulSet } {
  const { id, namespace, statefulSet: statefulSetName } = args;
  const protect = protectVolumes ?? false;
  const claims = statefulSetClaims(`${name}-data`, { id, namespace, statefulSet: statefulSetName, replicas, storage, protect }, parent);
  const statefulSet = new k8s.apps.v1.StatefulSet(
    `${name}-statefulset`,
    {
      metadata: objectMeta(id, namespace, statefulSetName),
      spec: {
        serviceName: args.serviceName,
        replicas,
        podManagementPolicy: "Parallel",
        selector: { matchLabels: selectorLabels(id) },
        persistentVolumeClaimRetentionPolicy: claimRetentionPolicy(),
        template: { metadata: { labels: standardLabels(id) }, spec: args.podSpec },
        volumeClaimTemplates: [volumeClaimTemplate(id, "data", storage)],
      },
    },
    { parent, dependsOn: claims },
  );
  if (replicas > 1) oneAtATimeDisruptionBudget(`${name}-pdb`, id, namespace, statefulSetName, { parent });
  return { claims, statefulSet };
}

/**
 * The data claim of a one-replica store (oneReplicaStore), `data-<id.name>-0`: made before the
 * StatefulSet, and alone with `dataOnly`, so that Pulumi owns it and, when `protect`, protects it.
 */
export function oneReplicaStoreClaims(
  name: string,
  args: { id: WorkloadIdentity; namespace: pulumi.Input<string>; storage: StorageSpec; protect: boolean },
  parent: pulumi.Resource,
): k8s.core.v1.PersistentVolumeClaim[] {
  return statefulSetClaims(name, { ...args, statefulSet: args.id.name, replicas: 1 }, parent);
}

/**
 * The StatefulSet of a one-replica store (Loki, the traces backend): its pod on the claim
 * `data-<name>-0` (oneReplicaStoreClaims, passed as `claims`), the config's checksum on the pod
 * template so that a config change rolls the pod, and the digests of what else it reads once at start
 * (`checksums`: a Secret's values in its environment). Never protected: it holds no data (its claim
 * does), and a change of its immutable fields must be able to replace it; deleting or replacing
 * it never deletes the claim (claimRetentionPolicy).
 */
export function oneReplicaStore(
  name: string,
  args: {
    id: WorkloadIdentity;
    namespace: pulumi.Input<string>;
    serviceName: pulumi.Input<string>;
    storage: StorageSpec;
    configChecksum: string;
    /** Further `checksum/<name>` annotations by name. Default none. */
    checksums?: Record<string, pulumi.Input<string>>;
    podSpec: k8s.types.input.core.v1.PodSpec;
    claims: k8s.core.v1.PersistentVolumeClaim[];
  },
  parent: pulumi.Resource,
): k8s.apps.v1.StatefulSet {
  return new k8s.apps.v1.StatefulSet(
    name,
    {
      metadata: objectMeta(args.id, args.namespace, args.id.name),
      spec: {
        serviceName: args.serviceName,
        replicas: 1,
        selector: { matchLabels: selectorLabels(args.id) },
        persistentVolumeClaimRetentionPolicy: claimRetentionPolicy(),
        template: {
          metadata: {
            labels: standardLabels(args.id),
            annotations: {
              "checksum/config": args.configChecksum,
              ...Object.fromEntries(Object.entries(args.checksums ?? {}).map(([k, v]) => [`checksum/${k}`, v])),
            },
          },
          spec: args.podSpec,
        },
        volumeClaimTemplates: [volumeClaimTemplate(args.id, "data", args.storage)],
      },
    },
    { parent, dependsOn: args.claims },
  );
}
