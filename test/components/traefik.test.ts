/**
 * TraefikExposure: the pure builders of its IngressRoutes and Middlewares, the
 * component alone under mocks (htpasswd verified with bcrypt, secrets redacted,
 * refused inputs), and both real stacks.
 */
import * as crypto from "crypto";
import * as bcrypt from "bcryptjs";
import * as YAML from "yaml";
import { K8sObject, Rendered, renderRun } from "../../cli/render";
import { RunResult, SecretValue, runProgram } from "../../cli/runner";
import {
  BASIC_AUTH_SALT_LABEL,
  HTPASSWD_KEY,
  TraefikExposure,
  basicAuthHash,
  basicAuthMiddleware,
  htpasswd,
  ingressRoute,
  rateLimitMiddleware,
  routeMatch,
  routeTls,
  securityHeadersMiddleware,
} from "../../components/traefik";
import type { TraefikExposureArgs } from "../../components/traefik/args";
import { SALT_OUTPUT } from "../../preflight/stack-salt";
import { readStackConfig } from "../../cli/stackfile";
import { objectOf, objectsOf, render, renderStack, ALONE } from "../support/render";
import { schemaProblems } from "../support/schema";
import { parse, problems as configProblems } from "../config/support";
import { problems } from "../../components/traefik/section";
import { traefikExposureArgs } from "../../components/stack/args";
import { parseTraefikRule, ruleMatches } from "../support/traefik-rule";

const LABELS = {
  "app.kubernetes.io/instance": "staging",
  "app.kubernetes.io/part-of": "monitoring-stack",
  "app.kubernetes.io/managed-by": "pulumi",
  "app.kubernetes.io/component": "exposure",
};

const ALL_ROUTES: TraefikExposureArgs["routes"] = [
  { service: "grafana", hostname: "grafana.example.com" },
  { service: "prometheus", hostname: "prometheus.example.com" },
  { service: "alertmanager", hostname: "alertmanager.example.com" },
];

/** A stack's salt, as index.ts hands it over (preflight/stack-salt.ts). */
const STACK_SALT = Buffer.alloc(32, 7);

const BASE: TraefikExposureArgs = {
  namespace: "monitoring",
  environment: "staging",
  routes: ALL_ROUTES,
  entryPoints: ["websecure"],
  basicAuthUsers: ["admin", "ops"],
  rateLimit: { enabled: false, average: 10, burst: 50, period: "1s" },
  stackSalt: STACK_SALT,
};

interface TraefikRender {
  run: RunResult;
  shown: Rendered;
  redacted: Rendered;
}

async function renderTraefik(args: TraefikExposureArgs): Promise<TraefikRender> {
  const run = await runProgram({
    ...ALONE,
    program: async () => {
      const t = new TraefikExposure("traefik", args);
      return { urls: t.urls, users: t.basicAuthUsers, passwords: t.basicAuthPasswords };
    },
  });
  return { run, shown: renderRun(run, true), redacted: renderRun(run, false) };
}

const traefikObjects = (r: Rendered) => r.kubernetes.map((o) => o.object).filter((o) => o.apiVersion.startsWith("traefik.io/"));

// ---------------------------------------------------------------------------
// Pure builders

