/**
 * CloudflareTunnel: its pure builders (ingress rules, token, durations, Access
 * rules), the component alone under mocks (Cloudflare resources, cloudflared
 * Deployment, secrets redacted, refused inputs), and both real stacks. The deployed
 * cloudflared runs the ingress rules in test/e2e/cloudflare-tunnel.test.ts.
 */
import * as crypto from "crypto";
import { images } from "../../components/images";
import { CloudflareTunnel, accessIncludes, goDuration, tunnelIngressRules, tunnelToken } from "../../components/cloudflare-tunnel";
import { CloudflareTunnelArgs } from "../../components/cloudflare-tunnel/args";
import { problems } from "../../components/cloudflare-tunnel/section";
import { cloudflareTunnelArgs } from "../../components/stack/args";
import { Rendered, renderRun } from "../../cli/render";
import { RunResult, SecretValue, runProgram } from "../../cli/runner";
import { objectOf, objectsOf, render, renderStack, ALONE } from "../support/render";
import { schemaProblems } from "../support/schema";
import { parse, problems as configProblems } from "../config/support";

const ACCOUNT = "0123456789abcdef0123456789abcdef";
const ZONE = "fedcba9876543210fedcba9876543210";
const T = {
  tunnel: "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared",
  config: "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig",
  dns: "cloudflare:index/dnsRecord:DnsRecord",
  app: "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication",
  policy: "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy",
};

const STACK_SALT = Buffer.alloc(32, 7);
const ACCESS = { emails: ["ops@example.org"], emailDomains: ["example.com"], sessionDuration: "12h" };
/** Prometheus, which has no login of its own, behind Cloudflare Access (the tunnel's problems() refuses it otherwise). */
const BASE: CloudflareTunnelArgs = {
  namespace: "monitoring",
  environment: "staging",
  accountId: ACCOUNT,
  zoneId: ZONE,
  tunnelName: "monitoring-staging",
  replicas: 1,
  routes: [
    { service: "grafana", hostname: "grafana.example.com" },
    { service: "prometheus", hostname: "prometheus.example.com" },
  ],
  access: ACCESS,
  resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
  stackSalt: STACK_SALT,
};

interface TunnelRender {
  run: RunResult;
  shown: Rendered;
  redacted: Rendered;
}

async function renderTunnel(args: CloudflareTunnelArgs): Promise<TunnelRender> {
  const run = await runProgram({
    ...ALONE,
    program: async () => {
      const t = new CloudflareTunnel("cf", args);
      return { urls: t.urls, tunnelId: t.tunnelId, target: t.tunnelTarget, scrapeTargets: t.scrapeTargets };
    },
  });
  return { run, shown: renderRun(run, true), redacted: renderRun(run, false) };
}

const ofType = (r: Rendered, type: string) => r.cloudflare.filter((c) => c.type === type);

interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    automountServiceAccountToken: boolean;
    securityContext: Record<string, unknown>;
    affinity?: unknown;
    containers: Array<Record<string, unknown> & { securityContext: Record<string, unknown> }>;
  };
}
const templateOf = (r: Rendered) => (objectOf(r, "Deployment", "cloudflared").spec as { template: PodTemplate }).template;

// ---------------------------------------------------------------------------
// Pure builders

