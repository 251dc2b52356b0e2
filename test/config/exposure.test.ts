/** What Traefik publishes: the certificate source of its routes (config/checks/exposure.ts). */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { parse, problems } from "./support";

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
        expect(parse(profile, { ...published, traefik: { ...published.traefik, ...tls } }).warnings).toEqual([]);
      }
      expect(parse(profile, { domain: "example.com", traefik: { enabled: false } }).warnings).toEqual([]);
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
