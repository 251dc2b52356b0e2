/**
 * Restores a component's backup into its volume, or lists its backups (cli/restore.ts):
 *
 *   npm run restore -- --stack <name> --component <prometheus|alertmanager|grafana|loki> --list
 *   npm run restore -- --stack <name> --component <component> --from <backup|latest> [--replace]
 *   (either with [--set <key>=<value>]... [--secrets-file <file>] [--oidc-discovery <file>], as npm run render takes them)
 *
 * Renders the stack (as `npm run render` does) for its CronJob backup-<component>, checks with
 * kubectl (the current context: none set, unreachable, or without the stack's namespace is said in
 * one line) that the component's workload is scaled to 0, then runs the Job
 * made from the CronJob and prints its log. Exits 1 when refused or when the Job fails. Interrupted
 * (SIGINT, SIGTERM) while it waits, it deletes the Job first, so that no restore goes on unwatched:
 * its pod stops, and the script's trap removes its download (exit 130 or 143).
 */
import { spawnSync } from "child_process";
import { renderStack } from "../render-stack";
import { readSecretsFile, secretsFileWarning } from "../stackfile";
import { helpAsked } from "./help";
import {
  CronJobObject,
  RESTORABLE,
  WorkloadState,
  kubeContextProblem,
  parseRestoreArgs,
  RESTORE_USAGE,
  restoreJob,
  restoreRefusal,
} from "../restore";

function kubectl(args: string[], input?: string): { ok: boolean; out: string; err: string } {
  const bin = process.env.KUBECTL ?? "kubectl";
  const r = spawnSync(bin, args, { encoding: "utf8", input, timeout: 120_000 });
  if (r.error) throw new Error(`cannot run ${bin}: ${r.error.message}`);
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}

function workloadState(namespace: string, kind: string, name: string, environment: string): WorkloadState | undefined {
  const replicas = kubectl(["-n", namespace, "get", kind, name, "-o", "jsonpath={.spec.replicas}"]);
  if (!replicas.ok) return undefined;
  const pods = kubectl([
    "-n",
    namespace,
    "get",
    "pods",
    "-l",
    `app.kubernetes.io/name=${name},app.kubernetes.io/instance=${environment}`,
    "-o",
    "name",
  ]);
  return { replicas: Number(replicas.out || "0"), pods: pods.out.split("\n").filter((l) => l.trim() !== "") };
}

export async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (helpAsked(argv, RESTORE_USAGE)) return 0;
  const options = parseRestoreArgs(argv);
  if (typeof options === "string") {
    console.error(options);
    return 2;
  }
  // kubectl's context first, in one line: none set (kubectl's own error names localhost:8080), unreachable, another cluster.
  const current = kubectl(["config", "current-context"]);
  const none = kubeContextProblem(options.stack, "", current);
  if (none) {
    console.error(none);
    return 1;
  }
  const warning = options.secretsFile !== undefined ? secretsFileWarning(options.secretsFile) : undefined;
  if (warning) console.error(`warning: ${warning}`);
  const rendered = await renderStack({
    stack: options.stack,
    sets: options.sets,
    ...(options.secretsFile !== undefined ? { secrets: readSecretsFile(options.secretsFile) } : {}),
    ...(options.oidcDiscovery !== undefined ? { oidcDiscovery: options.oidcDiscovery } : {}),
    refuseSecretSets: true,
  });
  const cronJob = rendered.kubernetes.find((o) => o.object.kind === "CronJob" && o.object.metadata.name === `backup-${options.component}`)
    ?.object as unknown as CronJobObject | undefined;
  if (!cronJob) {
    console.error(
      `stack ${options.stack} does not back up ${options.component}: backup.enabled, backup.components (and, for Grafana, its SQLite database; for Loki, loki.enabled)`,
    );
    return 1;
  }
  const namespace = cronJob.metadata.namespace;
  const elsewhere = kubeContextProblem(options.stack, namespace, current, kubectl(["get", "namespace", namespace, "-o", "name"]));
  if (elsewhere) {
    console.error(elsewhere);
    return 1;
  }
  const workload = RESTORABLE[options.component];
  if (!options.list) {
    const refusal = restoreRefusal(
      namespace,
      options.component,
      workloadState(namespace, workload.kind, workload.name, rendered.config.environment),
    );
    if (refusal) {
      console.error(`refused: ${refusal}`);
      return 1;
    }
  }
  const jobName = `${options.list ? "list" : "restore"}-${options.component}-${Math.floor(Date.now() / 1000)}`;
  const created = kubectl(["create", "-f", "-"], JSON.stringify(restoreJob(cronJob, options, jobName)));
  if (!created.ok) {
    console.error(`kubectl could not create job ${jobName}: ${created.err.trim()}`);
    return 1;
  }
  console.log(`job ${jobName} created in ${namespace}; waiting for it (at most 3 hours) ...`);
  let interrupted: NodeJS.Signals | undefined;
  let wake: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = signal;
    const deleted = kubectl(["-n", namespace, "delete", "job", jobName, "--cascade=foreground", "--wait=false"]);
    console.error(
      deleted.ok
        ? `${signal}: job ${jobName} deleted: its pod stops, and a download not swapped in is removed (${workload.kind} ${workload.name} stays at 0)`
        : `${signal}: kubectl could not delete job ${jobName} (${deleted.err.trim()}): delete it yourself, kubectl -n ${namespace} delete job ${jobName}`,
    );
    wake?.();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let outcome = "";
  try {
    for (;;) {
      const status = kubectl(["-n", namespace, "get", "job", jobName, "-o", "jsonpath={.status.succeeded},{.status.failed}"]);
      const [succeeded, failed] = status.out.split(",");
      if (succeeded === "1") outcome = "succeeded";
      else if (failed && failed !== "0") outcome = "failed";
      if (outcome || interrupted) break;
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 5000);
      });
      if (interrupted) break;
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (interrupted) return interrupted === "SIGINT" ? 130 : 143;
  const logs = kubectl(["-n", namespace, "logs", `job/${jobName}`]);
  process.stdout.write(logs.out);
  process.stderr.write(logs.err);
  if (outcome !== "succeeded") {
    console.error(`job ${jobName} failed: its log is above (kubectl -n ${namespace} describe job ${jobName})`);
    return 1;
  }
  if (!options.list)
    console.log(
      `restored. Start ${options.component} again: pulumi up -s ${options.stack} (or kubectl -n ${namespace} scale ${workload.kind} ${workload.name} --replicas=<its replicas>).`,
    );
  return 0;
}