describe("Traefik object builders", () => {
  test("a Prometheus route: host rule, security headers then basic auth, the Service port, TLS from the Secret", () => {
    const route = ingressRoute({
      namespace: "monitoring",
      environment: "staging",
      route: { service: "prometheus", hostname: "prometheus.example.com" },
      entryPoints: ["websecure"],
      tls: routeTls({ tlsSecretName: "monitoring-tls" }),
    });
    expect(route).toEqual({
      apiVersion: "traefik.io/v1alpha1",
      kind: "IngressRoute",
      metadata: { name: "prometheus", namespace: "monitoring", labels: { ...LABELS, "app.kubernetes.io/name": "prometheus" } },
      spec: {
        entryPoints: ["websecure"],
        routes: [
          {
            kind: "Rule",
            match: "Host(`prometheus.example.com`) && !PathPrefix(`/api/v1/write`) && !PathPrefix(`/api/v1/otlp`)",
            middlewares: [
              { name: "security-headers", namespace: "monitoring" },
              { name: "basic-auth", namespace: "monitoring" },
            ],
            services: [{ kind: "Service", name: "prometheus", namespace: "monitoring", port: 9090 }],
          },
        ],
        tls: { secretName: "monitoring-tls" },
      },
    });
    expect(schemaProblems(route as unknown as K8sObject)).toEqual([]);
  });

  test("Grafana has its own login: security headers only, port 3000", () => {
    const route = ingressRoute({
      namespace: "monitoring",
      environment: "staging",
      route: { service: "grafana", hostname: "grafana.example.com" },
      entryPoints: ["web", "websecure"],
      tls: routeTls({}),
    });
    const spec = route.spec as {
      entryPoints: string[];
      routes: Array<{ middlewares: unknown[]; services: Array<{ port: number }> }>;
      tls: unknown;
    };
    expect(spec.entryPoints).toEqual(["web", "websecure"]);
    expect(spec.routes[0].middlewares).toEqual([{ name: "security-headers", namespace: "monitoring" }]);
    expect(spec.routes[0].services[0].port).toBe(3000);
    expect(spec.tls).toEqual({});
    expect(schemaProblems(route as unknown as K8sObject)).toEqual([]);
  });

  test("Grafana's route leaves out /metrics and everything under it, in a rule Traefik v3 accepts", () => {
    const grafana = { service: "grafana", hostname: "grafana.example.com" } as const;
    const match = routeMatch(grafana);
    expect(match).toBe("Host(`grafana.example.com`) && !PathPrefix(`/metrics`)");
    expect(parseTraefikRule(match)).toEqual({
      op: "and",
      left: { op: "call", matcher: "Host", args: ["grafana.example.com"] },
      right: { op: "not", rule: { op: "call", matcher: "PathPrefix", args: ["/metrics"] } },
    });
    const routed = (path: string, host: string = grafana.hostname) => ruleMatches(match, { host, path });
    expect(["/", "/login", "/d/node-overview", "/api/health", "/public/build/app.js"].filter((p) => !routed(p))).toEqual([]);
    // Its own metrics and its plugins', however the path is spelt: unrouted, so Traefik answers 404.
    expect(
      ["/metrics", "/metrics/", "/metrics/plugins/grafana-piechart-panel", "/%6detrics", "/metric%73"].filter((p) => routed(p)),
    ).toEqual([]);
    expect(routed("/", "prometheus.example.com")).toBe(false);
  });

  test("Prometheus' route leaves out its receivers (remote write, OTLP), whatever the method; its reads stay", () => {
    const match = routeMatch({ service: "prometheus", hostname: "prometheus.example.com" });
    expect(match).toBe("Host(`prometheus.example.com`) && !PathPrefix(`/api/v1/write`) && !PathPrefix(`/api/v1/otlp`)");
    const routed = (path: string, method = "GET") => ruleMatches(match, { host: "prometheus.example.com", path, method });
    const reads = ["/", "/query", "/api/v1/query?query=up", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels", "/-/ready"];
    expect(reads.filter((p) => !routed(p) || !routed(p, "POST"))).toEqual([]);
    const writes = ["/api/v1/write", "/api/v1/otlp/v1/metrics", "/api/v1/%77rite", "/api/v1/%6Ftlp/v1/metrics", "/api/v1/write/"];
    expect(writes.filter((p) => routed(p, "POST") || routed(p))).toEqual([]);
  });

  test("Alertmanager's route leaves out POST /api/v2/alerts and /-/reload; listing alerts and silencing stay", () => {
    const match = routeMatch({ service: "alertmanager", hostname: "am.example.com" });
    expect(match).toBe("Host(`am.example.com`) && !PathPrefix(`/-/reload`) && !(Method(`POST`) && PathPrefix(`/api/v2/alerts`))");
    expect(() => parseTraefikRule(match)).not.toThrow();
    const routed = (method: string, path: string) => ruleMatches(match, { host: "am.example.com", path, method });
    expect(routed("GET", "/api/v2/alerts")).toBe(true);
    expect(routed("GET", "/api/v2/alerts/groups")).toBe(true);
    expect(routed("POST", "/api/v2/silences")).toBe(true);
    expect(routed("DELETE", "/api/v2/silence/0f1e")).toBe(true);
    expect(routed("POST", "/api/v2/alerts")).toBe(false);
    expect(routed("POST", "/api/v2/%61lerts")).toBe(false);
    expect(routed("POST", "/-/reload")).toBe(false);
  });

  test("the rule check can fail: what Traefik v2 accepted and v3 refuses, and malformed rules", () => {
    for (const bad of [
      "Host(`a.example.com`, `b.example.com`)",
      "PathPrefix(`/metrics`, `/api`)",
      "Headers(`X-Forwarded-Proto`, `https`)",
      "HostHeader(`a.example.com`)",
      "PathPrefix(`metrics`)",
      "Host(`a.example.com`) && (PathPrefix(`/a`)",
      "Host(`a.example.com`) and PathPrefix(`/a`)",
      "Host(a.example.com)",
    ]) {
      expect(() => parseTraefikRule(bad)).toThrow();
    }
    expect(() => parseTraefikRule('Host("a.example.com") || (Method(`GET`) && !Header(`X-A`, `b`))')).not.toThrow();
  });

  test("Alertmanager goes through basic auth on port 9093", () => {
    const route = ingressRoute({
      namespace: "ns",
      environment: "staging",
      route: { service: "alertmanager", hostname: "am.example.com" },
      entryPoints: ["websecure"],
      tls: {},
    });
    const spec = route.spec as { routes: Array<{ middlewares: Array<{ name: string }>; services: Array<{ port: number }> }> };
    expect(spec.routes[0].middlewares.map((m) => m.name)).toEqual(["security-headers", "basic-auth"]);
    expect(spec.routes[0].services[0].port).toBe(9093);
  });

  test("TLS: the Secret, else the resolver, else Traefik's default certificate", () => {
    expect(routeTls({ tlsSecretName: "s" })).toEqual({ secretName: "s" });
    expect(routeTls({ certResolver: "letsencrypt" })).toEqual({ certResolver: "letsencrypt" });
    expect(routeTls({})).toEqual({});
  });

  test("the security headers middleware, whole", () => {
    const mw = securityHeadersMiddleware("monitoring", "staging");
    expect(mw).toEqual({
      apiVersion: "traefik.io/v1alpha1",
      kind: "Middleware",
      metadata: { name: "security-headers", namespace: "monitoring", labels: LABELS },
      spec: {
        headers: {
          stsSeconds: 31536000,
          stsIncludeSubdomains: true,
          forceSTSHeader: true,
          contentTypeNosniff: true,
          frameDeny: true,
          referrerPolicy: "strict-origin-when-cross-origin",
          customResponseHeaders: { Server: "", "X-Powered-By": "" },
        },
      },
    });
    expect(schemaProblems(mw as unknown as K8sObject)).toEqual([]);
  });

  test("the basic auth middleware reads the htpasswd Secret and strips the header", () => {
    const mw = basicAuthMiddleware("monitoring", "staging");
    expect(mw.spec).toEqual({ basicAuth: { secret: "basic-auth-users", realm: "monitoring", removeHeader: true } });
    expect(schemaProblems(mw as unknown as K8sObject)).toEqual([]);
  });

  test("the schema check can fail: a misspelt field and a wrong type are caught", () => {
    const mw = basicAuthMiddleware("monitoring", "staging") as unknown as K8sObject;
    expect(schemaProblems({ ...mw, spec: { basicAuth: { secret: 42 } } })).not.toEqual([]);
    const route = ingressRoute({
      namespace: "n",
      environment: "e",
      route: ALL_ROUTES[0],
      entryPoints: ["websecure"],
      tls: {},
    }) as unknown as K8sObject;
    expect(schemaProblems({ ...route, spec: { routes: [{ kind: "Rule" }] } })).not.toEqual([]);
  });

  test("htpasswd: one user:hash line per user", () => {
    expect(
      htpasswd([
        { user: "admin", hash: "$2a$10$x" },
        { user: "ops", hash: "$2a$10$y" },
      ]),
    ).toBe("admin:$2a$10$x\nops:$2a$10$y\n");
  });
});

// ---------------------------------------------------------------------------
// The component alone

describe("TraefikExposure component", () => {
  let all: TraefikRender;
  beforeAll(async () => {
    all = await renderTraefik(BASE);
  });

  test("given three services, it renders three routes, two middlewares and one htpasswd Secret, all schema-valid", () => {
    const objects = traefikObjects(all.shown);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      "IngressRoute/alertmanager",
      "IngressRoute/grafana",
      "IngressRoute/prometheus",
      "Middleware/basic-auth",
      "Middleware/security-headers",
    ]);
    expect(objectsOf(all.shown, "Secret").map((s) => s.metadata.name)).toEqual(["basic-auth-users"]);
    for (const o of all.shown.kubernetes)
      expect({ name: o.object.metadata.name, problems: schemaProblems(o.object) }).toEqual({ name: o.object.metadata.name, problems: [] });
    expect(objectOf(all.shown, "IngressRoute", "grafana")).toEqual(
      ingressRoute({ namespace: "monitoring", environment: "staging", route: ALL_ROUTES[0], entryPoints: ["websecure"], tls: {} }),
    );
  });

  test("with a rate limit, a rate-limit Middleware comes before basic auth on the routes without a login, not on Grafana's", async () => {
    const limited = await renderTraefik({ ...BASE, rateLimit: { enabled: true, average: 3, burst: 7, period: "1m" } });
    const mw = objectOf(limited.shown, "Middleware", "rate-limit");
    expect(mw).toEqual(rateLimitMiddleware("monitoring", "staging", { average: 3, burst: 7, period: "1m" }));
    expect(mw.spec).toEqual({ rateLimit: { average: 3, burst: 7, period: "1m" } });
    expect(schemaProblems(mw)).toEqual([]);
    const names = (route: string) =>
      (
        objectOf(limited.shown, "IngressRoute", route).spec as { routes: Array<{ middlewares: Array<{ name: string }> }> }
      ).routes[0].middlewares.map((m) => m.name);
    expect(names("prometheus")).toEqual(["security-headers", "rate-limit", "basic-auth"]);
    expect(names("alertmanager")).toEqual(["security-headers", "rate-limit", "basic-auth"]);
    expect(names("grafana")).toEqual(["security-headers"]);
    // Without one (BASE), no Middleware; with Grafana alone, nothing to limit.
    expect(objectsOf(all.shown, "Middleware").map((m) => m.metadata.name)).not.toContain("rate-limit");
    const grafanaOnly = await renderTraefik({
      ...BASE,
      routes: [ALL_ROUTES[0]],
      rateLimit: { enabled: true, average: 3, burst: 7, period: "1m" },
    });
    expect(objectsOf(grafanaOnly.shown, "Middleware").map((m) => m.metadata.name)).toEqual(["security-headers"]);
  });

  test("every htpasswd line verifies with bcrypt against the generated password of its user", () => {
    const passwords = all.run.outputs.passwords as SecretValue;
    expect(passwords).toBeInstanceOf(SecretValue);
    const byUser = passwords.value as Record<string, string>;
    expect(Object.keys(byUser)).toEqual(["admin", "ops"]);
    const users = (objectOf(all.shown, "Secret", "basic-auth-users").stringData as Record<string, string>)[HTPASSWD_KEY];
    const lines = users.trimEnd().split("\n");
    expect(lines.map((l) => l.slice(0, l.indexOf(":")))).toEqual(["admin", "ops"]);
    for (const line of lines) {
      const [user, hash] = [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1)];
      expect(hash).toMatch(/^\$2[aby]\$10\$/);
      expect(bcrypt.compareSync(byUser[user], hash)).toBe(true);
      expect(bcrypt.compareSync(byUser[user === "admin" ? "ops" : "admin"], hash)).toBe(false);
    }
  });

  test("the passwords and the htpasswd never appear in clear in the redacted render", () => {
    const byUser = (all.run.outputs.passwords as SecretValue).value as Record<string, string>;
    const users = (objectOf(all.shown, "Secret", "basic-auth-users").stringData as Record<string, string>)[HTPASSWD_KEY];
    const redacted = JSON.stringify([all.redacted.kubernetes, [...all.redacted.files.values()], all.redacted.outputs]);
    for (const secret of [
      ...Object.values(byUser),
      ...users
        .trimEnd()
        .split("\n")
        .map((l) => l.slice(l.indexOf(":") + 1)),
    ]) {
      expect(redacted).not.toContain(secret);
    }
    expect(objectOf(all.redacted, "Secret", "basic-auth-users").stringData).toEqual({ users: "[secret]" });
    expect(all.redacted.outputs.passwords).toBe("[secret]");
  });

  test("the urls are https://<hostname> of each route", () => {
    expect(all.run.outputs.urls).toEqual({
      grafana: "https://grafana.example.com",
      prometheus: "https://prometheus.example.com",
      alertmanager: "https://alertmanager.example.com",
    });
  });

  test("given Grafana alone, there is no basic auth at all (no Secret, no password)", async () => {
    const { shown, run } = await renderTraefik({ ...BASE, routes: [ALL_ROUTES[0]] });
    expect(
      traefikObjects(shown)
        .map((o) => `${o.kind}/${o.metadata.name}`)
        .sort(),
    ).toEqual(["IngressRoute/grafana", "Middleware/security-headers"]);
    expect(objectsOf(shown, "Secret")).toEqual([]);
    expect(run.resources.filter((r) => r.type.startsWith("random:"))).toEqual([]);
    expect(run.outputs.users).toEqual([]);
  });

  test("a cert resolver goes into every route's TLS section", async () => {
    const { shown } = await renderTraefik({ ...BASE, certResolver: "letsencrypt" });
    for (const route of objectsOf(shown, "IngressRoute"))
      expect((route.spec as { tls: unknown }).tls).toEqual({ certResolver: "letsencrypt" });
  });

  test("passwords are keyed by user: reordering the users keeps each user's resource", async () => {
    const names = (r: RunResult) =>
      r.resources
        .filter((x) => x.type.startsWith("random:"))
        .map((x) => x.name)
        .sort();
    const reordered = await renderTraefik({ ...BASE, basicAuthUsers: ["ops", "admin"] });
    expect(names(reordered.run)).toEqual(names(all.run));
    expect(names(all.run)).toEqual(["traefik-password-admin", "traefik-password-ops"]);
  });

  // The routes trust their args: what they cannot deploy is refused before any resource, by the
  // schema and config's checks (keys of the traefik section) or by Traefik's own problems().
  test.each([
    [{ domain: "example.com", hostnames: { grafana: "" }, traefik: { enabled: true } }, /^monitoring:hostnames\.grafana: /],
    [
      { domain: "example.com", traefik: { enabled: true, entryPoints: [] } },
      /^monitoring:traefik\.entryPoints: must list at least one entry point/,
    ],
    [
      { domain: "example.com", traefik: { enabled: true, basicAuthUsers: [] } },
      /^monitoring:traefik\.basicAuthUsers: must list at least one user/,
    ],
    [{ domain: "example.com", traefik: { enabled: true, basicAuthUsers: ["bad:user"] } }, /^monitoring:traefik\.basicAuthUsers\[0\]: /],
  ])("config refuses %p", (plain, message) => {
    expect(configProblems("staging", plain)).toEqual([expect.stringMatching(message)]);
  });

  test("with nothing to publish there are no routes", () => {
    const { config } = parse("staging", { domain: "example.com", traefik: { enabled: true, expose: [] } });
    expect(traefikExposureArgs(config, Buffer.alloc(32))).toBeUndefined();
  });

  test("problems(): one certificate source, each route and each user once", () => {
    const args = { routes: ALL_ROUTES, basicAuthUsers: ["admin"] };
    expect(problems({ ...args, routes: [ALL_ROUTES[1], ALL_ROUTES[1]] })).toEqual([
      { key: "expose", message: "lists prometheus more than once" },
    ]);
    expect(problems({ ...args, tlsSecretName: "tls", certResolver: "le" })).toEqual([
      { key: "certResolver", message: "choose tlsSecretName or certResolver, not both" },
    ]);
    expect(problems({ ...args, basicAuthUsers: ["a", "a"] })).toEqual([
      { key: "basicAuthUsers", message: 'user "a" is listed more than once' },
    ]);
    expect(problems({ ...args, basicAuthPasswords: { admin: "admin-password-1", root: "root-password-1" } })).toEqual([
      {
        key: "basicAuthPasswords.root",
        message:
          "no user \"root\" in traefik.basicAuthUsers (admin): add the user there, or remove the password with: pulumi config rm --path 'basicAuthPasswords.root'",
        involves: ["basicAuthUsers"],
      },
    ]);
    expect(problems(args)).toEqual([]);
  });

  test("the component refuses what its problems() finds, all in one error, naming each key", async () => {
    await expect(renderTraefik({ ...BASE, tlsSecretName: "tls", certResolver: "le", basicAuthUsers: ["ops", "ops"] })).rejects.toThrow(
      'TraefikExposure "traefik": certResolver: choose tlsSecretName or certResolver, not both; basicAuthUsers: user "ops" is listed more than once',
    );
  });
});

