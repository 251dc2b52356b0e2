/**
 * A credential sent over plain HTTP is readable by anyone on the path. Inside the cluster (a
 * Service's name, `*.svc` or `*.svc.cluster.local`) or on the loopback the path is the cluster's
 * own network; anywhere else it is refused unless the entry's `allowPlainHttp` says so.
 */
import type { ArgsProblem } from "./problems";

/** The key that allows a credential over plain HTTP outside the cluster, in each entry that sends one. */
export const ALLOW_PLAIN_HTTP_KEY = "allowPlainHttp";

/** Whether `host` is a cluster-local or loopback address: `*.svc`, `*.svc.cluster.local`, localhost, 127.0.0.0/8, ::1. */
export function isClusterLocalHost(host: string): boolean {
  const h = host
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
  return (
    h.endsWith(".svc") || h.endsWith(".svc.cluster.local") || h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
  );
}

/**
 * The problem of sending `credential` (what carries it, e.g. "username (basic auth)") to `url`
 * over plain HTTP outside the cluster, keyed at `url`; none over https://, to a cluster-local
 * address, or with `allowed` (the entry's allowPlainHttp).
 */
export function plainHttpCredentialProblem(url: string, credential: string | undefined, allowed: boolean | undefined): ArgsProblem[] {
  if (credential === undefined || allowed) return [];
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" || isClusterLocalHost(parsed.hostname)) return [];
  return [
    {
      key: "url",
      message:
        `is plain http:// to ${parsed.hostname}, outside the cluster (got ${url}), and ${credential} would cross the network readable by anyone on the path: ` +
        `use https://, or set ${ALLOW_PLAIN_HTTP_KEY}: true if that path is yours (a cluster-local *.svc, *.svc.cluster.local or loopback address needs neither)`,
      involves: [ALLOW_PLAIN_HTTP_KEY],
    },
  ];
}
