/** The catalogue of kube-state-metrics against the local control plane of `npm run cluster`. */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { KSM_RESOURCES, kubeStateMetricsFlags } from "../../components/exporters/kube-state-metrics";
import { down as clusterDown, kubeconfigPath, status as clusterStatus, up as clusterUp } from "../cluster";
import { getOk } from "../local/http";
import { pinnedBinary } from "../local/binaries";
import { runCommand } from "../local/databases";
import { LOOPBACK } from "../ports";
import { waitFor } from "../processes/supervision";
import { scrapeTwice } from "../local/text-format";
import { binPath } from "../tools/tools";
import { CatalogError, Generated, Run, minus } from "./run";
import { crdSpec } from "../../components/monitors/crds";
import { MONITOR_KINDS, crdName } from "../../components/monitors/args";
import { prometheusRuleStateConfig } from "../../components/monitors/state-metrics";

/** The local cluster, when the generator starts it, stops by itself after this long. */
const CLUSTER_TTL_SECONDS = 1200;

/** One object of each kind KSM_RESOURCES reports that a fresh cluster lacks (nodes, PVs, the StorageClass and namespaces exist). */
function clusterObjects(ns: string): unknown[] {
  const labels = { app: "catalog" };
  const pod = {
    metadata: { labels },
    spec: {
      containers: [
        {
          name: "app",
          image: "registry.k8s.io/pause:3.10",
          resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "32Mi" } },
        },
      ],
    },
  };
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { "catalog/generated": "true" } } },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: ns },
      spec: { replicas: 2, selector: { matchLabels: labels }, template: pod },
    },
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: ns },
      spec: {
        replicas: 1,
        serviceName: "db",
        selector: { matchLabels: { app: "db" } },
        template: { ...pod, metadata: { labels: { app: "db" } } },
        volumeClaimTemplates: [
          {
            metadata: { name: "data" },
            spec: { accessModes: ["ReadWriteOnce"], storageClassName: "local-path", resources: { requests: { storage: "1Gi" } } },
          },
        ],
      },
    },
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace: ns },
      spec: { selector: { matchLabels: { app: "agent" } }, template: { ...pod, metadata: { labels: { app: "agent" } } } },
    },
    {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "once", namespace: ns },
      spec: { template: { ...pod, metadata: { labels: { app: "once" } }, spec: { ...pod.spec, restartPolicy: "Never" } } },
    },
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "nightly", namespace: ns },
      spec: {
        schedule: "0 3 * * *",
        jobTemplate: {
          spec: { template: { ...pod, metadata: { labels: { app: "nightly" } }, spec: { ...pod.spec, restartPolicy: "Never" } } },
        },
      },
    },
    {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "web", namespace: ns },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
        minReplicas: 2,
        maxReplicas: 4,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }],
      },
    },
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "web", namespace: ns },
      spec: { minAvailable: 1, selector: { matchLabels: labels } },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: ns },
      spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
    },
    {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "quota", namespace: ns },
      spec: { hard: { pods: "50", "requests.cpu": "4" } },
    },
    {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "unbound", namespace: ns },
      spec: { accessModes: ["ReadWriteOnce"], storageClassName: "local-path", resources: { requests: { storage: "1Gi" } } },
    },
  ];
}

/** A pod on a node nobody runs, its status set to a container waiting to restart after it was OOM-killed (no kubelet here crashes one). */
function crashingPod(ns: string): { pod: unknown; status: unknown } {
  return {
    pod: {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "crashing", namespace: ns, labels: { app: "crashing" } },
      spec: {
        nodeName: "catalog-no-such-node",
        containers: [{ name: "app", image: "registry.k8s.io/pause:3.10", resources: { requests: { cpu: "10m", memory: "16Mi" } } }],
      },
    },
    status: {
      status: {
        phase: "Running",
        containerStatuses: [
          {
            name: "app",
            image: "registry.k8s.io/pause:3.10",
            imageID: "",
            ready: false,
            started: false,
            restartCount: 3,
            state: { waiting: { reason: "CrashLoopBackOff", message: "back-off restarting failed container" } },
            lastState: {
              terminated: { exitCode: 137, reason: "OOMKilled", startedAt: "2026-01-01T00:00:00Z", finishedAt: "2026-01-01T00:01:00Z" },
            },
          },
        ],
      },
    },
  };
}

