/**
 * The database exporters' part of the stack file: the list `databases[]` and the secret map
 * `databaseDsns`, both top-level keys, so the problems here are keyed as the stack file names
 * them (`databases[0].mode`, `databaseDsns.pg`). Its entry's schema, its resolution into the
 * component's args with the problems only resolving finds (an earlier release's sidecars, a DSN
 * missing or given twice, a DSN of no database), and the problems of the resolved list (a name
 * used twice, a DSN of another kind, a DSN that names the exporter's own pod). config/ calls each
 * where the stack's list of problems has it (config/resolve.ts, config/checks/).
 */
import { z } from "zod";
import { DATABASE_TYPES, DatabaseType } from "../kit/database-exporters";
import { dnsLabel, existingSecretKey, nonEmpty, notAMap, resources, secretMapMessage } from "../kit/fields";
import { ArgsProblem, HIDDEN, duplicateNameProblems } from "../kit/problems";
import { ResourceRequirements } from "../kit/resources";
import { SecretStandIns, SectionContext, resolveResources } from "../kit/section";
import { DATABASE_KINDS, exporterHostExample } from "./kinds";

const entry = z.strictObject({
  name: dnsLabel.describe("Unique name; the `database` label of its series."),
  type: z.enum(DATABASE_TYPES),
  // "sidecar" (and its target) are still parsed, so that a stack file of an earlier release is
  // refused with the way over (resolve) rather than as an unknown value.
  mode: z.enum(["sidecar", "standalone"]),
  target: z
    .strictObject({
      kind: z.enum(["Deployment", "StatefulSet"]),
      name: dnsLabel,
      namespace: dnsLabel,
      container: dnsLabel.optional(),
    })
    .optional()
    .describe("Retired with sidecar mode: refused, with the way over."),
  secretRef: existingSecretKey
    .optional()
    .describe("Existing Secret holding the DSN, in the stack's namespace. Otherwise the DSN comes from secret databaseDsns.<name>."),
  resources: resources.optional(),
});

const DSNS_MESSAGE = secretMapMessage("databaseDsns", "database name", "DSN");

const secrets = { databaseDsns: z.record(dnsLabel, nonEmpty("a DSN"), notAMap(DSNS_MESSAGE)) };

/**
 * What the offline render stands in for an encrypted DSN: one of the kind `databases[]` gives the
 * database of that name (PostgreSQL's when none does: the DSN's own problem is then that its database
 * is missing), naming the host `<name>.placeholder.invalid`, which never resolves.
 */
const standIns: SecretStandIns<typeof secrets> = {
  databaseDsns: ({ entry, stack }) => {
    const given = Array.isArray(stack.databases) ? (stack.databases as unknown[]) : [];
    const db = given.find((d): d is { type: unknown } => typeof d === "object" && d !== null && (d as { name?: unknown }).name === entry);
    const type = DATABASE_TYPES.find((t) => t === db?.type) ?? "postgres";
    return DATABASE_KINDS[type].dsnStandIn(`${entry ?? "database"}.placeholder.invalid`);
  },
};

type Entry = z.infer<typeof entry>;

/** A configured database, as its exporter needs it: the entry's name and type, its DSN's source, its resources. */
export type DatabaseExporter = Pick<Entry, "name" | "type"> & {
  /** Always its own Deployment in the stack namespace: sidecars are refused (see index.ts). */
  mode: "standalone";
  /** Where the DSN comes from: an existing Secret in the stack's namespace (the entry's secretRef), or the (secret) config value. */
  dsn: { secretRef: NonNullable<Entry["secretRef"]> } | { value: string };
  /** The entry's over its kind's (kinds.ts). */
  resources: ResourceRequirements;
};
type Dsns = { databaseDsns?: z.infer<(typeof secrets)["databaseDsns"]> };

