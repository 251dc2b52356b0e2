/** What the Cloudflare tunnel refuses in its own args: each route once, and an access policy that lets someone in. */
import { ArgsProblem, duplicates } from "../kit/problems";
import { CloudflareTunnelArgs, TunnelRoute } from "./args";

/** Each published service listed once; Cloudflare Access, when on, with someone to let in. */
export function problems(
  args: Pick<CloudflareTunnelArgs, "access"> & { routes: ReadonlyArray<Pick<TunnelRoute, "service">> },
): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  for (const service of duplicates(args.routes.map((r) => r.service))) {
    found.push({ key: "expose", message: `lists ${service} more than once` });
  }
  if (args.access && args.access.emails.length === 0 && args.access.emailDomains.length === 0) {
    found.push({ key: "access", message: "is enabled but allows nobody: give emails or emailDomains" });
  }
  return found;
}
