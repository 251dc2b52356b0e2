/** The databases' DSNs: of their database's type, and naming a host the exporter in its own pod reaches. */
import { EXPORTER_KINDS } from "../../components/kit/database-exporters";
import { CheckInput } from "./check";
import { HIDDEN } from "../problems";
import { DatabaseExporter } from "../../components/kit/database-exporters";

/** Each database's usual port, for the examples of a host an exporter in its own pod reaches it by. */
const DATABASE_PORT: Readonly<Record<DatabaseExporter["type"], number>> = { postgres: 5432, redis: 6379, mongodb: 27017 };

/** How an exporter in its own pod reaches a database in the cluster: its Service (`<service>.<namespace>.svc:<port>`). */
export function exporterHostExample(type: DatabaseExporter["type"], service: string = type, namespace = "shop"): string {
  return `${service}.${namespace}.svc:${DATABASE_PORT[type]}`;
}

/** Loopback names and addresses: in a pod, the pod itself. */
const LOOPBACK_HOST = /^(localhost|localhost\.localdomain|[^.]+\.localhost|127(\.\d{1,3}){3}|\[?::1\]?|\[?0:0:0:0:0:0:0:1\]?)$/i;

/**
 * What a DSN (of the right format) names that only exists inside the exporter's own pod: a loopback
 * host, or none (a Unix socket; libpq's default without a host). Undefined when every host is elsewhere.
 */
function dsnNamesOwnPod(type: DatabaseExporter["type"], dsn: string): string | undefined {
  let hosts: string[];
  const url = /^[a-z+]+:\/\/([^/?#]*)/i.exec(dsn);
  if (type === "redis" && dsn.startsWith("unix://")) return "a Unix socket";
  if (url) {
    // user:password@host:port[,host:port...]; the password may hold '@' only escaped, so the last '@' ends it.
    const authority = url[1].slice(url[1].lastIndexOf("@") + 1);
    hosts = authority.split(",").map((h) => h.replace(/:\d*$/, ""));
    // libpq also takes the host as a query parameter, which wins over the authority's.
    const query = type === "postgres" ? /[?&]host(?:addr)?=([^&]*)/.exec(dsn) : null;
    if (query) hosts = decodeURIComponent(query[1]).split(",");
  } else if (type === "postgres") {
    // libpq's key=value form: host (or hostaddr), possibly a list.
    const pairs = Object.fromEntries(dsn.split(/\s+/).map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]));
    hosts = (pairs.host ?? pairs.hostaddr ?? "").split(",");
  } else {
    hosts = [dsn.replace(/:\d+$/, "")];
  }
  if (hosts.some((h) => h === "" || h.startsWith("/") || h.startsWith("%2F") || h.startsWith("%2f"))) {
    return "no host (a Unix socket, or the default localhost)";
  }
  const loopback = hosts.find((h) => LOOPBACK_HOST.test(h));
  return loopback !== undefined ? `the loopback host ${JSON.stringify(loopback)}` : undefined;
}

/** A DSN of another database type, or one naming the exporter's own pod. */
export function dsnChecks({ raw, resolved, key, problems }: CheckInput): void {
  // A DSN of another database type: the exporter would start and report the database down.
  resolved.databases.forEach((db, i) => {
    if (!("value" in db.dsn) || raw.databaseDsns?.[db.name] === undefined) return;
    const kind = EXPORTER_KINDS[db.type];
    if (!kind.dsnPattern.test(db.dsn.value)) {
      problems.push({
        key: key(`databaseDsns.${db.name}`),
        message: `is not a ${db.type} DSN (database "${db.name}" is ${db.type}); expected something like ${kind.dsnExample} (got ${HIDDEN})`,
        involves: [key(`databases[${i}].type`)],
      });
      return;
    }
    // A sidecar's DSN moved over as it was: in its own pod, the exporter would only ever reach itself.
    const local = dsnNamesOwnPod(db.type, db.dsn.value);
    if (local !== undefined) {
      problems.push({
        key: key(`databaseDsns.${db.name}`),
        message:
          `names ${local}: the exporter runs in a pod of its own, where that is the exporter itself; name the database's Service ` +
          `(for instance ${exporterHostExample(db.type)}), or one server's own name (a StatefulSet pod: <pod>.<service>.<namespace>.svc) (got ${HIDDEN})`,
      });
    }
  });
}