export async function kubeStateMetrics(r: Run): Promise<Generated> {
  const binary = pinnedBinary("kube-state-metrics");
  const kubectlBin = binPath("kubectl");
  if (!fs.existsSync(kubectlBin)) throw new CatalogError(`${kubectlBin} is missing: run \`npm run tools\` first`);
  const before = await clusterStatus();
  const ours = !before.healthy;
  if (ours) console.error("catalog: starting the local cluster (npm run cluster), stopped again at the end");
  else console.error("catalog: using the local cluster that is already up (left running)");
  const ns = `catalog-${process.pid}`;
  const kubeconfig = kubeconfigPath();
  const kubectl = (...args: string[]) => runCommand(kubectlBin, [`--kubeconfig=${kubeconfig}`, ...args]);
  // kube-state-metrics' flags as components/ give them, on the loopback at these ports, against the local control plane.
  const flagsAt = (port: number, telemetry: number) => [
    ...kubeStateMetricsFlags().map((f) =>
      f.startsWith("--port=") ? `--port=${port}` : f.startsWith("--telemetry-port=") ? `--telemetry-port=${telemetry}` : f,
    ),
    `--host=${LOOPBACK}`,
    `--telemetry-host=${LOOPBACK}`,
    `--kubeconfig=${kubeconfig}`,
  ];
  r.defer(async () => {
    if (ours) await clusterDown();
    else kubectl("delete", "namespace", ns, "--wait=false", "--ignore-not-found");
  });
  await clusterUp({ ttlSeconds: CLUSTER_TTL_SECONDS, log: (m) => console.error(`catalog: cluster: ${m}`) });
  const manifest = path.join(r.tmp, "objects.yaml");
  fs.writeFileSync(
    manifest,
    clusterObjects(ns)
      .map((o) => YAML.stringify(o))
      .join("---\n"),
  );
  kubectl("apply", "-f", manifest);
  await waitFor(
    "the catalogue's workloads Ready and its Job done",
    () => {
      const pods = JSON.parse(kubectl("-n", ns, "get", "pods", "-o", "json")) as { items: Array<{ status?: { phase?: string } }> };
      const phases = pods.items.map((p) => p.status?.phase);
      const ok = phases.length >= 4 && phases.every((p) => p === "Running" || p === "Succeeded") && phases.includes("Succeeded");
      return ok ? true : undefined;
    },
    120_000,
  );
  const [port, telemetry] = [await r.port(), await r.port()];
  const command = {
    binary,
    args: flagsAt(port, telemetry),
  };
  const proc = r.start("kube-state-metrics", command);
  const url = `http://${LOOPBACK}:${port}/metrics`;
  await waitFor(
    "kube-state-metrics listing the catalogue's pods",
    async () => ((await getOk(url)).includes(`namespace="${ns}"`) ? true : undefined),
    60_000,
    250,
    [proc],
  );
  const plain = await scrapeTwice(url);

  const crashing = crashingPod(ns);
  const podFile = path.join(r.tmp, "crashing.yaml");
  fs.writeFileSync(podFile, YAML.stringify(crashing.pod));
  kubectl("apply", "-f", podFile);
  kubectl("-n", ns, "patch", "pod", "crashing", "--subresource=status", "--type=merge", "-p", JSON.stringify(crashing.status));
  await waitFor(
    "kube-state-metrics seeing the waiting container",
    async () => ((await getOk(url)).includes('reason="CrashLoopBackOff"') ? true : undefined),
    60_000,
    250,
    [proc],
  );
  const waiting = await scrapeTwice(url);

  // monitors.rules: the PrometheusRule CRD as the stack installs it, one object, and a second run with
  // the custom resource state config the stack passes (components/monitors/state-metrics.ts).
  const crdFile = path.join(r.tmp, "crd.yaml");
  fs.writeFileSync(
    crdFile,
    YAML.stringify({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: crdName("PrometheusRule") },
      spec: crdSpec("PrometheusRule"),
    }),
  );
  kubectl("apply", "-f", crdFile);
  await waitFor(
    "the PrometheusRule CRD established",
    () =>
      kubectl("get", `crd/${crdName("PrometheusRule")}`, "-o", "jsonpath={.status.conditions[?(@.type=='Established')].status}") === "True"
        ? true
        : undefined,
    60_000,
  );
  const ruleFile = path.join(r.tmp, "rule.yaml");
  fs.writeFileSync(
    ruleFile,
    YAML.stringify({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { name: "catalog", namespace: ns },
      spec: { groups: [{ name: "g", rules: [{ alert: "A", expr: "vector(1)" }] }] },
    }),
  );
  kubectl("apply", "-f", ruleFile);
  // The config the stack passes inline (--custom-resource-state-config), from a file here: a command line of one line.
  const stateFile = path.join(r.tmp, "custom-resource-state.yaml");
  fs.writeFileSync(stateFile, prometheusRuleStateConfig({}).config);
  const [crsPort, crsTelemetry] = [await r.port(), await r.port()];
  const crsCommand = {
    binary,
    args: [`--custom-resource-state-config-file=${stateFile}`, ...flagsAt(crsPort, crsTelemetry)],
  };
  const crsProc = r.start("kube-state-metrics-crs", crsCommand);
  const crsUrl = `http://${LOOPBACK}:${crsPort}/metrics`;
  await waitFor(
    `kube-state-metrics reporting the ${MONITOR_KINDS.PrometheusRule.singular}`,
    async () => ((await getOk(crsUrl)).includes(`name="catalog"`) ? true : undefined),
    60_000,
    250,
    [crsProc],
  );
  const rules = await scrapeTwice(crsUrl);
  return {
    notes: [
      `The resources components/exporters/kube-state-metrics.ts enables (KSM_RESOURCES: ${KSM_RESOURCES.map((x) => x.resource).join(", ")}): no ConfigMaps, Secrets, Ingresses or Endpoints. Run with its flags (kubeStateMetricsFlags(); on 127.0.0.1, with a kubeconfig) against the local control plane of \`npm run cluster\` (kwok plays the kubelet), holding one object of each kind: a Deployment with an HPA and a PodDisruptionBudget, a StatefulSet with a volume claim, a DaemonSet, a Job, a CronJob, a Service, a ResourceQuota, an unbound claim.`,
      "Labels are those of the objects (namespace, pod, container, ...).",
    ],
    commands: [command],
    names: plain.names,
    conditional: [
      {
        why: "a container waiting to restart after it terminated (here a pod's status set to CrashLoopBackOff after OOMKilled)",
        commands: [],
        names: minus(waiting.names, plain.names),
      },
      {
        why: "monitors.rules: the custom resource state config the stack passes for PrometheusRule objects (components/monitors/state-metrics.ts), with the CRD the stack installs and one object",
        commands: [crsCommand],
        names: minus(rules.names, waiting.names),
      },
    ],
  };
}
