/**
 * CloudflareTunnel: publishes services of the stack on the internet without an
 * open port. A remotely-managed Cloudflare tunnel with its ingress rules, a
 * proxied CNAME per hostname, optional Cloudflare Access in front, and the
 * cloudflared connectors that run in the stack's namespace.
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ScrapeTarget, SERVICE_PORTS, serviceUrl } from "../kit/services";
import { WorkloadIdentity, imageOf, objectMeta, selectorLabels, standardLabels, stackPods } from "../kit/labels";
import {
  httpProbe,
  resourcesOf,
  restrictedContainerSecurity,
  restrictedPodSecurity,
  spreadAcrossNodes,
  rolloutStrategy,
  oneAtATimeDisruptionBudget,
} from "../kit/pods";
import { ANYWHERE, DEFAULT_EGRESS, EgressRule, extraEgressRules, workloadPolicies } from "../kit/network";
import { StackComponent } from "../kit/component";
import { podPriority } from "../kit/priority";
import { refuseProblems } from "../kit/problems";
import { secretDigest } from "../kit/secret-digest";
import { ExposedService, UNPUBLISHED_PATH_PREFIXES } from "../kit/web";
import { durationSeconds } from "../kit/units";
import {
  CLOUDFLARED_METRICS_PORT,
  CLOUDFLARED_UID,
  TOKEN_SECRET,
  CATCH_ALL,
  TunnelRoute,
  CloudflareTunnelArgs,
  CLOUDFLARE_EDGE_PORTS,
} from "./args";
import { TunnelAccess, problems } from "./section";
import { JOB } from "../kit/stack-jobs";

/** The use of the stack's salt that keys the digest of the connector token (checksum/token). */
const TOKEN_DIGEST_LABEL = "monitoring-stack/cloudflared-token/v1";

/**
 * Where cloudflared connects, besides DNS: Cloudflare at any address (a NetworkPolicy cannot
 * name a host; Cloudflare's published ranges change), and the pods of each service it
 * publishes, on that service's port.
 */
export function cloudflaredEgressRules(args: Pick<CloudflareTunnelArgs, "environment" | "routes" | "egress">): EgressRule[] {
  const { tunnel, api } = CLOUDFLARE_EDGE_PORTS;
  return [
    {
      ports: [
        { port: tunnel, protocol: "UDP" },
        { port: tunnel, protocol: "TCP" },
        { port: api, protocol: "TCP" },
      ],
      to: [{ cidrs: ANYWHERE }],
    },
    ...args.routes.map((r): EgressRule => ({ ports: [SERVICE_PORTS[r.service]], to: [{ pods: stackPods(r.service, args.environment) }] })),
    ...extraEgressRules(args.egress ?? DEFAULT_EGRESS),
  ];
}

/** An ingress rule of the tunnel's remote configuration. */
export interface TunnelIngressRule {
  hostname?: string;
  /** A regular expression (Go syntax) cloudflared searches the request's decoded path with. */
  path?: string;
  service: string;
}

/** The path regex of a prefix: every path that starts with it, as Traefik's PathPrefix. */
export function prefixPath(prefix: string): string {
  return `^${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`;
}

/**
 * Per hostname, a 404 for the paths no one outside may reach (Grafana's /metrics: the
 * first rule that matches wins, so these come first), then the rule to the in-cluster
 * Service; last, the mandatory catch-all.
 */
export function tunnelIngressRules(namespace: string, routes: TunnelRoute[]): TunnelIngressRule[] {
  return [
    ...routes.flatMap((r) => [
      ...[...(UNPUBLISHED_PATH_PREFIXES[r.service] ?? []), ...(r.unpublished ?? [])].map((prefix) => ({
        hostname: r.hostname,
        path: prefixPath(prefix),
        ...CATCH_ALL,
      })),
      { hostname: r.hostname, service: serviceUrl(r.service, namespace, SERVICE_PORTS[r.service]) },
    ]),
    { ...CATCH_ALL },
  ];
}

/**
 * The connector token cloudflared runs with: base64 of the JSON
 * {"a": account id, "t": tunnel id, "s": tunnel secret (base64)}, the format
 * Cloudflare documents and the dashboard hands out. Built here, so no API call is needed.
 */
export function tunnelToken(accountId: string, tunnelId: string, tunnelSecret: string): string {
  return Buffer.from(JSON.stringify({ a: accountId, t: tunnelId, s: tunnelSecret })).toString("base64");
}

/**
 * A Prometheus duration as a Go duration (Cloudflare Access takes hours at most): "30d" -> "720h",
 * "90m" -> "1h30m". Of at least 1s, which config's schema holds cloudflare.access.sessionDuration to.
 */
