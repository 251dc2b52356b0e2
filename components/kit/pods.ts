/**
 * What every pod of the stack repeats, written once: the restricted security context, requests
 * and limits, probes, placement, rollout and disruption budget. Exceptions to the restricted
 * baseline live in the component that needs them, with a comment saying why.
 */
import * as crypto from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceRequirements } from "./resources";
import { WorkloadIdentity, selectorLabels, objectMeta } from "./labels";

/**
 * Pod-level security of the restricted Pod Security Standard: non-root with a
 * fixed uid, the runtime's default seccomp profile, volumes owned by the group.
 */
export function restrictedPodSecurity(uid = 65534): k8s.types.input.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    fsGroupChangePolicy: "OnRootMismatch",
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container-level security of the restricted standard: read-only root, no privilege, no capabilities. */
export function restrictedContainerSecurity(): k8s.types.input.core.v1.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
  };
}

/** Requests and limits from config. */
export function resourcesOf(r: ResourceRequirements): k8s.types.input.core.v1.ResourceRequirements {
  return {
    requests: { cpu: r.requests.cpu, memory: r.requests.memory },
    limits: { ...(r.limits.cpu ? { cpu: r.limits.cpu } : {}), memory: r.limits.memory },
  };
}

/** An HTTP GET probe on a named port. */
export function httpProbe(
  path: string,
  port: string | number,
  timing: { initialDelaySeconds?: number; periodSeconds?: number; failureThreshold?: number; timeoutSeconds?: number } = {},
  scheme: "HTTP" | "HTTPS" = "HTTP",
): k8s.types.input.core.v1.Probe {
  return {
    httpGet: { path, port, scheme },
    initialDelaySeconds: timing.initialDelaySeconds ?? 0,
    periodSeconds: timing.periodSeconds ?? 10,
    timeoutSeconds: timing.timeoutSeconds ?? 5,
    failureThreshold: timing.failureThreshold ?? 3,
  };
}

/**
 * Each replica of a workload on a node of its own: required anti-affinity. For workloads
 * with more than one replica, which config never allows to outnumber the nodes (`nodes`).
 *
 * Required, not preferred: replicas that share a node gain no availability, and a drain of
 * that node (k3s upgrades drain) hangs on their disruption budget once the first one evicted
 * cannot start again elsewhere, as a replica whose volume lives on that node (local-path)
 * never can. With one replica per node, a drain evicts one replica of each workload, which
 * the budget allows, and a replica that cannot be placed stays Pending where it shows.
 */
export function spreadAcrossNodes(id: WorkloadIdentity): k8s.types.input.core.v1.Affinity {
  return {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: selectorLabels(id) } },
      ],
    },
  };
}

/**
 * The rollout of a stateless Deployment: with one replica, the new pod first (maxSurge 1),
 * so that it never goes to zero; with several, each on a node of its own (spreadAcrossNodes)
 * and as many as the nodes, a surge pod would have no node to go to and the rollout would
 * wait forever: one old pod goes first, the others keep serving.
 */
export function rolloutStrategy(replicas: number): k8s.types.input.apps.v1.DeploymentStrategy {
  return replicas > 1
    ? { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }
    : { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
}

/**
 * A PodDisruptionBudget that lets voluntary disruptions (node drains, upgrades) take
 * one replica of a workload at a time. Only for workloads with more than one replica, each
 * on a node of its own (spreadAcrossNodes): a drain then evicts one of them, which the budget
 * allows. On a single replica, or on replicas that share a node, it would block the drain.
 */
export function oneAtATimeDisruptionBudget(
  name: string,
  id: WorkloadIdentity,
  namespace: pulumi.Input<string>,
  objectName: string,
  opts: pulumi.CustomResourceOptions,
): k8s.policy.v1.PodDisruptionBudget {
  return new k8s.policy.v1.PodDisruptionBudget(
    name,
    { metadata: objectMeta(id, namespace, objectName), spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(id) } } },
    opts,
  );
}

/**
 * The digest of a config that a process reads only at start, for its pod template's
 * `checksum/config` annotation: a change of the config changes the template, which rolls the pods.
 */
export function configChecksum(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex");
}
