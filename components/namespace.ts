import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { StackComponent } from "./kit/component";
import { stackLabels } from "./kit/labels";
import { volumeOptions } from "./kit/volumes";

/** Pod Security Standard levels (https://kubernetes.io/docs/concepts/security/pod-security-standards/). */
export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

export interface MonitoringNamespaceArgs {
  /** Name of the namespace, e.g. "monitoring". */
  name: string;
  /** The stack's environment; the app.kubernetes.io/instance label. */
  environment: string;
  /**
   * Pod Security level enforced by the API server. Default "restricted": every
   * workload of the stack runs non-root, read-only and without capabilities. Node
   * agents that need host access live in a namespace of their own at "privileged".
   */
  podSecurity?: PodSecurityLevel;
  /**
   * The namespace holds data claims that the stack keeps (config protectVolumes): protect
   * the Namespace and keep it in the cluster when it leaves the stack (`protect` +
   * `retainOnDelete`). Deleting a namespace deletes every claim in it, protected or not,
   * and with them the data of volumes whose reclaim policy is Delete (local-path's).
   * Default false.
   */
  keepsData?: boolean;
  /** Default requests and limits of containers that declare none (the LimitRange). */
  containerDefaults?: {
    requests: { cpu: string; memory: string };
    limits: { memory: string };
  };
}

/**
 * A namespace that is safe by default: Pod Security Standards labels, NetworkPolicies
 * that deny all ingress not explicitly admitted by a workload's own policy and all
 * egress not explicitly allowed by one (kit's egressPolicySpec), and a LimitRange so no
 * container runs without requests and limits.
 */
export class MonitoringNamespace extends StackComponent {
  /** The namespace's name, known once it exists: children depend on it through this output. */
  public readonly name: pulumi.Output<string>;
  public readonly namespace: k8s.core.v1.Namespace;

  constructor(name: string, args: MonitoringNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitoring:index:MonitoringNamespace", name, opts);
    const level = args.podSecurity ?? "restricted";
    // A privileged namespace audits one level above what it enforces, so the cluster's audit
    // log still reports pods that could be tighter. It warns at the level it enforces: the
    // node agents break baseline on purpose (host network, PID and paths), and a warning on
    // every apply that nobody can act on teaches people to ignore Pod Security warnings.
    const audit: PodSecurityLevel = level === "privileged" ? "baseline" : "restricted";
    const labels = {
      ...stackLabels(args.environment),
      "kubernetes.io/metadata.name": args.name,
      "pod-security.kubernetes.io/enforce": level,
      "pod-security.kubernetes.io/enforce-version": "latest",
      "pod-security.kubernetes.io/audit": audit,
      "pod-security.kubernetes.io/warn": level,
    };

    this.namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: args.name, labels } },
      { parent: this, ...volumeOptions(args.keepsData ?? false) },
    );
    this.name = this.namespace.metadata.name;

    new k8s.networking.v1.NetworkPolicy(
      `${name}-default-deny-ingress`,
      {
        metadata: { name: "default-deny-ingress", namespace: this.name, labels: stackLabels(args.environment) },
        spec: { podSelector: {}, policyTypes: ["Ingress"] },
      },
      { parent: this },
    );
    // Each workload allows its own egress (DNS and what it connects to); a pod that has no
    // policy of its own, or a destination nobody listed, gets nothing.
    new k8s.networking.v1.NetworkPolicy(
      `${name}-default-deny-egress`,
      {
        metadata: { name: "default-deny-egress", namespace: this.name, labels: stackLabels(args.environment) },
        spec: { podSelector: {}, policyTypes: ["Egress"] },
      },
      { parent: this },
    );

    const defaults = args.containerDefaults ?? { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } };
    new k8s.core.v1.LimitRange(
      `${name}-limits`,
      {
        metadata: { name: "container-defaults", namespace: this.name, labels: stackLabels(args.environment) },
        spec: {
          limits: [
            {
              type: "Container",
              defaultRequest: defaults.requests,
              default: defaults.limits,
            },
          ],
        },
      },
      { parent: this },
    );

    this.registerOutputs({ name: this.name });
  }
}
