/**
 * The objects the bench's kube-state-metrics phase applies to its control plane
 * (lab/bench/ksm-footprint.ts): the teams' workloads, k3s's own, the two stacks' rendered objects,
 * in the order the API server takes them.
 */
import type { Rendered } from "../../cli/render";
import type { StackConfig } from "../../config";
import type { KsmPlan } from "./ksm-figures";

const labelsOf = (name: string) => ({ "app.kubernetes.io/name": name });

/** A team's workloads: `plan.deploymentsPerTeam` Deployments with Services, finished Jobs, a CronJob, autoscalers, budgets, a quota. */
function teamObjects(namespace: string, plan: KsmPlan): object[] {
  const objects: object[] = [{ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }];
  for (let i = 0; i < plan.deploymentsPerTeam; i++) {
    const name = `svc-${i}`;
    const labels = labelsOf(name);
    objects.push(
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace, labels },
        spec: {
          replicas: plan.replicas,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name,
                  image: `example.com/team/${name}:1.${i}.0`,
                  ports: [{ name: "http", containerPort: 8080 }],
                  resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
                },
              ],
            },
          },
        },
      },
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name, namespace, labels },
        spec: { selector: labels, ports: [{ name: "http", port: 80, targetPort: "http" }] },
      },
    );
    if (i % 5 === 0) {
      objects.push(
        {
          apiVersion: "autoscaling/v2",
          kind: "HorizontalPodAutoscaler",
          metadata: { name, namespace },
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
            minReplicas: plan.replicas,
            maxReplicas: plan.replicas * 2,
            metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }],
          },
        },
        {
          apiVersion: "policy/v1",
          kind: "PodDisruptionBudget",
          metadata: { name, namespace },
          spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
        },
      );
    }
  }
  const jobPod = (name: string) => ({
    metadata: { labels: labelsOf(name) },
    spec: { restartPolicy: "OnFailure", containers: [{ name, image: "example.com/team/jobs:1.0.0" }] },
  });
  for (let i = 0; i < plan.jobsPerTeam; i++) {
    objects.push({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: `job-${i}`, namespace },
      spec: { template: jobPod(`job-${i}`) },
    });
  }
  objects.push(
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "report", namespace },
      spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: jobPod("report") } } },
    },
    { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "team", namespace }, spec: { hard: { pods: "200", services: "50" } } },
  );
  return objects;
}

/** What k3s runs in kube-system on one node: CoreDNS, the metrics server, the local-path provisioner, Traefik (each a Deployment of one pod). */
function k3sObjects(): object[] {
  return ["coredns", "metrics-server", "local-path-provisioner", "traefik"].flatMap((name) => {
    const labels = labelsOf(name);
    return [
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace: "kube-system", labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name, image: `rancher/${name}:1` }] } },
        },
      },
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name, namespace: "kube-system", labels },
        spec: { selector: labels, ports: [{ port: 80 }] },
      },
    ];
  });
}

/** The rendered stack's objects, Namespaces first (as the live lab applies them). */
function renderedObjects(rendered: Rendered): object[] {
  const rank = (kind: string) => (kind === "Namespace" ? 0 : kind === "CustomResourceDefinition" ? 1 : 2);
  return rendered.kubernetes
    .filter((o) => !o.patch)
    .map((o) => o.object)
    .sort((a, b) => rank(a.kind) - rank(b.kind));
}

/** The teams' namespaces the run creates: every namespace the stacks' apps run in. */
export function teamNamespaces(configs: Array<Pick<StackConfig, "apps">>): string[] {
  return [...new Set(configs.flatMap((c) => c.apps.map((a) => a.service?.namespace).filter((n): n is string => !!n)))];
}

/**
 * What the run applies, batch by batch: the teams' namespaces and workloads first, then k3s's own,
 * then each stack's objects. A stack creates objects in the team namespaces it watches (the events'
 * RoleBindings), which the API server refuses before their namespace exists.
 */
export function applyBatches(stacks: Rendered[], teams: string[], plan: KsmPlan): object[][] {
  return [...[...new Set(teams)].map((t) => teamObjects(t, plan)), k3sObjects(), ...stacks.map(renderedObjects)];
}
