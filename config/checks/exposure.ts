/** What Traefik and the Cloudflare tunnel publish: hostnames, access, certificates and basic-auth users. */
import { problems as tunnelProblems } from "../../components/cloudflare-tunnel/problems";
import { problems as traefikProblems } from "../../components/traefik/problems";
import { ExposedService } from "../../components/kit/web";
import { describeInput } from "../problems";
import { publicHostname } from "../resolved";
import { CheckInput, sectionProblems } from "./check";

/** The tunnel's account, zone and access; Traefik's certificate source; each published service with a hostname. */
export function edgeChecks(input: CheckInput): void {
  const { rawConfig, resolved, key, problems, warnings } = input;
  const cloudflare = resolved.cloudflare;
  if (cloudflare.enabled) {
    if (!cloudflare.accountId)
      problems.push({
        key: key("cloudflare.accountId"),
        message: "is required when cloudflare.enabled is true (the 32-character hex account id)",
      });
    if (!cloudflare.zoneId)
      problems.push({
        key: key("cloudflare.zoneId"),
        message: "is required when cloudflare.enabled is true (the 32-character hex zone id of the domain)",
      });
    for (const svc of cloudflare.expose) {
      if (!resolved.hostnames[svc])
        problems.push({
          key: key("cloudflare.expose"),
          message: `exposes ${svc} but it has no hostname: set ${rawConfig.project}:domain or hostnames.${svc}`,
          involves: [key("domain"), key(`hostnames.${svc}`)],
        });
      if (svc !== "grafana" && !cloudflare.access.enabled) {
        problems.push({
          key: key("cloudflare.expose"),
          message: `exposing ${svc} on the internet needs cloudflare.access.enabled (it has no login of its own)`,
        });
      }
    }
    const routes = cloudflare.expose.map((service) => ({ service }));
    sectionProblems("cloudflare", tunnelProblems({ routes, ...(cloudflare.access.enabled ? { access: cloudflare.access } : {}) }), input);
  }
  if (resolved.traefik.enabled) {
    for (const svc of resolved.traefik.expose) {
      if (!resolved.hostnames[svc])
        problems.push({
          key: key("traefik.expose"),
          message: `exposes ${svc} but it has no hostname: set ${rawConfig.project}:domain or hostnames.${svc}`,
          involves: [key("domain"), key(`hostnames.${svc}`)],
        });
    }
    // Without a certificate source Traefik serves its self-signed default certificate: browsers
    // warn, and users learn to click through the warning. The profile, not the environment (a free
    // label), is what makes a stack production, as for its replicas and protected volumes.
    if (!resolved.traefik.tlsSecretName && !resolved.traefik.certResolver && resolved.traefik.expose.length > 0) {
      const tls =
        `Traefik publishes ${resolved.traefik.expose.join(", ")} with no certificate source, so its routes serve Traefik's self-signed ` +
        `default certificate: set ${key("traefik.certResolver")} (a resolver of Traefik's static config, e.g. ACME) or ` +
        `${key("traefik.tlsSecretName")} (a kubernetes.io/tls Secret in ${resolved.namespace}) (got neither)`;
      if (resolved.profile === "production") {
        problems.push({
          key: key("traefik.tlsSecretName"),
          message: `is required in a production stack: ${tls}`,
          involves: [key("traefik.certResolver")],
        });
      } else {
        warnings.push(`${key("traefik.tlsSecretName")}: ${tls}.`);
      }
    }
  }
  // Traefik's own rules: a Traefik that is off publishes nothing and needs no certificate; its users are checked all the same.
  const traefik = resolved.traefik;
  const published = traefik.enabled
    ? { routes: traefik.expose.map((service) => ({ service })), tlsSecretName: traefik.tlsSecretName, certResolver: traefik.certResolver }
    : { routes: [] };
  sectionProblems("traefik", traefikProblems({ ...published, basicAuthUsers: traefik.basicAuthUsers }), input);
  // The user is the key of the secret map, never the password: only the name is echoed.
  for (const user of Object.keys(resolved.traefik.basicAuthPasswords)) {
    if (!resolved.traefik.basicAuthUsers.includes(user)) {
      problems.push({
        key: key(`basicAuthPasswords.${user}`),
        message: `no user "${user}" in traefik.basicAuthUsers (${resolved.traefik.basicAuthUsers.join(", ")}): add the user there, or remove the password with: pulumi config rm --path 'basicAuthPasswords.${user}'`,
        involves: [key("traefik.basicAuthUsers")],
      });
    }
  }
}

/** Hostnames of the published services: their own, and long enough to be one. */
export function hostnameChecks({ raw, resolved, key, problems }: CheckInput): void {
  const exposed = (["grafana", "prometheus", "alertmanager"] as const).filter((svc) => publicHostname(resolved, svc) !== undefined);
  const seen = new Map<string, ExposedService>();
  for (const svc of exposed) {
    const host = resolved.hostnames[svc] as string;
    const explicit = raw.hostnames?.[svc] !== undefined;
    if (!explicit && host.length > 253) {
      problems.push({
        key: key("domain"),
        message: `is too long for the hostname ${svc}.<domain> (${host.length} characters; a hostname has at most 253): set hostnames.${svc} or a shorter domain (got ${describeInput(resolved.domain)})`,
      });
    }
    const other = seen.get(host);
    if (other !== undefined) {
      problems.push({
        key: key(explicit ? `hostnames.${svc}` : `hostnames.${other}`),
        message: `is also the hostname of ${explicit ? other : svc}, and both are published: give each service its own (got ${JSON.stringify(host)})`,
      });
    }
    seen.set(host, svc);
  }
}
