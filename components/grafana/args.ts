/** The Grafana component's args, and its fixed names and paths. */
import * as pulumi from "@pulumi/pulumi";
import { EgressSettings } from "../kit/network";
import { SERVICE_PORTS } from "../kit/services";
import type { DashboardFile, DashboardRow } from "./dashboards";
import type { GrafanaDatabase, GrafanaSettings } from "./section";
import type { CloudflareAccessIdentity, SignIn } from "./sign-in";

/** Grafana's HTTP port (UI, API, /metrics). */
export const GRAFANA_PORT = SERVICE_PORTS.grafana;

/** The uid of the official image's `grafana` user. */
export const GRAFANA_UID = 472;

/** Where the pod sees its files. */
export const PATHS = {
  /** The image's Grafana installation (its conf/defaults.ini), which `grafana cli` needs to be told. */
  home: "/usr/share/grafana",
  config: "/etc/grafana-config",
  secrets: "/etc/grafana-secrets",
  provisioning: "/etc/grafana/provisioning",
  dashboards: "/etc/grafana/dashboards",
  /** An empty directory, for the provider that makes the writable folder (see grafanaDashboardProviders). */
  writableFolder: "/etc/grafana/writable-folder",
  data: "/var/lib/grafana",
  logs: "/var/log/grafana",
};

/** ConfigMap and Secret keys; dashboard keys contain "__", so they never clash with these. */
export const KEYS = {
  ini: "grafana.ini",
  datasources: "datasources.yaml",
  providers: "dashboard-providers.yaml",
  adminUser: "admin-user",
  adminPassword: "admin-password",
  databasePassword: "database-password",
};

/**
 * The component's args: the section's values (section.ts: replicas, adminUser, writableFolder,
 * storage, resources, central), its secrets as Pulumi secrets (`Input`), and what the stack wires in.
 */
export interface GrafanaArgs extends Omit<GrafanaSettings, "adminPassword" | "database" | "signIn"> {
  /** Namespace of the stack; in-cluster URLs (datasources, internalUrl) are built from it. */
  namespace: string;
  /** The stack's environment: the app.kubernetes.io/instance label. */
  environment: string;
  /**
   * Password of the admin user, as a secret. Default: a random 32-character password
   * generated once and kept in the stack's state. Grafana itself applies it only when it
   * creates the admin user, on its first start; an init container applies it on every start
   * (`grafana cli admin reset-admin-password`), and a change rolls the pods, so that a new
   * password takes effect.
   */
  adminPassword?: pulumi.Input<string>;
  /**
   * The stack's salt (preflight/stack-salt.ts): keys the admin password's digest in the pod
   * template, so that the same password gives another digest in every stack.
   */
  stackSalt: Buffer;
  /** External database for Grafana's own state, its password a secret. Default: SQLite on the volume. */
  database?: GrafanaDatabase;
  /**
   * Protect the claim (SQLite: users, dashboards saved in the UI, alerts) from deletion and
   * replacement, and keep it in the cluster when it leaves the stack (`protect` +
   * `retainOnDelete`). The claim then stays even when a switch to an external database
   * with several replicas stops using it, so that the switch never makes Pulumi delete a
   * protected resource. Default false: the claim goes with the stack or when unused.
   */
  protectVolume?: boolean;
  /**
   * Hostname at which Traefik or the Cloudflare tunnel serves Grafana over HTTPS.
   * Default: none, Grafana is reached in-cluster only and its root URL is internalUrl.
   */
  publicHostname?: string;
  /** Provision the Loki datasource (loki.enabled). Default false. */
  loki?: boolean;
  /** Provision the traces datasource (tracing.enabled): Jaeger's query API, linked to Loki and Prometheus. Default false. */
  traces?: boolean;
  /** Prometheus' scrape interval: the datasource's minimum step. Default "15s". */
  scrapeInterval?: string;
  /** Admit Traefik pods from kube-system to Grafana's port. Default false. */
  ingressFromTraefik?: boolean;
  /** Admit the Cloudflare tunnel's cloudflared pods to Grafana's port. Default false. */
  ingressFromCloudflared?: boolean;
  /** Further destinations of its egress (config networkPolicy.extraEgress.grafana). Default DEFAULT_EGRESS. */
  egress?: EgressSettings;
  /** The stack's PriorityClass for the pods. Default none. */
  priorityClassName?: string;
  /** Directory holding `<folder>/*.json` dashboards. Default: the repository's dashboards/. */
  dashboardsDir?: string;
  /**
   * Uids of dashboards of `dashboardsDir` left out because the component that feeds them does not
   * run (`logs` without Loki: components/stack/args.ts decides); the other dashboards' links to
   * them are removed. Default none.
   */
  withoutDashboards?: string[];
  /**
   * Rows of the dashboards of `dashboardsDir` left out, with their panels, because the component
   * that feeds them does not run (the traces rows without a traces backend). Default none.
   */
  withoutRows?: DashboardRow[];
  /** The team's own dashboards (preflight/team-content.ts), shipped beside those of `dashboardsDir`. */
  teamDashboards?: DashboardFile[];
  /**
   * Sign-in with the team's own accounts (config grafana.signIn), each client secret a secret
   * (`Input`) that reaches the pod only through the `grafana-sign-in` Secret; the OpenID Connect
   * endpoints given or discovered. Default none: the admin account alone signs in.
   */
  signIn?: SignIn<pulumi.Input<string>>;
  /**
   * With signIn.cloudflareAccess: the Access team, and the AUD tag of the Access application in
   * front of Grafana, from that resource's output.
   */
  cloudflareAccess?: CloudflareAccessIdentity<pulumi.Input<string>>;
}

/** The port each database engine listens on unless its `host` says another. */
export const DATABASE_DEFAULT_PORTS: Readonly<Record<GrafanaDatabase["type"], number>> = { postgres: 5432, mysql: 3306 };
