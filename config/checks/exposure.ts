/**
 * What Traefik and the Cloudflare tunnel publish, against the rest of the stack: a hostname for
 * each published service, one way in to each hostname, and a certificate for Traefik's routes in
 * a production stack. Their own rules (the tunnel's account, zone and Access, Traefik's certificate
 * source and users) are their sections' problems.
 */
import { EXPOSED_SERVICES, ExposedService } from "../../components/kit/web";
import { describeInput } from "../problems";
import { exposedBy } from "../../components/stack/config";
import { CheckInput } from "./check";

const EDGES = ["traefik", "cloudflare"] as const;

/** Each service the tunnel or Traefik publishes with a hostname; Traefik's routes with a certificate source, by profile. */
export function exposureChecks(input: CheckInput): void {
  const { rawConfig, resolved, key, problems, warnings } = input;
  const withoutHostname = (edge: (typeof EDGES)[number]) => {
    for (const svc of resolved[edge].expose) {
      if (!resolved.hostnames[svc])
        problems.push({
          key: key(`${edge}.expose`),
          message: `exposes ${svc} but it has no hostname: set ${rawConfig.project}:domain or hostnames.${svc}`,
          involves: [key("domain"), key(`hostnames.${svc}`)],
        });
    }
  };
  if (resolved.cloudflare.enabled) withoutHostname("cloudflare");
  if (resolved.traefik.enabled) {
    withoutHostname("traefik");
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
}

/**
 * Hostnames of the published services: their own, long enough to be one, and one way in. Each
 * (edge, service) pair that publishes is a way in to the service's hostname; a hostname has one:
 * - two services on one hostname: one of them is never reached;
 * - one service published by Traefik and by the tunnel: the tunnel's DNS record (a proxied CNAME to
 *   the tunnel) is the hostname's, so Traefik's route is reached only by whoever sends that Host to
 *   the node directly, past Cloudflare (and its Access).
 */
export function hostnameChecks({ raw, resolved, key, problems }: CheckInput): void {
  const edgesOf = (svc: ExposedService) => EDGES.filter((edge) => exposedBy(resolved, svc, edge));
  // A published service without a hostname is exposureChecks' problem.
  const published = EXPOSED_SERVICES.filter((svc) => edgesOf(svc).length > 0 && resolved.hostnames[svc]);
  const byBothEdges = published.filter((svc) => edgesOf(svc).length > 1);
  if (byBothEdges.length > 0)
    problems.push({
      key: key("traefik.expose"),
      message:
        `publishes ${byBothEdges.join(", ")}, which the Cloudflare tunnel publishes too (cloudflare.expose), on the same hostname (${byBothEdges.map((svc) => resolved.hostnames[svc]).join(", ")}): ` +
        `its DNS record points at the tunnel, so Traefik's route would serve only whoever reaches the node directly, past Cloudflare; ` +
        `publish each service one way: drop ${byBothEdges.join(", ")} from traefik.expose or from cloudflare.expose (got traefik.expose ${describeInput(resolved.traefik.expose)}, cloudflare.expose ${describeInput(resolved.cloudflare.expose)})`,
      involves: [key("cloudflare.expose")],
    });
  const seen = new Map<string, ExposedService>();
  for (const svc of published) {
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
