/**
 * What Traefik publishes: the certificate source of its routes, and no service the tunnel publishes too
 * (config/checks/exposure.ts); whom Cloudflare Access lets in (the cloudflare section's warnings).
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { PUBLIC_MAIL_DOMAINS } from "../../components/cloudflare-tunnel/mail-domains";
import { traefikExposureArgs } from "../../components/stack/args";
import { parse, problems } from "./support";

/** A dead man's switch, which a production stack expects (a warning without one, not what these tests are about). */
const WATCHED = { deadMansSwitchUrl: "https://hc-ping.com/uuid" };

describe("stack config: the certificate of Traefik's routes", () => {
  const published = { domain: "example.com", traefik: { enabled: true, expose: ["grafana", "prometheus"] } };

  test("a production stack publishing through Traefik with no certificate source is refused, naming both keys", () => {
    expect(problems("production", published)).toEqual([
      "monitoring:traefik.tlsSecretName: is required in a production stack: Traefik publishes grafana, prometheus with no certificate " +
        "source, so its routes serve Traefik's self-signed default certificate: set monitoring:traefik.certResolver (a resolver of " +
        "Traefik's static config, e.g. ACME) or monitoring:traefik.tlsSecretName (a kubernetes.io/tls Secret in monitoring-production) (got neither)",
    ]);
  });

  test("the profile decides, not the environment: an environment named production on the staging profile only warns", () => {
    const { warnings } = parse("staging", { ...published, environment: "production" });
    expect(warnings).toEqual([
      expect.stringMatching(
        /^monitoring:traefik\.tlsSecretName: Traefik publishes grafana, prometheus with no certificate source.*\(got neither\)\.$/,
      ),
    ]);
    expect(problems("prod-eu", { ...published, profile: "production" })).toEqual([
      expect.stringMatching(/^monitoring:traefik\.tlsSecretName: is required in a production stack/),
    ]);
  });

  test("either source is enough, in both profiles; with nothing published or Traefik off there is nothing to say", () => {
    for (const profile of ["staging", "production"]) {
      for (const tls of [{ certResolver: "letsencrypt" }, { tlsSecretName: "monitoring-tls" }]) {
        expect(parse(profile, { ...published, traefik: { ...published.traefik, ...tls } }, WATCHED).warnings).toEqual([]);
      }
      expect(parse(profile, { domain: "example.com", traefik: { enabled: false } }, WATCHED).warnings).toEqual([]);
    }
  });

  test("both stack files name a certificate source", () => {
    for (const stack of ["staging", "production"]) {
      const file = YAML.parse(fs.readFileSync(path.join(__dirname, "..", "..", `Pulumi.${stack}.yaml`), "utf8")) as {
        config: Record<string, { enabled?: boolean; certResolver?: string; tlsSecretName?: string }>;
      };
      const traefik = file.config["monitoring:traefik"];
      expect(traefik.enabled).toBe(true);
      expect(Boolean(traefik.certResolver) !== Boolean(traefik.tlsSecretName)).toBe(true);
    }
  });
});

describe("stack config: a service published one way", () => {
  const both = (traefikExpose: string[], cloudflareExpose: string[]) => ({
    domain: "example.com",
    traefik: { enabled: true, expose: traefikExpose, certResolver: "letsencrypt" },
    cloudflare: {
      enabled: true,
      accountId: "0".repeat(32),
      zoneId: "f".repeat(32),
      expose: cloudflareExpose,
      access: { enabled: true, team: "acme", emails: ["ops@example.com"] },
    },
  });

  test("by Traefik and the tunnel on the same hostname: refused, naming the services, both lists and what to drop", () => {
    expect(problems("staging", both(["grafana", "prometheus", "alertmanager"], ["grafana", "alertmanager"]))).toEqual([
      "monitoring:traefik.expose: publishes grafana, alertmanager, which the Cloudflare tunnel publishes too (cloudflare.expose), on the " +
        "same hostname (grafana.example.com, alertmanager.example.com): its DNS record points at the tunnel, so Traefik's route would serve " +
        "only whoever reaches the node directly, past Cloudflare; publish each service one way: drop grafana, alertmanager from " +
        'traefik.expose or from cloudflare.expose (got traefik.expose ["grafana","prometheus","alertmanager"], cloudflare.expose ["grafana","alertmanager"])',
    ]);
  });

  test("each service one way, or either edge off: accepted", () => {
    const accepted = (config: Record<string, unknown>) => expect(() => parse("staging", config)).not.toThrow();
    accepted(both(["prometheus", "alertmanager"], ["grafana"]));
    const off = both(["grafana"], ["grafana"]);
    accepted({ ...off, cloudflare: { ...off.cloudflare, enabled: false } });
    accepted({ ...off, traefik: { ...off.traefik, enabled: false } });
  });
});

