/**
 * The log collector: an agent on every node (a DaemonSet in the agents namespace) that
 * tails the pod log files the kubelet writes under /var/log/pods, labels each stream
 * from Kubernetes discovery (namespace, pod, container, app, node, job) and pushes it to
 * the stack's Loki.
 *
 * The agent is Grafana Alloy (components/log-collector/alloy.ts); its state (how far each
 * file has been read) stays on the node, so that a restart resumes where it stopped. With
 * `otlp`, it is also the apps' OTLP endpoint on their node (the `otlp` Service).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ALLOY_CONFIG_FILE, ALLOY_PATHS, ALLOY_PORT, alloyConfig, alloyRunArgs, otlpMemoryLimiter } from "./alloy";
import {
  LOG_COLLECTOR_AGENT,
  LogCollectorArgs,
  SHARED_LOGS_CONFIGMAP,
  SHARED_LOGS_KEY,
  lokiPushPortOf,
  prometheusWritePortOf,
  sharedLogsRecord,
} from "./args";
import { ScrapeTarget } from "../kit/services";
import { WorkloadIdentity, imageOf, objectMeta, prometheusPodLabels, selectorLabels, standardLabels, stackPods } from "../kit/labels";
import { configChecksum, httpProbe, resourcesOf, restrictedContainerSecurity } from "../kit/pods";
import { anywhereOn, apiServerEgress, DEFAULT_EGRESS, EgressRule, extraEgressRules, urlPort, workloadPolicies } from "../kit/network";
import { scratchVolume } from "../kit/volumes";
import { StackComponent } from "../kit/component";
import { podPriority } from "../kit/priority";
import {
  LOKI_PUSH_PORT,
  OTLP_PORTS,
  PROMETHEUS_WRITE_PORT,
  TRACES_SERVICE,
  lokiOtlpUrl,
  lokiPushUrl,
  prometheusOtlpUrl,
  prometheusRemoteWriteUrl,
  tracesOtlpEndpoint,
} from "../kit/services";
import { POD_LOGS_DIR } from "./relabelling";
import { monitorBlocks } from "./monitors";
import { journalMounts, journalVolumes } from "./journal";
import { eventsReadAccess, monitorReadRules, monitorSecretsAccess } from "./access";
import { AlloyBlock } from "./alloy-syntax";
import { APPLIED_MONITORS_KEY, ServedMonitors, appliedMonitorsRecord, servedMonitorBlocks, servedMonitorsComment } from "./served-monitors";

/** Where the agent sees the external Loki endpoint's credential (logCollector.externalLoki). */
export const EXTERNAL_LOKI_DIR = "/etc/alloy-secrets/external-loki";

/** The Service apps send OTLP to, in the agents namespace: `otlp.<namespace>-agents.svc`. */
export const OTLP_SERVICE = "otlp";

/** Alloy's arguments in the pod: its file, its port on every address of the pod, its state directory (alloyRunArgs). */
const ALLOY_ARGS = alloyRunArgs(`${ALLOY_PATHS.config}/${ALLOY_CONFIG_FILE}`, `0.0.0.0:${ALLOY_PORT}`, ALLOY_PATHS.storage);

/**
 * With events or monitors, the DaemonSet's pods form one Alloy cluster (gossip over the HTTP port),
 * so that loki.source.kubernetes_events runs its watch of each namespace, and the operator's
 * components scrape each target, on one pod only: one collector, not one per node, without a Deployment of its own (a second Alloy would request as much
 * memory as the DaemonSet's pod again). Peers are found through the headless Service (ready pods; a
 * pod that found none starts a cluster of its own and joins the others at its next rejoin, every
 * minute by default); the cluster is named after the agents namespace, so that another stack's
 * collectors never join it.
 */
export function alloyClusterArgs(agentsNamespace: string): string[] {
  return [
    "--cluster.enabled=true",
    `--cluster.join-addresses=${LOG_COLLECTOR_AGENT}.${agentsNamespace}.svc:${ALLOY_PORT}`,
    `--cluster.name=${agentsNamespace}`,
  ];
}

/** Whether the DaemonSet's pods form an Alloy cluster: events and monitors (its own, a served stack's) each share their work out among them. */
function clustered(args: Pick<LogCollectorArgs, "events" | "monitors" | "servedMonitors">): boolean {
  return Boolean(args.events || args.monitors || (args.servedMonitors ?? []).some((s) => s.settings));
}

