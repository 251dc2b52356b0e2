/**
 * Scheduled backups to an S3-compatible bucket (Cloudflare R2, AWS S3, Backblaze B2, MinIO): one
 * CronJob per component (`backup-<component>`), each pod on the node of the component's first
 * replica (its claim is ReadWriteOnce) with that claim mounted. Its init container takes a
 * consistent snapshot (backup.sh `snapshot`: Prometheus' TSDB snapshot through the admin API,
 * Alertmanager's state files once it wrote them anew, Grafana's SQLite online backup, Loki's
 * directory after a flush); its main container uploads it with rclone under
 * `<prefix>/<stack>/<component>/<stack>-<component>-<UTC time>/`, COMPLETE.json last, deletes
 * what is past `keep`, and pushes the outcome (time, size, duration) to Prometheus' OTLP endpoint.
 *
 * The store's key pair is a Secret read from the two Pulumi secrets, as environment variables of
 * the upload container only (rclone's RCLONE_CONFIG_STORE_*). The same script restores
 * (scripts/restore.ts).
 */
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { images } from "../images";
import { StackComponent } from "../kit/component";
import { WorkloadIdentity, imageOf, objectMeta, selectorLabels, stackPods } from "../kit/labels";
import { IngressPeer, anywhereOn, egressPolicyName, egressPolicySpec, ingressPolicySpec, urlPort } from "../kit/network";
import { resourcesOf, restrictedContainerSecurity, restrictedPodSecurity } from "../kit/pods";
import { podPriority } from "../kit/priority";
import { refuseProblems } from "../kit/problems";
import { scratchVolume } from "../kit/volumes";
import { durationSeconds } from "../kit/units";
import { BACKUP_PROVIDERS, BackupComponent } from "./args";
import { BackupSettings, problems } from "./section";
import { scheduleGapSeconds } from "./schedule";

/** The script every backup pod runs, as the ConfigMap `backup-script` holds it. */
export const BACKUP_SCRIPT = fs.readFileSync(path.join(__dirname, "backup.sh"), "utf8");

/** Where the backup pods mount the script, the component's data and their scratch space. */
export const BACKUP_PATHS = { scripts: "/scripts", data: "/data", work: "/work" } as const;

/** The name rclone's remote has in the environment (RCLONE_CONFIG_STORE_*). */
export const REMOTE_NAME = "store";

/** One component to back up, as the stack wires it. */
export interface BackupTarget {
  component: BackupComponent;
  /** The claim of its first replica, which the backup pod mounts. */
  claim: pulumi.Input<string>;
  /** The labels of that replica's pod alone: the backup pod runs on its node, and its Service selects it. */
  pod: Record<string, string>;
  /** Its HTTP port. */
  port: number;
  /** The uid its pod runs as, which owns its files. */
  uid: number;
}

export interface BackupArgs {
  /** The stack namespace. It must exist first: pass its MonitoringNamespace in `opts.dependsOn`. */
  namespace: string;
  environment: string;
  /** The Pulumi stack's name: the first part of each backup's name and folder. */
  stack: string;
  /** The section's settings (config backup), enabled; the key pair as Pulumi secrets. */
  settings: Omit<BackupSettings, "credentials" | "enabled" | "components">;
  credentials: { accessKeyId: pulumi.Input<string>; secretAccessKey: pulumi.Input<string> };
  /** What is backed up. */
  targets: BackupTarget[];
  /**
   * The Prometheus pod the outcome is pushed to (its OTLP endpoint), through a Service of its own:
   * the first replica, whose series BackupFailed reads (BackupTooOld reads the CronJobs from kube-state-metrics).
   */
  push?: { pods: Record<string, string>; port: number };
  priorityClassName?: string;
}

/** The backups' identity: labels and the image of the upload container. */
export function backupIdentity(environment: string): WorkloadIdentity {
  return { name: "backup", component: "backup", instance: environment, image: "rclone" };
}

/** Prometheus' OTLP metrics receiver. */
export const OTLP_METRICS_PATH = "/api/v1/otlp/v1/metrics";

/** The rclone remote `store:` from the environment: the provider, endpoint, region and the Secret's key pair. */
export function rcloneEnvironment(
  settings: Pick<BackupSettings, "provider" | "endpoint" | "region">,
  secretName: pulumi.Input<string>,
): k8s.types.input.core.v1.EnvVar[] {
  const prefix = `RCLONE_CONFIG_${REMOTE_NAME.toUpperCase()}`;
  return [
    { name: `${prefix}_TYPE`, value: "s3" },
    { name: `${prefix}_PROVIDER`, value: BACKUP_PROVIDERS[settings.provider].rclone },
    ...(settings.endpoint ? [{ name: `${prefix}_ENDPOINT`, value: settings.endpoint }] : []),
    { name: `${prefix}_REGION`, value: settings.region },
    // A key limited to one bucket may not create or list buckets: rclone does not try.
    { name: `${prefix}_NO_CHECK_BUCKET`, value: "true" },
    { name: `${prefix}_ACCESS_KEY_ID`, valueFrom: { secretKeyRef: { name: secretName, key: "access-key-id" } } },
    { name: `${prefix}_SECRET_ACCESS_KEY`, valueFrom: { secretKeyRef: { name: secretName, key: "secret-access-key" } } },
  ];
}

