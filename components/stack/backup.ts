/**
 * The backups' wiring (config backup): which components are backed up, what the other
 * components change while they are (Prometheus' admin API and OTLP receiver, Alertmanager's
 * maintenance interval, the admin API left out of the public routes), and the Backup args.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config";
import { ALERTMANAGER_PORT } from "../alertmanager/args";
import { BackupComponent } from "../backup/args";
import { BackupArgs, BackupTarget } from "../backup";
import { GRAFANA_PORT, GRAFANA_UID } from "../grafana/args";
import { stackPods } from "../kit/labels";
import { stackPriorityClassName } from "../kit/priority";
import { LOKI_PORT } from "../kit/services";
import { ExposedService } from "../kit/web";
import { PROMETHEUS_ADMIN_PORT } from "../prometheus/admin-proxy";
import { PROMETHEUS_PORT } from "../prometheus/args";

/** Prometheus' admin API: refused on the public routes while the backups use it. */
export const PROMETHEUS_ADMIN_PREFIX = "/api/v1/admin";

/**
 * The longest `alertmanager.maintenanceInterval` while Alertmanager is backed up: a backup waits for
 * its next write of the silences and the notification log (backup.sh, at most BACKUP_WAIT_SECONDS,
 * 120 s), which then holds every silence made before the backup began.
 */
export const ALERTMANAGER_BACKUP_MAINTENANCE = "1m";

/** The uid Loki's image runs as (components/loki). */
const LOKI_UID = 10001;
/** The uid Prometheus and Alertmanager run as (the official images' nobody). */
const NOBODY = 65534;

/** Whether a component is backed up: listed, and running with its data on a claim (Grafana on SQLite, Loki on). */
export function backsUp(cfg: Pick<StackConfig, "backup" | "loki" | "grafana">, component: BackupComponent): boolean {
  if (!cfg.backup.enabled || !cfg.backup.components.includes(component)) return false;
  if (component === "loki") return cfg.loki.enabled;
  if (component === "grafana") return cfg.grafana.database === undefined;
  return true;
}

/** The further path prefixes a public route leaves out: Prometheus' admin API while backups have it on. */
export function unpublishedOf(cfg: Pick<StackConfig, "backup" | "loki" | "grafana">, service: ExposedService): { unpublished?: string[] } {
  return service === "prometheus" && backsUp(cfg, "prometheus") ? { unpublished: [PROMETHEUS_ADMIN_PREFIX] } : {};
}

/** The first replica's pod of a StatefulSet (its controller's pod-name label) or the one pod of a Deployment. */
function firstPod(app: string, environment: string, statefulSet: boolean): Record<string, string> {
  return { ...stackPods(app, environment), ...(statefulSet ? { "statefulset.kubernetes.io/pod-name": `${app}-0` } : {}) };
}

/** The components' claims, as the stack made them. */
export type BackupClaims = Partial<Record<BackupComponent, k8s.core.v1.PersistentVolumeClaim[]>>;

/** The Backup args, or undefined when backups are off (or nothing they list runs). */
export function backupArgs(cfg: StackConfig, claims: BackupClaims): BackupArgs | undefined {
  // The section's values are the backups' settings as they are, but what the stack decides here: on, what, and the key pair.
  const { enabled, components, credentials, ...settings } = cfg.backup;
  if (!enabled || !credentials?.accessKeyId || !credentials.secretAccessKey || !settings.bucket) return undefined;
  const env = cfg.environment;
  const rows: Record<BackupComponent, Omit<BackupTarget, "claim" | "component">> = {
    // The proxy's admin port: the snapshot, which no other client reaches (components/prometheus/admin-proxy.ts).
    prometheus: { pod: firstPod("prometheus", env, true), port: PROMETHEUS_ADMIN_PORT, uid: NOBODY },
    alertmanager: { pod: firstPod("alertmanager", env, true), port: ALERTMANAGER_PORT, uid: NOBODY },
    grafana: { pod: firstPod("grafana", env, false), port: GRAFANA_PORT, uid: GRAFANA_UID },
    loki: { pod: firstPod("loki", env, true), port: LOKI_PORT, uid: LOKI_UID },
  };
  const targets: BackupTarget[] = components
    .filter((c) => backsUp(cfg, c) && (claims[c] ?? []).length > 0)
    .map((c) => ({ component: c, claim: (claims[c] ?? [])[0].metadata.name as pulumi.Input<string>, ...rows[c] }));
  if (targets.length === 0) return undefined;
  const priorityClassName = cfg.priorityClass.enabled ? stackPriorityClassName(cfg.namespace) : undefined;
  return {
    namespace: cfg.namespace,
    environment: env,
    stack: cfg.stack,
    settings,
    credentials: { accessKeyId: pulumi.secret(credentials.accessKeyId), secretAccessKey: pulumi.secret(credentials.secretAccessKey) },
    targets,
    push: { pods: firstPod("prometheus", env, true), port: PROMETHEUS_PORT },
    ...(priorityClassName ? { priorityClassName } : {}),
  };
}