/** The own monitors' blocks (if any) followed by the served stacks' (if any), with their heading lines; undefined when neither. */
function withServedMonitors(
  own: { blocks: AlloyBlock[]; comment: string } | undefined,
  served: readonly ServedMonitors[],
): { blocks: AlloyBlock[]; comment: string | string[] } | undefined {
  const blocks = served.flatMap(servedMonitorBlocks);
  if (blocks.length === 0) return own;
  return { blocks: [...(own?.blocks ?? []), ...blocks], comment: [...(own ? [own.comment] : []), ...servedMonitorsComment(served)] };
}

/**
 * Where the agent connects, besides DNS: the API server (it discovers the node's pods) and
 * the stack's Loki pods, on Loki's push port while it scrapes monitors (lokiPushPortOf), Loki's own port otherwise;
 * and what its features add, each below. Usage reports are off.
 */
export function logCollectorEgressRules(
  args: Pick<
    LogCollectorArgs,
    "stackNamespace" | "environment" | "egress" | "otlp" | "shares" | "events" | "monitors" | "external" | "servedMonitors"
  >,
): EgressRule[] {
  const egress = args.egress ?? DEFAULT_EGRESS;
  const stackPod = (app: string) => ({
    namespaces: { "kubernetes.io/metadata.name": args.stackNamespace },
    pods: stackPods(app, args.environment),
  });
  const otlp = args.otlp;
  return [
    apiServerEgress(egress),
    // Loki's push port while the collector scrapes monitors (args.ts, lokiPushPortOf), Loki's own otherwise.
    { ports: [lokiPushPortOf(args)], to: [stackPod("loki")] },
    // Apps' OTLP and the monitors' samples to Prometheus' receivers (on its write port while the collector scrapes
    // monitors: args.ts, prometheusWritePortOf), spans to the traces backend.
    ...(otlp || args.monitors ? [{ ports: [prometheusWritePortOf(args)], to: [stackPod("prometheus")] }] : []),
    ...(otlp?.traces ? [{ ports: [OTLP_PORTS.grpc], to: [stackPod(TRACES_SERVICE)] }] : []),
    // Events or monitors: the Alloy cluster's gossip with the other nodes' collectors (the pods of this DaemonSet).
    ...(clustered(args) ? [{ ports: [ALLOY_PORT], to: [{ pods: stackPods(LOG_COLLECTOR_AGENT, args.environment) }] }] : []),
    // The Loki of each other stack it serves, on its push port: that stack's environment is not known here, its namespace
    // and Loki's name are.
    ...(args.shares ?? []).map((share) => ({
      ports: [LOKI_PUSH_PORT],
      to: [{ namespaces: { "kubernetes.io/metadata.name": share.stackNamespace }, pods: { "app.kubernetes.io/name": "loki" } }],
    })),
    // The Prometheus of each served stack whose monitors it scrapes, on its write port, picked by name as its Loki is.
    ...(args.servedMonitors ?? []).map((served) => ({
      ports: [PROMETHEUS_WRITE_PORT],
      to: [{ namespaces: { "kubernetes.io/metadata.name": served.stackNamespace }, pods: { "app.kubernetes.io/name": "prometheus" } }],
    })),
    // The monitors' targets: pods of any namespace, on their own ports.
    ...(args.monitors || (args.servedMonitors ?? []).length > 0 ? [{ to: [{ anyNamespace: true as const }] }] : []),
    // The external endpoint's port at any address: a NetworkPolicy cannot name its host.
    ...(args.external ? [anywhereOn([urlPort(args.external.url)])] : []),
    ...extraEgressRules(egress),
  ];
}

/**
 * The agent on every node, tainted ones included. Restricted like every other workload
 * (read-only root, no capabilities, no privilege escalation, default seccomp) except for
 * what tailing the node's pod logs takes, each commented where it is set: the host's pod
 * logs (read-only), a host directory for its state, root, and a service-account token.
 */
export class LogCollector extends StackComponent {
  public readonly daemonSet: k8s.apps.v1.DaemonSet;
  public readonly clusterRole: k8s.rbac.v1.ClusterRole;
  /** One target: every node's agent (job `alloy`), `instance` = the node name. */
  public readonly scrapeTargets: ScrapeTarget[];