describe("tunnel builders", () => {
  test("one ingress rule per hostname to the in-cluster Service, then the catch-all; the unpublished paths first go to a 404", () => {
    expect(tunnelIngressRules("monitoring", [...BASE.routes, { service: "alertmanager", hostname: "am.example.com" }])).toEqual([
      { hostname: "grafana.example.com", path: "^/metrics", service: "http_status:404" },
      { hostname: "grafana.example.com", service: "http://grafana.monitoring.svc:3000" },
      // Prometheus' receivers: nobody outside writes series.
      { hostname: "prometheus.example.com", path: "^/api/v1/write", service: "http_status:404" },
      { hostname: "prometheus.example.com", path: "^/api/v1/otlp", service: "http_status:404" },
      { hostname: "prometheus.example.com", service: "http://prometheus.monitoring.svc:9090" },
      { hostname: "am.example.com", path: "^/-/reload", service: "http_status:404" },
      { hostname: "am.example.com", service: "http://alertmanager.monitoring.svc:9093" },
      { service: "http_status:404" },
    ]);
  });

  test("the token is base64 of the documented {a, t, s} JSON", () => {
    const token = tunnelToken(ACCOUNT, "6ff42ae2-765d-4adf-8112-31c55c1551ef", "c2VjcmV0");
    expect(JSON.parse(Buffer.from(token, "base64").toString("utf8"))).toEqual({
      a: ACCOUNT,
      t: "6ff42ae2-765d-4adf-8112-31c55c1551ef",
      s: "c2VjcmV0",
    });
  });

  test.each([
    ["24h", "24h"],
    ["30d", "720h"],
    ["90m", "1h30m"],
    ["1h30m15s", "1h30m15s"],
    ["45s", "45s"],
  ])("Access takes %s as the Go duration %s", (prom, go) => {
    expect(goDuration(prom)).toBe(go);
  });

  // Config holds cloudflare.access.sessionDuration to a duration of at least 1s (below: "config refuses").
  test("the shortest session config takes, 1s, is 1s", () => {
    expect(goDuration("1s")).toBe("1s");
  });

  test("Access includes: each email, then each email domain", () => {
    expect(accessIncludes(ACCESS)).toEqual([{ email: { email: "ops@example.org" } }, { emailDomain: { domain: "example.com" } }]);
  });
});

// ---------------------------------------------------------------------------
// The component alone

