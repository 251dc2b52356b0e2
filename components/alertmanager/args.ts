/** The Alertmanager component's args and its ports. */
import { EgressSettings } from "../kit/network";
import { ScrapeTarget, SERVICE_PORTS } from "../kit/services";
import { WorkloadIdentity } from "../kit/labels";
import type { AlertmanagerSettings } from "./section";

export type { AlertReceiver } from "./receivers";

/** Ports, paths and names other components rely on. */
export const ALERTMANAGER_PORT = SERVICE_PORTS.alertmanager;

export const MESH_PORT = 9094;

/** The Service Prometheus sends alerts to: every ready pod behind it is a peer to notify. */
export type AlertmanagerPeers = Pick<ScrapeTarget, "namespace" | "selector" | "port">;

/**
 * The component's args: the section's resolved values (section.ts: replicas, the root route's
 * grouping, the legacy keys' receivers and the team's routing, storage, resources), and what the
 * stack wires in.
 */
export interface AlertmanagerArgs extends Omit<AlertmanagerSettings, "deadMansSwitch"> {
  /** Namespace of the stack (created by MonitoringNamespace; pass it as a dependency). */
  namespace: string;
  /** The stack's environment: the app.kubernetes.io/instance label, and named in every message. */
  environment: string;
  /**
   * Protect each peer's claim (silences, notification log) from deletion and replacement,
   * and keep it in the cluster when it leaves the stack (`protect` + `retainOnDelete`).
   * Default false: the claims go with the stack.
   */
  protectVolumes?: boolean;
  /** The URL users reach Alertmanager at, used in links of messages. Default: the in-cluster Service URL. */
  externalUrl?: string;
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
