/**
 * kwok's --config: the Stages with which kwok plays the kubelet of the simulated k3s
 * nodes. kwok has no stages of its own (without any it refuses to start), so these are
 * the whole behaviour: a node is Ready as a healthy k3s node reports itself, a scheduled
 * pod is Running and Ready at once, a Job's pod then Succeeded, and a pod being deleted
 * is removed.
 *
 * Each status is a Go template kwok renders against the object (kwok's functions: Now,
 * Quote, NodeIPsWith, PodIPsWith...; Sprig's: dig, default, sha256sum...). The templates
 * write JSON, which kwok reads as YAML: flow syntax needs no indentation, so the templates
 * can be composed here from small strings. kwok sends the result as a strategic merge
 * patch of the status: what a template leaves out is kept.
 *
 * No heartbeat stage: kwok renews each node's Lease (--node-lease-duration-seconds, see
 * control-plane.ts), and the node lifecycle controller takes a renewed Lease as the
 * heartbeat, so the conditions written once stay true until kwok stops.
 */
import { stringify } from "yaml";
import { NODE_CAPACITY } from "./manifests";
import { toolRelease } from "./paths";

type Operator = "In" | "NotIn" | "Exists" | "DoesNotExist";

/** One selector term: a jq query on the object and what its results must be. */
interface Requirement {
  jq: { key: string; operator: Operator; values?: string[] };
}

/** One step of a stage: a status patch, a finalizer change or a deletion. */
type Step = { patch: { subresource: "status"; root: "status"; template: string } } | { finalizers: { empty: true } } | { delete: true };

export interface Stage {
  apiVersion: "kwok.x-k8s.io/v1alpha1";
  kind: "Stage";
  metadata: { name: string };
  spec: {
    resourceRef: { apiGroup: "v1"; kind: "Node" | "Pod" };
    selector: { matchExpressions: Requirement[] };
    steps: Step[];
  };
}

const requirement = (key: string, operator: Operator, values?: string[]): Requirement => ({
  jq: values ? { key, operator, values } : { key, operator },
});
const present = (key: string) => requirement(key, "Exists");
const absent = (key: string) => requirement(key, "DoesNotExist");
const oneOf = (key: string, ...values: string[]) => requirement(key, "In", values);
const noneOf = (key: string, ...values: string[]) => requirement(key, "NotIn", values);

/** The status of a condition type (no result when the condition is absent). */
const conditionStatus = (type: string) => `.status.conditions[]? | select(.type == ${JSON.stringify(type)}) | .status`;

function stage(name: string, kind: "Node" | "Pod", selector: Requirement[], steps: Step[]): Stage {
  return {
    apiVersion: "kwok.x-k8s.io/v1alpha1",
    kind: "Stage",
    metadata: { name },
    spec: { resourceRef: { apiGroup: "v1", kind }, selector: { matchExpressions: selector }, steps },
  };
}

const patchStatus = (template: string): Step => ({ patch: { subresource: "status", root: "status", template } });

// Template building blocks. Braces of the JSON stay apart from the template's {{ }}.

/** A constant as JSON text. */
const lit = (value: unknown) => JSON.stringify(value);

/** A JSON object from fields already rendered as `"key": value` text. */
const obj = (fields: string[]) => `{ ${fields.join(", ")} }`;

/** A field that is there only when `test` (a template pipeline) holds. */
const when = (test: string, field: string) => `{{ if ${test} }}${field}, {{ end }}`;

/** The status: one field a line, optional ones (from `when`) first, so that no comma is left dangling. */
const statusObject = (optional: string[], fields: string[]) =>
  ["{", ...optional.map((f) => `  ${f}`), `  ${fields.join(",\n  ")}`, "}"].join("\n");

/** A JSON array, one element a line. */
const lines = (items: string[]) => `[\n    ${items.join(",\n    ")}\n  ]`;

/** A JSON array with `item` for each element of `over`; inside `item`, `.` is the element and `$` the object. */
const each = (over: string, item: string) => `[{{ range $i, $e := ${over} }}{{ if $i }}, {{ end }}${item}{{ end }}]`;

