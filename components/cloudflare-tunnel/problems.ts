/** What the Cloudflare tunnel refuses in its own args: its account and zone, Access in front of what has no login, each route once. */
import { ArgsProblem, duplicates } from "../kit/problems";
import { CloudflareTunnelArgs, TunnelRoute } from "./args";

/**
 * The account and the zone given; Prometheus and Alertmanager (no login of their own) published
 * only behind Cloudflare Access; each published service listed once; Access, when on, with
 * someone to let in.
 */
export function problems(
  args: Partial<Pick<CloudflareTunnelArgs, "accountId" | "zoneId">> &
    Pick<CloudflareTunnelArgs, "access"> & { routes: ReadonlyArray<Pick<TunnelRoute, "service">> },
): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  if (!args.accountId) {
    found.push({ key: "accountId", message: "is required when cloudflare.enabled is true (the 32-character hex account id)" });
  }
  if (!args.zoneId) {
    found.push({ key: "zoneId", message: "is required when cloudflare.enabled is true (the 32-character hex zone id of the domain)" });
  }
  for (const { service } of args.routes) {
    if (service !== "grafana" && !args.access) {
      found.push({
        key: "expose",
        message: `exposing ${service} on the internet needs cloudflare.access.enabled (it has no login of its own)`,
      });
    }
  }
  for (const service of duplicates(args.routes.map((r) => r.service))) {
    found.push({ key: "expose", message: `lists ${service} more than once` });
  }
  if (args.access && args.access.emails.length === 0 && args.access.emailDomains.length === 0) {
    found.push({ key: "access", message: "is enabled but allows nobody: give emails or emailDomains" });
  }
  return found;
}