// ---------------------------------------------------------------------------
// Given passwords (config basicAuthPasswords): no random provider

describe("basic-auth passwords given by the stack", () => {
  const GIVEN = { admin: "admin-password-given-1", ops: "ops-password-given-22" };
  let given: TraefikRender;
  beforeAll(async () => {
    given = await renderTraefik({ ...BASE, basicAuthPasswords: GIVEN });
  });
  const htpasswdOf = (r: TraefikRender) =>
    (objectOf(r.shown, "Secret", "basic-auth-users").stringData as Record<string, string>)[HTPASSWD_KEY];

  test("every user's password given: no random resource at all, and each htpasswd line verifies against its given password", () => {
    expect(given.run.resources.filter((r) => r.type.startsWith("random:"))).toEqual([]);
    const lines = htpasswdOf(given).trimEnd().split("\n");
    expect(lines.map((l) => l.slice(0, l.indexOf(":")))).toEqual(["admin", "ops"]);
    for (const line of lines) {
      const [user, hash] = [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1)];
      expect(hash).toMatch(/^\$2a\$10\$[./A-Za-z0-9]{53}$/);
      expect(hash).toBe(basicAuthHash(user, GIVEN[user as keyof typeof GIVEN], STACK_SALT));
      expect(bcrypt.compareSync(GIVEN[user as keyof typeof GIVEN], hash)).toBe(true);
      expect(bcrypt.compareSync(GIVEN[user === "admin" ? "ops" : "admin"], hash)).toBe(false);
    }
    expect((given.run.outputs.passwords as SecretValue).value).toEqual(GIVEN);
  });

  test("the hash is the same on every run of a stack, so that `pulumi up` shows no diff; another user, password or stack's salt gives another", async () => {
    const again = await renderTraefik({ ...BASE, basicAuthPasswords: GIVEN });
    expect(htpasswdOf(again)).toBe(htpasswdOf(given));
    const hash = basicAuthHash("admin", GIVEN.admin, STACK_SALT);
    expect(basicAuthHash("admin", GIVEN.admin, Buffer.from(STACK_SALT))).toBe(hash);
    expect(basicAuthHash("ops", GIVEN.admin, STACK_SALT)).not.toBe(hash);
    expect(basicAuthHash("admin", `${GIVEN.admin}x`, STACK_SALT)).not.toBe(hash);
    const otherStack = await renderTraefik({ ...BASE, basicAuthPasswords: GIVEN, stackSalt: Buffer.alloc(32, 8) });
    expect(htpasswdOf(otherStack)).toBe(
      htpasswd(
        ["admin", "ops"].map((user) => ({ user, hash: basicAuthHash(user, GIVEN[user as keyof typeof GIVEN], Buffer.alloc(32, 8)) })),
      ),
    );
    for (const user of ["admin", "ops"]) {
      const line = (r: TraefikRender) =>
        htpasswdOf(r)
          .split("\n")
          .find((l) => l.startsWith(`${user}:`));
      expect(line(otherStack)).not.toBe(line(given));
    }
  });

  test("the bcrypt salt is HMAC-SHA256 of the user under the stack's salt: never a function of the password", () => {
    const saltOf = (hash: string) => hash.slice(7, 29);
    const expected = bcrypt.encodeBase64(
      [...crypto.createHmac("sha256", STACK_SALT).update(`${BASIC_AUTH_SALT_LABEL}:admin`).digest().subarray(0, 16)],
      16,
    );
    expect(saltOf(basicAuthHash("admin", GIVEN.admin, STACK_SALT))).toBe(expected);
    // A guess of the password cannot be checked against the (public) salt: the salt does not change with it.
    expect(saltOf(basicAuthHash("admin", `${GIVEN.admin}x`, STACK_SALT))).toBe(expected);
    expect(saltOf(basicAuthHash("ops", GIVEN.admin, STACK_SALT))).not.toBe(expected);
  });

  test("one user given, the other generated: one RandomPassword, for the other user only", async () => {
    const mixed = await renderTraefik({ ...BASE, basicAuthPasswords: { ops: GIVEN.ops } });
    expect(mixed.run.resources.filter((r) => r.type.startsWith("random:")).map((r) => r.name)).toEqual(["traefik-password-admin"]);
    const passwords = (mixed.run.outputs.passwords as SecretValue).value as Record<string, string>;
    expect(passwords.ops).toBe(GIVEN.ops);
    expect(passwords.admin).toMatch(/^[A-Za-z0-9]{32}$/);
    const opsLine =
      htpasswdOf(mixed)
        .split("\n")
        .find((l) => l.startsWith("ops:")) ?? "";
    expect(opsLine).toBe(`ops:${basicAuthHash("ops", GIVEN.ops, STACK_SALT)}`);
  });

  test("the given passwords stay secret: in the redacted render, the outputs and the component's recorded inputs (none)", () => {
    const text = JSON.stringify([given.redacted.kubernetes, [...given.redacted.files.values()], given.redacted.outputs]);
    for (const secret of [...Object.values(GIVEN), ...htpasswdOf(given).trimEnd().split("\n")]) expect(text).not.toContain(secret);
    const component = given.run.resources.find((r) => r.type === "monitoring:index:TraefikExposure");
    expect(component?.inputs).toEqual({});
  });

  test("a password for a user not in basicAuthUsers is refused by config, naming the user and never the password", () => {
    const found = configProblems(
      "staging",
      { domain: "example.com", traefik: { enabled: true } },
      { basicAuthPasswords: { root: "never-shown-password" } },
    );
    expect(found).toEqual([
      expect.stringMatching(/^monitoring:basicAuthPasswords\.root: no user "root" in traefik\.basicAuthUsers \(admin\)/),
    ]);
    expect(found.join("\n")).not.toContain("never-shown-password");
  });

  test("the whole staging stack with every password given creates no random resource", async () => {
    const input = readStackConfig("staging", [
      "basicAuthPasswords.admin=stack-basic-auth-pass",
      "grafanaAdminPassword=stack-grafana-admin-pass",
    ]);
    // A stack deployed before: its salt comes back from the previous deployment's outputs.
    const previousOutputs = { [SALT_OUTPUT]: new SecretValue(STACK_SALT.toString("base64")) };
    const run = await runProgram({
      project: input.project,
      stack: input.stack,
      config: input.config,
      secretKeys: input.secretKeys,
      previousOutputs,
    });
    expect(run.resources.filter((r) => r.type.startsWith("random:")).map((r) => r.type)).toEqual([]);
    const rendered = renderRun(run, true);
    const users = (objectOf(rendered, "Secret", "basic-auth-users").stringData as Record<string, string>)[HTPASSWD_KEY];
    expect(users).toBe(`admin:${basicAuthHash("admin", "stack-basic-auth-pass", STACK_SALT)}\n`);
    expect(rendered.outputs.basicAuthCredentials).toEqual({ admin: "stack-basic-auth-pass" });
  });
});