/** A condition that changed now; `fields` are rendered text. */
const condition = (type: string, status: "True" | "False", fields: Record<string, string> = {}) =>
  obj([
    `"type": ${lit(type)}`,
    `"status": ${lit(status)}`,
    ...Object.entries(fields).map(([k, v]) => `${lit(k)}: ${v}`),
    `"lastTransitionTime": {{ $now }}`,
  ]);

// Nodes.

/** What a healthy k3s node reports: flannel's route is up, the kubelet has no pressure. */
const NODE_CONDITIONS: Array<{ type: string; status: "True" | "False"; reason: string; message: string }> = [
  { type: "NetworkUnavailable", status: "False", reason: "FlannelIsUp", message: "Flannel is running on this node" },
  { type: "MemoryPressure", status: "False", reason: "KubeletHasSufficientMemory", message: "kubelet has sufficient memory available" },
  { type: "DiskPressure", status: "False", reason: "KubeletHasNoDiskPressure", message: "kubelet has no disk pressure" },
  { type: "PIDPressure", status: "False", reason: "KubeletHasSufficientPID", message: "kubelet has sufficient PID available" },
  { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" },
];

/** The node's own address, its name; kwok's --node-ip is the fallback for the InternalIP. */
const NODE_ADDRESSES =
  `[{{ with NodeIP }}{ "type": "InternalIP", "address": {{ Quote . }} }, {{ end }}` +
  `{ "type": "Hostname", "address": {{ Quote .metadata.name }} }]`;

/** The node's system info: a k3s server of the control plane's release, with kwok as its runtime. */
function nodeInfo(): string {
  const kubernetes = toolRelease("kube-apiserver");
  const kwok = toolRelease("kwok");
  const label = (name: string, fallback: string) => `{{ dig "metadata" "labels" ${lit(name)} ${lit(fallback)} . | Quote }}`;
  return obj([
    `"architecture": ${label("kubernetes.io/arch", "amd64")}`,
    `"operatingSystem": ${label("kubernetes.io/os", "linux")}`,
    `"osImage": ${lit(`K3s ${kubernetes}+k3s1`)}`,
    `"kernelVersion": ${lit(`kwok-${kwok}`)}`,
    `"containerRuntimeVersion": ${lit(`containerd://kwok-${kwok}`)}`,
    `"kubeletVersion": ${lit(kubernetes)}`,
    // Stable per node; the boot ID changes when kwok restarts, as after a reboot.
    `"machineID": {{ .metadata.name | sha256sum | trunc 32 | Quote }}`,
    `"systemUUID": {{ Quote .metadata.uid }}`,
    `"bootID": {{ printf "%s %s" .metadata.uid StartTime | sha256sum | trunc 32 | Quote }}`,
  ]);
}

function nodeReady(): Stage {
  const template = [
    `{{ $now := Now | Quote }}`,
    statusObject(
      [
        // Registration (manifests.ts) sets addresses and size; they are kept as they are.
        when("not .status.addresses", `"addresses": ${NODE_ADDRESSES}`),
        when("not .status.capacity", `"capacity": ${lit(NODE_CAPACITY)}`),
        when("not .status.allocatable", `"allocatable": ${lit(NODE_CAPACITY)}`),
      ],
      [
        `"conditions": ${lines(
          NODE_CONDITIONS.map(({ type, status, reason, message }) =>
            condition(type, status, { reason: lit(reason), message: lit(message), lastHeartbeatTime: "{{ $now }}" }),
          ),
        )}`,
        `"nodeInfo": ${nodeInfo()}`,
      ],
    ),
  ].join("\n");
  // Also when the node lifecycle controller marked it NotReady or Unknown (kwok was stopped for a while).
  return stage("node-ready", "Node", [noneOf(conditionStatus("Ready"), "True")], [patchStatus(template)]);
}

// Pods.

/** k3s runs containerd: an ID of that form, stable for the pod and container. */
const CONTAINER_ID = `{{ printf "%s/%s" $.metadata.uid .name | sha256sum | printf "containerd://%s" | Quote }}`;

/** A container status; `state` and the flags are rendered text. */
const containerStatus = (state: string, ready: boolean, started: boolean) =>
  obj([
    `"name": {{ Quote .name }}`,
    // No image is pulled: the reference is all there is.
    `"image": {{ Quote .image }}`,
    `"imageID": {{ Quote .image }}`,
    `"containerID": ${CONTAINER_ID}`,
    `"ready": ${ready}`,
    `"started": ${started}`,
    `"restartCount": 0`,
    `"state": ${state}`,
  ]);

const running = `{ "running": { "startedAt": {{ $now }} } }`;
const completed = (startedAt: string) =>
  `{ "terminated": { "exitCode": 0, "reason": "Completed", "startedAt": ${startedAt}, "finishedAt": {{ $now }} } }`;

/** A scheduled pod starts at once: init containers done, sidecars and containers running, all ready (probes are not run). */
function podRunning(): Stage {
  const template = [
    `{{ $now := Now | Quote }}`,
    `{{ $hostIPs := NodeIPsWith .spec.nodeName }}`,
    // On the host network a pod has its node's address; otherwise one from the node's pod CIDR (10.42.N.0/24).
    `{{ $podIPs := $hostIPs }}`,
    `{{ if not .spec.hostNetwork }}{{ $podIPs = PodIPsWith .spec.nodeName false .metadata.uid .metadata.name .metadata.namespace }}{{ end }}`,
    statusObject(
      [
        when("$hostIPs", `"hostIP": {{ index $hostIPs 0 | Quote }}, "hostIPs": ${each("$hostIPs", `{ "ip": {{ Quote . }} }`)}`),
        when("$podIPs", `"podIP": {{ index $podIPs 0 | Quote }}, "podIPs": ${each("$podIPs", `{ "ip": {{ Quote . }} }`)}`),
      ],
      [
        `"phase": "Running"`,
        `"startTime": {{ $now }}`,
        `"conditions": ${lines(["PodScheduled", "PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready"].map((t) => condition(t, "True")))}`,
        // A sidecar (an init container that restarts Always) keeps running; the others have finished.
        `"initContainerStatuses": ${each(
          ".spec.initContainers",
          `{{ if eq (.restartPolicy | default "") "Always" }}${containerStatus(running, true, true)}{{ else }}${containerStatus(completed("{{ $now }}"), true, false)}{{ end }}`,
        )}`,
        `"containerStatuses": ${each(".spec.containers", containerStatus(running, true, true))}`,
      ],
    ),
  ].join("\n");
  return stage(
    "pod-running",
    "Pod",
    [present(".spec.nodeName"), absent(".metadata.deletionTimestamp"), oneOf(".status.phase", "Pending")],
    [patchStatus(template)],
  );
}

/** A Job's pod, once running, exits 0 with all its containers, so that Jobs and CronJobs complete. */
function jobPodSucceeded(): Stage {
  const done = containerStatus(completed("{{ $startedAt }}"), false, false);
  const notReady = { reason: lit("PodCompleted") };
  const template = [
    `{{ $now := Now | Quote }}`,
    `{{ $startedAt := .status.startTime | default Now | Quote }}`,
    statusObject(
      [],
      [
        `"phase": "Succeeded"`,
        `"conditions": ${lines([condition("ContainersReady", "False", notReady), condition("Ready", "False", notReady)])}`,
        `"initContainerStatuses": ${each(".spec.initContainers", done)}`,
        `"containerStatuses": ${each(".spec.containers", done)}`,
      ],
    ),
  ].join("\n");
  return stage(
    "job-pod-succeeded",
    "Pod",
    [
      absent(".metadata.deletionTimestamp"),
      oneOf(".status.phase", "Running"),
      oneOf(".metadata.ownerReferences[]? | select(.controller == true) | .kind", "Job"),
    ],
    [patchStatus(template)],
  );
}

/**
 * A pod being deleted goes at once: nothing runs that would need its grace period, and a
 * finalizer left by a controller must not keep a namespace or a rollout waiting.
 */
function podRemoved(): Stage {
  return stage("pod-removed", "Pod", [present(".metadata.deletionTimestamp")], [{ finalizers: { empty: true } }, { delete: true }]);
}

/** The stages, in the order they usually apply. */
export function kwokStages(): Stage[] {
  return [nodeReady(), podRunning(), jobPodSucceeded(), podRemoved()];
}

/** The text of kwok's --config: one YAML document per stage. */
export function kwokConfigYaml(): string {
  return kwokStages()
    .map((s) => stringify(s, { lineWidth: 0 }))
    .join("---\n");
}
