/**
 * Grafana: the stack's front door. An admin Secret (random password unless the
 * stack gives one), grafana.ini, provisioned datasources with fixed uids, every
 * dashboard under dashboards/<folder>/ shipped in size-bounded ConfigMaps, and a
 * Deployment with its volume, Service, NetworkPolicy and scrape target.
 *
 * Settings live in one grafana.ini (built by grafanaIni, serialised by iniText)
 * rather than in GF_* variables: the render then shows the whole configuration in
 * one reviewable file (files/grafana/grafana.ini), and secrets stay out of both,
 * read by Grafana from the mounted Secret through `$__file{...}`.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as YAML from "yaml";
import {
  addressPort,
  anywhereOn,
  DEFAULT_EGRESS,
  EgressRule,
  extraEgressRules,
  IngressPeer,
  TRAEFIK_PODS,
  urlPort,
  workloadPolicies,
} from "../kit/network";
import { WorkloadIdentity, imageOf, objectMeta, prometheusPodLabels, selectorLabels, standardLabels, stackPods } from "../kit/labels";
import { ScrapeTarget, SERVICE_PORTS, TRACES_QUERY_PORT, TRACES_SERVICE, serviceUrl } from "../kit/services";
import {
  configChecksum,
  httpProbe,
  oneAtATimeDisruptionBudget,
  resourcesOf,
  restrictedContainerSecurity,
  restrictedPodSecurity,
  rolloutStrategy,
  spreadAcrossNodes,
} from "../kit/pods";
import { scratchVolume, volumeOptions, DATA_CLAIM_ANNOTATIONS } from "../kit/volumes";
import { StackComponent } from "../kit/component";
import { podPriority } from "../kit/priority";
import { refuseProblems } from "../kit/problems";
import { GRAFANA_PORT, GRAFANA_UID, PATHS, KEYS, GrafanaArgs, DATABASE_DEFAULT_PORTS } from "./args";
import { iniText, GrafanaIniArgs, grafanaIni, adminPasswordDigest, adminPasswordResetCommand } from "./ini";
import { grafanaDatasources, grafanaDashboardProviders } from "./provisioning";
import { readDashboards, folderSlug, planDashboardConfigMaps, withEnvironment, withoutDashboards, withoutRows } from "./dashboards";
import { problems } from "./section";
import { missingOidcEndpoints, signInClientSecrets, signInEgressPorts, signInProblems } from "./sign-in";
import { secretDigest } from "../kit/secret-digest";
import { JOB } from "../kit/stack-jobs";

/** The use of the stack's salt that keys the digest of the Secrets Grafana reads at start besides the admin password. */
const GRAFANA_SECRETS_DIGEST_LABEL = "monitoring-stack/grafana-start-secrets/v1";

/**
 * Where Grafana connects, besides DNS: its datasources' pods (Prometheus, Alertmanager, and
 * Loki when it runs) on their ports, the external database's port at any address (a
 * NetworkPolicy cannot name its host), and, with a sign-in provider, its HTTPS port at any
 * address. Nothing else on the internet: update checks and usage reports are off (grafanaIni),
 * plugins come with the image.
 */
export function grafanaEgressRules(
  args: Pick<GrafanaArgs, "environment" | "loki" | "traces" | "database" | "egress" | "signIn" | "central">,
): EgressRule[] {
  const peer = (app: "prometheus" | "alertmanager" | "loki"): EgressRule => ({
    ports: [SERVICE_PORTS[app]],
    to: [{ pods: stackPods(app, args.environment) }],
  });
  const db = args.database;
  const dbPort = db ? (db.host.includes(":") ? addressPort(db.host) : DATABASE_DEFAULT_PORTS[db.type]) : undefined;
  const signInPorts = signInEgressPorts(args.signIn);
  return [
    peer("prometheus"),
    peer("alertmanager"),
    ...(args.loki ? [peer("loki")] : []),
    ...(args.traces ? [{ ports: [TRACES_QUERY_PORT], to: [{ pods: stackPods(TRACES_SERVICE, args.environment) }] }] : []),
    ...(dbPort !== undefined ? [anywhereOn([dbPort])] : []),
    // The sign-in providers' HTTPS (code exchange, user info, keys) at any address.
    ...(signInPorts.length > 0 ? [anywhereOn(signInPorts)] : []),
    // The central store (grafana.central): its port at any address.
    ...(args.central ? [anywhereOn([urlPort(args.central.url)])] : []),
    ...extraEgressRules(args.egress ?? DEFAULT_EGRESS),
  ];
}

