/**
 * The database kinds, one entry each: everything that differs between PostgreSQL, Redis and
 * MongoDB is here, and everything else derives from it: config's `databases[].type` (the names,
 * components/kit/database-exporters.ts), the exporter's container and its egress, what a DSN of
 * the kind looks like and which hosts it names, the example host of the messages, and the
 * dashboard and alerts the kind brings (test/components/database-exporters.test.ts holds them to
 * dashboards/ and rules/), and, from its `upstream`, the lab's build of the exporter's binary
 * (lab/tools/tools.ts), its catalogue's source (lab/catalog/sources.ts) and the Renovate
 * group that moves the image and the module together (test/repository/renovate.test.ts holds
 * renovate.json to it). A new kind is its name in the kit and its entry here, its image pinned in
 * components/images.ts, its dashboard and its alerts; the lab adds its go.mod, the measured cost
 * of its build and the catalogue's generator.
 */
import { ImageName } from "../images";
import { DatabaseType } from "../kit/database-exporters";
import { ResourceRequirements, requirements } from "../kit/resources";

/**
 * Exporter resource defaults (the same in every profile: the exporters are tiny). Measured by npm
 * run bench: postgres-exporter 19 MiB and 3m steady, redis_exporter 17 MiB and 2m, 21 MiB at the
 * peak; sized as production (requests × 1.5, memory limit × 3).
 */
export const EXPORTER_RESOURCES = requirements("5m", "32Mi", "100m", "64Mi");

/** What a DSN connects to: its hosts (an empty one, or a path, is a Unix socket or libpq's default), or a Unix socket it names. */
export type DsnTarget = { hosts: string[] } | { socket: true };

/** Where an exporter's binary reads its release from: Prometheus' common version package, or variables of its main package. */
export type VersionStamp = "prometheus" | { version: string; unknown: string[] };

/**
 * The exporter's upstream project, which the image is the release of: the Go module and main package
 * its binary is built from (tools/<type>-exporter/go.mod pins the module at the image's release),
 * the binary's name, where the binary reads its release from, and the project's name.
 */
export interface ExporterUpstream {
  title: string;
  binary: string;
  module: string;
  pkg: string;
  version: VersionStamp;
}

/** What differs between the kinds. */
export interface DatabaseKind {
  /** The port the database listens on by default: the exporter's egress policy opens it, and the messages' example hosts name it. */
  databasePort: number;
  /** The exporter's image, as components/images.ts pins it. */
  image: ImageName;
  upstream: ExporterUpstream;
  /** The port the exporter serves /metrics on (its upstream default). */
  port: number;
  /** Container port name: unique in a pod that already has its own ports (at most 15 characters). */
  portName: string;
  /** The environment variable the exporter reads the DSN from. */
  dsnEnv: string;
  args: string[];
  /** What a DSN of this database looks like: a DSN given to the wrong exporter is refused (section.ts). */
  dsnPattern: RegExp;
  dsnExample: string;
  /**
   * What the offline render stands in for an encrypted DSN of this kind: one of the right format
   * that names `host` (never the exporter's own pod), so that section.ts's checks take it.
   */
  dsnStandIn: (host: string) => string;
  /** The hosts a DSN of the right format names (section.ts refuses one that names the exporter's own pod). */
  dsnTarget: (dsn: string) => DsnTarget;
  /** The uid of the dashboard on its exporter's series (dashboards/databases/). */
  dashboard: string;
  /** The alerts of rules/databases.yml on its exporter's series (beside DatabaseExporterMissing, generated for every kind). */
  alerts: string[];
  /** The exporter's requests and limits when its entry gives none. */
  resources: ResourceRequirements;
}

