/**
 * Database exporters (PostgreSQL, Redis, MongoDB), one per entry of config.databases:
 *
 * - `sidecar`: the exporter container is added to a Deployment or StatefulSet that
 *   another team or stack owns, by a server-side-apply patch that owns only the fields
 *   it adds. Deleting the entry deletes the patch, and with it exactly those fields.
 * - `standalone`: an exporter Deployment in the stack namespace, for a database that
 *   runs outside the cluster.
 *
 * The DSN (it holds the password) reaches the exporter only through a Kubernetes
 * Secret: an existing one (secretRef) or one made here from the secret config value.
 */
import * as crypto from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DatabaseExporter, EXPORTER_RESOURCES, ResourceRequirements } from "./config";
import { ImageName, images } from "./images";
import {
  ScrapeTarget,
  WorkloadIdentity,
  ingressPolicySpec,
  objectMeta,
  resourcesOf,
  restrictedContainerSecurity,
  restrictedPodSecurity,
  selectorLabels,
  standardLabels,
  prometheusPodLabels,
  DEFAULT_EGRESS,
  EgressRule,
  EgressSettings,
  anywhereOn,
  egressPolicyName,
  egressPolicySpec,
  extraEgressRules,
  podPriority,
} from "./kit";

export type DatabaseType = DatabaseExporter["type"];

/** What differs between the three exporters. */
interface ExporterKind {
  image: ImageName;
  /** The port it serves /metrics on (its upstream default). */
  port: number;
  /** Container port name: unique in a pod that already has its own ports (at most 15 characters). */
  portName: string;
  /** The environment variable it reads the DSN from. */
  dsnEnv: string;
  /**
   * It exits at start when `dsnEnv` is unset (mongodb_exporter: "No MongoDB hosts were
   * specified"), where the others start and report the database down. In a sidecar, whose DSN
   * Secret may be missing, its DSN then passes through another variable (see exporterSidecarContainer).
   */
  exitsWithoutDsn?: boolean;
  args: string[];
  /** What a DSN of this database looks like, to catch a DSN given to the wrong exporter. */
  dsnPattern: RegExp;
  dsnExample: string;
}

export const EXPORTER_KINDS: Readonly<Record<DatabaseType, ExporterKind>> = {
  postgres: {
    image: "postgresExporter",
    port: 9187,
    portName: "pg-metrics",
    dsnEnv: "DATA_SOURCE_NAME",
    args: [
      "--web.listen-address=:9187",
      // pg_postmaster_start_time_seconds (the Postgres dashboard's Uptime), off by default upstream;
      // one cheap query (pg_postmaster_start_time()) that any role may run.
      "--collector.postmaster",
    ],
    // A URL, or libpq's key=value form.
    dsnPattern: /^(postgres(ql)?:\/\/\S+|[a-z_]+=\S*(\s+[a-z_]+=\S*)*)$/,
    dsnExample: "postgresql://user:password@host:5432/db?sslmode=require",
  },
  redis: {
    image: "redisExporter",
    port: 9121,
    portName: "redis-metrics",
    // REDIS_ADDR may carry the password: redis://:password@host:6379.
    dsnEnv: "REDIS_ADDR",
    args: ["--web.listen-address=:9121"],
    dsnPattern: /^((rediss?|unix):\/\/\S+|[^\s:/@]+:\d{1,5})$/,
    dsnExample: "redis://:password@host:6379",
  },
  mongodb: {
    image: "mongodbExporter",
    port: 9216,
    portName: "mongo-metrics",
    dsnEnv: "MONGODB_URI",
    exitsWithoutDsn: true,
    args: [
      "--web.listen-address=:9216",
      // serverStatus (connections, opcounters, memory, WiredTiger cache) from getDiagnosticData.
      "--collector.diagnosticdata",
      "--collector.replicasetstatus",
      // The 0.1x metric names as well (mongodb_connections, mongodb_mongod_*), which many
      // dashboards and rules still use. mongodb_up is always exported.
      "--compatible-mode",
    ],
    dsnPattern: /^mongodb(\+srv)?:\/\/\S+$/,
    dsnExample: "mongodb://user:password@host:27017/admin",
  },
};

