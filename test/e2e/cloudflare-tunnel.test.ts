/**
 * The Cloudflare tunnel's ingress rules under cloudflared, the release the stack deploys:
 * the production stack's rules validate and route each hostname to its Service, Grafana's
 * own metrics and Prometheus' receivers stay out of reach, and rules without the catch-all
 * last are refused.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { tunnelIngressRules } from "../../components/cloudflare-tunnel";
import type { Rendered } from "../../cli/render";
import { runBinary } from "../../lab/local/binaries";
import { render } from "../support/render";

/** The tunnel's remote config, as the Cloudflare provider takes it. */
const TUNNEL_CONFIG = "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig";
const tunnelConfig = (r: Rendered) => r.cloudflare.filter((c) => c.type === TUNNEL_CONFIG);

describe("the tunnel's ingress rules under cloudflared (the release the stack deploys)", () => {
  /** Writes the rules as a locally-managed config file holds them, and runs cloudflared on it. */
  function cloudflared(rules: unknown[], args: string[]): { ok: boolean; output: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudflared-"));
    try {
      const file = path.join(dir, "config.yml");
      fs.writeFileSync(file, YAML.stringify({ ingress: rules }));
      return runBinary("cloudflared", ["tunnel", "--config", file, "ingress", ...args], { timeoutMs: 30_000 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test("cloudflared validates the production stack's rules, and routes each hostname to its Service", async () => {
    const rendered = await render("production");
    const [config] = tunnelConfig(rendered);
    const rules = (config.inputs.config as { ingresses: Array<{ hostname?: string; service: string }> }).ingresses;
    const validated = cloudflared(rules, ["validate"]);
    expect(validated.output).toMatch(/OK/);
    expect(validated.ok).toBe(true);
    for (const rule of rules.filter((r) => r.hostname && !("path" in r))) {
      const matched = cloudflared(rules, ["rule", `https://${rule.hostname}/`]);
      expect(matched.ok).toBe(true);
      expect(matched.output).toContain(rule.service);
    }
    // Any other hostname falls to the catch-all.
    expect(cloudflared(rules, ["rule", "https://other.example.com/"]).output).toContain("http_status:404");
  });

  test("Grafana's own metrics are not reachable through the tunnel, the rest of Grafana is", async () => {
    const rendered = await render("production");
    const [config] = tunnelConfig(rendered);
    const rules = (config.inputs.config as { ingresses: Array<{ hostname?: string; path?: string; service: string }> }).ingresses;
    const grafana = rules.find((r) => r.service.startsWith("http://grafana."));
    if (!grafana?.hostname) throw new Error(`no rule to Grafana in ${JSON.stringify(rules)}`);
    // What cloudflared itself picks for a URL: the 404, or Grafana's Service.
    const serviceOf = (urlPath: string) => {
      const matched = cloudflared(rules, ["rule", `https://${grafana.hostname}${urlPath}`]);
      expect(matched.ok).toBe(true);
      return [grafana.service, "http_status:404"].filter((service) => matched.output.includes(service));
    };
    for (const p of ["/metrics", "/metrics/plugins/grafana-piechart-panel", "/%6Detrics"]) {
      expect([p, serviceOf(p)]).toEqual([p, ["http_status:404"]]);
    }
    for (const p of ["/", "/login", "/api/health", "/d/node-overview"]) expect([p, serviceOf(p)]).toEqual([p, [grafana.service]]);
  });

  test("every exposed service of a tunnel with all three validates too", () => {
    const rules = tunnelIngressRules("monitoring", [
      { service: "grafana", hostname: "grafana.example.com" },
      { service: "prometheus", hostname: "prometheus.example.com" },
      { service: "alertmanager", hostname: "alertmanager.example.com" },
    ]);
    expect(cloudflared(rules, ["validate"]).ok).toBe(true);
  });

  test("Prometheus' receivers and Alertmanager's reload are not reachable through the tunnel, their reads are", () => {
    const prometheus = "prometheus.example.com";
    const alertmanager = "alertmanager.example.com";
    const rules = tunnelIngressRules("monitoring", [
      { service: "prometheus", hostname: prometheus },
      { service: "alertmanager", hostname: alertmanager },
    ]);
    const serviceOf = (host: string, urlPath: string) => {
      const matched = cloudflared(rules, ["rule", `https://${host}${urlPath}`]);
      expect(matched.ok).toBe(true);
      return /http_status:404/.test(matched.output) ? "404" : /http:\/\/(prometheus|alertmanager)\./.exec(matched.output)?.[1];
    };
    for (const p of ["/api/v1/write", "/api/v1/otlp/v1/metrics", "/api/v1/%77rite", "/api/v1/%6Ftlp/v1/metrics"]) {
      expect([p, serviceOf(prometheus, p)]).toEqual([p, "404"]);
    }
    for (const p of ["/", "/query", "/api/v1/query", "/api/v1/series"]) expect([p, serviceOf(prometheus, p)]).toEqual([p, "prometheus"]);
    expect(serviceOf(alertmanager, "/-/reload")).toBe("404");
    // A path, never a method: the tunnel cannot tell POST /api/v2/alerts from the UI's GET (Access keeps it, docs/security.md).
    for (const p of ["/", "/api/v2/alerts", "/api/v2/silences"]) expect([p, serviceOf(alertmanager, p)]).toEqual([p, "alertmanager"]);
  });

  test("cloudflared refuses rules without the catch-all last, so the checks above can fail", () => {
    const rules = tunnelIngressRules("monitoring", [{ service: "grafana", hostname: "grafana.example.com" }]);
    const result = cloudflared(rules.slice(0, -1), ["validate"]);
    expect(result.ok).toBe(false);
  });
});