/** The hosts of a URL's authority (`user:password@host:port[,host:port...]`); undefined when the DSN is not a URL. */
function urlHosts(dsn: string): string[] | undefined {
  const url = /^[a-z+]+:\/\/([^/?#]*)/i.exec(dsn);
  if (!url) return undefined;
  // The password may hold '@' only escaped, so the last '@' ends it.
  const authority = url[1].slice(url[1].lastIndexOf("@") + 1);
  return authority.split(",").map((h) => h.replace(/:\d*$/, ""));
}

/** A `host:port` DSN's host. */
const hostOf = (dsn: string) => [dsn.replace(/:\d+$/, "")];

/** PostgreSQL's DSN: a URL, whose `host`/`hostaddr` query parameter wins over its authority, or libpq's key=value form. */
function postgresTarget(dsn: string): DsnTarget {
  const url = urlHosts(dsn);
  if (url) {
    const query = /[?&]host(?:addr)?=([^&]*)/.exec(dsn);
    return { hosts: query ? decodeURIComponent(query[1]).split(",") : url };
  }
  // libpq's key=value form: host (or hostaddr), possibly a list.
  const pairs = Object.fromEntries(dsn.split(/\s+/).map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]));
  return { hosts: (pairs.host ?? pairs.hostaddr ?? "").split(",") };
}

export const DATABASE_KINDS: { readonly [T in DatabaseType]: DatabaseKind } = {
  postgres: {
    databasePort: 5432,
    image: "postgresExporter",
    upstream: {
      title: "postgres-exporter",
      binary: "postgres_exporter",
      module: "github.com/prometheus-community/postgres_exporter",
      pkg: "github.com/prometheus-community/postgres_exporter/cmd/postgres_exporter",
      version: "prometheus",
    },
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
    dsnStandIn: (host) => `postgresql://placeholder@${host}:5432/placeholder`,
    dsnTarget: postgresTarget,
    dashboard: "db-postgres",
    alerts: ["PostgresDown", "PostgresTooManyConnections"],
    resources: EXPORTER_RESOURCES,
  },
  redis: {
    databasePort: 6379,
    image: "redisExporter",
    upstream: {
      title: "redis_exporter",
      binary: "redis_exporter",
      module: "github.com/oliver006/redis_exporter",
      pkg: "github.com/oliver006/redis_exporter",
      version: { version: "main.BuildVersion", unknown: ["main.BuildCommitSha", "main.BuildDate"] },
    },
    port: 9121,
    portName: "redis-metrics",
    // REDIS_ADDR may carry the password: redis://:password@host:6379.
    dsnEnv: "REDIS_ADDR",
    args: ["--web.listen-address=:9121"],
    dsnPattern: /^((rediss?|unix):\/\/\S+|[^\s:/@]+:\d{1,5})$/,
    dsnExample: "redis://:password@host:6379",
    dsnStandIn: (host) => `redis://${host}:6379`,
    dsnTarget: (dsn) => (dsn.startsWith("unix://") ? { socket: true } : { hosts: urlHosts(dsn) ?? hostOf(dsn) }),
    dashboard: "db-redis",
    alerts: ["RedisDown", "RedisTooManyConnections", "RedisCacheHitRateLow"],
    resources: EXPORTER_RESOURCES,
  },
  mongodb: {
    databasePort: 27017,
    image: "mongodbExporter",
    upstream: {
      title: "mongodb_exporter",
      binary: "mongodb_exporter",
      module: "github.com/percona/mongodb_exporter",
      pkg: "github.com/percona/mongodb_exporter",
      version: { version: "main.version", unknown: ["main.commit", "main.buildDate"] },
    },
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
    dsnStandIn: (host) => `mongodb://placeholder@${host}:27017/admin`,
    dsnTarget: (dsn) => ({ hosts: urlHosts(dsn) ?? hostOf(dsn) }),
    dashboard: "db-mongodb",
    alerts: ["MongodbDown", "MongodbTooManyConnections"],
    resources: EXPORTER_RESOURCES,
  },
};

/** How an exporter in its own pod reaches a database in the cluster: its Service (`<service>.<namespace>.svc:<port>`). */
export function exporterHostExample(type: DatabaseType, service: string = type, namespace = "shop"): string {
  return `${service}.${namespace}.svc:${DATABASE_KINDS[type].databasePort}`;
}
