/** Grafana's section of the stack file (`grafana`) and its secret keys: its fields, its defaults per profile, its resolution and its problems. */
import { z } from "zod";
import { iniValue, matching, nonEmpty, plainHttpUrl, replicas, resources, storage } from "../kit/fields";
import { SecretStandIns, componentSection, resolveResources, resolveStorage, textStandIn } from "../kit/section";
import { GRAFANA_DEFAULTS, GrafanaDefaults, GrafanaDatabase, WRITABLE_FOLDER_DEFAULT } from "./args";
import { problems } from "./problems";
import { SIGN_IN_SECRETS, SIGN_IN_SECRET_STAND_INS, SignIn, resolveSignIn, signInProblems, signInSchema } from "./sign-in";

/** An external database for Grafana's own state, as the stack gives it; the password is a secret key of its own. */
const database = z.strictObject({
  /** Database engine. */
  type: z.enum(["postgres", "mysql"]),
  /** `host` or `host:port`; without a port Grafana uses the engine's default. */
  host: matching(/^[a-zA-Z0-9.-]+(:\d{1,5})?$/, "a host or host:port such as db.internal:5432").refine(
    (host) => !host.includes(":") || Number(host.slice(host.indexOf(":") + 1)) <= 65535,
    { message: "must be a host or host:port such as db.internal:5432, the port at most 65535" },
  ),
  /** Database name. */
  name: iniValue("a database name"),
  /** Database user. */
  user: iniValue("a user name"),
  /** TLS to the database: disable, require (encrypted, unverified) or verify-full. Default "require". */
  sslMode: z.enum(["disable", "require", "verify-full"]).optional(),
});

/** grafana.database's fields, the password aside (GrafanaDatabase adds it). */
export type GrafanaDatabaseFields = z.infer<typeof database>;

const schema = z.strictObject({
  replicas: replicas.optional(),
  adminUser: matching(/^[a-zA-Z0-9_.@-]{1,64}$/, "a user name: 1-64 of letters, digits, _ . @ -").optional(),
  writableFolder: nonEmpty("a folder title")
    .max(64, "must be at most 64 characters")
    // Grafana keeps the name of its root folder for itself.
    .refine((t) => t.trim().toLowerCase() !== "general", { message: 'must not be "General", the name of Grafana\'s root folder' })
    .refine((t) => t.trim() === t, { message: "must not start or end with spaces" })
    .optional()
    .describe(`Title of the Grafana folder users may save dashboards into from the UI; default "${WRITABLE_FOLDER_DEFAULT}".`),
  database: database
    .optional()
    .describe("External database; required for more than one replica. Password: secret grafanaDatabasePassword."),
  storage: storage.optional(),
  resources: resources.optional(),
  central: z
    .strictObject({
      url: plainHttpUrl.describe(
        "Prometheus-compatible query URL of the store every environment writes to, e.g. a VictoriaMetrics cluster's http://vmselect.example.com:8481/select/0/prometheus.",
      ),
    })
    .optional()
    .describe('A Central datasource and an environment variable on the apps\' dashboards (docs/operations.md, "Beyond one node").'),
  signIn: signInSchema
    .optional()
    .describe("Sign-in with the team's own accounts (docs/sign-in.md); without it, the admin account alone signs in."),
});

/** The secret keys Grafana's section reads (config/secrets.ts keeps their place among the others). */
export const grafanaSecrets = {
  grafanaAdminPassword: z.string({ error: "must be a password" }).min(12, "must be at least 12 characters"),
  grafanaDatabasePassword: nonEmpty("a password"),
  ...SIGN_IN_SECRETS,
};

/** What the offline render stands in for each, when the stack file's value is encrypted: 19 characters or more. */
export const grafanaSecretStandIns: SecretStandIns<typeof grafanaSecrets> = {
  grafanaAdminPassword: textStandIn,
  grafanaDatabasePassword: textStandIn,
  ...SIGN_IN_SECRET_STAND_INS,
};

/** Grafana as config resolves it: the profile's defaults under what the stack gives, and the values of its secret keys. */
export type GrafanaConfig = GrafanaDefaults & {
  /** Given as a secret; otherwise the Grafana component generates one. */
  adminPassword?: string;
  database?: GrafanaDatabase<string>;
  /** grafana.signIn with its client secrets; absent when the stack gives none. */
  signIn?: SignIn;
  /** grafana.central: the store several stacks write to; absent when the stack gives none. */
  central?: { url: string };
};

/** The `grafana` section, with grafanaAdminPassword, grafanaDatabasePassword and the sign-in providers' client secrets. */
export const grafanaSection = componentSection({
  schema,
  secrets: grafanaSecrets,
  defaults: (profile): GrafanaConfig => GRAFANA_DEFAULTS[profile],
  resolve: (given, context, secrets): GrafanaConfig => {
    const defaults = GRAFANA_DEFAULTS[context.profile];
    const password = secrets.grafanaDatabasePassword;
    return {
      replicas: given?.replicas ?? defaults.replicas,
      adminUser: given?.adminUser ?? defaults.adminUser,
      writableFolder: given?.writableFolder ?? defaults.writableFolder,
      ...(secrets.grafanaAdminPassword !== undefined ? { adminPassword: secrets.grafanaAdminPassword } : {}),
      ...(given?.database ? { database: { ...given.database, ...(password !== undefined ? { password } : {}) } } : {}),
      storage: resolveStorage(defaults.storage, given?.storage, context),
      resources: resolveResources(defaults.resources, given?.resources),
      ...(given?.central ? { central: { url: given.central.url } } : {}),
      ...(given?.signIn ? { signIn: resolveSignIn(given.signIn, secrets) } : {}),
    };
  },
  problems: (grafana) => [...problems(grafana), ...(grafana.signIn ? signInProblems(grafana.signIn) : [])],
});
