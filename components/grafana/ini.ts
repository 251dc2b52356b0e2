/** grafana.ini, and the admin password's digest and reset that keep the password the config gives. */
import { scryptHex } from "../kit/kdf";
import { saltFor } from "../kit/salt";
import { HSTS_MAX_AGE_SECONDS, SECURITY_HEADERS } from "../kit/web";
import { GRAFANA_PORT, PATHS, KEYS } from "./args";
import type { GrafanaDatabase } from "./section";
import { CloudflareAccessIdentity, SignIn, signInIni, signInUsers } from "./sign-in";

/** An INI document: sections in order, each a map of keys to values. */
export type IniDocument = Record<string, Record<string, string | number | boolean>>;

/**
 * Serialises an INI document the way Grafana's parser (go-ini) reads it back. Values holding a
 * comment character or edge whitespace are backquoted. Nothing go-ini would misread reaches it:
 * the section and key names are grafanaIni's own, and the values a stack gives fit on one line
 * without a backquote (config refuses control characters in every value, and a backquote in
 * grafana.database's name and user, whose host and the hostnames cannot hold one).
 */
export function iniText(doc: IniDocument): string {
  const blocks: string[] = [];
  for (const [section, entries] of Object.entries(doc)) {
    const lines = [`[${section}]`];
    for (const [key, value] of Object.entries(entries)) lines.push(`${key} = ${iniValue(value)}`);
    blocks.push(lines.join("\n"));
  }
  return `${blocks.join("\n\n")}\n`;
}

function iniValue(value: string | number | boolean): string {
  if (typeof value !== "string" || !/[#;`"]|^\s|\s$/.test(value)) return String(value);
  return `\`${value}\``;
}

/** What grafana.ini depends on. */
export interface GrafanaIniArgs {
  /** The URL users open, e.g. https://grafana.example.com. */
  rootUrl: string;
  /** External database; default SQLite in the data directory. */
  database?: Omit<GrafanaDatabase, "password">;
  /** Sign-in with the team's accounts (config grafana.signIn); the client secrets are read from files. */
  signIn?: SignIn<unknown>;
  /** With signIn.cloudflareAccess: the Access team and the AUD tag of Grafana's Access application. */
  cloudflareAccess?: CloudflareAccessIdentity;
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
    // Sign-up through the login form stays off; each sign-in provider's allow_sign_up is its own.
    users: { allow_sign_up: false, allow_org_create: false, ...(args.signIn ? signInUsers(args.signIn) : {}) },
    "auth.anonymous": { enabled: false },
    ...(args.signIn
      ? signInIni(args.signIn, {
          secretFile,
          ...(args.cloudflareAccess ? { cloudflareAccess: args.cloudflareAccess } : {}),
        })
      : {}),
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
 * an old state export or backup keeps working against every later password. It costs 0.2 to
 * 0.5 s of one core, once per deployment, on Node's thread pool while the program goes on.
 */
export function adminPasswordDigest(password: string, stackSalt: Buffer): Promise<string> {
  return scryptHex(password, saltFor(stackSalt, ADMIN_PASSWORD_DIGEST_LABEL));
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