/** The scrape target of Grafana's own metrics, known before the component exists (Prometheus is built first). */
function grafanaScrapeTargets(args: Pick<GrafanaArgs, "namespace" | "environment">): ScrapeTarget[] {
  return [
    {
      job: JOB.grafana,
      namespace: args.namespace,
      selector: selectorLabels(grafanaIdentity(args.environment)),
      port: "http",
      path: "/metrics",
    },
  ];
}

function grafanaIdentity(environment: string): WorkloadIdentity {
  return { name: "grafana", component: "visualization", instance: environment, image: "grafana" };
}

/** Several pods on an external database: they share no volume. */
function sharesNoVolume(args: Pick<GrafanaArgs, "database" | "replicas">): boolean {
  return args.database !== undefined && args.replicas > 1;
}

/**
 * Whether Grafana has its data claim (`grafana`): always, except with an external database
 * and several replicas in a stack that does not keep its volumes (then no pod mounts one).
 */
export function grafanaHasClaim(args: Pick<GrafanaArgs, "database" | "replicas" | "protectVolume">): boolean {
  return !sharesNoVolume(args) || (args.protectVolume ?? false);
}

/**
 * Grafana with its admin Secret, settings, provisioned datasources and dashboards,
 * a Deployment (one replica on a volume, or several on an external database), its
 * Service, NetworkPolicy and scrape target.
 */
export class Grafana extends StackComponent {
  /** The URL users open: https://<publicHostname> when exposed, otherwise internalUrl. */
  public readonly url: string;
  /** http://grafana.<namespace>.svc:3000. */
  public readonly internalUrl: string;
  /** The admin login (secret). */
  public readonly adminUser: pulumi.Output<string>;
  /** The admin password (secret). */
  public readonly adminPassword: pulumi.Output<string>;
  /** Grafana's own metrics. */
  public readonly scrapeTargets: ScrapeTarget[];
  /** The ConfigMap keys of the shipped dashboards (`<folder>__<file>`). */
  public readonly dashboardKeys: string[];
  /** The data claim (`grafana`), when there is one: the only object that holds Grafana's own state. */
  public readonly claims: k8s.core.v1.PersistentVolumeClaim[];

