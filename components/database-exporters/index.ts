/**
 * Database exporters (PostgreSQL, Redis, MongoDB: the kinds of kinds.ts), one per entry of
 * config.databases (section.ts), each its own Deployment in the stack namespace that reaches its
 * database through the DSN: the database's Service or a pod's name for one in the cluster, any
 * host for one outside.
 *
 * Never in the database's pod. A pod is Ready only while every container in it runs (the
 * kubelet, pkg/kubelet/status/generate.go GenerateContainersReadyCondition, counts every
 * regular container and every restartable init container; a container that is not running is
 * never ready, probe or not: prober_manager.go UpdatePodStatus). So an exporter sidecar that is
 * OOM-killed, crash-loops or whose image cannot be pulled takes the database out of its
 * Service's endpoints. A native sidecar (an init container with restartPolicy Always) is
 * counted the same way, and is started before the pod's own containers (kuberuntime
 * computeInitContainerActions): one that cannot be pulled keeps a new database pod from
 * starting at all. No container setting avoids it, so the exporter lives in a pod of its own,
 * where whatever it does only takes its own target down (`*_up`/`up == 0`, which alerts).
 * Entries of an earlier release in `mode: sidecar` are refused by config (section.ts; the way
 * over is in the message and docs/configuration.md, "Databases: `databases[]`"); removing one removes its patch, which gives back
 * exactly the fields it added (one rollout of the database's pods).
 *
 * The DSN (it holds the password) reaches the exporter only through a Kubernetes Secret in
 * the stack namespace: an existing one (secretRef) or one made here from the secret config value.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { images } from "../images";
import { ScrapeTarget } from "../kit/services";
import { WorkloadIdentity, objectMeta, selectorLabels, standardLabels, prometheusPodLabels } from "../kit/labels";
import { anywhereOn, DEFAULT_EGRESS, EgressRule, EgressSettings, extraEgressRules, workloadPolicies } from "../kit/network";
import { resourcesOf, restrictedContainerSecurity, restrictedPodSecurity } from "../kit/pods";
import { StackComponent } from "../kit/component";
import { refuseProblems } from "../kit/problems";
import { databasesSection } from "./section";
import { podPriority } from "../kit/priority";
import { DatabaseType, exporterJob } from "../kit/database-exporters";
import type { ResourceRequirements } from "../kit/resources";
import { DatabaseExportersArgs } from "./args";
import type { DatabaseExporter } from "./section";
import { DATABASE_KINDS } from "./kinds";
import { secretDigest } from "../kit/secret-digest";

/** The use of the stack's salt that keys the digest of an exporter's DSN (checksum/dsn). */
const DSN_DIGEST_LABEL = "monitoring-stack/database-dsn/v1";

/** A database exporter as a container needs it. */
export interface ExporterDatabase {
  /** The database's name: the `database` label of its series. */
  name: string;
  type: DatabaseType;
  /** The Secret, in the pod's namespace, and its key holding the DSN (with the password). */
  dsnSecret: { name: string; key: string };
  /** Requests and limits; default the kind's (kinds.ts: 5m/32Mi, limit 100m/64Mi, the benchmark's 17–21 MiB three times over). */
  resources?: ResourceRequirements;
}

/**
 * The exporter container of a standalone exporter's pod. In a pod of its own, what it does
 * touches nothing else, so it is set up to say plainly when it cannot work:
 * - it waits for its DSN: the reference is not optional, so the kubelet starts it once the
 *   Secret and key are there (CreateContainerConfigError until then; its target is down);
 * - TCP readiness and liveness probes on its port (an HTTP probe of /metrics would query the
 *   database every time): they gate and restart the exporter, never the database;
 * - the image is pulled only when the node lacks it (IfNotPresent): a registry outage never
 *   stops a restart on a node that ran it before;
 * - everything the restricted Pod Security standard asks, on the container too.
 */
