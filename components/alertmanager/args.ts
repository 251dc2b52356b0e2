/** The Alertmanager component's args and its ports. */
import { EgressSettings } from "../kit/network";
import { Profile, withOverrides } from "../kit/profiles";
import { ResourceRequirements, StorageSpec, requirements } from "../kit/resources";
import { ScrapeTarget, SERVICE_PORTS } from "../kit/services";
import { WorkloadIdentity } from "../kit/labels";
import type { AlertReceiver, MailServer } from "./receivers";
import type { AlertTimeInterval } from "./time-intervals";

export type { AlertReceiver } from "./receivers";

/**
 * The receivers a stack may configure (section.ts resolves them from the secret keys): the legacy keys'
 * receivers, for the default tree (critical and warning split), and the dead man's switch in both trees.
 */
export interface AlertReceivers {
  discord?: { webhookUrl?: string; criticalWebhookUrl?: string };
  webhook?: { url: string };
  deadMansSwitch?: { url: string };
}

/** One route below the Watchdog's, in order. */
export interface AlertRoute {
  receiver: string;
  /** Normalised matchers (`label="value"`); empty matches every alert. */
  matchers: string[];
  continue: boolean;
  groupBy?: string[];
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  /** Names of the routing's timeIntervals during which the route sends nothing. */
  muteTimeIntervals?: string[];
  /** Names of the routing's timeIntervals outside which the route sends nothing. */
  activeTimeIntervals?: string[];
}

export interface AlertRouting {
  receivers: AlertReceiver[];
  routes: AlertRoute[];
  /** The root route's receiver: what no route takes. */
  defaultReceiver: string;
  smtp?: MailServer;
  /** Named intervals the routes mute or activate by (alertmanager.yml's time_intervals). Default none. */
  timeIntervals?: AlertTimeInterval[];
}

/** Ports, paths and names other components rely on. */
export const ALERTMANAGER_PORT = SERVICE_PORTS.alertmanager;

export const MESH_PORT = 9094;

/** The Service Prometheus sends alerts to: every ready pod behind it is a peer to notify. */
export type AlertmanagerPeers = Pick<ScrapeTarget, "namespace" | "selector" | "port">;

export interface AlertmanagerArgs {
  /** Namespace of the stack (created by MonitoringNamespace; pass it as a dependency). */
  namespace: string;
  /** The stack's environment: the app.kubernetes.io/instance label, and named in every message. */
  environment: string;
  /** Number of peers. More than one forms a gossip cluster with a PodDisruptionBudget and anti-affinity; one runs unclustered. */
  replicas: number;
  /** group_wait of the root route, e.g. "30s". */
  groupWait: string;
  /** group_interval of the root route, e.g. "5m". */
  groupInterval: string;
  /** repeat_interval of the root route, e.g. "4h". */
  repeatInterval: string;
  /** Receivers with their webhook URLs (plain here; the component keeps them in a Kubernetes Secret). None: the `null` receiver and a warning. */
  receivers: AlertReceivers;
  /** The team's own receivers, routes and mail server (secrets plain here, kept in the Secret); replaces the default split. Default none. */
  routing?: AlertRouting;
  /** Volume of each peer, for silences and the notification log: a claim `data-alertmanager-<ordinal>` per peer. */
  storage: StorageSpec;
  /** Requests and limits of the Alertmanager container. */
  resources: ResourceRequirements;
  /**
   * Protect each peer's claim (silences, notification log) from deletion and replacement,
   * and keep it in the cluster when it leaves the stack (`protect` + `retainOnDelete`).
   * Default false: the claims go with the stack.
   */
  protectVolumes?: boolean;
  /** The URL users reach Alertmanager at, used in links of messages. Default: the in-cluster Service URL. */
  externalUrl?: string;
  /**
   * How often silences and the notification log are written to the volume and expired ones dropped
   * (`--data.maintenance-interval`): shorter while backups copy those files, so that a backup waits
   * less for a write that holds every silence. Default Alertmanager's (15m).
   */
  maintenanceInterval?: string;
  /** Admit Traefik's pods (kube-system) to the HTTP port, when Traefik exposes the UI. Default false. */
  ingressFromTraefik?: boolean;
  /** Admit the stack's cloudflared pods to the HTTP port, when the tunnel exposes the UI. Default false. */
  ingressFromCloudflared?: boolean;
  /** Admit the stack's Loki pods to the HTTP port: its ruler sends the alerts of the LogQL rules. Default false. */
  ingressFromLoki?: boolean;
  /** Further destinations of its egress (config networkPolicy.extraEgress.alertmanager). Default DEFAULT_EGRESS. */
  egress?: EgressSettings;
  /** The stack's PriorityClass for the pods. Default none. */
  priorityClassName?: string;
}

/** Who Alertmanager is, for labels and selectors. */
export function alertmanagerIdentity(environment: string): WorkloadIdentity {
  return { name: "alertmanager", component: "alerting", instance: environment, image: "alertmanager" };
}

/**
 * The URL of each Alertmanager peer of a stack, for a sender that is told them rather than
 * discovering them (Loki's ruler): one Service URL with one peer, else each pod by its stable name
 * under the peers' headless Service (`alertmanager-<n>.alertmanager-cluster.<namespace>.svc`).
 */
export function alertmanagerPeerUrls(namespace: string, replicas: number): string[] {
  if (replicas <= 1) return [`http://alertmanager.${namespace}.svc:${ALERTMANAGER_PORT}`];
  return Array.from({ length: replicas }, (_, i) => `http://alertmanager-${i}.alertmanager-cluster.${namespace}.svc:${ALERTMANAGER_PORT}`);
}

/** What a profile sets of Alertmanager (config `alertmanager`): every key but routing, which has no default. */
export type AlertmanagerDefaults = Required<
  Pick<AlertmanagerArgs, "replicas" | "groupWait" | "groupInterval" | "repeatInterval" | "receivers" | "storage" | "resources">
>;

const ALERTMANAGER_STAGING: AlertmanagerDefaults = {
  replicas: 1,
  groupWait: "30s",
  groupInterval: "5m",
  repeatInterval: "12h",
  receivers: {},
  storage: { size: "1Gi" },
  // npm run bench: 42 MiB and 1m steady, 43 MiB at the peak (× 1.25, × 2).
  resources: requirements("5m", "64Mi", "200m", "96Mi"),
};

/** Alertmanager's defaults in each profile: production runs three peers and repeats every 4 hours (kit/profiles.ts: the headroom). */
export const ALERTMANAGER_DEFAULTS: Record<Profile, AlertmanagerDefaults> = {
  staging: ALERTMANAGER_STAGING,
  production: withOverrides(ALERTMANAGER_STAGING, {
    replicas: 3,
    repeatInterval: "4h",
    resources: requirements("5m", "64Mi", "200m", "144Mi"),
  }),
};