describe("stack config: Cloudflare Access with a public mail provider's domain", () => {
  const tunnel = (access: Record<string, unknown>, enabled = true, expose = ["grafana", "prometheus"]) => ({
    domain: "example.com",
    cloudflare: {
      enabled,
      accountId: "0123456789abcdef0123456789abcdef",
      zoneId: "fedcba9876543210fedcba9876543210",
      expose,
      access: { enabled: true, ...access },
    },
  });
  const accessWarnings = (config: Record<string, unknown>) =>
    parse("production", config).warnings.filter((w) => w.startsWith("monitoring:cloudflare."));

  test("warns, naming the key, the domains and the services, and suggests emails", () => {
    expect(accessWarnings(tunnel({ emailDomains: ["example.com", "gmail.com", "proton.me"] }))).toEqual([
      'monitoring:cloudflare.access.emailDomains lists "gmail.com", "proton.me", the domains of a public mail provider: anyone who ' +
        "opens an address there gets through Cloudflare Access to grafana, prometheus. List the people in cloudflare.access.emails " +
        "instead (and keep emailDomains for your organisation's own domain).",
    ]);
    expect(accessWarnings(tunnel({ emailDomains: ["outlook.com"] }))).toEqual([
      expect.stringMatching(/^monitoring:cloudflare\.access\.emailDomains lists "outlook\.com", the domain of a public mail provider: /),
    ]);
  });

  test("an organisation's own domain, people by address, Access off or the tunnel off: nothing to say", () => {
    expect(accessWarnings(tunnel({ emailDomains: ["example.com"], emails: ["someone@gmail.com"] }))).toEqual([]);
    // A subdomain of a provider is not the provider's mailboxes (it would be someone's own).
    expect(accessWarnings(tunnel({ emailDomains: ["mail.gmail.com.example.com"] }))).toEqual([]);
    // Access off publishes Grafana alone (its own login): the domains are not used.
    expect(accessWarnings(tunnel({ enabled: false, emailDomains: ["gmail.com"] }, true, ["grafana"]))).toEqual([]);
    expect(accessWarnings(tunnel({ emailDomains: ["gmail.com"] }, false))).toEqual([]);
  });

  test("the list of public domains is the one docs/configuration.md shows", () => {
    const docs = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "configuration.md"), "utf8");
    const row = docs.split("\n").find((line) => line.startsWith("| `cloudflare.access.enabled`")) ?? "";
    const shown = [...(/The domains it knows as public: (.*) \|$/.exec(row)?.[1] ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    expect(shown).toEqual([...PUBLIC_MAIL_DOMAINS]);
    for (const domain of ["gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "proton.me"]) {
      expect(PUBLIC_MAIL_DOMAINS).toContain(domain);
    }
  });
});

describe("stack config: the rate limit of Traefik's basic-auth routes", () => {
  const published = { domain: "example.com", traefik: { enabled: true, expose: ["prometheus"], certResolver: "letsencrypt" } };
  const args = (traefik: Record<string, unknown>) =>
    traefikExposureArgs(parse("production", { ...published, traefik: { ...published.traefik, ...traefik } }).config, Buffer.alloc(32));

  test("on by default in both profiles, 10 a second with a burst of 50; each key given over the defaults", () => {
    for (const profile of ["staging", "production"]) {
      expect(parse(profile, published).config.traefik.rateLimit).toEqual({ enabled: true, average: 10, burst: 50, period: "1s" });
    }
    expect(args({})?.rateLimit).toEqual({ enabled: true, average: 10, burst: 50, period: "1s" });
    expect(args({ rateLimit: { average: 30, period: "1m" } })?.rateLimit).toEqual({ enabled: true, average: 30, burst: 50, period: "1m" });
    // Off, the routes have none (TraefikExposure makes no rate-limit Middleware: test/components/traefik.test.ts).
    const off = args({ rateLimit: { enabled: false } });
    expect(off?.routes).toEqual([{ service: "prometheus", hostname: "prometheus.example.com" }]);
    expect(off?.rateLimit.enabled).toBe(false);
  });

  test("what is not a count or a period Traefik and Prometheus read alike is refused, naming the key", () => {
    const refused = (rateLimit: Record<string, unknown>) =>
      problems("production", { ...published, traefik: { ...published.traefik, rateLimit } });
    expect(refused({ burst: 0 })).toEqual(["monitoring:traefik.rateLimit.burst: must be at least 1 (got 0)"]);
    expect(refused({ average: 2.5 })).toEqual([
      "monitoring:traefik.rateLimit.average: must be a whole number of requests, such as 10 (got 2.5)",
    ]);
    expect(refused({ period: "1d" })).toEqual([
      'monitoring:traefik.rateLimit.period: must be a period in whole seconds, minutes or hours, such as 1s, 1m or 1h (got "1d")',
    ]);
    expect(refused({ period: "500ms" })).toHaveLength(1);
    expect(refused({ limit: 5 })).toEqual([
      "monitoring:traefik.rateLimit.limit: unknown key; allowed here: enabled, average, burst, period",
    ]);
  });
});
