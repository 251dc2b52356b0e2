/**
 * Alertmanager: routing to the humans' channels — by default by severity (Discord, a
 * generic webhook), or the team's own tree of named receivers (Slack with one webhook per
 * channel, Discord, webhook, email) and routes matching any label — the Watchdog to a dead
 * man's switch, inhibition of warnings by their critical twin, and a StatefulSet that keeps
 * silences and the notification log on a volume (a gossiping cluster of peers in production).
 *
 * The config is written for the deployed Alertmanager (images.alertmanager); the tests
 * check it with that release's amtool and run that release. Secrets (webhook URLs, the SMTP
 * password) are written into the config, which lives in a Kubernetes Secret; the offline
 * render shows it with only those values masked (cli/render.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import type { ResourceRequirements } from "../kit/resources";
import {
  anywhereOn,
  DEFAULT_EGRESS,
  EgressRule,
  extraEgressRules,
  IngressPeer,
  ingressPolicySpec,
  TRAEFIK_PODS,
  workloadPolicies,
} from "../kit/network";
import { ScrapeTarget, serviceUrl } from "../kit/services";
import { imageOf, objectMeta, selectorLabels, stackPods } from "../kit/labels";
import { httpProbe, resourcesOf, restrictedContainerSecurity, restrictedPodSecurity, spreadAcrossNodes } from "../kit/pods";
import { replicatedStore } from "../kit/volumes";
import { StackComponent } from "../kit/component";
import { podPriority } from "../kit/priority";
import { refuseProblems } from "../kit/problems";
import { WEB_CONFIG_FILE, webConfig } from "../kit/web";
import { images } from "../images";
import { ALERTMANAGER_PORT, MESH_PORT, AlertmanagerPeers, AlertmanagerArgs, alertmanagerIdentity } from "./args";
import { hasHumanReceiver, alertmanagerConfig, alertmanagerTemplates, receiverPorts } from "./config-file";
import { problems } from "./section";
import { JOB } from "../kit/stack-jobs";

const RELOADER_PORT = 8080;

const CONFIG_DIR = "/etc/alertmanager/config";

const CONFIG_FILE = "alertmanager.yml";

const DATA_DIR = "/alertmanager";

/** Requests and limits of the config-reloader sidecar: it sleeps until a file changes. */
const RELOADER_RESOURCES: ResourceRequirements = {
  requests: { cpu: "5m", memory: "16Mi" },
  limits: { cpu: "50m", memory: "32Mi" },
};

/**
 * Where Alertmanager connects, besides DNS: the other peers on the gossip port (TCP and UDP),
 * when clustered, and the receivers' hosts on their ports at any address (a NetworkPolicy
 * cannot name a host). Its config reloader only calls it on 127.0.0.1.
 */
export function alertmanagerEgressRules(
  args: Pick<AlertmanagerArgs, "replicas" | "receivers" | "routing" | "egress" | "environment">,
): EgressRule[] {
  const ports = receiverPorts(args.receivers, args.routing);
  const peers: EgressRule = {
    ports: [
      { port: MESH_PORT, protocol: "TCP" },
      { port: MESH_PORT, protocol: "UDP" },
    ],
    to: [{ pods: selectorLabels(alertmanagerIdentity(args.environment)) }],
  };
  return [
    ...(args.replicas > 1 ? [peers] : []),
    ...(ports.length > 0 ? [anywhereOn(ports)] : []),
    ...extraEgressRules(args.egress ?? DEFAULT_EGRESS),
  ];
}

/**
 * Alertmanager with its config in a Secret, its templates in a ConfigMap, both
 * hot-reloaded by a sidecar so that a config change never restarts a pod.
 */
export class Alertmanager extends StackComponent {
  /** In-cluster URL of the `alertmanager` Service. */
  public readonly url: pulumi.Output<string>;
  /** The `alertmanager` Service, for Prometheus to discover and notify every peer. */
  public readonly peers: AlertmanagerPeers;
  /** Alertmanager's own metrics. */
  public readonly scrapeTargets: ScrapeTarget[];
  public readonly statefulSet: k8s.apps.v1.StatefulSet;
  /** The data claim of each peer, by ordinal: the only objects that hold silences and the notification log. */
  public readonly claims: k8s.core.v1.PersistentVolumeClaim[];