/** Pod-template label naming the exporter type; Prometheus' pod job turns it into job `<type>-exporter`. */
export const EXPORTER_LABEL = "monitoring-stack/exporter";
/** Pod-template label naming the database; Prometheus' pod job turns it into the `database` label. */
export const DATABASE_LABEL = "monitoring-stack/database";
/**
 * Pod-template label naming the environment of the stack that added the exporter: another
 * stack on the same cluster, whose Prometheus discovers every annotated pod, leaves the pod
 * to its own stack (components/prometheus.ts, the pod job). Pods without it are everybody's.
 */
export const ENVIRONMENT_LABEL = "monitoring-stack/environment";

/** A database exporter as a container needs it. */
export interface SidecarDatabase {
  /** The database's name: the `database` label of its series. */
  name: string;
  type: DatabaseType;
  /** The Secret, in the pod's namespace, and its key holding the DSN (with the password). */
  dsnSecret: { name: string; key: string };
  /** Requests and limits; default EXPORTER_RESOURCES (10m/32Mi, limit 100m/64Mi). */
  resources?: ResourceRequirements;
}

/** Where a sidecar's DSN goes first when its exporter exits without one: see exporterSidecarContainer. */
export const SIDECAR_DSN_ENV = "EXPORTER_DSN";

/**
 * The exporter container for a pod that runs the database: for programs that own
 * their database workloads (add it to the pod's containers, and exporterPodMetadata
 * to its template), and the container the sidecar patches add.
 *
 * A sidecar must never take the database out of service. Kubernetes counts every container's
 * readiness, so an exporter that is not running (or not ready) leaves the database pod
 * un-Ready and out of its Service, and on a StatefulSet the rolling update that adds it has
 * already stopped the old pod. So the container is made to run whatever happens, and to say
 * what is wrong through its metrics (`*_up == 0`, which alerts) instead:
 * - no readiness probe, and no liveness probe either: a restart is un-Ready too, while an
 *   exporter that hangs only loses its own metrics (its target shows down);
 * - the DSN is optional: with the Secret or its key missing, the kubelet would otherwise
 *   refuse to start the container (CreateContainerConfigError). An exporter that exits
 *   without a DSN (exitsWithoutDsn) gets `$(EXPORTER_DSN)`, which the kubelet leaves as it is
 *   when the Secret is missing, so the exporter starts and reports the database down;
 * - the image is pulled only if the node does not have it (IfNotPresent), so a registry
 *   outage never stops a pod restart on a node that ran it before.
 * A native sidecar (an init container with restartPolicy Always) would not help: the kubelet
 * counts its readiness in the pod's too (ContainersReady), and starts the database's own
 * containers only once it has started, so an image that cannot be pulled would keep the
 * database itself from starting.
 *
 * Everything the restricted standard asks is set on the container itself (uid, group,
 * seccomp), since the pod's own security context belongs to the workload's owner.
 */
export function exporterSidecarContainer(database: SidecarDatabase): k8s.types.input.core.v1.Container {
  return exporterContainer(database, true);
}

/** The exporter container; `optionalDsn`: it starts without its Secret (a sidecar) or waits for it (standalone). */
function exporterContainer(database: SidecarDatabase, optionalDsn: boolean): k8s.types.input.core.v1.Container {
  const kind = EXPORTER_KINDS[database.type];
  const secretKeyRef = { name: database.dsnSecret.name, key: database.dsnSecret.key, ...(optionalDsn ? { optional: true } : {}) };
  const env: k8s.types.input.core.v1.EnvVar[] =
    optionalDsn && kind.exitsWithoutDsn
      ? [
          { name: SIDECAR_DSN_ENV, valueFrom: { secretKeyRef } },
          // Unset when the Secret is missing: the reference then stays as it is written, a DSN that reaches nothing.
          { name: kind.dsnEnv, value: `$(${SIDECAR_DSN_ENV})` },
        ]
      : [{ name: kind.dsnEnv, valueFrom: { secretKeyRef } }];
  return {
    name: `${database.type}-exporter`,
    image: images[kind.image],
    imagePullPolicy: "IfNotPresent",
    args: [...kind.args],
    env,
    ports: [{ name: kind.portName, containerPort: kind.port, protocol: "TCP" }],
    resources: resourcesOf(database.resources ?? EXPORTER_RESOURCES),
    securityContext: {
      ...restrictedContainerSecurity(),
      runAsUser: 65534,
      runAsGroup: 65534,
      seccompProfile: { type: "RuntimeDefault" },
    },
  };
}