/** `databases[]`: each exporter with where its DSN comes from (a secret value or an existing Secret). */
function resolve(
  given: Entry[] | undefined,
  context: Pick<SectionContext, "project">,
  { databaseDsns }: Dsns,
): { databases: DatabaseExporter[]; problems: ArgsProblem[] } {
  const problems: ArgsProblem[] = [];
  const dsns = databaseDsns ?? {};
  const databases: DatabaseExporter[] = (given ?? []).map((db, i) => {
    // An exporter in the database's pod can take the database out of its Service (see
    // index.ts): refused, with the way over, before anything changes.
    if (db.mode === "sidecar") {
      problems.push({
        key: `databases[${i}].mode`,
        message:
          `"sidecar" is no longer supported: an exporter container in the database's pod makes the pod NotReady, and takes the database ` +
          `out of its Service, whenever it is OOM-killed, crash-loops or its image cannot be pulled. Set mode: standalone and drop ` +
          `target (npm run migrate -- --stack <stack> does both): the exporter then runs in its own pod in the stack's namespace and reaches "${db.name}" through its DSN, which must ` +
          `name the database's Service (for instance ${exporterHostExample(db.type, db.target?.name, db.target?.namespace)}), not localhost; a secretRef must be a Secret in the stack's ` +
          `namespace, or use pulumi config set --secret --path 'databaseDsns.${db.name}' <dsn>. The next pulumi up removes the ` +
          `sidecar: one rollout of the database's pods; run it when a restart of the database is acceptable (docs/configuration.md, "Databases: \`databases[]\`")`,
        ...(db.target ? { involves: [`databases[${i}].target`] } : {}),
      });
    } else if (db.target) {
      problems.push({
        key: `databases[${i}].target`,
        message: `database "${db.name}": "target" was for sidecars, which are no longer supported; drop it (npm run migrate -- --stack <stack> does; the exporter reaches the database through its DSN)`,
      });
    }
    if (db.secretRef && dsns[db.name] !== undefined) {
      problems.push({
        key: `databases[${i}].secretRef`,
        message: `database "${db.name}" has both secretRef and databaseDsns.${db.name}; keep one`,
        involves: [`databaseDsns.${db.name}`],
      });
    }
    if (!db.secretRef && dsns[db.name] === undefined) {
      problems.push({
        key: `databases[${i}]`,
        message: `database "${db.name}" needs a DSN: secretRef {name, key} of an existing Secret, or pulumi config set --secret --path 'databaseDsns.${db.name}' <dsn>`,
        involves: [`databaseDsns.${db.name}`],
      });
    }
    return {
      name: db.name,
      type: db.type,
      mode: "standalone",
      dsn: db.secretRef ? { secretRef: db.secretRef } : { value: dsns[db.name] ?? "" },
      resources: resolveResources(DATABASE_KINDS[db.type].resources, db.resources),
    };
  });
  for (const name of Object.keys(dsns)) {
    if (!(given ?? []).some((db) => db.name === name)) {
      problems.push({
        key: `databaseDsns.${name}`,
        message: `no database named "${name}" in ${context.project}:databases`,
        involves: ["databases"],
      });
    }
  }
  return { databases, problems };
}

/** Each name used once: it is the `database` label that tells their series, alerts and dashboards apart. */
function nameProblems(databases: ReadonlyArray<Pick<DatabaseExporter, "name">>): ArgsProblem[] {
  return duplicateNameProblems(
    "databases",
    databases.map((db) => db.name),
    "database",
  );
}

/** Loopback names and addresses: in a pod, the pod itself. */
const LOOPBACK_HOST = /^(localhost|localhost\.localdomain|[^.]+\.localhost|127(\.\d{1,3}){3}|\[?::1\]?|\[?0:0:0:0:0:0:0:1\]?)$/i;

/**
 * What a DSN (of the right format) names that only exists inside the exporter's own pod: a loopback
 * host, or none (a Unix socket; libpq's default without a host). Undefined when every host is elsewhere.
 */
function dsnNamesOwnPod(type: DatabaseType, dsn: string): string | undefined {
  const target = DATABASE_KINDS[type].dsnTarget(dsn);
  if ("socket" in target) return "a Unix socket";
  const { hosts } = target;
  if (hosts.some((h) => h === "" || h.startsWith("/") || h.startsWith("%2F") || h.startsWith("%2f"))) {
    return "no host (a Unix socket, or the default localhost)";
  }
  const loopback = hosts.find((h) => LOOPBACK_HOST.test(h));
  return loopback !== undefined ? `the loopback host ${JSON.stringify(loopback)}` : undefined;
}

/**
 * The DSNs given as config values: of another database type (the exporter would start and report
 * the database down), or naming the exporter's own pod. An empty one is a DSN not given, which
 * resolve refused already (the schema takes no empty DSN).
 */
function dsnProblems(databases: readonly DatabaseExporter[]): ArgsProblem[] {
  const problems: ArgsProblem[] = [];
  databases.forEach((db, i) => {
    if (!("value" in db.dsn) || db.dsn.value === "") return;
    const kind = DATABASE_KINDS[db.type];
    if (!kind.dsnPattern.test(db.dsn.value)) {
      problems.push({
        key: `databaseDsns.${db.name}`,
        message: `is not a ${db.type} DSN (database "${db.name}" is ${db.type}); expected something like ${kind.dsnExample} (got ${HIDDEN})`,
        involves: [`databases[${i}].type`],
      });
      return;
    }
    // A sidecar's DSN moved over as it was: in its own pod, the exporter would only ever reach itself.
    const local = dsnNamesOwnPod(db.type, db.dsn.value);
    if (local !== undefined) {
      problems.push({
        key: `databaseDsns.${db.name}`,
        message:
          `names ${local}: the exporter runs in a pod of its own, where that is the exporter itself; name the database's Service ` +
          `(for instance ${exporterHostExample(db.type)}), or one server's own name (a StatefulSet pod: <pod>.<service>.<namespace>.svc) (got ${HIDDEN})`,
      });
    }
  });
  return problems;
}

/** `databases[]` and `databaseDsns`, as config reads, resolves and checks them. */
export const databasesSection = {
  /** One entry of `databases[]`. */
  entry,
  /** The key `databases`. */
  schema: z.array(entry, { error: "must be a list of databases" }).describe("Database exporters."),
  /** The secret keys it reads, with their schemas (config/secrets.ts orders them). */
  secrets,
  /** What the offline render stands in for each secret key's encrypted values. */
  standIns,
  /** How each secret map is given, for a value given whole (config/decode.ts). */
  secretMessages: { databaseDsns: DSNS_MESSAGE },
  resolve,
  /** The names used twice (config lists them with the other names' problems). */
  nameProblems,
  /** The DSNs' problems. */
  problems: dsnProblems,
};