export function exporterContainer(database: ExporterDatabase): k8s.types.input.core.v1.Container {
  const kind = DATABASE_KINDS[database.type];
  return {
    name: `${database.type}-exporter`,
    image: images[kind.image],
    imagePullPolicy: "IfNotPresent",
    args: [...kind.args],
    env: [{ name: kind.dsnEnv, valueFrom: { secretKeyRef: { name: database.dsnSecret.name, key: database.dsnSecret.key } } }],
    ports: [{ name: kind.portName, containerPort: kind.port, protocol: "TCP" }],
    readinessProbe: { tcpSocket: { port: kind.portName }, periodSeconds: 10, timeoutSeconds: 5 },
    livenessProbe: { tcpSocket: { port: kind.portName }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
    resources: resourcesOf(database.resources ?? kind.resources),
    securityContext: {
      ...restrictedContainerSecurity(),
      runAsUser: 65534,
      runAsGroup: 65534,
      seccompProfile: { type: "RuntimeDefault" },
    },
  };
}

/**
 * Where a standalone exporter connects, besides DNS: its database, on the engine's default port
 * at any address. The DSN is secret (and may live in a Secret the program never reads), so its
 * host and port are not the policy's to know: a database on another port needs
 * networkPolicy.extraEgress.databaseExporters.
 */
export function standaloneExporterEgressRules(type: DatabaseType, egress: EgressSettings = DEFAULT_EGRESS): EgressRule[] {
  return [anywhereOn([DATABASE_KINDS[type].databasePort]), ...extraEgressRules(egress)];
}

/**
 * The component's type token before it was DatabaseExporters: the state of a stack deployed by an
 * earlier release names the component, and every one of its objects (their URNs carry their
 * parent's type), by it. The alias makes that state this component's, so that the rename replaces
 * and deletes nothing (test/cluster/database-exporters-rename.test.ts): the engine gives the
 * children the parent's alias too.
 */
export const EARLIER_TYPE = "monitoring:index:ExporterSidecars";

/**
 * One exporter per database, each a Deployment in the stack namespace with its Service and
 * NetworkPolicy, scraped through `scrapeTargets` (job `<type>-exporter`, label `database`).
 * Nothing of it is in the database's namespace or pod: the database's workload, Service and
 * EndpointSlices are never touched.
 */
export class DatabaseExporters extends StackComponent {
  /** The exporters, job `<type>-exporter`, label `database`. */
  public readonly scrapeTargets: ScrapeTarget[];

  constructor(name: string, args: DatabaseExportersArgs, opts?: pulumi.ComponentResourceOptions) {
    // The rules config runs on the stack's databases (section.ts): names unique, DSNs of their kind; the
    // Kubernetes names and quantities are config/checks/kubernetes.ts'.
    refuseProblems(
      "DatabaseExporters",
      name,
      [...databasesSection.nameProblems(args.databases), ...databasesSection.problems(args.databases)],
      opts,
    );
    super("monitoring:index:DatabaseExporters", name, { ...opts, aliases: [...(opts?.aliases ?? []), { type: EARLIER_TYPE }] });
    this.scrapeTargets = args.databases.map((db) => this.standalone(name, db, args));
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

  private standalone(name: string, db: DatabaseExporter, args: DatabaseExportersArgs): ScrapeTarget {
    const kind = DATABASE_KINDS[db.type];
    const id: WorkloadIdentity = { name: `${db.name}-exporter`, component: "exporter", instance: args.environment, image: kind.image };
    const { ref, secret } = this.dsnSecret(name, db, args.namespace, id);
    // The DSN reaches the exporter as an env var, read at start: a new one in config rolls the pod (a salted, slow digest).
    const dsnChecksum =
      "value" in db.dsn
        ? pulumi.unsecret(pulumi.output(db.dsn.value).apply((v) => secretDigest({ dsn: v }, args.stackSalt, DSN_DIGEST_LABEL)))
        : undefined;
    const container = exporterContainer({ name: db.name, type: db.type, dsnSecret: ref, resources: db.resources });
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
            metadata: { labels: standardLabels(id), ...(dsnChecksum ? { annotations: { "checksum/dsn": dsnChecksum } } : {}) },
            spec: {
              automountServiceAccountToken: false,
              ...podPriority(args.priorityClassName),
              securityContext: restrictedPodSecurity(65534),
              containers: [container],
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

    workloadPolicies(
      `${name}-${db.name}`,
      { id, namespace: args.namespace, name: id.name },
      {
        ingress: [{ ports: [kind.port], from: [{ pods: prometheusPodLabels(args.environment) }] }],
        egress: standaloneExporterEgressRules(db.type, args.egress),
      },
      { parent: this },
    );

    return {
      job: exporterJob(db.type),
      namespace: args.namespace,
      selector: selectorLabels(id),
      port: "metrics",
      labels: { database: db.name },
    };
  }
}