/**
 * Labels and scrape annotations for the template of a pod that runs an exporter container;
 * with `environment`, the pod is scraped by that stack's Prometheus only (ENVIRONMENT_LABEL).
 */
export function exporterPodMetadata(
  database: Pick<SidecarDatabase, "name" | "type">,
  environment?: string,
): {
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  return {
    labels: {
      [EXPORTER_LABEL]: database.type,
      [DATABASE_LABEL]: database.name,
      ...(environment !== undefined ? { [ENVIRONMENT_LABEL]: environment } : {}),
    },
    annotations: {
      "prometheus.io/scrape": "true",
      "prometheus.io/port": String(EXPORTER_KINDS[database.type].port),
      "prometheus.io/path": "/metrics",
    },
  };
}

/**
 * The field manager of one entry's patch at one revision: its own, so patches never take
 * each other's fields, and a new revision never loses fields when the old one lets go.
 */
export function sidecarFieldManager(environment: string, database: string, revision: string): string {
  return `monitoring-stack-${environment}-${database}-${revision}`;
}

/** A short digest of what a sidecar patch adds: its revision. */
export function sidecarRevision(fields: unknown): string {
  return crypto.createHash("sha256").update(JSON.stringify(fields)).digest("hex").slice(0, 8);
}

const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export interface ExporterSidecarsArgs {
  /** The database exporters (config databases), keyed by name; may be empty. */
  databases: DatabaseExporter[];
  /**
   * The stack namespace: standalone exporters and their Secrets live there. It must
   * exist first: pass its MonitoringNamespace in `opts.dependsOn`.
   */
  namespace: string;
  /** The stack's environment: app.kubernetes.io/instance, the Prometheus pods' instance label, part of the field managers' names. */
  environment: string;
  /** Further destinations of the standalone exporters (config networkPolicy.extraEgress.databaseExporters). Default DEFAULT_EGRESS. */
  egress?: EgressSettings;
  /** The stack's PriorityClass for the standalone exporters' pods (never the patched workloads': they are the team's). Default none. */
  priorityClassName?: string;
}

/** The port each database listens on by default: what a standalone exporter's egress policy opens. */
export const DATABASE_PORTS: Readonly<Record<DatabaseType, number>> = { postgres: 5432, redis: 6379, mongodb: 27017 };

/**
 * Where a standalone exporter connects, besides DNS: its database, on the engine's default port
 * at any address. The DSN is secret (and may live in a Secret the program never reads), so its
 * host and port are not the policy's to know: a database on another port needs
 * networkPolicy.extraEgress.databaseExporters.
 */
export function standaloneExporterEgressRules(type: DatabaseType, egress: EgressSettings = DEFAULT_EGRESS): EgressRule[] {
  return [anywhereOn([DATABASE_PORTS[type]]), ...extraEgressRules(egress)];
}

/**
 * One exporter per database: a sidecar patched into the database's workload, or a
 * standalone Deployment. Sidecars are scraped through their pod annotations (the pod
 * job of Prometheus); standalone exporters through `scrapeTargets`.
 *
 * Sidecars get no NetworkPolicy: a policy in the target namespace would isolate the
 * database pod for every other client. If that namespace restricts ingress already,
 * its owner admits Prometheus to the exporter port.
 */
export class ExporterSidecars extends pulumi.ComponentResource {
  /** The standalone exporters, job `<type>-exporter`, label `database`. */
  public readonly scrapeTargets: ScrapeTarget[];

  constructor(name: string, args: ExporterSidecarsArgs, opts?: pulumi.ComponentResourceOptions) {
    // Refuse conflicting input before anything is registered, so nothing half-built is left behind.
    checkExporterArgs(name, args, opts?.parent);
    // The component's own inputs are recorded in the state: the DSNs go there as secrets.
    super("monitoring:index:ExporterSidecars", name, { ...args, databases: args.databases.map(withSecretDsn) }, opts);

    const scrapeTargets: ScrapeTarget[] = [];
    for (const db of args.databases) {
      if (db.mode === "sidecar") this.sidecar(name, db, args);
      else scrapeTargets.push(this.standalone(name, db, args));
    }
    this.scrapeTargets = scrapeTargets;
    this.registerOutputs({ scrapeTargets: this.scrapeTargets });
  }