describe("CloudflareTunnel component", () => {
  let plain: TunnelRender;
  beforeAll(async () => {
    plain = await renderTunnel(BASE);
  });

  test("a remotely-managed tunnel with a 32-byte secret, and its remote config ending with the catch-all", () => {
    const [tunnel] = ofType(plain.shown, T.tunnel);
    expect(tunnel.inputs).toEqual({
      accountId: ACCOUNT,
      name: "monitoring-staging",
      configSrc: "cloudflare",
      tunnelSecret: expect.any(String),
    });
    expect(Buffer.from(tunnel.inputs.tunnelSecret as string, "base64")).toHaveLength(32);
    const [config] = ofType(plain.shown, T.config);
    expect(config.inputs).toEqual({
      accountId: ACCOUNT,
      tunnelId: plain.run.outputs.tunnelId,
      config: { ingresses: tunnelIngressRules("monitoring", BASE.routes) },
    });
    const rules = (config.inputs.config as { ingresses: Array<{ service: string; hostname?: string }> }).ingresses;
    expect(rules[rules.length - 1]).toEqual({ service: "http_status:404" });
  });

  test("a proxied CNAME per hostname to <tunnel id>.cfargotunnel.com", () => {
    expect(plain.run.outputs.tunnelId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    const target = `${plain.run.outputs.tunnelId as string}.cfargotunnel.com`;
    expect(plain.run.outputs.target).toBe(target);
    expect(ofType(plain.shown, T.dns).map((d) => ({ name: d.name, inputs: d.inputs }))).toEqual([
      {
        name: "cf-dns-grafana",
        inputs: {
          zoneId: ZONE,
          name: "grafana.example.com",
          type: "CNAME",
          content: target,
          proxied: true,
          ttl: 1,
          comment: "grafana of the staging monitoring stack, through tunnel monitoring-staging",
        },
      },
      {
        name: "cf-dns-prometheus",
        inputs: expect.objectContaining({ name: "prometheus.example.com", type: "CNAME", content: target, proxied: true }),
      },
    ]);
  });

  test("without Access there is no Access application or policy", async () => {
    const { shown } = await renderTunnel({ ...BASE, routes: [BASE.routes[0]], access: undefined });
    expect(ofType(shown, T.app)).toEqual([]);
    expect(ofType(shown, T.policy)).toEqual([]);
  });

  test("with Access: one allow policy and a self-hosted application per hostname that uses it", async () => {
    const { shown } = await renderTunnel({ ...BASE, access: ACCESS });
    const [policy] = ofType(shown, T.policy);
    expect(policy.inputs).toEqual({
      accountId: ACCOUNT,
      name: "monitoring-staging allow",
      decision: "allow",
      includes: [{ email: { email: "ops@example.org" } }, { emailDomain: { domain: "example.com" } }],
      sessionDuration: "12h",
    });
    expect(ofType(shown, T.app).map((a) => a.inputs)).toEqual([
      {
        accountId: ACCOUNT,
        name: "grafana (staging)",
        type: "self_hosted",
        domain: "grafana.example.com",
        sessionDuration: "12h",
        policies: [{ id: "cf-access-policy-id", precedence: 1 }],
      },
      expect.objectContaining({
        name: "prometheus (staging)",
        domain: "prometheus.example.com",
        policies: [{ id: "cf-access-policy-id", precedence: 1 }],
      }),
    ]);
  });

  test("the token Secret holds the connector token of this tunnel, built from its id and secret", () => {
    const token = (objectOf(plain.shown, "Secret", "cloudflared-token").stringData as Record<string, string>)["tunnel-token"];
    const [tunnel] = ofType(plain.shown, T.tunnel);
    expect(JSON.parse(Buffer.from(token, "base64").toString("utf8"))).toEqual({
      a: ACCOUNT,
      t: plain.run.outputs.tunnelId,
      s: tunnel.inputs.tunnelSecret,
    });
  });

  test("the connectors roll when the token changes: checksum/token, its salted slow digest", () => {
    const token = (r: Rendered) => (objectOf(r, "Secret", "cloudflared-token").stringData as Record<string, string>)["tunnel-token"];
    // The documented parameters (components/kit/secret-digest.ts): scrypt (RFC 7914) at N=2^15, r=8, p=1, 16 bytes, over
    // the values' JSON entries, its salt HMAC-SHA256 of the use's label under the stack's salt.
    const salt = crypto.createHmac("sha256", STACK_SALT).update("monitoring-stack/cloudflared-token/v1").digest();
    const spec = (t: string) =>
      crypto.scryptSync(JSON.stringify([["token", t]]), salt, 16, { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }).toString("hex");
    expect(templateOf(plain.shown).metadata.annotations?.["checksum/token"]).toBe(spec(token(plain.shown)));
    // Not a secret: the redacted render, which a reviewer reads, has it as it is.
    expect(templateOf(plain.redacted).metadata.annotations?.["checksum/token"]).toBe(spec(token(plain.shown)));
  });

  test("the token and the tunnel secret never appear in clear in the redacted render", () => {
    const token = (objectOf(plain.shown, "Secret", "cloudflared-token").stringData as Record<string, string>)["tunnel-token"];
    const secret = ofType(plain.shown, T.tunnel)[0].inputs.tunnelSecret as string;
    const redacted = JSON.stringify([
      plain.redacted.kubernetes,
      plain.redacted.cloudflare,
      [...plain.redacted.files.values()],
      plain.redacted.outputs,
    ]);
    expect(redacted).not.toContain(token);
    expect(redacted).not.toContain(secret);
    expect(objectOf(plain.redacted, "Secret", "cloudflared-token").stringData).toEqual({ "tunnel-token": "[secret]" });
    expect(ofType(plain.redacted, T.tunnel)[0].inputs.tunnelSecret).toBe("[secret]");
    // The raw run keeps them as secrets, not as plain values that happen to be redacted.
    const tunnelRecord = plain.run.resources.find((r) => r.type === T.tunnel);
    expect(tunnelRecord?.inputs.tunnelSecret).toBeInstanceOf(SecretValue);
  });

  test("the cloudflared Deployment: pinned image, token from the Secret, restricted, read-only, probes on the metrics port", () => {
    const template = templateOf(plain.shown);
    expect(template.metadata.labels).toMatchObject({ "app.kubernetes.io/name": "cloudflared", "app.kubernetes.io/instance": "staging" });
    // A new tunnel means a new token, read only at start: its id on the template rolls the pods.
    expect(template.metadata.annotations).toEqual({
      "monitoring/tunnel-id": plain.run.outputs.tunnelId,
      "checksum/token": expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(template.spec.automountServiceAccountToken).toBe(false);
    expect(template.spec.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      fsGroupChangePolicy: "OnRootMismatch",
      seccompProfile: { type: "RuntimeDefault" },
    });
    const [c] = template.spec.containers;
    expect(c).toEqual({
      name: "cloudflared",
      image: images.cloudflared,
      args: ["tunnel", "--no-autoupdate", "--metrics", "0.0.0.0:2000", "run"],
      env: [{ name: "TUNNEL_TOKEN", valueFrom: { secretKeyRef: { name: "cloudflared-token", key: "tunnel-token" } } }],
      ports: [{ name: "metrics", containerPort: 2000, protocol: "TCP" }],
      readinessProbe: {
        httpGet: { path: "/ready", port: "metrics", scheme: "HTTP" },
        initialDelaySeconds: 0,
        periodSeconds: 10,
        timeoutSeconds: 5,
        failureThreshold: 3,
      },
      livenessProbe: {
        httpGet: { path: "/healthcheck", port: "metrics", scheme: "HTTP" },
        initialDelaySeconds: 10,
        periodSeconds: 20,
        timeoutSeconds: 5,
        failureThreshold: 3,
      },
      resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
      },
    });
  });

  test("one replica: no PodDisruptionBudget, no anti-affinity", () => {
    expect((objectOf(plain.shown, "Deployment", "cloudflared").spec as { replicas: number }).replicas).toBe(1);
    expect(objectsOf(plain.shown, "PodDisruptionBudget")).toEqual([]);
    expect(templateOf(plain.shown).spec.affinity).toBeUndefined();
  });

  test("two replicas: a PodDisruptionBudget keeping one, each on a node of its own, rolled one at a time", async () => {
    const { shown } = await renderTunnel({ ...BASE, replicas: 2 });
    const spec = objectOf(shown, "Deployment", "cloudflared").spec as { replicas: number; selector: unknown; strategy: unknown };
    expect(spec.replicas).toBe(2);
    expect(objectOf(shown, "PodDisruptionBudget", "cloudflared").spec).toEqual({ maxUnavailable: 1, selector: spec.selector });
    expect(templateOf(shown).spec.affinity).toEqual({
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname", labelSelector: spec.selector }],
      },
    });
    // As many connectors as nodes: a surge pod would have no node to go to.
    expect(spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
    const single = objectOf(plain.shown, "Deployment", "cloudflared").spec as { strategy: unknown };
    expect(single.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  test("metrics: a Service port `metrics` 2000, a scrape target on it, and only Prometheus admitted", () => {
    const service = objectOf(plain.shown, "Service", "cloudflared");
    const selector = (objectOf(plain.shown, "Deployment", "cloudflared").spec as { selector: { matchLabels: Record<string, string> } })
      .selector.matchLabels;
    expect(service.spec).toEqual({
      type: "ClusterIP",
      selector,
      ports: [{ name: "metrics", port: 2000, targetPort: "metrics", protocol: "TCP" }],
    });
    expect(plain.run.outputs.scrapeTargets).toEqual([{ job: "cloudflared", namespace: "monitoring", selector, port: "metrics" }]);
    expect(objectOf(plain.shown, "NetworkPolicy", "cloudflared").spec).toEqual({
      podSelector: { matchLabels: selector },
      policyTypes: ["Ingress"],
      ingress: [
        {
          ports: [{ protocol: "TCP", port: 2000 }],
          from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "staging" } } }],
        },
      ],
    });
  });

  test("every Kubernetes object is schema-valid", () => {
    for (const o of plain.shown.kubernetes)
      expect({ kind: o.object.kind, problems: schemaProblems(o.object) }).toEqual({ kind: o.object.kind, problems: [] });
  });

  // The tunnel trusts its args: what it cannot deploy is refused before any resource, by the
  // schema and config's checks (keys of the cloudflare section) or by its own problems().
  const ids = { enabled: true, accountId: "a".repeat(32), zoneId: "b".repeat(32) };
  test.each([
    [{ cloudflare: { ...ids, accountId: "nope" } }, /^monitoring:cloudflare\.accountId: must be the 32-character hex/],
    [{ cloudflare: { ...ids, zoneId: "" } }, /^monitoring:cloudflare\.zoneId: must be the 32-character hex/],
    // 32 hex characters in upper case: the message says lower case, and gives it.
    [
      { cloudflare: { ...ids, accountId: "5A6B7C8D9E0F1A2B3C4D5E6F7A8B9C0D" } },
      /^monitoring:cloudflare\.accountId: must be the 32-character hex Cloudflare account id in lower case, as the dashboard shows it: did you mean "5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d"\? \(got "5A6B7C8D9E0F1A2B3C4D5E6F7A8B9C0D"\)$/,
    ],
    [
      { cloudflare: { ...ids, zoneId: "0D9C8B7A6F5E4D3C2B1A0F9E8D7C6B5A" } },
      /^monitoring:cloudflare\.zoneId: must be the 32-character hex Cloudflare zone id in lower case, as the dashboard shows it: did you mean "0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a"\?/,
    ],
    [{ cloudflare: { ...ids, tunnelName: "" } }, /^monitoring:cloudflare\.tunnelName: /],
    [{ domain: "example.com", hostnames: { grafana: "" }, cloudflare: ids }, /^monitoring:hostnames\.grafana: /],
    [
      {
        hostnames: { grafana: "x.example.com", prometheus: "x.example.com" },
        cloudflare: { ...ids, expose: ["grafana", "prometheus"], access: { enabled: true, emails: ["ops@example.org"] } },
      },
      /^monitoring:hostnames\.prometheus: is also the hostname of grafana/,
    ],
    [{ domain: "example.com", cloudflare: { ...ids, replicas: 0 } }, /^monitoring:cloudflare\.replicas: must be /],
    [
      { domain: "example.com", cloudflare: { ...ids, access: { enabled: true, emails: ["ops@example.org"], sessionDuration: "500ms" } } },
      /^monitoring:cloudflare\.access\.sessionDuration: must be at least 1s/,
    ],
  ])("config refuses %p", (plain, message) => {
    expect(configProblems("staging", { domain: "example.com", ...plain })).toEqual([expect.stringMatching(message)]);
  });

  test("with nothing to publish there is no tunnel", () => {
    expect(
      cloudflareTunnelArgs(parse("staging", { domain: "example.com", cloudflare: { ...ids, expose: [] } }).config, STACK_SALT),
    ).toBeUndefined();
  });

  test("problems(): each route once, and an access policy that lets someone in", () => {
    const given = { accountId: ACCOUNT, zoneId: ZONE };
    expect(problems({ ...given, routes: [BASE.routes[0], BASE.routes[0]] })).toEqual([
      { key: "expose", message: "lists grafana more than once" },
    ]);
    expect(problems({ ...given, routes: BASE.routes, access: { emails: [], emailDomains: [], sessionDuration: "24h" } })).toEqual([
      { key: "access", message: "is enabled but allows nobody: give emails or emailDomains" },
    ]);
    expect(problems(BASE)).toEqual([]);
  });

  test("problems(): the account and the zone, and Access in front of what has no login of its own", () => {
    expect(problems({ routes: [BASE.routes[0]] })).toEqual([
      { key: "accountId", message: "is required when cloudflare.enabled is true (the 32-character hex account id)" },
      { key: "zoneId", message: "is required when cloudflare.enabled is true (the 32-character hex zone id of the domain)" },
    ]);
    expect(problems({ ...BASE, access: undefined })).toEqual([
      { key: "expose", message: "exposing prometheus on the internet needs cloudflare.access.enabled (it has no login of its own)" },
    ]);
  });

  test("the component refuses what its problems() finds, all in one error, naming each key", async () => {
    await expect(renderTunnel({ ...BASE, accountId: "", access: { ...ACCESS, emails: [], emailDomains: [] } })).rejects.toThrow(
      'CloudflareTunnel "cf": accountId: is required when cloudflare.enabled is true (the 32-character hex account id); ' +
        "access: is enabled but allows nobody: give emails or emailDomains",
    );
  });
});

