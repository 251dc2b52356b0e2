/** What Traefik refuses in its own args: one certificate source, each route and each user once. */
import { ArgsProblem, duplicates } from "../kit/problems";
import type { TraefikExposureArgs, TraefikRoute } from "./index";

/** The certificate's source chosen once; each published service and each basic-auth user listed once. */
export function problems(
  args: Pick<TraefikExposureArgs, "tlsSecretName" | "certResolver"> & {
    routes: ReadonlyArray<Pick<TraefikRoute, "service">>;
    basicAuthUsers: string[];
  },
): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  if (args.tlsSecretName && args.certResolver) {
    found.push({ key: "certResolver", message: "choose tlsSecretName or certResolver, not both" });
  }
  for (const service of duplicates(args.routes.map((r) => r.service))) {
    found.push({ key: "expose", message: `lists ${service} more than once` });
  }
  for (const name of duplicates(args.basicAuthUsers)) {
    found.push({ key: "basicAuthUsers", message: `user "${name}" is listed more than once` });
  }
  return found;
}