  /** The Secret (name and key) the exporter reads its DSN from, in `namespace`; created from the config value when there is no secretRef. */
  private dsnSecret(
    name: string,
    db: DatabaseExporter,
    namespace: string,
    id: WorkloadIdentity,
  ): { ref: { name: string; key: string }; secret?: k8s.core.v1.Secret } {
    if ("secretRef" in db.dsn) return { ref: db.dsn.secretRef };
    const ref = { name: `${db.name}-exporter-dsn`, key: `${db.name}-dsn` };
    const secret = new k8s.core.v1.Secret(
      `${name}-${db.name}-dsn`,
      {
        metadata: objectMeta(id, namespace, ref.name),
        type: "Opaque",
        stringData: { [ref.key]: pulumi.secret(db.dsn.value) },
      },
      { parent: this },
    );
    return { ref, secret };
  }

  private sidecar(name: string, db: DatabaseExporter, args: ExporterSidecarsArgs): void {
    const target = db.target as NonNullable<DatabaseExporter["target"]>;
    const kind = EXPORTER_KINDS[db.type];
    const id: WorkloadIdentity = { name: `${db.type}-exporter`, component: "exporter", instance: args.environment, image: kind.image };
    const { ref, secret } = this.dsnSecret(name, db, target.namespace, id);

    // Exactly the fields the sidecar adds: the container (merged into the pod's list by
    // its name), two labels and the scrape annotations. Server-side apply records this
    // field manager as their owner, so deleting the patch removes these and only these.
    // Forced: a field another manager set (an old hand-made exporter container, say)
    // is taken over rather than failing the update.
    const template = {
      metadata: exporterPodMetadata(db, args.environment),
      spec: { containers: [exporterSidecarContainer({ name: db.name, type: db.type, dsnSecret: ref, resources: db.resources })] },
    };
    // A patch is never updated in place: a change of what it adds is a new revision (a new
    // resource with its own field manager), created before the old one is deleted, so the
    // workload rolls once. The provider diffs a patch's list against the live list by
    // position, and the sidecar sits after the workload's own containers, so an in-place
    // diff would report a change on every preview; with revisions, the spec is never diffed.
    const revision = sidecarRevision(template);
    const patch = {
      metadata: {
        name: target.name,
        namespace: target.namespace,
        annotations: {
          "pulumi.com/patchFieldManager": sidecarFieldManager(args.environment, db.name, revision),
          "pulumi.com/patchForce": "true",
        },
      },
      spec: { template },
    };
    const opts: pulumi.CustomResourceOptions = {
      parent: this,
      ignoreChanges: ["spec"],
      ...(secret ? { dependsOn: [secret] } : {}),
    };
    const resourceName = `${name}-${db.name}-sidecar-${revision}`;
    if (target.kind === "Deployment") new k8s.apps.v1.DeploymentPatch(resourceName, patch, opts);
    else new k8s.apps.v1.StatefulSetPatch(resourceName, patch, opts);
  }