export function goDuration(prometheusDuration: string): string {
  const total = Math.round(durationSeconds(prometheusDuration) ?? 0);
  const parts: Array<[number, string]> = [
    [Math.floor(total / 3600), "h"],
    [Math.floor((total % 3600) / 60), "m"],
    [total % 60, "s"],
  ];
  return parts
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n}${unit}`)
    .join("");
}

/** The include rules of the Access allow policy: each email, then each email domain. */
export function accessIncludes(
  access: Pick<TunnelAccess, "emails" | "emailDomains">,
): Array<{ email: { email: string } } | { emailDomain: { domain: string } }> {
  return [...access.emails.map((email) => ({ email: { email } })), ...access.emailDomains.map((domain) => ({ emailDomain: { domain } }))];
}

/** Who cloudflared is, for labels and selectors. */
export function cloudflaredIdentity(environment: string): WorkloadIdentity {
  return { name: "cloudflared", component: "tunnel", instance: environment, image: "cloudflared" };
}

/** cloudflared's metrics, scraped from the `cloudflared` Service. */
export function cloudflaredScrapeTargets(args: Pick<CloudflareTunnelArgs, "namespace" | "environment">): ScrapeTarget[] {
  return [
    { job: JOB.cloudflared, namespace: args.namespace, selector: selectorLabels(cloudflaredIdentity(args.environment)), port: "metrics" },
  ];
}

/**
 * A remotely-managed Cloudflare tunnel (its secret from random bytes, its
 * ingress rules in Cloudflare), a proxied CNAME per hostname, Cloudflare Access
 * when asked, and cloudflared connectors in the cluster with the token in a
 * Secret, a metrics Service, a NetworkPolicy and, with several replicas, a
 * PodDisruptionBudget. The API token comes from the provider's own stack config
 * (`pulumi config set --secret cloudflare:apiToken`).
 */
export class CloudflareTunnel extends StackComponent {
  /** https://<hostname> of each published service. */
  public readonly urls: Partial<Record<ExposedService, string>>;
  /** The tunnel's id (a UUID). */
  public readonly tunnelId: pulumi.Output<string>;
  /** The tunnel's DNS target, <tunnel id>.cfargotunnel.com. */
  public readonly tunnelTarget: pulumi.Output<string>;
  /** cloudflared's metrics. */
  public readonly scrapeTargets: ScrapeTarget[];
  /** The AUD tag of each published service's Access application (with access): what the tokens Access signs for it carry. */
  public readonly accessAudiences: Partial<Record<ExposedService, pulumi.Output<string>>> = {};

  constructor(name: string, args: CloudflareTunnelArgs, opts?: pulumi.ComponentResourceOptions) {
    // What config's schema refuses is trusted; what its problems() finds is refused before any resource.
    refuseProblems("CloudflareTunnel", name, problems(args), opts);
    super("monitoring:index:CloudflareTunnel", name, opts);
    const child = { parent: this };
    const ns = args.namespace;
    this.urls = Object.fromEntries(args.routes.map((r) => [r.service, `https://${r.hostname}`]));
    this.scrapeTargets = cloudflaredScrapeTargets(args);

    // -- Cloudflare: the tunnel, its routes, DNS and Access --
    const secretBytes = new random.RandomBytes(`${name}-secret`, { length: 32 }, child);
    const tunnelSecret = pulumi.secret(secretBytes.base64);
    const tunnel = new cloudflare.ZeroTrustTunnelCloudflared(
      `${name}-tunnel`,
      // "cloudflare": the ingress rules live in Cloudflare (below), cloudflared needs only its token.
      { accountId: args.accountId, name: args.tunnelName, configSrc: "cloudflare", tunnelSecret },
      child,
    );
    this.tunnelId = tunnel.id;
    this.tunnelTarget = pulumi.interpolate`${tunnel.id}.cfargotunnel.com`;

    new cloudflare.ZeroTrustTunnelCloudflaredConfig(
      `${name}-config`,
      { accountId: args.accountId, tunnelId: tunnel.id, config: { ingresses: tunnelIngressRules(ns, args.routes) } },
      child,
    );

    for (const route of args.routes) {
      new cloudflare.DnsRecord(
        `${name}-dns-${route.service}`,
        {
          zoneId: args.zoneId,
          name: route.hostname,
          type: "CNAME",
          content: this.tunnelTarget,
          proxied: true,
          // 1: automatic, the only TTL a proxied record has.
          ttl: 1,
          comment: `${route.service} of the ${args.environment} monitoring stack, through tunnel ${args.tunnelName}`,
        },
        child,
      );
    }

    if (args.access) {
      const sessionDuration = goDuration(args.access.sessionDuration);
      const policy = new cloudflare.ZeroTrustAccessPolicy(
        `${name}-access-policy`,
        {
          accountId: args.accountId,
          name: `${args.tunnelName} allow`,
          decision: "allow",
          includes: accessIncludes(args.access),
          sessionDuration,
        },
        child,
      );
      for (const route of args.routes) {
        const application = new cloudflare.ZeroTrustAccessApplication(
          `${name}-access-${route.service}`,
          {
            accountId: args.accountId,
            name: `${route.service} (${args.environment})`,
            type: "self_hosted",
            domain: route.hostname,
            sessionDuration,
            policies: [{ id: policy.id, precedence: 1 }],
          },
          child,
        );
        this.accessAudiences[route.service] = application.aud;
      }
    }

    // -- Kubernetes: the connectors --
    const id = cloudflaredIdentity(args.environment);
    const selector = selectorLabels(id);
    const token = pulumi.secret(
      pulumi.all([tunnel.id, tunnelSecret]).apply(([tunnelId, secret]) => tunnelToken(args.accountId, tunnelId, secret)),
    );
    const tokenChecksum = pulumi.unsecret(token.apply((t) => secretDigest({ token: t }, args.stackSalt, TOKEN_DIGEST_LABEL)));
    const tokenSecret = new k8s.core.v1.Secret(
      `${name}-token`,
      { metadata: objectMeta(id, ns, TOKEN_SECRET.name), type: "Opaque", stringData: { [TOKEN_SECRET.key]: token } },
      child,
    );

    new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: objectMeta(id, ns, "cloudflared"),
        spec: {
          replicas: args.replicas,
          selector: { matchLabels: selector },
          // Connectors are stateless: a lone one is replaced new-first, so the tunnel keeps a connection; of
          // several (one per node), one at a time, the others keeping it.
          strategy: rolloutStrategy(args.replicas),
          template: {
            // The token is read at start (an env var): a new tunnel (a new id) or a new secret of the same tunnel (a
            // new token) rolls the connectors; the token's digest is salted and slow, as every secret's checksum.
            metadata: {
              labels: standardLabels(id),
              annotations: { "monitoring/tunnel-id": tunnel.id, "checksum/token": tokenChecksum },
            },
            spec: {
              automountServiceAccountToken: false,
              ...podPriority(args.priorityClassName),
              securityContext: restrictedPodSecurity(CLOUDFLARED_UID),
              ...(args.replicas > 1 ? { affinity: spreadAcrossNodes(id) } : {}),
              containers: [
                {
                  name: "cloudflared",
                  image: imageOf(id),
                  args: ["tunnel", "--no-autoupdate", "--metrics", `0.0.0.0:${CLOUDFLARED_METRICS_PORT}`, "run"],
                  env: [{ name: "TUNNEL_TOKEN", valueFrom: { secretKeyRef: { name: tokenSecret.metadata.name, key: TOKEN_SECRET.key } } }],
                  ports: [{ name: "metrics", containerPort: CLOUDFLARED_METRICS_PORT, protocol: "TCP" }],
                  // Ready once connected to Cloudflare's edge; alive as long as the process answers.
                  readinessProbe: httpProbe("/ready", "metrics", { periodSeconds: 10, failureThreshold: 3 }),
                  livenessProbe: httpProbe("/healthcheck", "metrics", { initialDelaySeconds: 10, periodSeconds: 20, failureThreshold: 3 }),
                  resources: resourcesOf(args.resources),
                  securityContext: restrictedContainerSecurity(),
                },
              ],
            },
          },
        },
      },
      child,
    );

    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: objectMeta(id, ns, "cloudflared"),
        spec: {
          type: "ClusterIP",
          selector,
          ports: [{ name: "metrics", port: CLOUDFLARED_METRICS_PORT, targetPort: "metrics", protocol: "TCP" }],
        },
      },
      child,
    );

    // Nothing connects to cloudflared but Prometheus: its traffic to the services goes out, not in.
    workloadPolicies(
      name,
      { id, namespace: ns, name: "cloudflared" },
      {
        ingress: [
          {
            ports: [CLOUDFLARED_METRICS_PORT],
            from: [{ pods: { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": args.environment } }],
          },
        ],
        egress: cloudflaredEgressRules(args),
      },
      child,
    );

    // A budget only means something with a second connector to fall back on; on one it would block every drain.
    if (args.replicas > 1) {
      oneAtATimeDisruptionBudget(`${name}-pdb`, id, ns, "cloudflared", child);
    }

    this.registerOutputs({ urls: this.urls, tunnelId: this.tunnelId, tunnelTarget: this.tunnelTarget, scrapeTargets: this.scrapeTargets });
  }
}
