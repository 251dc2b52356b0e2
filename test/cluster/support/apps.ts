/**
 * The team's own workloads that a stack file points at: the apps it scrapes and the
 * databases its exporters reach through their Services. Shaped like the stack files'
 * examples (an `api` Service with a named port, a `web` Service on 3000, a Postgres
 * StatefulSet and a Redis Deployment, each with its Service), created in their own namespace
 * before the stack, as they would be.
 */
import { KubeObject, apply, get, waitFor, notReady, kubectl } from "./kube";
import { MONITOR_KINDS, MonitorKind, crdName } from "../../../components/monitors/args";

const labels = (name: string) => ({ "app.kubernetes.io/name": name });
const container = (name: string, image: string, port: number) => ({
  name,
  image,
  ports: [{ name: "http", containerPort: port }],
});

function workload(kind: "Deployment" | "StatefulSet", namespace: string, name: string, image: string, port: number) {
  return {
    apiVersion: "apps/v1",
    kind,
    metadata: { name, namespace, labels: labels(name) },
    spec: {
      replicas: 1,
      ...(kind === "StatefulSet" ? { serviceName: name } : {}),
      selector: { matchLabels: labels(name) },
      template: { metadata: { labels: labels(name) }, spec: { containers: [container(name, image, port)] } },
    },
  };
}

function service(namespace: string, name: string, port: number, targetPort: number | string) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace, labels: labels(name) },
    spec: { selector: labels(name), ports: [{ name: "http", port, targetPort }] },
  };
}

/** The team namespace with its apps and databases; returns once every workload is Ready. */
export async function createTeamWorkloads(namespace: string): Promise<void> {
  // A namespace still terminating from an earlier run would swallow what is created in it.
  await waitFor(`namespace ${namespace} free`, async () =>
    (await get("namespace", namespace))?.metadata.deletionTimestamp ? "terminating" : undefined,
  );
  await apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  const objects = [
    workload("Deployment", namespace, "api", "example.com/shop/api:1.0.0", 3333),
    service(namespace, "api", 80, "http"),
    workload("Deployment", namespace, "web", "example.com/shop/web:1.0.0", 3000),
    service(namespace, "web", 3000, 3000),
    workload("StatefulSet", namespace, "postgres", "docker.io/library/postgres:17", 5432),
    service(namespace, "postgres", 5432, "http"),
    workload("Deployment", namespace, "redis", "docker.io/library/redis:8", 6379),
    service(namespace, "redis", 6379, "http"),
  ];
  for (const obj of objects) await apply(obj);
  for (const [kind, name] of [
    ["deployment", "api"],
    ["deployment", "web"],
    ["statefulset", "postgres"],
    ["deployment", "redis"],
  ]) {
    await waitFor(`${kind} ${namespace}/${name} ready`, async () => {
      const obj = await get(kind, name, namespace);
      return obj ? notReady(obj) : "missing";
    });
  }
}

/** What a stack could touch on a database workload, to compare before and after; `generation` counts the changes of its spec (each a rollout). */
export async function workloadShape(
  kind: string,
  name: string,
  namespace: string,
): Promise<{ generation: number; [key: string]: unknown }> {
  const obj = (await get(kind, name, namespace)) as KubeObject & { metadata: { generation: number } };
  const spec = obj.spec as { template: { metadata: Record<string, unknown>; spec: Record<string, unknown> } };
  return {
    generation: obj.metadata.generation,
    labels: obj.metadata.labels ?? {},
    annotations: Object.fromEntries(
      Object.entries(obj.metadata.annotations ?? {}).filter(([k]) => !k.startsWith("deployment.kubernetes.io/")),
    ),
    template: spec.template,
  };
}

export async function deleteNamespace(namespace: string): Promise<void> {
  await kubectl(["delete", "namespace", namespace, "--ignore-not-found", "--wait=true", "--timeout=120s"]);
}

/**
 * Removes the operator's four CRDs (and every object of their kinds) that a stack installed: the
 * stack keeps them when it goes (retainOnDelete, components/monitors), so a file whose stack
 * installed them removes them itself, as the tier's clean slate requires.
 */
export async function deleteMonitorCrds(): Promise<void> {
  for (const kind of Object.keys(MONITOR_KINDS) as MonitorKind[])
    await kubectl(["delete", "crd", crdName(kind), "--ignore-not-found", "--wait=true", "--timeout=120s"]);
}