  private standalone(name: string, db: DatabaseExporter, args: ExporterSidecarsArgs): ScrapeTarget {
    const kind = EXPORTER_KINDS[db.type];
    const id: WorkloadIdentity = { name: `${db.name}-exporter`, component: "exporter", instance: args.environment, image: kind.image };
    const { ref, secret } = this.dsnSecret(name, db, args.namespace, id);
    // In its own pod, the exporter waits for its DSN: the kubelet starts it once the Secret is
    // there, where an optional one would start it without, for good.
    const container = exporterContainer({ name: db.name, type: db.type, dsnSecret: ref, resources: db.resources }, false);
    // A Secret of the user's (secretRef) in the stack's namespace cannot exist before the stack
    // made the namespace: on a first deployment the pod waits for it, and Pulumi must not wait
    // for the pod (it would time out and fail the update). The Deployment is not awaited; the
    // exporter starts by itself once the Secret is created, and until then its target is down.
    const awaitsSecret = "secretRef" in db.dsn;

    // One replica in every profile: a second one would export every series twice (and
    // fire every *_up alert twice); a restart costs a few scrapes.
    new k8s.apps.v1.Deployment(
      `${name}-${db.name}-deployment`,
      {
        metadata: objectMeta(id, args.namespace, id.name, awaitsSecret ? { annotations: { "pulumi.com/skipAwait": "true" } } : {}),
        spec: {
          replicas: 1,
          selector: { matchLabels: selectorLabels(id) },
          template: {
            metadata: { labels: standardLabels(id) },
            spec: {
              automountServiceAccountToken: false,
              ...podPriority(args.priorityClassName),
              securityContext: restrictedPodSecurity(65534),
              // In its own pod, probes are harmless: they only gate and restart the exporter itself.
              // TCP probes: an HTTP probe of /metrics would query the database every time.
              containers: [
                {
                  ...container,
                  readinessProbe: { tcpSocket: { port: kind.portName }, periodSeconds: 10, timeoutSeconds: 5 },
                  livenessProbe: { tcpSocket: { port: kind.portName }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
                },
              ],
            },
          },
        },
      },
      { parent: this, ...(secret ? { dependsOn: [secret] } : {}) },
    );

    new k8s.core.v1.Service(
      `${name}-${db.name}-service`,
      {
        metadata: objectMeta(id, args.namespace, id.name),
        spec: {
          selector: selectorLabels(id),
          ports: [{ name: "metrics", port: kind.port, targetPort: kind.portName, protocol: "TCP" }],
        },
      },
      { parent: this },
    );

    new k8s.networking.v1.NetworkPolicy(
      `${name}-${db.name}-network-policy`,
      {
        metadata: objectMeta(id, args.namespace, id.name),
        spec: ingressPolicySpec(selectorLabels(id), [{ ports: [kind.port], from: [{ pods: prometheusPodLabels(args.environment) }] }]),
      },
      { parent: this },
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-${db.name}-egress-policy`,
      {
        metadata: objectMeta(id, args.namespace, egressPolicyName(id.name)),
        spec: egressPolicySpec(selectorLabels(id), standaloneExporterEgressRules(db.type, args.egress)),
      },
      { parent: this },
    );

    return {
      job: `${db.type}-exporter`,
      namespace: args.namespace,
      selector: selectorLabels(id),
      port: "metrics",
      labels: { database: db.name },
    };
  }
}

/** Throws a ResourceError naming the first argument that conflicts with another or cannot be deployed. */
function checkExporterArgs(name: string, args: ExporterSidecarsArgs, parent: pulumi.Resource | undefined): void {
  const fail = (message: string): never => {
    throw new pulumi.ResourceError(`ExporterSidecars "${name}": ${message}`, parent);
  };
  const seen = new Set<string>();
  const workloads = new Map<string, string>();
  for (const db of args.databases) {
    const arg = `databases["${db.name}"]`;
    if (seen.has(db.name)) fail(`databases: the name "${db.name}" is used more than once; each exporter is keyed by its name`);
    seen.add(db.name);
    if (db.mode === "sidecar") {
      if (!db.target) fail(`${arg}.target is required for a sidecar: the Deployment or StatefulSet to add the exporter to`);
      const t = db.target as NonNullable<DatabaseExporter["target"]>;
      const workload = `${t.kind} ${t.namespace}/${t.name}`;
      const other = workloads.get(workload);
      if (other !== undefined) {
        fail(
          `${arg}.target: ${workload} already gets the exporter of "${other}"; a pod has one set of prometheus.io annotations, so one exporter sidecar per workload`,
        );
      }
      workloads.set(workload, db.name);
    } else {
      if (db.target) fail(`${arg}.target is only for sidecars; a standalone exporter runs in the stack namespace`);
      if (!DNS_1035_LABEL.test(`${db.name}-exporter`) || `${db.name}-exporter`.length > 63) {
        fail(
          `${arg}.name: a standalone exporter's Service is named "<name>-exporter", which must be a DNS-1035 label (a letter first, at most 63 characters)`,
        );
      }
    }
    if ("value" in db.dsn) {
      const kind = EXPORTER_KINDS[db.type];
      // Never echo the value: it holds a password.
      if (!kind.dsnPattern.test(db.dsn.value)) {
        fail(`${arg}.dsn: not a ${db.type} DSN (the value is not shown because it is secret); expected something like ${kind.dsnExample}`);
      }
    }
  }
}

/** The entry with its DSN, if given as a value, wrapped as a Pulumi secret. */
function withSecretDsn(
  db: DatabaseExporter,
): Omit<DatabaseExporter, "dsn"> & { dsn: { secretRef: { name: string; key: string } } | { value: pulumi.Output<string> } } {
  return "value" in db.dsn ? { ...db, dsn: { value: pulumi.secret(db.dsn.value) } } : { ...db, dsn: db.dsn };
}
