/**
 * Grafana's section of the stack file (`grafana`) and its secret keys: its fields, declared here once
 * (the defaults, the resolved values and the component's args are typed from the schema), its
 * defaults per profile, its resolution and its problems.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { iniValue, matching, nonEmpty, plainHttpUrl, replicas, resources, storage, userName } from "../kit/fields";
import { ArgsProblem } from "../kit/problems";
import { Profile, withOverrides } from "../kit/profiles";
import { requirements } from "../kit/resources";
import { FieldsOf, SecretStandIns, componentSection, overDefaults, textStandIn } from "../kit/section";
import { SIGN_IN_SECRETS, SIGN_IN_SECRET_STAND_INS, SignIn, resolveSignIn, signInProblems, signInSchema } from "./sign-in";
import { JOB } from "../kit/stack-jobs";

/** The Grafana folder users may save into from the UI, unless the stack names it otherwise. */
export const WRITABLE_FOLDER_DEFAULT = "Team dashboards";

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
  user: userName("a user name", iniValue("a user name")),
  /** TLS to the database: disable, require (encrypted, unverified) or verify-full. Default "require". */
  sslMode: z.enum(["disable", "require", "verify-full"]).optional(),
});

/**
 * Grafana's external database: its fields as grafana.database defines them, and the password,
 * given as a secret (`Input`) to the component, or its value as config resolves it.
 */
export type GrafanaDatabase<Password = pulumi.Input<string>> = z.infer<typeof database> & {
  /** The user's password (a secret); required. Reaches the pod only through a Kubernetes Secret. */
  password?: Password;
};

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

type Fields = FieldsOf<typeof schema>;

/** What a profile sets of Grafana: every field but the database, the central store and the sign-in, which have no default. */
type GrafanaDefaults = Omit<Fields, "database" | "central" | "signIn">;

/** Grafana as config resolves it: the profile's defaults under what the stack gives, and the values of its secret keys. */
export type GrafanaSettings = GrafanaDefaults & {
  /** Given as a secret; otherwise the Grafana component generates one. */
  adminPassword?: string;
  database?: GrafanaDatabase<string>;
  /** grafana.signIn with its client secrets; absent when the stack gives none. */
  signIn?: SignIn;
  /** grafana.central: the store several stacks write to; absent when the stack gives none. */
  central?: Fields["central"];
};

const GRAFANA_STAGING: GrafanaDefaults = {
  replicas: 1,
  adminUser: "admin",
  writableFolder: WRITABLE_FOLDER_DEFAULT,
  storage: { size: "2Gi" },
  resources: requirements("100m", "256Mi", "500m", "512Mi"),
};

/** Grafana's defaults in each profile (kit/profiles.ts: the headroom). */
const GRAFANA_DEFAULTS: Record<Profile, GrafanaDefaults> = {
  staging: GRAFANA_STAGING,
  production: withOverrides(GRAFANA_STAGING, { storage: { size: "5Gi" }, resources: requirements("100m", "256Mi", "1", "512Mi") }),
};

/** The `grafana` section, with grafanaAdminPassword, grafanaDatabasePassword and the sign-in providers' client secrets. */
export const grafanaSection = componentSection({
  schema,
  secrets: grafanaSecrets,
  standIns: grafanaSecretStandIns,
  defaults: (profile): GrafanaSettings => GRAFANA_DEFAULTS[profile],
  resolve: (given, context, secrets): GrafanaSettings => {
    const { database, central, signIn, ...plain } = given ?? {};
    const password = secrets.grafanaDatabasePassword;
    return {
      ...overDefaults(GRAFANA_DEFAULTS[context.profile], plain, context),
      ...(secrets.grafanaAdminPassword !== undefined ? { adminPassword: secrets.grafanaAdminPassword } : {}),
      ...(database ? { database: { ...database, ...(password !== undefined ? { password } : {}) } } : {}),
      ...(central ? { central: { url: central.url } } : {}),
      ...(signIn ? { signIn: resolveSignIn(signIn, secrets) } : {}),
    };
  },
  problems: (grafana) => [...problems(grafana), ...(grafana.signIn ? signInProblems(grafana.signIn) : [])],
  jobs: () => [JOB.grafana],
});

/**
 * More than one replica needs the external database: SQLite cannot be shared between pods. The
 * external database needs its password, the secret key grafanaDatabasePassword.
 */
export function problems(args: Partial<Pick<GrafanaSettings, "replicas">> & { database?: GrafanaDatabase<unknown> }): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  const replicas = args.replicas ?? 1;
  if (replicas > 1 && !args.database) {
    found.push({
      key: "replicas",
      message: `more than one Grafana replica needs an external database (grafana.database); got ${replicas} replicas with the built-in SQLite`,
      involves: ["database"],
    });
  }
  if (args.database && args.database.password === undefined) {
    found.push({
      key: "grafanaDatabasePassword",
      message: "grafana.database is set, so the password is needed: pulumi config set --secret grafanaDatabasePassword <value>",
      involves: ["database"],
    });
  }
  return found;
}