/** The rclone path of the bucket and prefix: `store:<bucket>[/<prefix>]`. */
export function backupRemote(settings: Pick<BackupSettings, "bucket" | "prefix">): string {
  return `${REMOTE_NAME}:${settings.bucket}${settings.prefix ? `/${settings.prefix}` : ""}`;
}

/** The Service name that reaches one component's first replica alone. */
export function targetServiceName(component: BackupComponent): string {
  return `backup-${component}-target`;
}

/** The CronJobs, their script, the key pair's Secret, the Services of the first replicas and the policies. */
export class Backup extends StackComponent {
  /** The CronJob names, by component. */
  public readonly cronJobs: Partial<Record<BackupComponent, string>> = {};

  constructor(name: string, args: BackupArgs, opts?: pulumi.ComponentResourceOptions) {
    refuseProblems(
      "Backup",
      name,
      problems({
        ...args.settings,
        enabled: true,
        components: args.targets.map((t) => t.component),
        credentials: { accessKeyId: "given", secretAccessKey: "given" },
      }),
      opts,
    );
    super("monitoring:index:Backup", name, opts);
    const id = backupIdentity(args.environment);
    const ns = args.namespace;
    const child = { parent: this };
    const gap = scheduleGapSeconds(args.settings.schedule) as number;
    // The longest a run lasts: its Job's deadline, and how young an incomplete folder backup.sh leaves alone.
    const deadline = Math.round(durationSeconds(args.settings.timeout) as number);

    const script = new k8s.core.v1.ConfigMap(
      `${name}-script`,
      { metadata: objectMeta(id, ns, "backup-script"), data: { "backup.sh": BACKUP_SCRIPT } },
      child,
    );
    const secret = new k8s.core.v1.Secret(
      `${name}-credentials`,
      {
        metadata: objectMeta(id, ns, "backup-credentials"),
        type: "Opaque",
        stringData: {
          "access-key-id": pulumi.secret(args.credentials.accessKeyId),
          "secret-access-key": pulumi.secret(args.credentials.secretAccessKey),
        },
      },
      child,
    );

    const push = args.push;
    const pushService = push
      ? new k8s.core.v1.Service(
          `${name}-push`,
          {
            metadata: objectMeta(id, ns, "backup-push"),
            spec: { selector: push.pods, ports: [{ name: "http", port: push.port, targetPort: push.port, protocol: "TCP" }] },
          },
          child,
        )
      : undefined;
    const pushUrl =
      push && pushService ? pulumi.interpolate`http://${pushService.metadata.name}.${ns}.svc:${push.port}${OTLP_METRICS_PATH}` : undefined;

    for (const target of args.targets) {
      const jobName = `backup-${target.component}`;
      // The first replica alone: a snapshot taken through the workload's Service could land on another replica's volume.
      // Its pod is reached while not ready too: a restore's check that the component is stopped (backup.sh `stopped`) must
      // see one starting (Prometheus replaying its WAL, Loki before its readiness delay), and a snapshot of a pod not
      // ready fails on the component's own answer rather than on an address missing.
      const service = new k8s.core.v1.Service(
        `${name}-${target.component}-target`,
        {
          metadata: objectMeta(id, ns, targetServiceName(target.component)),
          spec: {
            selector: target.pod,
            publishNotReadyAddresses: true,
            ports: [{ name: "http", port: target.port, targetPort: target.port, protocol: "TCP" }],
          },
        },
        child,
      );
      const url = pulumi.interpolate`http://${service.metadata.name}.${ns}.svc:${target.port}`;
      const env: k8s.types.input.core.v1.EnvVar[] = [
        { name: "BACKUP_STACK", value: args.stack },
        { name: "BACKUP_COMPONENT", value: target.component },
        { name: "BACKUP_REMOTE", value: backupRemote(args.settings) },
        { name: "BACKUP_DATA", value: BACKUP_PATHS.data },
        { name: "BACKUP_URL", value: url },
        { name: "BACKUP_WORK", value: BACKUP_PATHS.work },
        { name: "BACKUP_KEEP", value: String(args.settings.keep) },
        { name: "BACKUP_INTERVAL_SECONDS", value: String(gap) },
        { name: "BACKUP_DEADLINE_SECONDS", value: String(deadline) },
        ...(pushUrl ? [{ name: "BACKUP_PUSH_URL", value: pushUrl }] : []),
        // rclone looks for a config file under HOME: none there, the remote is in the environment.
        { name: "HOME", value: BACKUP_PATHS.work },
      ];
      // Prometheus' snapshot is written on its volume and deleted once uploaded; SQLite may have to roll
      // back a journal Grafana left before it copies: those mounts write, the others read.
      const writable = (phase: string) => target.component === "prometheus" || (target.component === "grafana" && phase === "snapshot");
      const mounts = (dataReadOnly: boolean): k8s.types.input.core.v1.VolumeMount[] => [
        { name: "script", mountPath: BACKUP_PATHS.scripts, readOnly: true },
        { name: "data", mountPath: BACKUP_PATHS.data, readOnly: dataReadOnly },
        { name: "work", mountPath: BACKUP_PATHS.work },
      ];
      const container = (
        containerName: string,
        image: string,
        phase: string,
        extraEnv: k8s.types.input.core.v1.EnvVar[],
      ): k8s.types.input.core.v1.Container => ({
        name: containerName,
        image,
        command: ["/bin/sh", `${BACKUP_PATHS.scripts}/backup.sh`, phase],
        env: [...env, ...extraEnv],
        resources: resourcesOf(args.settings.resources),
        securityContext: restrictedContainerSecurity(),
        volumeMounts: mounts(!writable(phase)),
      });
      const podLabels = { ...selectorLabels(id), "monitoring-stack/backup-of": target.component };
      new k8s.batch.v1.CronJob(
        `${name}-${target.component}`,
        {
          metadata: objectMeta(id, ns, jobName),
          spec: {
            schedule: args.settings.schedule,
            concurrencyPolicy: "Forbid",
            // A run missed by more than an hour (the node was down) is skipped: the next one comes, and BackupTooOld watches.
            startingDeadlineSeconds: 3600,
            successfulJobsHistoryLimit: 1,
            failedJobsHistoryLimit: 3,
            jobTemplate: {
              metadata: { labels: podLabels },
              spec: {
                backoffLimit: 1,
                // A hung upload ends (backup.timeout). An incomplete folder younger than this (by its name) may
                // be a run still uploading, a manual one beside the schedule's (`kubectl create job
                // --from=cronjob/...`, which concurrencyPolicy does not hold): backup.sh never deletes it.
                activeDeadlineSeconds: deadline,
                ttlSecondsAfterFinished: 7 * 24 * 3600,
                template: {
                  metadata: { labels: podLabels },
                  spec: {
                    restartPolicy: "Never",
                    automountServiceAccountToken: false,
                    ...podPriority(args.priorityClassName),
                    securityContext: restrictedPodSecurity(target.uid),
                    // The claim is ReadWriteOnce: the pod goes where the component's replica runs.
                    affinity: {
                      podAffinity: {
                        requiredDuringSchedulingIgnoredDuringExecution: [
                          { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: target.pod } },
                        ],
                      },
                    },
                    initContainers: [container("snapshot", target.component === "grafana" ? images.sqlite : imageOf(id), "snapshot", [])],
                    containers: [container("upload", imageOf(id), "upload", rcloneEnvironment(args.settings, secret.metadata.name))],
                    volumes: [
                      { name: "script", configMap: { name: script.metadata.name, defaultMode: 0o555 } },
                      { name: "data", persistentVolumeClaim: { claimName: target.claim } },
                      scratchVolume("work", target.component === "grafana" ? "2Gi" : "64Mi"),
                    ],
                  },
                },
              },
            },
          },
        },
        child,
      );
      this.cronJobs[target.component] = jobName;

      // Admitted to the component's HTTP port (the snapshot, the flush, the silences), whatever its own policy admits.
      const from: IngressPeer[] = [{ pods: podLabels }];
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${target.component}-ingress`,
        {
          metadata: objectMeta(id, ns, `backup-to-${target.component}`),
          spec: ingressPolicySpec(target.pod, [{ ports: [target.port], from }]),
        },
        child,
      );
    }

    // Every job pushes its outcome to Prometheus' OTLP endpoint, whichever component it backs up: admitted there too
    // (Prometheus' own policy names its clients, not every pod of the namespace).
    if (push) {
      new k8s.networking.v1.NetworkPolicy(
        `${name}-push-ingress`,
        {
          metadata: objectMeta(id, ns, "backup-push"),
          spec: ingressPolicySpec(push.pods, [{ ports: [push.port], from: [{ pods: selectorLabels(id) }] }]),
        },
        child,
      );
    }

    // DNS, the components' ports, Prometheus' OTLP endpoint and the store's port at any address (a host a policy cannot name).
    const storePort = args.settings.endpoint ? urlPort(args.settings.endpoint) : 443;
    new k8s.networking.v1.NetworkPolicy(
      `${name}-egress-policy`,
      {
        metadata: objectMeta(id, ns, egressPolicyName("backup")),
        spec: egressPolicySpec(selectorLabels(id), [
          ...args.targets.map((t) => ({ ports: [t.port], to: [{ pods: t.pod }] })),
          ...(args.push ? [{ ports: [args.push.port], to: [{ pods: args.push.pods }] }] : []),
          anywhereOn([storePort]),
        ]),
      },
      child,
    );
    this.registerOutputs({ cronJobs: this.cronJobs });
  }
}

/** The pods of the stack's backups (NetworkPolicy peers of other workloads). */
export function backupPods(environment: string): Record<string, string> {
  return stackPods("backup", environment);
}
