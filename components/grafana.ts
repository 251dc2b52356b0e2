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
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as YAML from "yaml";
import { WRITABLE_FOLDER_DEFAULT, exposedBy, publicHostname } from "../config";
import type { ResourceRequirements, StackConfig, StorageSpec } from "../config";
import { imageVersion } from "./images";
import { saltFor } from "./stack-salt";
import {
  IngressPeer,
  ingressPolicySpec,
  TRAEFIK_PODS,
  DEFAULT_EGRESS,
  EgressRule,
  EgressSettings,
  addressPort,
  anywhereOn,
  egressPolicyName,
  egressPolicySpec,
  egressSettings,
  extraEgressRules,
} from "./kit/network";
import { PART_OF, WorkloadIdentity, imageOf, objectMeta, selectorLabels, standardLabels, stackPods } from "./kit/labels";
import { ScrapeTarget, SERVICE_PORTS, serviceUrl } from "./kit/services";
import {
  httpProbe,
  resourcesOf,
  restrictedContainerSecurity,
  restrictedPodSecurity,
  spreadAcrossNodes,
  rolloutStrategy,
  oneAtATimeDisruptionBudget,
} from "./kit/pods";
import { scratchVolume, volumeOptions, DATA_CLAIM_ANNOTATIONS } from "./kit/volumes";
import { StackComponent } from "./kit/component";
import { podPriority, stackPriorityClass } from "./kit/priority";
import { HSTS_MAX_AGE_SECONDS, SECURITY_HEADERS } from "./kit/web";

/** Grafana's HTTP port (UI, API, /metrics). */
export const GRAFANA_PORT = SERVICE_PORTS.grafana;
/** The uid of the official image's `grafana` user. */
const GRAFANA_UID = 472;