  constructor(name: string, args: LogCollectorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitoring:index:LogCollector", name, opts);
    const agent = LOG_COLLECTOR_AGENT;
    const otlp = args.otlp;
    const shares = args.shares ?? [];
    const external = args.external;
    const credentialFile = `${EXTERNAL_LOKI_DIR}/credential`;
    const monitors = args.monitors;
    const ownMonitors = monitors
      ? {
          blocks: monitorBlocks({
            remoteWriteUrl: prometheusRemoteWriteUrl(args.stackNamespace, prometheusWritePortOf(args)),
            ...(monitors.namespaces ? { namespaces: monitors.namespaces } : {}),
            selector: monitors.selector,
            scrapeInterval: monitors.scrapeInterval,
            scrapeTimeout: monitors.scrapeTimeout,
            environment: args.environment,
            scrapedServices: monitors.scrapedServices,
            honorLabels: monitors.honorLabels,
            sampleLimit: monitors.sampleLimit,
          }),
          comment:
            "The Prometheus operator's ServiceMonitors, PodMonitors and Probes: each target scraped by one collector, remote-written to Prometheus.",
        }
      : undefined;
    const extra = withServedMonitors(ownMonitors, args.servedMonitors ?? []);
    const config = alloyConfig({
      lokiPushUrl: lokiPushUrl(args.stackNamespace, lokiPushPortOf(args)),
      ...(extra ? { extra } : {}),
      ...(external
        ? {
            external: {
              url: external.url,
              ...(external.tenant !== undefined ? { tenant: external.tenant } : {}),
              ...(external.auth?.type === "basic" ? { basicAuth: { username: external.auth.username, passwordFile: credentialFile } } : {}),
              ...(external.auth?.type === "bearer" ? { bearerTokenFile: credentialFile } : {}),
              ...(external.only ? { only: true } : {}),
            },
          }
        : {}),
      ...(args.namespaces ? { namespaces: args.namespaces } : {}),
      ...(args.journal ? { journal: true } : {}),
      ...(args.events ? { events: true, ...(args.eventsAlsoIn ? { eventsAlsoIn: args.eventsAlsoIn } : {}) } : {}),
      ...(shares.length > 0
        ? {
            shares: shares.map((share) => ({
              stackNamespace: share.stackNamespace,
              lokiPushUrl: lokiPushUrl(share.stackNamespace, LOKI_PUSH_PORT),
              namespaces: share.namespaces,
            })),
          }
        : {}),
      ...(otlp
        ? {
            otlp: {
              ...(otlp.traces ? { tracesEndpoint: tracesOtlpEndpoint(args.stackNamespace) } : {}),
              prometheusOtlpUrl: prometheusOtlpUrl(args.stackNamespace, prometheusWritePortOf(args)),
              lokiOtlpUrl: lokiOtlpUrl(args.stackNamespace, lokiPushPortOf(args)),
              spanMetricsInterval: otlp.scrapeInterval,
              memoryLimiter: otlpMemoryLimiter(args.resources.limits.memory),
              ...(otlp.apps ? { apps: otlp.apps } : {}),
            },
          }
        : {}),
    });
    const id: WorkloadIdentity = { name: agent, component: "log-collector", instance: args.environment, image: agent };
    const labels = standardLabels(id);
    const ns = args.namespace;

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      // It watches pods through the API, so its pods get a token; nothing else shares this account.
      { metadata: objectMeta(id, ns, agent), automountServiceAccountToken: true },
      { parent: this },
    );
    // Cluster-scoped names carry the namespace: two stacks in one cluster must not share a role.
    const clusterName = `${ns}-${agent}`;
    this.clusterRole = new k8s.rbac.v1.ClusterRole(
      `${name}-cluster-role`,
      {
        metadata: { name: clusterName, labels },
        // Pods to discover (every namespace's logs), nodes for the node role; read-only.
        rules: [
          { apiGroups: [""], resources: ["nodes", "pods"], verbs: ["get", "list", "watch"] },
          ...(monitors ? monitorReadRules() : []),
        ],
      },
      { parent: this },
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-cluster-role-binding`,
      {
        metadata: { name: clusterName, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: this.clusterRole.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: serviceAccount.metadata.name, namespace: ns }],
      },
      { parent: this },
    );
    if (args.events) {
      // Events: read-only, in the namespaces the stack watches (cluster-wide when it watches every one). Those of
      // the stacks it serves are granted by them (servedEventsAccess), since they may not exist yet when this deploys.
      eventsReadAccess(
        name,
        {
          clusterRoleName: `${clusterName}-events`,
          labels,
          namespaces: args.namespaces ? [...new Set([...args.namespaces, ...(args.eventsAlsoIn ?? [])])].sort() : undefined,
          subject: { namespace: ns, name: serviceAccount.metadata.name },
        },
        { parent: this },
      );
    }

    // The Secrets the monitors may name: `get` of those names, in their namespace, and nothing else.
    if (monitors) {
      monitorSecretsAccess(
        name,
        {
          roleName: `${clusterName}-monitor-secrets`,
          labels,
          secrets: monitors.secrets,
          subject: { namespace: ns, name: serviceAccount.metadata.name },
        },
        { parent: this },
      );
    }

    // The external endpoint's password or token: a Secret of the agents namespace, read by Alloy as a file.
    const externalSecret = external?.auth
      ? new k8s.core.v1.Secret(
          `${name}-external-loki`,
          {
            metadata: objectMeta(id, ns, `${agent}-external-loki`),
            type: "Opaque",
            stringData: { credential: pulumi.secret(external.auth.type === "basic" ? external.auth.password : external.auth.token) },
          },
          { parent: this },
        )
      : undefined;

    const configMap = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: objectMeta(id, ns, `${agent}-config`), data: { [ALLOY_CONFIG_FILE]: config } },
      { parent: this },
    );
    // The agent reads its file once, at start: the checksum rolls the pods when it changes.
    const checksum = configChecksum(config);

    this.daemonSet = new k8s.apps.v1.DaemonSet(
      `${name}-daemonset`,
      {
        metadata: objectMeta(id, ns, agent),
        spec: {
          selector: { matchLabels: selectorLabels(id) },
          updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
          template: {
            metadata: { labels, annotations: { "checksum/config": checksum } },
            spec: {
              serviceAccountName: serviceAccount.metadata.name,
              ...podPriority(args.priorityClassName),
              // Exception: a service-account token, because the agent discovers pods through the API.
              automountServiceAccountToken: true,
              // Every node, whatever its taints: a node's pods log wherever they run.
              tolerations: [{ operator: "Exists" }],
              nodeSelector: { "kubernetes.io/os": "linux" },
              // Exception: root (uid 0). The runtime writes pod logs as root:root, mode 0640,
              // so only root can read them. Root here holds no capability at all (every one
              // is dropped below): it reads root's own files and writes its own directory,
              // and cannot override permissions, escalate or touch anything else.
              securityContext: {
                runAsNonRoot: false,
                runAsUser: 0,
                runAsGroup: 0,
                seccompProfile: { type: "RuntimeDefault" },
              },
              containers: [
                {
                  name: agent,
                  image: imageOf(id),
                  args: [...ALLOY_ARGS, ...(clustered(args) ? alloyClusterArgs(ns) : [])],
                  // The node this pod runs on: which pods are this node's.
                  env: [{ name: "HOSTNAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
                  ports: [
                    { name: "http-metrics", containerPort: ALLOY_PORT, protocol: "TCP" },
                    ...(otlp
                      ? [
                          { name: "otlp-grpc", containerPort: OTLP_PORTS.grpc, protocol: "TCP" },
                          { name: "otlp-http", containerPort: OTLP_PORTS.http, protocol: "TCP" },
                        ]
                      : []),
                  ],
                  readinessProbe: httpProbe("/-/ready", "http-metrics", { initialDelaySeconds: 10 }),
                  // Alive while the HTTP server answers.
                  livenessProbe: httpProbe("/-/ready", "http-metrics", { initialDelaySeconds: 10, periodSeconds: 30 }),
                  resources: resourcesOf(args.resources),
                  securityContext: { ...restrictedContainerSecurity(), runAsNonRoot: false },
                  volumeMounts: [
                    { name: "config", mountPath: ALLOY_PATHS.config, readOnly: true },
                    { name: "pod-logs", mountPath: POD_LOGS_DIR, readOnly: true },
                    { name: "state", mountPath: ALLOY_PATHS.storage },
                    { name: "tmp", mountPath: "/tmp" },
                    ...(externalSecret ? [{ name: "external-loki", mountPath: EXTERNAL_LOKI_DIR, readOnly: true }] : []),
                    ...(args.journal ? journalMounts() : []),
                  ],
                },
              ],
              volumes: [
                { name: "config", configMap: { name: configMap.metadata.name } },
                // Exception: the node's pod logs, read-only: what the agent is for. With
                // containerd (k3s included) they are real files under /var/log/pods.
                { name: "pod-logs", hostPath: { path: POD_LOGS_DIR, type: "Directory" } },
                // Exception: a host directory of its own for its state (how far each file has
                // been read). On the node, not in the pod, so that a restart or an upgrade
                // resumes where it stopped instead of sending every file again.
                { name: "state", hostPath: { path: `/var/lib/${agent}-${ns}`, type: "DirectoryOrCreate" } },
                scratchVolume("tmp"),
                ...(externalSecret
                  ? [{ name: "external-loki", secret: { secretName: externalSecret.metadata.name, defaultMode: 0o440 } }]
                  : []),
                ...(args.journal ? journalVolumes() : []),
              ],
            },
          },
        },
      },
      { parent: this },
    );

    // Headless: Prometheus scrapes every node's agent, never a load-balanced address.
    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: objectMeta(id, ns, agent),
        spec: {
          clusterIP: "None",
          selector: selectorLabels(id),
          ports: [{ name: "http-metrics", port: ALLOY_PORT, targetPort: "http-metrics", protocol: "TCP" }],
        },
      },
      { parent: this },
    );

    if (otlp) {
      // Where apps send OTLP: the Alloy of their own node (Local), which knows its pods and
      // sends what it receives on with their namespace, pod and app.
      new k8s.core.v1.Service(
        `${name}-otlp-service`,
        {
          metadata: objectMeta(id, ns, OTLP_SERVICE),
          spec: {
            selector: selectorLabels(id),
            internalTrafficPolicy: "Local",
            ports: [
              { name: "otlp-grpc", port: OTLP_PORTS.grpc, targetPort: "otlp-grpc", protocol: "TCP", appProtocol: "grpc" },
              { name: "otlp-http", port: OTLP_PORTS.http, targetPort: "otlp-http", protocol: "TCP" },
            ],
          },
        },
        { parent: this },
      );
    }

    // Prometheus scrapes the agent; with the OTLP endpoint, the pods of the namespaces of the apps that send OTLP may send to it.
    // It only opens connections (to the API, Loki, and with OTLP Prometheus and the traces backend); with events its pods gossip among themselves.
    workloadPolicies(
      name,
      { id, namespace: ns, name: agent },
      {
        ingress: [
          {
            ports: [ALLOY_PORT],
            from: [{ namespaces: { "kubernetes.io/metadata.name": args.stackNamespace }, pods: prometheusPodLabels(args.environment) }],
          },
          ...(otlp && otlp.fromNamespaces.length > 0
            ? [
                {
                  ports: [OTLP_PORTS.grpc, OTLP_PORTS.http],
                  from: otlp.fromNamespaces.map((ns) => ({ namespaces: { "kubernetes.io/metadata.name": ns } })),
                },
              ]
            : []),
          // The cluster's gossip (events, monitors): the other nodes' collectors, on the HTTP port.
          ...(clustered(args) ? [{ ports: [ALLOY_PORT], from: [{ pods: selectorLabels(id) }] }] : []),
        ],
        egress: logCollectorEgressRules(args),
      },
      { parent: this },
    );

    if (shares.length > 0) {
      // What this collector sends for other stacks, for their deployments to check before they rely on it (preflight/shared-logs.ts).
      new k8s.core.v1.ConfigMap(
        `${name}-shared-logs`,
        {
          metadata: objectMeta(id, ns, SHARED_LOGS_CONFIGMAP),
          data: {
            [SHARED_LOGS_KEY]: sharedLogsRecord(shares),
            // The monitors' settings applied for each served stack, for its deployment to compare with its own.
            ...(args.servedMonitors && args.servedMonitors.length > 0
              ? { [APPLIED_MONITORS_KEY]: appliedMonitorsRecord(args.servedMonitors) }
              : {}),
          },
        },
        { parent: this },
      );
    }

    this.scrapeTargets = [{ job: agent, namespace: ns, selector: selectorLabels(id), port: "http-metrics", instance: "node" }];
    this.registerOutputs({ scrapeTargets: this.scrapeTargets });
  }
}
