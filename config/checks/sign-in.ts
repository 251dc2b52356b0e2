/**
 * Grafana's sign-in (grafana.signIn) against the rest of the stack: OAuth providers need the
 * published hostname their callback returns to, Cloudflare Access as the identity needs the tunnel's
 * Access in front of Grafana and its team, and a provider that lets in anyone with an account is
 * refused in a production stack and warned of in staging. The section's own rules are its problems.
 */
import { OAUTH_PROVIDERS, UNRESTRICTED, restricts } from "../../components/grafana/sign-in";
import { publicHostname } from "../../components/stack/config";
import { CheckInput } from "./check";

export function signInChecks({ resolved, key, problems, warnings }: CheckInput): void {
  const signIn = resolved.grafana.signIn;
  if (!signIn) return;
  const published = publicHostname(resolved, "grafana") !== undefined;
  for (const p of OAUTH_PROVIDERS.filter((provider) => signIn[provider] !== undefined)) {
    if (!published) {
      problems.push({
        key: key(`grafana.signIn.${p}`),
        message:
          "needs Grafana published, so that the provider can send the browser back to it (its callback is under Grafana's root_url): " +
          "expose grafana through traefik.expose or cloudflare.expose, with a hostname (got Grafana in-cluster only)",
        involves: [key("traefik.expose"), key("cloudflare.expose")],
      });
    }
    if (!restricts(signIn, p)) {
      const open = `lets in ${UNRESTRICTED[p]}`;
      if (resolved.profile === "production") {
        problems.push({ key: key(`grafana.signIn.${p}`), message: `${open} (refused in a production stack)` });
      } else {
        warnings.push(
          `${key(`grafana.signIn.${p}`)} ${open}; until then its sign-up is off, so only users the admin creates in Grafana can sign in.`,
        );
      }
    }
  }
  if (signIn.cloudflareAccess) {
    const c = resolved.cloudflare;
    const missing = [
      ...(c.enabled ? [] : ["cloudflare.enabled: true"]),
      ...(c.expose.includes("grafana") ? [] : ["grafana in cloudflare.expose"]),
      ...(c.access.enabled ? [] : ["cloudflare.access.enabled: true"]),
      ...(c.access.team ? [] : ["cloudflare.access.team (your <team>.cloudflareaccess.com)"]),
    ];
    if (missing.length > 0) {
      problems.push({
        key: key("grafana.signIn.cloudflareAccess"),
        message: `signs in whom Cloudflare Access let through to Grafana, so it needs the tunnel's Access in front of Grafana: set ${missing.join(", ")}`,
        involves: [key("cloudflare.enabled"), key("cloudflare.expose"), key("cloudflare.access.enabled"), key("cloudflare.access.team")],
      });
    }
  }
}
