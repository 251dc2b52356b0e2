/**
 * `npm run restore` (scripts/restore.ts): a component's backup back into its volume, by a Job made
 * from the stack's own CronJob `backup-<component>` (the same image, script, environment, Secret and
 * claim), running `backup.sh restore <name|latest>` (or `list`) instead of the backup. Refused while
 * the component runs: its workload must be scaled to 0 first (checked here, and again by the script,
 * which refuses while the component answers on its address), and over files without `--replace`.
 */

/** What can be restored, and the workload that holds each one's volume. */
export const RESTORABLE = {
  prometheus: { kind: "statefulset", name: "prometheus" },
  alertmanager: { kind: "statefulset", name: "alertmanager" },
  grafana: { kind: "deployment", name: "grafana" },
  loki: { kind: "statefulset", name: "loki" },
} as const;
export type Restorable = keyof typeof RESTORABLE;

export interface RestoreOptions {
  stack: string;
  component: Restorable;
  /** A backup's name (`list` shows them), or `latest`; none with `list`. */
  from?: string;
  list: boolean;
  replace: boolean;
  /** Extra `--set` values for the render the Job is made from (as `npm run render` takes them; a key marked secret refused). */
  sets: string[];
  /** A YAML map of secret values by config path, as `npm run render` takes it. */
  secretsFile?: string;
  /** The OpenID Connect issuer's discovery document saved to a file, as `npm run render` takes it. */
  oidcDiscovery?: string;
}

export const RESTORE_USAGE =
  "usage: npm run restore -- --stack <name> --component <prometheus|alertmanager|grafana|loki> (--from <backup|latest> [--replace] | --list) [--set key=value]... [--secrets-file <file>] [--oidc-discovery <file>]";

/** The command line, or why it is not one. */
export function parseRestoreArgs(argv: string[]): RestoreOptions | string {
  let stack: string | undefined;
  let component: string | undefined;
  let from: string | undefined;
  let list = false;
  let replace = false;
  const sets: string[] = [];
  let secretsFile: string | undefined;
  let oidcDiscovery: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    const takes = (): string | undefined => (value !== undefined && !value.startsWith("--") ? (i++, value) : undefined);
    if (arg === "--list") list = true;
    else if (arg === "--replace") replace = true;
    else if (arg === "--stack" || arg === "-s") stack = takes() ?? "";
    else if (arg === "--component") component = takes() ?? "";
    else if (arg === "--from") from = takes() ?? "";
    else if (arg === "--set") sets.push(takes() ?? "");
    else if (arg === "--secrets-file" || arg === "--oidc-discovery") {
      const file = takes();
      if (file === undefined) return `${arg} needs a file\n${RESTORE_USAGE}`;
      if (arg === "--secrets-file") secretsFile = file;
      else oidcDiscovery = file;
    } else return `unknown argument "${arg}"\n${RESTORE_USAGE}`;
  }
  if (!stack) return `--stack is required\n${RESTORE_USAGE}`;
  if (!component || !(component in RESTORABLE))
    return `--component must be one of ${Object.keys(RESTORABLE).join(", ")}${component ? ` (got "${component}")` : ""}\n${RESTORE_USAGE}`;
  if (list === (from !== undefined)) return `give either --from <backup|latest> or --list\n${RESTORE_USAGE}`;
  if (from !== undefined && !/^(latest|[A-Za-z0-9._-]+-\d{8}T\d{6}Z)$/.test(from))
    return `--from must be a backup's name such as ${stack}-${component}-20261124T031700Z (npm run restore -- --list ...) or latest; got "${from}"`;
  if (sets.some((s) => !s.includes("="))) return `--set takes key=value\n${RESTORE_USAGE}`;
  return {
    stack,
    component: component as Restorable,
    ...(from !== undefined ? { from } : {}),
    list,
    replace,
    sets,
    ...(secretsFile !== undefined ? { secretsFile } : {}),
    ...(oidcDiscovery !== undefined ? { oidcDiscovery } : {}),
  };
}

/** What kubectl reports of the component's workload: its replicas and the pods it still has. */
export interface WorkloadState {
  replicas: number;
  pods: string[];
}