// ---------------------------------------------------------------------------
// The real stacks

describe("the real stacks", () => {
  test("staging publishes all three services through Traefik, every object schema-valid", async () => {
    const rendered = await render("staging");
    const mine = rendered.kubernetes.filter((o) => o.component === "traefik-exposure");
    expect(mine.map((o) => `${o.object.kind}/${o.object.metadata.name}`).sort()).toEqual([
      "IngressRoute/alertmanager",
      "IngressRoute/grafana",
      "IngressRoute/prometheus",
      "Middleware/basic-auth",
      "Middleware/rate-limit",
      "Middleware/security-headers",
      "Secret/basic-auth-users",
    ]);
    for (const o of mine) expect(schemaProblems(o.object)).toEqual([]);
    const match = (name: string) => (objectOf(rendered, "IngressRoute", name).spec as { routes: Array<{ match: string }> }).routes[0].match;
    expect(match("grafana")).toBe("Host(`grafana.staging.example.com`) && !PathPrefix(`/metrics`)");
    for (const name of ["grafana", "prometheus", "alertmanager"]) expect(() => parseTraefikRule(match(name))).not.toThrow();
    // Unrouted is not unscraped: Prometheus still reads Grafana's /metrics from its Service, in the cluster.
    const jobs = (YAML.parse(rendered.files.get("prometheus/prometheus.yml") ?? "") as { scrape_configs: Array<Record<string, unknown>> })
      .scrape_configs;
    expect(jobs.find((j) => j.job_name === "grafana")).toMatchObject({
      metrics_path: "/metrics",
      scheme: "http",
      kubernetes_sd_configs: [{ role: "endpoints", namespaces: { names: ["monitoring-staging"] } }],
    });
    expect(rendered.outputs.prometheusPublicUrl).toBe("https://prometheus.staging.example.com");
    expect(rendered.outputs.alertmanagerPublicUrl).toBe("https://alertmanager.staging.example.com");
    const creds = rendered.outputs.basicAuthCredentials as Record<string, string>;
    expect(Object.keys(creds)).toEqual(["admin"]);
    expect(rendered.warnings.join("\n")).not.toMatch(/traefik/);
  });

  test("production, as a reviewer sees it: neither the passwords nor the htpasswd appear", async () => {
    const [shown, redacted] = [await render("production"), await renderStack({ stack: "production" })];
    const users = (objectOf(shown, "Secret", "basic-auth-users").stringData as Record<string, string>)[HTPASSWD_KEY];
    const passwords = Object.values(shown.outputs.basicAuthCredentials as Record<string, string>);
    expect(passwords).toHaveLength(1);
    const text = JSON.stringify([redacted.kubernetes, redacted.cloudflare, [...redacted.files.values()], redacted.outputs]);
    for (const secret of [...passwords, ...users.trimEnd().split("\n")]) expect(text).not.toContain(secret);
    expect(redacted.outputs.basicAuthCredentials).toBe("[secret]");
  });

  test("production publishes Prometheus and Alertmanager behind basic auth, Grafana through the tunnel", async () => {
    const rendered = await render("production");
    expect(
      objectsOf(rendered, "IngressRoute")
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(["alertmanager", "prometheus"]);
    for (const route of objectsOf(rendered, "IngressRoute")) {
      expect((route.spec as { routes: Array<{ middlewares: Array<{ name: string }> }> }).routes[0].middlewares.map((m) => m.name)).toEqual([
        "security-headers",
        "rate-limit",
        "basic-auth",
      ]);
    }
    expect(objectOf(rendered, "Middleware", "rate-limit").spec).toEqual({ rateLimit: { average: 10, burst: 50, period: "1s" } });
    for (const o of rendered.kubernetes.filter((x) => x.component === "traefik-exposure")) expect(schemaProblems(o.object)).toEqual([]);
  });
});
