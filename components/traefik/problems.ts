/** What Traefik refuses in its own args: one certificate source, each route and each user once, a password only for a user. */
import { ArgsProblem, duplicates } from "../kit/problems";
import type { TraefikExposureArgs, TraefikRoute } from "./args";

/**
 * The certificate's source chosen once; each published service and each basic-auth user listed
 * once; each given basic-auth password (the secret key basicAuthPasswords) for one of the users.
 */
export function problems(
  args: Pick<TraefikExposureArgs, "tlsSecretName" | "certResolver" | "basicAuthPasswords"> & {
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
  // The user is the key of the secret map, never the password: only the name is echoed.
  for (const user of Object.keys(args.basicAuthPasswords ?? {})) {
    if (!args.basicAuthUsers.includes(user)) {
      found.push({
        key: `basicAuthPasswords.${user}`,
        message: `no user "${user}" in traefik.basicAuthUsers (${args.basicAuthUsers.join(", ")}): add the user there, or remove the password with: pulumi config rm --path 'basicAuthPasswords.${user}'`,
        involves: ["basicAuthUsers"],
      });
    }
  }
  return found;
}