  constructor(name: string, args: AlertmanagerArgs, opts?: pulumi.ComponentResourceOptions) {
    refuseProblems("Alertmanager", name, problems(args), opts);
    super("monitoring:index:Alertmanager", name, opts);
    if (!hasHumanReceiver(args.receivers, args.routing)) {
      pulumi.log.warn(
        "No alert receiver is configured (alertmanager.receivers, or discordWebhookUrl, discordCriticalWebhookUrl or webhookUrl): " +
          `alerts of "${args.environment}" go to the "null" receiver and nobody is notified.`,
        this,
      );
    }

    const id = alertmanagerIdentity(args.environment);
    const selector = selectorLabels(id);
    const ns = args.namespace;
    const clustered = args.replicas > 1;
    const serviceName = "alertmanager";
    // The StatefulSet: its pods are alertmanager-<ordinal>, its claims data-alertmanager-<ordinal>.
    const statefulSetName = "alertmanager";
    const meshServiceName = "alertmanager-cluster";
    const inClusterUrl = serviceUrl(serviceName, ns, ALERTMANAGER_PORT);

    const configYaml = YAML.stringify(alertmanagerConfig(args), { lineWidth: 0, aliasDuplicateObjects: false });
    // The config holds webhook URLs: a Secret, and a Pulumi secret in the state.
    const config = new k8s.core.v1.Secret(
      `${name}-config`,
      { metadata: objectMeta(id, ns, "alertmanager-config"), type: "Opaque", stringData: { [CONFIG_FILE]: pulumi.secret(configYaml) } },
      { parent: this },
    );
    const templates = new k8s.core.v1.ConfigMap(
      `${name}-templates`,
      { metadata: objectMeta(id, ns, "alertmanager-templates"), data: alertmanagerTemplates({ environment: args.environment }) },
      { parent: this },
    );
    // Read on every request: the security headers Traefik's middleware would add, for the tunnel too.
    const web = new k8s.core.v1.ConfigMap(
      `${name}-web`,
      { metadata: objectMeta(id, ns, "alertmanager-web"), data: { [WEB_CONFIG_FILE]: YAML.stringify(webConfig()) } },
      { parent: this },
    );

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: objectMeta(id, ns, serviceName),
        spec: { selector, ports: [{ name: "http", port: ALERTMANAGER_PORT, targetPort: "http", protocol: "TCP" }] },
      },
      { parent: this },
    );
    // The StatefulSet's governing Service: stable DNS names per pod, the peers' addresses.
    const meshService = new k8s.core.v1.Service(
      `${name}-cluster-service`,
      {
        metadata: objectMeta(id, ns, meshServiceName),
        spec: {
          clusterIP: "None",
          // Peers must find each other while they start, before any is ready.
          publishNotReadyAddresses: true,
          selector,
          ports: clustered
            ? [
                { name: "tcp-mesh", port: MESH_PORT, targetPort: "tcp-mesh", protocol: "TCP" },
                { name: "udp-mesh", port: MESH_PORT, targetPort: "udp-mesh", protocol: "UDP" },
              ]
            : [],
        },
      },
      { parent: this },
    );

    const peerFlags = Array.from(
      { length: args.replicas },
      (_, i) => `--cluster.peer=${statefulSetName}-${i}.${meshServiceName}.${ns}.svc:${MESH_PORT}`,
    );
    const clusterFlags = clustered
      ? [
          `--cluster.listen-address=0.0.0.0:${MESH_PORT}`,
          `--cluster.advertise-address=$(POD_IP):${MESH_PORT}`,
          // Peers drop gossip that carries another label: a peer of another stack that reaches this
          // one (a recycled pod IP it still reconnects to, a peer list pointing at the wrong Service)
          // never merges the two stacks' silences and notification logs. The namespace is the one
          // name no two stacks on a cluster share.
          `--cluster.label=${ns}`,
          ...peerFlags,
        ]
      : // An empty listen address turns clustering off: a lone peer has nobody to gossip with.
        ["--cluster.listen-address="];

    const podSpec: k8s.types.input.core.v1.PodSpec = {
      automountServiceAccountToken: false,
      ...podPriority(args.priorityClassName),
      securityContext: restrictedPodSecurity(65534),
      ...(clustered ? { affinity: spreadAcrossNodes(id) } : {}),
      containers: [
        {
          name: "alertmanager",
          image: imageOf(id),
          args: [
            `--config.file=${CONFIG_DIR}/${CONFIG_FILE}`,
            `--storage.path=${DATA_DIR}`,
            `--web.listen-address=:${ALERTMANAGER_PORT}`,
            `--web.external-url=${args.externalUrl ?? inClusterUrl}`,
            `--web.config.file=${CONFIG_DIR}/${WEB_CONFIG_FILE}`,
            `--data.maintenance-interval=${args.maintenanceInterval}`,
            // The notification counters by receiver too (receiver_name), not only by integration:
            // `npm run alert:test` tells which receiver delivered and which failed from them.
            "--enable-feature=receiver-name-in-metrics",
            ...clusterFlags,
          ],
          ...(clustered ? { env: [{ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }] } : {}),
          ports: [
            { name: "http", containerPort: ALERTMANAGER_PORT, protocol: "TCP" },
            ...(clustered
              ? [
                  { name: "tcp-mesh", containerPort: MESH_PORT, protocol: "TCP" },
                  { name: "udp-mesh", containerPort: MESH_PORT, protocol: "UDP" },
                ]
              : []),
          ],
          readinessProbe: httpProbe("/-/ready", "http", { periodSeconds: 10 }),
          livenessProbe: httpProbe("/-/healthy", "http", { initialDelaySeconds: 10, periodSeconds: 20 }),
          resources: resourcesOf(args.resources),
          securityContext: restrictedContainerSecurity(),
          volumeMounts: [
            { name: "config", mountPath: CONFIG_DIR, readOnly: true },
            { name: "data", mountPath: DATA_DIR },
          ],
        },
        {
          // Applies config and template changes in place (POST /-/reload): silences,
          // the notification log and cluster membership survive, no pod restarts.
          name: "config-reloader",
          image: images.configReloader,
          args: [
            `--reload-url=http://127.0.0.1:${ALERTMANAGER_PORT}/-/reload`,
            `--watched-dir=${CONFIG_DIR}`,
            `--listen-address=:${RELOADER_PORT}`,
          ],
          ports: [{ name: "reloader-web", containerPort: RELOADER_PORT, protocol: "TCP" }],
          readinessProbe: httpProbe("/healthz", "reloader-web"),
          livenessProbe: httpProbe("/healthz", "reloader-web", { periodSeconds: 20 }),
          resources: resourcesOf(RELOADER_RESOURCES),
          securityContext: restrictedContainerSecurity(),
          volumeMounts: [{ name: "config", mountPath: CONFIG_DIR, readOnly: true }],
        },
      ],
      volumes: [
        {
          // One directory as the containers see it (and as the render writes it): the
          // config finds its templates next to it. A whole-directory mount, not subPath,
          // so that the kubelet updates the files in place.
          name: "config",
          projected: {
            sources: [
              { secret: { name: config.metadata.name, items: [{ key: CONFIG_FILE, path: CONFIG_FILE }] } },
              { configMap: { name: templates.metadata.name } },
              { configMap: { name: web.metadata.name } },
            ],
          },
        },
      ],
    };

    // Each peer's silences and notification log live on its claim. No checksum annotation on the
    // pod template: a config change must reload, not restart. Peers do not need each other to
    // start; starting them together forms the cluster sooner.
    const store = replicatedStore(
      name,
      { id, namespace: ns, statefulSet: statefulSetName, serviceName: meshService.metadata.name, podSpec },
      args,
      this,
    );
    this.claims = store.claims;
    this.statefulSet = store.statefulSet;

    const peer = (app: string): IngressPeer => ({ pods: stackPods(app, args.environment) });
    const clients = [peer("prometheus"), peer("grafana")];
    if (args.ingressFromTraefik) clients.push(TRAEFIK_PODS);
    if (args.ingressFromCloudflared) clients.push(peer("cloudflared"));
    if (args.ingressFromLoki) clients.push(peer("loki"));
    const httpPolicy = ingressPolicySpec(selector, [{ ports: [ALERTMANAGER_PORT], from: clients }]);
    // Gossip runs over TCP and UDP on the same port (kit's helper writes TCP rules), between peers only.
    const meshRule: k8s.types.input.networking.v1.NetworkPolicyIngressRule = {
      ports: [
        { protocol: "TCP", port: MESH_PORT },
        { protocol: "UDP", port: MESH_PORT },
      ],
      from: [{ podSelector: { matchLabels: selector } }],
    };
    const policy = {
      ...httpPolicy,
      ingress: [
        ...((httpPolicy.ingress ?? []) as k8s.types.input.networking.v1.NetworkPolicyIngressRule[]),
        ...(clustered ? [meshRule] : []),
      ],
    };
    workloadPolicies(
      name,
      { id, namespace: ns, name: "alertmanager" },
      { ingress: policy, egress: alertmanagerEgressRules(args) },
      { parent: this },
    );

    this.url = pulumi.interpolate`http://${service.metadata.name}.${service.metadata.namespace}.svc:${ALERTMANAGER_PORT}`;
    this.peers = { namespace: ns, selector, port: "http" };
    this.scrapeTargets = [{ job: JOB.alertmanager, namespace: ns, selector, port: "http" }];
    this.registerOutputs({ url: this.url });
  }
}