/** Where the pod sees its files. */
const PATHS = {
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
const KEYS = {
  ini: "grafana.ini",
  datasources: "datasources.yaml",
  providers: "dashboard-providers.yaml",
  adminUser: "admin-user",
  adminPassword: "admin-password",
  databasePassword: "database-password",
};

/** Kubernetes refuses objects over 1 MiB (etcd's request limit, enforced on ConfigMap data). */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;
/** Room left for the rest of a dashboards ConfigMap: metadata, labels, the managed-fields entry of each key. */
export const CONFIGMAP_METADATA_MARGIN = 64 * 1024;
/** What the data of one dashboards ConfigMap may weigh, serialised. */
export const CONFIGMAP_DATA_BUDGET = CONFIGMAP_MAX_BYTES - CONFIGMAP_METADATA_MARGIN;

/** The repository's dashboards, read when the program runs. */
export const DEFAULT_DASHBOARDS_DIR = path.resolve(__dirname, "..", "dashboards");

export interface GrafanaDatabase {
  /** Database engine. */
  type: "postgres" | "mysql";
  /** `host` or `host:port`; without a port Grafana uses the engine's default. */
  host: string;
  /** Database name. */
  name: string;
  /** Database user. */
  user: string;
  /** The user's password (a secret); required. Reaches the pod only through a Kubernetes Secret. */
  password?: pulumi.Input<string>;
  /** TLS to the database: disable, require (encrypted, unverified) or verify-full. Default "require". */
  sslMode?: "disable" | "require" | "verify-full";
}

export interface GrafanaArgs {
  /** Namespace of the stack; in-cluster URLs (datasources, internalUrl) are built from it. */
  namespace: string;
  /** The stack's environment: the app.kubernetes.io/instance label. */
  environment: string;
  /** Number of Grafana pods. Default 1; more than one needs `database` (SQLite cannot be shared). */
  replicas?: number;
  /** Login of the admin user. Default "admin". */
  adminUser?: string;
  /**
   * Password of the admin user, as a secret. Default: a random 32-character password
   * generated once and kept in the stack's state. Grafana itself applies it only when it
   * creates the admin user, on its first start; an init container applies it on every start
   * (`grafana cli admin reset-admin-password`), and a change rolls the pods, so that a new
   * password takes effect.
   */
  adminPassword?: pulumi.Input<string>;
  /**
   * The stack's salt (components/stack-salt.ts): keys the admin password's digest in the pod
   * template, so that the same password gives another digest in every stack.
   */
  stackSalt: Buffer;
  /** External database for Grafana's own state. Default: SQLite on the volume. */
  database?: GrafanaDatabase;
  /**
   * Volume for SQLite and plugins (size and StorageClass), claim `grafana`. With `database`
   * and more than one replica the pods share no volume: the claim is then not created, or,
   * with `protectVolume`, kept but not mounted.
   */
  storage: StorageSpec;
  /**
   * Protect the claim (SQLite: users, dashboards saved in the UI, alerts) from deletion and
   * replacement, and keep it in the cluster when it leaves the stack (`protect` +
   * `retainOnDelete`). The claim then stays even when a switch to an external database
   * with several replicas stops using it, so that the switch never makes Pulumi delete a
   * protected resource. Default false: the claim goes with the stack or when unused.
   */
  protectVolume?: boolean;
  /** Requests and limits of the Grafana container. */
  resources: ResourceRequirements;
  /**
   * Hostname at which Traefik or the Cloudflare tunnel serves Grafana over HTTPS.
   * Default: none, Grafana is reached in-cluster only and its root URL is internalUrl.
   */
  publicHostname?: string;
  /** Provision the Loki datasource (loki.enabled). Default false. */
  loki?: boolean;
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
  /** The team's own dashboards (components/team-content.ts), shipped beside those of `dashboardsDir`. */
  teamDashboards?: DashboardFile[];
  /**
   * Title of the one folder users may save dashboards into from the UI (see
   * grafanaDashboardProviders); not the name of a folder of `dashboardsDir`. Default "Team dashboards".
   */
  writableFolder?: string;
}

// ---------------------------------------------------------------------------
// URLs

/** The Grafana component's args for a validated stack config. */
export function grafanaArgs(cfg: StackConfig, stackSalt: Buffer): GrafanaArgs {
  const g = cfg.grafana;
  const hostname = publicHostname(cfg, "grafana");
  return {
    namespace: cfg.namespace,
    environment: cfg.environment,
    stackSalt,
    replicas: g.replicas,
    adminUser: g.adminUser,
    writableFolder: g.writableFolder,
    ...(g.adminPassword !== undefined ? { adminPassword: pulumi.secret(g.adminPassword) } : {}),
    ...(g.database
      ? {
          database: {
            type: g.database.type,
            host: g.database.host,
            name: g.database.name,
            user: g.database.user,
            sslMode: g.database.sslMode,
            ...(g.database.password !== undefined ? { password: pulumi.secret(g.database.password) } : {}),
          },
        }
      : {}),
    storage: g.storage,
    protectVolume: cfg.protectVolumes,
    resources: g.resources,
    ...(hostname ? { publicHostname: hostname } : {}),
    loki: cfg.loki.enabled,
    scrapeInterval: cfg.prometheus.scrapeInterval,
    ingressFromTraefik: exposedBy(cfg, "grafana", "traefik"),
    ingressFromCloudflared: exposedBy(cfg, "grafana", "cloudflare"),
    egress: egressSettings(cfg, "grafana"),
    ...podPriority(stackPriorityClass(cfg)),
  };
}

/** The port each database engine listens on unless its `host` says another. */
export const DATABASE_DEFAULT_PORTS: Readonly<Record<GrafanaDatabase["type"], number>> = { postgres: 5432, mysql: 3306 };

/**
 * Where Grafana connects, besides DNS: its datasources' pods (Prometheus, Alertmanager, and
 * Loki when it runs) on their ports, and the external database's port at any address (a
 * NetworkPolicy cannot name its host). Nothing on the internet: update checks and usage
 * reports are off (grafanaIni), plugins come with the image.
 */
export function grafanaEgressRules(args: Pick<GrafanaArgs, "environment" | "loki" | "database" | "egress">): EgressRule[] {
  const peer = (app: "prometheus" | "alertmanager" | "loki"): EgressRule => ({
    ports: [SERVICE_PORTS[app]],
    to: [{ pods: stackPods(app, args.environment) }],
  });
  const db = args.database;
  const dbPort = db ? (db.host.includes(":") ? addressPort(db.host) : DATABASE_DEFAULT_PORTS[db.type]) : undefined;
  return [
    peer("prometheus"),
    peer("alertmanager"),
    ...(args.loki ? [peer("loki")] : []),
    ...(dbPort !== undefined ? [anywhereOn([dbPort])] : []),
    ...extraEgressRules(args.egress ?? DEFAULT_EGRESS),
  ];
}

/** The scrape target of Grafana's own metrics, known before the component exists (Prometheus is built first). */
function grafanaScrapeTargets(args: Pick<GrafanaArgs, "namespace" | "environment">): ScrapeTarget[] {
  return [
    {
      job: "grafana",
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

// ---------------------------------------------------------------------------
// grafana.ini

/** An INI document: sections in order, each a map of keys to values. */
export type IniDocument = Record<string, Record<string, string | number | boolean>>;

/**
 * Serialises an INI document the way Grafana's parser (go-ini) reads it back.
 * Values holding a comment character or edge whitespace are backquoted; values
 * that cannot be written on one line are refused.
 */
export function iniText(doc: IniDocument): string {
  const blocks: string[] = [];
  for (const [section, entries] of Object.entries(doc)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(section)) throw new Error(`INI section name "${section}" must match [A-Za-z0-9_.-]+`);
    const lines = [`[${section}]`];
    for (const [key, value] of Object.entries(entries)) {
      if (!/^[A-Za-z0-9_.-]+$/.test(key)) throw new Error(`INI key "${section}.${key}" must match [A-Za-z0-9_.-]+`);
      lines.push(`${key} = ${iniValue(`${section}.${key}`, value)}`);
    }
    blocks.push(lines.join("\n"));
  }
  return `${blocks.join("\n\n")}\n`;
}

function iniValue(where: string, value: string | number | boolean): string {
  if (typeof value !== "string") return String(value);
  if (/[\r\n]/.test(value)) throw new Error(`INI value of ${where} must fit on one line`);
  if (!/[#;`"]|^\s|\s$/.test(value)) return value;
  if (value.includes("`")) throw new Error(`INI value of ${where} needs quoting but contains a backquote`);
  return `\`${value}\``;
}

/** What grafana.ini depends on. */
export interface GrafanaIniArgs {
  /** The URL users open, e.g. https://grafana.example.com. */
  rootUrl: string;
  /** External database; default SQLite in the data directory. */
  database?: Omit<GrafanaDatabase, "password">;
}

/** Grafana's settings: locked down (no sign-up, no anonymous access, no phoning home). */
export function grafanaIni(args: GrafanaIniArgs): IniDocument {
  const url = new URL(args.rootUrl);
  const https = url.protocol === "https:";
  const db = args.database;
  const secretFile = (key: string) => `$__file{${PATHS.secrets}/${key}}`;
  return {
    // Where the server keeps its data and logs (the image's run.sh passes the same), written
    // here so that `grafana cli` in the init container, which reads only this file, finds them too.
    paths: { data: PATHS.data, logs: PATHS.logs, plugins: `${PATHS.data}/plugins`, provisioning: PATHS.provisioning },
    server: {
      protocol: "http",
      http_port: GRAFANA_PORT,
      domain: url.hostname,
      root_url: `${url.origin}/`,
      enforce_domain: false,
    },
    // The one header of kit's SECURITY_HEADERS that [security] has no setting for.
    "server.custom_response_headers": { "Referrer-Policy": SECURITY_HEADERS["Referrer-Policy"] },
    database: db
      ? {
          type: db.type,
          host: db.host,
          name: db.name,
          user: db.user,
          password: secretFile(KEYS.databasePassword),
          ssl_mode: databaseSslMode(db.type, db.sslMode ?? "require"),
        }
      : { type: "sqlite3", path: "grafana.db" },
    security: {
      admin_user: secretFile(KEYS.adminUser),
      admin_password: secretFile(KEYS.adminPassword),
      cookie_secure: https,
      cookie_samesite: "lax",
      disable_gravatar: true,
      // The security headers of Traefik's routes (kit's SECURITY_HEADERS), sent by Grafana itself:
      // the tunnel has no middleware to add them. HSTS only where Grafana is served over https.
      strict_transport_security: https,
      strict_transport_security_max_age_seconds: HSTS_MAX_AGE_SECONDS,
      strict_transport_security_subdomains: true,
      strict_transport_security_preload: false,
      x_content_type_options: true,
      // X-Frame-Options: deny.
      allow_embedding: false,
    },
    users: { allow_sign_up: false, allow_org_create: false },
    "auth.anonymous": { enabled: false },
    analytics: { reporting_enabled: false, check_for_updates: false, check_for_plugin_updates: false, feedback_links_enabled: false },
    news: { news_feed_enabled: false },
    // Publishing a snapshot would send dashboard data to snapshots.raintank.io.
    snapshots: { external_enabled: false },
    log: { mode: "console", level: "info" },
    // The scrape target below relies on it.
    metrics: { enabled: true },
  };
}

/** Grafana spells TLS modes per engine: libpq names for Postgres, true/false/skip-verify for MySQL. */
function databaseSslMode(type: GrafanaDatabase["type"], mode: NonNullable<GrafanaDatabase["sslMode"]>): string {
  if (type === "postgres") return mode;
  return { disable: "false", require: "skip-verify", "verify-full": "true" }[mode];
}

/** The use of the stack's salt that keys the admin password's digest (saltFor). */
export const ADMIN_PASSWORD_DIGEST_LABEL = "monitoring-stack/grafana-admin-password/v2";

/**
 * A digest of the admin password for the pod template's `checksum/admin-password`
 * annotation, so that a new password rolls the pods and the init container applies it. The
 * same on every `up` of a stack (no rollout when nothing changed), another in every stack.
 *
 * scrypt (N=2^15) with the stack's salt as its salt. The salt, a secret of the state, already
 * keeps anyone without the state from checking a guess against the annotation, which
 * whoever may read pods can read; scrypt rather than a fast HMAC so that it stays as costly
 * as a bcrypt hash for whoever has the salt without the password: the salt never changes, so
 * an old state export or backup keeps working against every later password. It costs about
 * 0.2 s of one core, once per deployment.
 */
export function adminPasswordDigest(password: string, stackSalt: Buffer): string {
  return crypto
    .scryptSync(password, saltFor(stackSalt, ADMIN_PASSWORD_DIGEST_LABEL), 16, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 })
    .toString("hex");
}

/**
 * The init container's command: `grafana cli admin reset-admin-password` with the password
 * from the mounted Secret on stdin (never in the process list). The CLI opens the database
 * as the server would (on a first start it creates the admin user first, from grafana.ini,
 * then sets the same password), so the Secret's password holds on every start. If it cannot
 * be applied (the admin user removed or demoted by hand), Grafana still starts, with the
 * password it has, and the container's log says why.
 */
export function adminPasswordResetCommand(): string[] {
  const cli = `grafana cli --homepath ${PATHS.home} --config ${PATHS.config}/${KEYS.ini}`;
  return [
    "/bin/sh",
    "-c",
    `${cli} admin reset-admin-password --password-from-stdin < ${PATHS.secrets}/${KEYS.adminPassword} ` +
      `|| echo "The admin password of the Secret could not be applied (see above): Grafana starts with the one it has." >&2`,
  ];
}

// ---------------------------------------------------------------------------
// Provisioning

/** What the datasources depend on. */
export interface GrafanaDatasourcesArgs {
  /** Namespace of the stack's Prometheus, Alertmanager and Loki Services. */
  namespace: string;
  /** Provision Loki. */
  loki: boolean;
  /** Prometheus' scrape interval: the smallest step worth querying. Default "15s". */
  scrapeInterval?: string;
}

/**
 * The datasources, with fixed uids that dashboards reference: `prometheus` (the
 * default), `loki` (when Loki runs) and `alertmanager`. A disabled Loki is deleted
 * so that turning it off does not leave a dead datasource behind.
 */
export function grafanaDatasources(args: GrafanaDatasourcesArgs): Record<string, unknown> {
  const datasources: Array<Record<string, unknown>> = [
    {
      name: "Prometheus",
      uid: "prometheus",
      type: "prometheus",
      access: "proxy",
      url: serviceUrl("prometheus", args.namespace, SERVICE_PORTS.prometheus),
      isDefault: true,
      editable: false,
      jsonData: {
        httpMethod: "POST",
        timeInterval: args.scrapeInterval ?? "15s",
        prometheusType: "Prometheus",
        prometheusVersion: imageVersion("prometheus").replace(/^v/, ""),
      },
    },
    {
      name: "Alertmanager",
      uid: "alertmanager",
      type: "alertmanager",
      access: "proxy",
      url: serviceUrl("alertmanager", args.namespace, SERVICE_PORTS.alertmanager),
      isDefault: false,
      editable: false,
      jsonData: { implementation: "prometheus", handleGrafanaManagedAlerts: false },
    },
  ];
  if (args.loki) {
    datasources.push({
      name: "Loki",
      uid: "loki",
      type: "loki",
      access: "proxy",
      url: serviceUrl("loki", args.namespace, SERVICE_PORTS.loki),
      isDefault: false,
      editable: false,
      jsonData: { maxLines: 1000 },
    });
  }
  return {
    apiVersion: 1,
    ...(args.loki ? {} : { deleteDatasources: [{ name: "Loki", orgId: 1 }] }),
    datasources,
  };
}

/** The uid of the writable folder: its identity, whatever its title. */
export const WRITABLE_FOLDER_UID = "writable-dashboards";

/**
 * Two file providers. `dashboards`: every dashboard of the repository, each directory under
 * the path a Grafana folder; the files are the source of truth (no saving from the UI), and a
 * removed file removes its dashboard. `writable-folder`: no dashboard at all, for its folder:
 * a provider with a `folder` (not foldersFromFilesStructure) gets or creates it at every scan
 * of its directory, even an empty one (Grafana's pkg/services/provisioning/dashboards,
 * storeDashboardsInFolder), so the folder exists on every start and comes back if deleted.
 * Dashboards users save there are not provisioned: Grafana lets them be edited and saved
 * like any other (its default permissions of a new top-level folder: Editors edit, Viewers
 * view), and the provider never deletes them (it deletes only dashboards it provisioned).
 * They live in Grafana's database; `npm run dashboard:export` brings one into the repository.
 */
export function grafanaDashboardProviders(writableFolder: string = WRITABLE_FOLDER_DEFAULT): Record<string, unknown> {
  return {
    apiVersion: 1,
    providers: [
      {
        name: "dashboards",
        orgId: 1,
        type: "file",
        disableDeletion: false,
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: PATHS.dashboards, foldersFromFilesStructure: true },
      },
      {
        name: "writable-folder",
        orgId: 1,
        type: "file",
        folder: writableFolder,
        folderUid: WRITABLE_FOLDER_UID,
        disableDeletion: true,
        allowUiUpdates: true,
        updateIntervalSeconds: 60,
        options: { path: PATHS.writableFolder },
      },
    ],
  };
}

// ---------------------------------------------------------------------------
// Dashboards

/** One dashboard file. */
export interface DashboardFile {
  /** Its directory under dashboards/: the Grafana folder. */
  folder: string;
  /** File name, e.g. node.json. */
  file: string;
  /** Where it comes from, for error messages, e.g. dashboards/infrastructure/node.json. */
  source: string;
  /** The file's text, shipped as is. */
  content: string;
}

/** One dashboards ConfigMap to create. */
export interface DashboardConfigMapPlan {
  folder: string;
  /** grafana-dashboards-<folder>-<n>, n from 1. */
  name: string;
  /** ConfigMap key (`<folder>__<file>`) to dashboard JSON. */
  data: Record<string, string>;
}

const NAME_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/**
 * Reads every `<dir>/<folder>/*.json`. A JSON file outside a folder, a nested
 * folder or a file that is not JSON would not reach Grafana, so each is an error.
 */
export function readDashboards(dir: string = DEFAULT_DASHBOARDS_DIR, shownAs: string = path.basename(dir)): DashboardFile[] {
  if (!fs.existsSync(dir)) return [];
  const shown = (...parts: string[]) => path.join(shownAs, ...parts);
  const found: DashboardFile[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isFile() && entry.name.endsWith(".json")) {
      throw new Error(
        `${shown(entry.name)}: dashboards live in a folder (dashboards/<folder>/<file>.json), which becomes their Grafana folder`,
      );
    }
    if (!entry.isDirectory()) continue;
    const folder = entry.name;
    for (const child of fs.readdirSync(path.join(dir, folder), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (child.isDirectory())
        throw new Error(`${shown(folder, child.name)}: nested folders are not supported; keep dashboards one level deep`);
      if (!child.isFile() || !child.name.endsWith(".json")) continue;
      const source = shown(folder, child.name);
      const content = fs.readFileSync(path.join(dir, folder, child.name), "utf8");
      let parsed: unknown;
      try {
        parsed = JSON.parse(content);
      } catch (err) {
        throw new Error(`${source} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        throw new Error(`${source} must hold one dashboard object`);
      found.push({ folder, file: child.name, source, content });
    }
  }
  return found;
}

/** A folder name as it appears in Kubernetes names: lower case, `.` and `_` as `-`. */
export function folderSlug(folder: string): string {
  return folder.toLowerCase().replace(/[._]/g, "-");
}

/** The ConfigMap key of a dashboard; the file is named so in the container. */
export function dashboardKey(d: Pick<DashboardFile, "folder" | "file">): string {
  return `${d.folder}__${d.file}`;
}

/** Bytes a dashboard adds to a ConfigMap's serialised data: `"key":"escaped json",`. */
export function dashboardEntryBytes(key: string, content: string): number {
  return Buffer.byteLength(JSON.stringify(key), "utf8") + Buffer.byteLength(JSON.stringify(content), "utf8") + 2;
}

function checkNames(dashboards: DashboardFile[]): void {
  const slugs = new Map<string, string>();
  const keys = new Set<string>();
  for (const d of dashboards) {
    if (!NAME_PATTERN.test(d.folder))
      throw new Error(`${d.source}: folder name "${d.folder}" may hold only letters, digits, '.', '_' and '-'`);
    if (!NAME_PATTERN.test(d.file) || !d.file.endsWith(".json")) {
      throw new Error(`${d.source}: file name "${d.file}" may hold only letters, digits, '.', '_' and '-', and ends in .json`);
    }
    const slug = folderSlug(d.folder);
    // The folder's volume is named dashboards-<slug>: a DNS label of at most 63 characters.
    if (`dashboards-${slug}`.length > 63) throw new Error(`${d.source}: folder name "${d.folder}" is too long (at most 52 characters)`);
    const other = slugs.get(slug);
    if (other !== undefined && other !== d.folder)
      throw new Error(`folders "${other}" and "${d.folder}" differ only in case or punctuation; rename one`);
    slugs.set(slug, d.folder);
    const key = dashboardKey(d);
    if (key.length > 253) throw new Error(`${d.source}: folder and file names together are too long for a ConfigMap key (253 characters)`);
    if (keys.has(key)) throw new Error(`${d.source} is listed twice`);
    keys.add(key);
  }
}

/**
 * Packs each folder's dashboards into as few ConfigMaps as fit the budget: first
 * fit, largest first, so the result depends only on the files. A dashboard that
 * alone exceeds the budget is an error naming its file.
 */
export function planDashboardConfigMaps(
  dashboards: DashboardFile[],
  budgetBytes: number = CONFIGMAP_DATA_BUDGET,
): DashboardConfigMapPlan[] {
  checkNames(dashboards);
  const folders = [...new Set(dashboards.map((d) => d.folder))].sort((a, b) => a.localeCompare(b));
  const plans: DashboardConfigMapPlan[] = [];
  for (const folder of folders) {
    const entries = dashboards
      .filter((d) => d.folder === folder)
      .map((d) => ({ d, key: dashboardKey(d), bytes: dashboardEntryBytes(dashboardKey(d), d.content) }))
      .sort((a, b) => b.bytes - a.bytes || a.key.localeCompare(b.key));
    const bins: Array<{ used: number; items: typeof entries }> = [];
    for (const entry of entries) {
      if (entry.bytes > budgetBytes) {
        throw new Error(
          `${entry.d.source} weighs ${entry.bytes} bytes serialised, more than one ConfigMap holds (${budgetBytes} bytes): split or slim the dashboard`,
        );
      }
      let bin = bins.find((b) => b.used + entry.bytes <= budgetBytes);
      if (!bin) {
        bin = { used: 0, items: [] };
        bins.push(bin);
      }
      bin.used += entry.bytes;
      bin.items.push(entry);
    }
    bins.forEach((bin, i) => {
      const items = [...bin.items].sort((a, b) => a.key.localeCompare(b.key));
      plans.push({
        folder,
        name: `grafana-dashboards-${folderSlug(folder)}-${i + 1}`,
        data: Object.fromEntries(items.map((item) => [item.key, item.d.content])),
      });
    });
  }
  return plans;
}

// ---------------------------------------------------------------------------
// The component

/** Several pods on an external database: they share no volume. */
function sharesNoVolume(args: Pick<GrafanaArgs, "database" | "replicas">): boolean {
  return args.database !== undefined && (args.replicas ?? 1) > 1;
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
    // Refuse bad input before anything is registered, so that nothing half-built is left behind.
    const replicas = args.replicas ?? 1;
    const refuse = (message: string) => new pulumi.ResourceError(`Grafana "${name}": ${message}`, opts?.parent);
    if (!Number.isInteger(replicas) || replicas < 1) throw refuse(`replicas must be a whole number of at least 1; got ${replicas}`);
    if (replicas > 1 && !args.database) {
      throw refuse(
        `replicas is ${replicas}, but SQLite cannot be shared between pods: give database (an external postgres or mysql) or use 1 replica`,
      );
    }
    if (args.database && args.database.password === undefined) throw refuse("database.password is required with an external database");
    const plans = planDashboardConfigMaps([...readDashboards(args.dashboardsDir), ...(args.teamDashboards ?? [])]);
    const writableFolder = args.writableFolder ?? WRITABLE_FOLDER_DEFAULT;
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
    const adminUser = args.adminUser ?? "admin";
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

    // Settings and provisioning: read at start, so a change rolls the pods (checksum below).
    const db = args.database;
    const iniArgs: GrafanaIniArgs = {
      rootUrl: this.url,
      ...(db
        ? { database: { type: db.type, host: db.host, name: db.name, user: db.user, ...(db.sslMode ? { sslMode: db.sslMode } : {}) } }
        : {}),
    };
    const files = {
      [KEYS.ini]: iniText(grafanaIni(iniArgs)),
      [KEYS.datasources]: YAML.stringify(
        grafanaDatasources({ namespace: ns, loki: args.loki ?? false, scrapeInterval: args.scrapeInterval }),
      ),
      [KEYS.providers]: YAML.stringify(grafanaDashboardProviders(writableFolder)),
    };
    const config = new k8s.core.v1.ConfigMap(`${name}-config`, { metadata: objectMeta(id, ns, "grafana-config"), data: files }, child);
    const checksum = crypto.createHash("sha256").update(JSON.stringify(files)).digest("hex");
    // A new password rolls the pods, whose init container applies it. Not a secret: a slow digest.
    const passwordChecksum = pulumi.unsecret(pulumi.output(password).apply((p) => adminPasswordDigest(p, args.stackSalt)));

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
              annotations: { "checksum/config": checksum, "checksum/admin-password": passwordChecksum },
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

    const peers: IngressPeer[] = [
      // Every pod of the stack: Prometheus scrapes /metrics.
      { pods: { "app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/instance": args.environment } },
    ];
    if (args.ingressFromTraefik) peers.push(TRAEFIK_PODS);
    if (args.ingressFromCloudflared) peers.push({ pods: stackPods("cloudflared", args.environment) });
    new k8s.networking.v1.NetworkPolicy(
      `${name}-network-policy`,
      { metadata: objectMeta(id, ns, "grafana"), spec: ingressPolicySpec(selector, [{ ports: [GRAFANA_PORT], from: peers }]) },
      child,
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-egress-policy`,
      { metadata: objectMeta(id, ns, egressPolicyName("grafana")), spec: egressPolicySpec(selector, grafanaEgressRules(args)) },
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