/** Why the restore must not run now, or undefined: the workload scaled to 0 and none of its pods left. */
export function restoreRefusal(namespace: string, component: Restorable, state: WorkloadState | undefined): string | undefined {
  const w = RESTORABLE[component];
  if (state === undefined) return `no ${w.kind} ${w.name} in namespace ${namespace}: is the stack deployed there?`;
  if (state.replicas > 0 || state.pods.length > 0) {
    const running = state.pods.length > 0 ? ` (pods still there: ${state.pods.join(", ")})` : "";
    return (
      `${component} is running: ${w.kind} ${w.name} has ${state.replicas} replica(s)${running}. A restore overwrites its volume, ` +
      `so it is never done under a running ${component}: kubectl -n ${namespace} scale ${w.kind} ${w.name} --replicas=0, ` +
      `wait for its pods to go, then run this again.`
    );
  }
  return undefined;
}

// The parts of a rendered CronJob the Job is made from.
type Env = { name: string; value?: string; valueFrom?: unknown };
interface Container {
  name: string;
  image: string;
  command: string[];
  env: Env[];
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  [key: string]: unknown;
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  affinity?: unknown;
  [key: string]: unknown;
}
export interface CronJobObject {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: { jobTemplate: { spec: { template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec } } } };
}

/**
 * The Job that restores (or lists) with the CronJob's upload container: its command `restore <from>`
 * (`list`), the claim mounted read-write, no snapshot, and no affinity to the component's pod (scaled
 * to 0, it has none: the claim's own volume places the pod on its node).
 */
export function restoreJob(cronJob: CronJobObject, opts: Pick<RestoreOptions, "from" | "list" | "replace">, jobName: string): object {
  const template = cronJob.spec.jobTemplate.spec.template;
  const upload = template.spec.containers[0];
  const { initContainers: _snapshot, affinity: _affinity, ...spec } = template.spec;
  void _snapshot;
  void _affinity;
  const command = [...upload.command.slice(0, 2), ...(opts.list ? ["list"] : ["restore", opts.from ?? "latest"])];
  const env = [...upload.env.filter((e) => e.name !== "BACKUP_REPLACE"), ...(opts.replace ? [{ name: "BACKUP_REPLACE", value: "1" }] : [])];
  // Listing reads the bucket alone: no claim (the component may run). Restoring writes the claim.
  const volumeMounts = opts.list
    ? upload.volumeMounts.filter((m) => m.name !== "data")
    : upload.volumeMounts.map((m) => (m.name === "data" ? { ...m, readOnly: false } : m));
  const volumes = opts.list ? (spec.volumes as Array<{ name: string }>).filter((v) => v.name !== "data") : spec.volumes;
  const labels = { ...(template.metadata?.labels ?? {}), "monitoring-stack/restore": "true" };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: jobName, namespace: cronJob.metadata.namespace, labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: 3 * 3600,
      ttlSecondsAfterFinished: 24 * 3600,
      template: {
        metadata: { labels },
        spec: {
          ...spec,
          volumes,
          restartPolicy: "Never",
          containers: [{ ...upload, name: opts.list ? "list" : "restore", command, env, volumeMounts }],
        },
      },
    },
  };
}

/** What kubectl answered: `config current-context`, then `get namespace <namespace>` in it. */
export interface KubeAnswer {
  ok: boolean;
  out: string;
  err: string;
}

/**
 * Why kubectl's current context cannot restore this stack, in one line, or undefined: none set
 * (kubectl would try localhost:8080), a cluster it cannot reach, or one without the stack's namespace.
 */
export function kubeContextProblem(stack: string, namespace: string, current: KubeAnswer, probe?: KubeAnswer): string | undefined {
  const context = current.out.trim();
  if (!current.ok || context === "")
    return `no kube context: kubectl has none set (KUBECONFIG or ~/.kube/config), so it cannot reach the cluster of stack ${stack}: kubectl config use-context <its context>, then run this again`;
  if (!probe || probe.ok) return undefined;
  // kubectl's last line says it (the lines before are its client's retries).
  const said = probe.err.trim().split("\n").pop() ?? "";
  if (/NotFound|not found/i.test(said))
    return `kube context "${context}" has no namespace ${namespace}: it is not the cluster stack ${stack} is deployed to (kubectl config use-context <its context>)`;
  return `kube context "${context}" does not answer: ${said.replace(/^error: /, "")} (kubectl config use-context <the cluster of stack ${stack}>)`;
}