  constructor(name: string, args: GrafanaArgs, opts?: pulumi.ComponentResourceOptions) {
    // Refused before anything is registered, so that nothing half-built is left behind: what its
    // problems() finds (config has run it on a stack's values), and what the dashboards hold.
    refuseProblems("Grafana", name, [...problems(args), ...(args.signIn ? signInProblems(args.signIn) : [])], opts);
    const replicas = args.replicas;
    const refuse = (message: string) => new pulumi.ResourceError(`Grafana "${name}": ${message}`, opts?.parent);
    const shipped = withoutRows(
      withoutDashboards(readDashboards(args.dashboardsDir), args.withoutDashboards ?? []),
      args.withoutRows ?? [],
    );
    const builtIn = args.central ? withEnvironment(shipped) : shipped;
    const plans = planDashboardConfigMaps([...builtIn, ...(args.teamDashboards ?? [])]);
    const writableFolder = args.writableFolder;
    const missing = missingOidcEndpoints(args.signIn);
    if (missing.length > 0) {
      throw refuse(
        `signIn.oidc needs ${missing.join(", ")}: given, or read from the issuer's discovery document before the component is built`,
      );
    }
    if (args.signIn?.cloudflareAccess && !args.cloudflareAccess) {
      throw refuse("signIn.cloudflareAccess needs the Access team and the AUD tag of Grafana's Access application (cloudflareAccess)");
    }
    const clash = plans.find((p) => p.folder.toLowerCase() === writableFolder.trim().toLowerCase());
    if (clash) {
      throw refuse(
        `writableFolder "${writableFolder}" is also a folder of provisioned dashboards (${clash.folder}); give it another title`,
      );
    }

    super("monitoring:index:Grafana", name, opts);

    const ns = args.namespace;
    const id = grafanaIdentity(args.environment);
    const selector = selectorLabels(id);
    const child = { parent: this };
    this.internalUrl = serviceUrl("grafana", ns, GRAFANA_PORT);
    this.url = args.publicHostname ? `https://${args.publicHostname}` : this.internalUrl;
    this.scrapeTargets = grafanaScrapeTargets(args);

    // Credentials: only ever in Secrets, read by Grafana from files.
    const adminUser = args.adminUser;
    const password =
      args.adminPassword !== undefined
        ? pulumi.secret(args.adminPassword)
        : pulumi.secret(new random.RandomPassword(`${name}-admin-password`, { length: 32, special: false }, child).result);
    this.adminUser = pulumi.secret(adminUser);
    this.adminPassword = password;
    const adminSecret = new k8s.core.v1.Secret(
      `${name}-admin`,
      {
        metadata: objectMeta(id, ns, "grafana-admin"),
        type: "Opaque",
        stringData: { [KEYS.adminUser]: adminUser, [KEYS.adminPassword]: password },
      },
      child,
    );
    const databaseSecret = args.database
      ? new k8s.core.v1.Secret(
          `${name}-database`,
          {
            metadata: objectMeta(id, ns, "grafana-database"),
            type: "Opaque",
            stringData: { [KEYS.databasePassword]: pulumi.secret(args.database.password as pulumi.Input<string>) },
          },
          child,
        )
      : undefined;

    const signIn = args.signIn;
    const clientSecrets = signInClientSecrets(signIn).map(([file, secret]) => [file, pulumi.secret(secret)] as const);
    const signInSecret =
      clientSecrets.length > 0
        ? new k8s.core.v1.Secret(
            `${name}-sign-in`,
            { metadata: objectMeta(id, ns, "grafana-sign-in"), type: "Opaque", stringData: Object.fromEntries(clientSecrets) },
            child,
          )
        : undefined;

    // Settings and provisioning: read at start, so a change rolls the pods (checksum below).
    const db = args.database;
    const iniArgs: GrafanaIniArgs = {
      rootUrl: this.url,
      ...(db
        ? { database: { type: db.type, host: db.host, name: db.name, user: db.user, ...(db.sslMode ? { sslMode: db.sslMode } : {}) } }
        : {}),
      // The client secrets stay out: grafana.ini reads them from the sign-in Secret's files.
      ...(signIn ? { signIn } : {}),
    };
    const filesWith = (audience?: string) => ({
      [KEYS.ini]: iniText(
        grafanaIni({
          ...iniArgs,
          ...(args.cloudflareAccess && audience !== undefined ? { cloudflareAccess: { team: args.cloudflareAccess.team, audience } } : {}),
        }),
      ),
      [KEYS.datasources]: YAML.stringify(
        grafanaDatasources({
          namespace: ns,
          loki: args.loki ?? false,
          traces: args.traces ?? false,
          scrapeInterval: args.scrapeInterval,
          ...(args.central ? { central: args.central } : {}),
        }),
      ),
      [KEYS.providers]: YAML.stringify(grafanaDashboardProviders(writableFolder)),
    });
    // With Cloudflare Access as the identity, grafana.ini holds the AUD tag Cloudflare gives the application.
    const files: pulumi.Input<Record<string, string>> = args.cloudflareAccess
      ? pulumi.output(args.cloudflareAccess.audience).apply((audience) => filesWith(audience))
      : filesWith();
    const config = new k8s.core.v1.ConfigMap(`${name}-config`, { metadata: objectMeta(id, ns, "grafana-config"), data: files }, child);
    const checksum = pulumi.output(files).apply((f) => configChecksum(JSON.stringify(f)));
    // A new password rolls the pods, whose init container applies it. Not a secret: a slow digest.
    const passwordChecksum = pulumi.unsecret(pulumi.output(password).apply((p) => adminPasswordDigest(p, args.stackSalt)));
    // The other Secrets Grafana reads once at start (the database password, the sign-in client secrets): a new value rolls
    // the pods too. Absent when there are none.
    const startSecrets: Record<string, pulumi.Input<string>> = Object.fromEntries([
      ...(args.database ? [[KEYS.databasePassword, args.database.password as pulumi.Input<string>] as const] : []),
      ...clientSecrets,
    ]);
    const secretsChecksum =
      Object.keys(startSecrets).length > 0
        ? pulumi.unsecret(pulumi.all(startSecrets).apply((v) => secretDigest(v, args.stackSalt, GRAFANA_SECRETS_DIGEST_LABEL)))
        : undefined;

    // Dashboards: ConfigMaps with stable names, mounted without subPath, so the
    // kubelet refreshes the files in place and Grafana picks up edits by itself.
    this.dashboardKeys = plans.flatMap((p) => Object.keys(p.data)).sort((a, b) => a.localeCompare(b));
    const dashboardMaps = plans.map((plan) => ({
      plan,
      // The map's name is its identity: folder and bin number, unchanged while the folder needs as many maps.
      map: new k8s.core.v1.ConfigMap(
        `${name}-${plan.name.slice("grafana-".length)}`,
        { metadata: objectMeta(id, ns, plan.name), data: plan.data },
        child,
      ),
    }));
    const folders = [...new Set(plans.map((p) => p.folder))];

    const externalDbCluster = sharesNoVolume(args);
    const protectVolume = args.protectVolume ?? false;
    const claim = !grafanaHasClaim(args)
      ? undefined
      : new k8s.core.v1.PersistentVolumeClaim(
          `${name}-data`,
          {
            metadata: objectMeta(id, ns, "grafana", { annotations: DATA_CLAIM_ANNOTATIONS }),
            spec: {
              accessModes: ["ReadWriteOnce"],
              ...(args.storage.storageClass ? { storageClassName: args.storage.storageClass } : {}),
              resources: { requests: { storage: args.storage.size } },
            },
          },
          { ...child, ...volumeOptions(protectVolume) },
        );
    // Several pods on an external database share no volume; a protected claim stays unmounted.
    const mounted = externalDbCluster ? undefined : claim;
    this.claims = claim ? [claim] : [];

    const itemsOf = (key: string) => [{ key, path: key }];
    const volumes: k8s.types.input.core.v1.Volume[] = [
      { name: "config", configMap: { name: config.metadata.name, items: itemsOf(KEYS.ini) } },
      { name: "datasources", configMap: { name: config.metadata.name, items: itemsOf(KEYS.datasources) } },
      { name: "dashboard-providers", configMap: { name: config.metadata.name, items: itemsOf(KEYS.providers) } },
      {
        name: "secrets",
        projected: {
          defaultMode: 0o440,
          sources: [
            { secret: { name: adminSecret.metadata.name } },
            ...(databaseSecret ? [{ secret: { name: databaseSecret.metadata.name } }] : []),
            ...(signInSecret ? [{ secret: { name: signInSecret.metadata.name } }] : []),
          ],
        },
      },
      mounted
        ? { name: "data", persistentVolumeClaim: { claimName: mounted.metadata.name } }
        : // Sessions, alerts and users live in the external database; this holds plugins and caches.
          { name: "data", emptyDir: { sizeLimit: args.storage.size } },
      scratchVolume("tmp"),
      scratchVolume("logs"),
      // Mounted read-only: it stays empty, so its provider only makes the writable folder.
      { name: "writable-folder", emptyDir: { sizeLimit: "1Mi" } },
      ...folders.map((folder) => ({
        name: `dashboards-${folderSlug(folder)}`,
        projected: {
          sources: dashboardMaps.filter((m) => m.plan.folder === folder).map((m) => ({ configMap: { name: m.map.metadata.name } })),
        },
      })),
    ];
    const volumeMounts: k8s.types.input.core.v1.VolumeMount[] = [
      { name: "config", mountPath: PATHS.config, readOnly: true },
      { name: "datasources", mountPath: `${PATHS.provisioning}/datasources`, readOnly: true },
      { name: "dashboard-providers", mountPath: `${PATHS.provisioning}/dashboards`, readOnly: true },
      { name: "secrets", mountPath: PATHS.secrets, readOnly: true },
      { name: "data", mountPath: PATHS.data },
      { name: "tmp", mountPath: "/tmp" },
      { name: "logs", mountPath: PATHS.logs },
      { name: "writable-folder", mountPath: PATHS.writableFolder, readOnly: true },
      ...folders.map((folder) => ({
        name: `dashboards-${folderSlug(folder)}`,
        mountPath: `${PATHS.dashboards}/${folder}`,
        readOnly: true,
      })),
    ];

    new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: objectMeta(id, ns, "grafana"),
        spec: {
          replicas,
          selector: { matchLabels: selector },
          // A ReadWriteOnce volume cannot be attached to the old and the new pod at once.
          strategy: mounted ? { type: "Recreate" } : rolloutStrategy(replicas),
          template: {
            metadata: {
              labels: standardLabels(id),
              annotations: {
                "checksum/config": checksum,
                "checksum/admin-password": passwordChecksum,
                ...(secretsChecksum ? { "checksum/secrets": secretsChecksum } : {}),
              },
            },
            spec: {
              automountServiceAccountToken: false,
              ...podPriority(args.priorityClassName),
              securityContext: restrictedPodSecurity(GRAFANA_UID),
              ...(replicas > 1 ? { affinity: spreadAcrossNodes(id) } : {}),
              // Grafana sets the admin password only when it creates the admin user: this applies
              // the Secret's on every start, before the server opens the database.
              initContainers: [
                {
                  name: "admin-password",
                  image: imageOf(id),
                  command: adminPasswordResetCommand(),
                  resources: resourcesOf(args.resources),
                  securityContext: restrictedContainerSecurity(),
                  volumeMounts: volumeMounts.filter((m) => ["config", "secrets", "data", "tmp", "logs"].includes(m.name as string)),
                },
              ],
              containers: [
                {
                  name: "grafana",
                  image: imageOf(id),
                  env: [{ name: "GF_PATHS_CONFIG", value: `${PATHS.config}/${KEYS.ini}` }],
                  ports: [{ name: "http", containerPort: GRAFANA_PORT, protocol: "TCP" }],
                  // Database migrations on a first start or an upgrade can take minutes.
                  startupProbe: httpProbe("/api/health", "http", { periodSeconds: 10, failureThreshold: 30 }),
                  readinessProbe: httpProbe("/api/health", "http", { periodSeconds: 10, failureThreshold: 3 }),
                  livenessProbe: httpProbe("/api/health", "http", { periodSeconds: 20, failureThreshold: 6 }),
                  resources: resourcesOf(args.resources),
                  securityContext: restrictedContainerSecurity(),
                  volumeMounts,
                },
              ],
              volumes,
            },
          },
        },
      },
      child,
    );

    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: objectMeta(id, ns, "grafana"),
        spec: { type: "ClusterIP", selector, ports: [{ name: "http", port: GRAFANA_PORT, targetPort: "http", protocol: "TCP" }] },
      },
      child,
    );

    // The stack's Prometheus scrapes /metrics; no other pod of the stack is a client (backups add their own policy).
    const peers: IngressPeer[] = [{ pods: prometheusPodLabels(args.environment) }];
    if (args.ingressFromTraefik) peers.push(TRAEFIK_PODS);
    if (args.ingressFromCloudflared) peers.push({ pods: stackPods("cloudflared", args.environment) });
    workloadPolicies(
      name,
      { id, namespace: ns, name: "grafana" },
      { ingress: [{ ports: [GRAFANA_PORT], from: peers }], egress: grafanaEgressRules(args) },
      child,
    );

    // A budget only means something with a second pod to fall back on; on one
    // replica it would block every node drain.
    if (replicas > 1) {
      oneAtATimeDisruptionBudget(`${name}-pdb`, id, ns, "grafana", child);
    }

    this.registerOutputs({
      url: this.url,
      internalUrl: this.internalUrl,
      adminUser: this.adminUser,
      adminPassword: this.adminPassword,
      scrapeTargets: this.scrapeTargets,
      dashboardKeys: this.dashboardKeys,
    });
  }
}
