/** What the collector may read beyond its own node's pods: events, the operator's monitors and the Secrets they name. */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { MONITOR_COMPONENTS } from "./monitors";

/** The ClusterRole that reads events (get, list, watch: nothing else), bound where the collector watches them. */
const EVENTS_RULES = [{ apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] }];

/**
 * Read access to events for a collector's service account: cluster-wide when `namespaces` is
 * undefined (the stack watches every namespace), else a RoleBinding in each namespace given, to a
 * ClusterRole `<clusterRoleName>` that only reads events. Each namespace must exist when it is created.
 */
export function eventsReadAccess(
  name: string,
  args: {
    clusterRoleName: string;
    labels: Record<string, string>;
    namespaces: readonly string[] | undefined;
    subject: { namespace: string; name: pulumi.Input<string> };
  },
  opts: pulumi.CustomResourceOptions,
): void {
  const role = new k8s.rbac.v1.ClusterRole(
    `${name}-events-role`,
    { metadata: { name: args.clusterRoleName, labels: args.labels }, rules: EVENTS_RULES },
    opts,
  );
  const roleRef = { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name };
  const subjects = [{ kind: "ServiceAccount", name: args.subject.name, namespace: args.subject.namespace }];
  if (args.namespaces === undefined) {
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-events-binding`,
      { metadata: { name: args.clusterRoleName, labels: args.labels }, roleRef, subjects },
      opts,
    );
    return;
  }
  for (const namespace of args.namespaces) {
    new k8s.rbac.v1.RoleBinding(
      `${name}-events-binding-${namespace}`,
      { metadata: { name: args.clusterRoleName, namespace, labels: args.labels }, roleRef, subjects },
      opts,
    );
  }
}

/**
 * `get` of the Secrets the monitors may name (`<namespace>/<name>`), and of nothing else: a Role
 * `<roleName>` per namespace listing those names, bound to the collector's service account.
 */
export function monitorSecretsAccess(
  name: string,
  args: {
    roleName: string;
    labels: Record<string, string>;
    secrets: readonly string[];
    subject: { namespace: string; name: pulumi.Input<string> };
  },
  opts: pulumi.CustomResourceOptions,
): void {
  const byNamespace = new Map<string, string[]>();
  for (const ref of args.secrets) {
    const [secretNs, secret] = ref.split("/");
    byNamespace.set(secretNs, [...(byNamespace.get(secretNs) ?? []), secret]);
  }
  for (const [secretNs, names] of [...byNamespace].sort(([a], [b]) => a.localeCompare(b))) {
    const role = new k8s.rbac.v1.Role(
      `${name}-monitor-secrets-${secretNs}`,
      {
        metadata: { name: args.roleName, namespace: secretNs, labels: args.labels },
        rules: [{ apiGroups: [""], resources: ["secrets"], resourceNames: [...names].sort(), verbs: ["get"] }],
      },
      opts,
    );
    new k8s.rbac.v1.RoleBinding(
      `${name}-monitor-secrets-${secretNs}`,
      {
        metadata: { name: args.roleName, namespace: secretNs, labels: args.labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: args.subject.name, namespace: args.subject.namespace }],
      },
      opts,
    );
  }
}

/**
 * What watching the monitors takes, read-only: the three kinds, and what their targets are
 * discovered from (Services, Endpoints and EndpointSlices, Pods; Ingresses for a Probe's ingress
 * targets). Secrets are not among them: each one a monitor may name has a Role of its own.
 */
export function monitorReadRules(): k8s.types.input.rbac.v1.PolicyRule[] {
  return [
    { apiGroups: ["monitoring.coreos.com"], resources: [...MONITOR_COMPONENTS], verbs: ["get", "list", "watch"] },
    { apiGroups: [""], resources: ["services", "endpoints"], verbs: ["get", "list", "watch"] },
    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
    { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: ["get", "list", "watch"] },
  ];
}
