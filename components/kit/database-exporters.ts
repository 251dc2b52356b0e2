/**
 * The database exporters as every part of the stack knows them: the three kinds (image, port,
 * DSN), and the pod labels Prometheus' pod job reads on a pod that runs one beside its database.
 */
import { ImageName } from "../images";
import { ResourceRequirements, requirements } from "./resources";

export interface DatabaseExporter {
  name: string;
  type: "postgres" | "redis" | "mongodb";
  /** Always its own Deployment in the stack namespace: sidecars are refused (see components/exporter-sidecars.ts). */
  mode: "standalone";
  /** Where the DSN comes from: an existing Secret in the stack's namespace, or the (secret) config value. */
  dsn: { secretRef: { name: string; key: string } } | { value: string };
  resources: ResourceRequirements;
}

/**
 * Exporter resource defaults (the same in every profile: the exporters are tiny). Measured by npm
 * run bench: postgres-exporter 19 MiB and 3m steady, redis_exporter 17 MiB and 2m, 21 MiB at the
 * peak; sized as production (requests × 1.5, memory limit × 3).
 */
export const EXPORTER_RESOURCES = requirements("5m", "32Mi", "100m", "64Mi");

export type DatabaseType = DatabaseExporter["type"];

/** What differs between the three exporters. */
interface ExporterKind {
  image: ImageName;
  /** The port it serves /metrics on (its upstream default). */
  port: number;
  /** Container port name: unique in a pod that already has its own ports (at most 15 characters). */
  portName: string;
  /** The environment variable it reads the DSN from. */
  dsnEnv: string;
  args: string[];
  /** What a DSN of this database looks like: config/checks/databases.ts refuses a DSN given to the wrong exporter. */
  dsnPattern: RegExp;
  dsnExample: string;
}

export const EXPORTER_KINDS: Readonly<Record<DatabaseType, ExporterKind>> = {
  postgres: {
    image: "postgresExporter",
    port: 9187,
    portName: "pg-metrics",
    dsnEnv: "DATA_SOURCE_NAME",
    args: [
      "--web.listen-address=:9187",
      // pg_postmaster_start_time_seconds (the Postgres dashboard's Uptime), off by default upstream;
      // one cheap query (pg_postmaster_start_time()) that any role may run.
      "--collector.postmaster",
    ],
    // A URL, or libpq's key=value form.
    dsnPattern: /^(postgres(ql)?:\/\/\S+|[a-z_]+=\S*(\s+[a-z_]+=\S*)*)$/,
    dsnExample: "postgresql://user:password@host:5432/db?sslmode=require",
  },
  redis: {
    image: "redisExporter",
    port: 9121,
    portName: "redis-metrics",
    // REDIS_ADDR may carry the password: redis://:password@host:6379.
    dsnEnv: "REDIS_ADDR",
    args: ["--web.listen-address=:9121"],
    dsnPattern: /^((rediss?|unix):\/\/\S+|[^\s:/@]+:\d{1,5})$/,
    dsnExample: "redis://:password@host:6379",
  },
  mongodb: {
    image: "mongodbExporter",
    port: 9216,
    portName: "mongo-metrics",
    dsnEnv: "MONGODB_URI",
    args: [
      "--web.listen-address=:9216",
      // serverStatus (connections, opcounters, memory, WiredTiger cache) from getDiagnosticData.
      "--collector.diagnosticdata",
      "--collector.replicasetstatus",
      // The 0.1x metric names as well (mongodb_connections, mongodb_mongod_*), which many
      // dashboards and rules still use. mongodb_up is always exported.
      "--compatible-mode",
    ],
    dsnPattern: /^mongodb(\+srv)?:\/\/\S+$/,
    dsnExample: "mongodb://user:password@host:27017/admin",
  },
};

/*
 * Pod-template labels of a pod that runs a database exporter container beside its database (an
 * exporter sidecar of an earlier release until the `up` that removes it, or a team's own): the
 * pod job of Prometheus (components/prometheus/scrape-jobs.ts) turns them into job `<type>-exporter`, the
 * `database` label, and leaves a pod of another stack's environment to that stack. This stack
 * adds no such container any more.
 */
/** The exporter type; Prometheus' pod job turns it into job `<type>-exporter`. */
export const EXPORTER_LABEL = "monitoring-stack/exporter";

/** The database's name; Prometheus' pod job turns it into the `database` label. */
export const DATABASE_LABEL = "monitoring-stack/database";

/** The environment of the stack that added the exporter: another stack's Prometheus leaves the pod alone. */
export const ENVIRONMENT_LABEL = "monitoring-stack/environment";