// ---------------------------------------------------------------------------
// The real stacks

describe("the real stacks", () => {
  test("production on two nodes: the tunnel publishes Grafana alone, behind Access, with two connectors", async () => {
    const rendered = await render("production", ["nodes=2"]);
    expect(rendered.cloudflare.map((c) => `${c.type.split(":").pop()}/${c.name}`)).toEqual([
      "DnsRecord/monitoring-cloudflare-tunnel-dns-grafana",
      "ZeroTrustAccessApplication/monitoring-cloudflare-tunnel-access-grafana",
      "ZeroTrustAccessPolicy/monitoring-cloudflare-tunnel-access-policy",
      "ZeroTrustTunnelCloudflared/monitoring-cloudflare-tunnel-tunnel",
      "ZeroTrustTunnelCloudflaredConfig/monitoring-cloudflare-tunnel-config",
    ]);
    const [config] = ofType(rendered, T.config);
    expect((config.inputs.config as { ingresses: unknown[] }).ingresses).toEqual([
      { hostname: "grafana.example.com", path: "^/metrics", service: "http_status:404" },
      { hostname: "grafana.example.com", service: "http://grafana.monitoring-production.svc:3000" },
      { service: "http_status:404" },
    ]);
    expect(ofType(rendered, T.policy)[0].inputs.includes).toEqual([{ emailDomain: { domain: "example.com" } }]);
    const mine = rendered.kubernetes.filter((o) => o.component === "cloudflare-tunnel");
    expect(mine.map((o) => `${o.object.kind}/${o.object.metadata.name}`).sort()).toEqual([
      "Deployment/cloudflared",
      "NetworkPolicy/cloudflared",
      "NetworkPolicy/cloudflared-egress",
      "PodDisruptionBudget/cloudflared",
      "Secret/cloudflared-token",
      "Service/cloudflared",
    ]);
    for (const o of mine) expect(schemaProblems(o.object)).toEqual([]);
    expect((objectOf(rendered, "Deployment", "cloudflared").spec as { replicas: number }).replicas).toBe(2);
    expect(rendered.outputs.grafanaUrl).toBe("https://grafana.example.com");
    // The stack file holds no token (the team sets it as a secret): the offline render says preview and up refuse the
    // stack without one (preflight/cloudflare-credentials.ts), and warns of nothing else of the tunnel or of Traefik.
    const noToken = "monitoring:cloudflare.enabled: is true, but the Cloudflare provider has no credentials";
    expect(rendered.warnings.filter((w) => w.startsWith(noToken))).toHaveLength(1);
    expect(rendered.warnings.filter((w) => !w.startsWith(noToken)).join("\n")).not.toMatch(/cloudflare|traefik/);
  });

  test("production, as a reviewer sees it: neither the token nor the tunnel secret appear", async () => {
    const [shown, redacted] = [await render("production"), await renderStack({ stack: "production" })];
    const token = (objectOf(shown, "Secret", "cloudflared-token").stringData as Record<string, string>)["tunnel-token"];
    const secret = ofType(shown, T.tunnel)[0].inputs.tunnelSecret as string;
    expect(token.length).toBeGreaterThan(40);
    const text = JSON.stringify([redacted.kubernetes, redacted.cloudflare, [...redacted.files.values()], redacted.outputs]);
    expect(text).not.toContain(token);
    expect(text).not.toContain(secret);
  });

  test("production: Prometheus scrapes cloudflared", async () => {
    const rendered = await render("production");
    const prometheusYml = [...rendered.files.entries()].find(([file]) => file.endsWith("prometheus.yml"))?.[1] ?? "";
    expect(prometheusYml).toMatch(/job_name: cloudflared/);
  });

  test("staging: the tunnel is off, nothing of it is rendered", async () => {
    const rendered = await render("staging");
    expect(rendered.cloudflare).toEqual([]);
    expect(rendered.kubernetes.filter((o) => o.component === "cloudflare-tunnel")).toEqual([]);
  });
});
