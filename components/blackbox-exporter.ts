/**
 * The blackbox exporter: probes URLs (health endpoints of apps, any site) and host:port pairs
 * for Prometheus, which asks it at /probe and keeps what it reports (success, duration, status
 * code, the certificate's expiry). One small Deployment in the stack namespace, run only when
 * something is probed; Prometheus' probe jobs come from components/prometheus/scrape-jobs.ts.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import type { ResourceRequirements } from "./kit/resources";
import { ScrapeTarget } from "./kit/services";
import { WorkloadIdentity, imageOf, objectMeta, prometheusPodLabels, selectorLabels, standardLabels } from "./kit/labels";
import { configChecksum, httpProbe, resourcesOf, restrictedContainerSecurity, restrictedPodSecurity } from "./kit/pods";
import {
  addressPort,
  anywhereOn,
  DEFAULT_EGRESS,
  EgressRule,
  EgressSettings,
  extraEgressRules,
  uniquePorts,
  urlPort,
  workloadPolicies,
} from "./kit/network";
import { StackComponent } from "./kit/component";
import { podPriority } from "./kit/priority";
import { ProbeSpec, probeModule } from "./kit/probes";
import { JOB } from "./kit/stack-jobs";

/** The exporter's port (its own default). */
export const BLACKBOX_PORT = 9115;
/** Where the container reads its config. */
export const BLACKBOX_CONFIG_DIR = "/etc/blackbox-exporter";
export const BLACKBOX_CONFIG_KEY = "blackbox.yml";

/** Who the exporter is, for labels and selectors. */
export function blackboxIdentity(environment: string): WorkloadIdentity {
  return { name: "blackbox-exporter", component: "exporter", instance: environment, image: "blackboxExporter" };
}

/** `blackbox-exporter.<namespace>.svc:9115`: where Prometheus sends its probe requests. */
export function blackboxAddress(namespace: string): string {
  return `blackbox-exporter.${namespace}.svc:${BLACKBOX_PORT}`;
}

interface HttpModule {
  prober: "http";
  http: { preferred_ip_protocol: "ip4"; ip_protocol_fallback: true; valid_status_codes?: number[] };
}
interface TcpModule {
  prober: "tcp";
  tcp: { preferred_ip_protocol: "ip4"; ip_protocol_fallback: true };
}
/** The blackbox.yml object. */
export interface BlackboxConfig {
  modules: Record<string, HttpModule | TcpModule>;
}

/**
 * blackbox.yml: `http_2xx` (any 2xx, redirects followed) and `tcp_connect` always, plus one
 * HTTP module per set of expected status codes the probes name (`http_status_200_204`). No
 * timeout is set: the exporter takes Prometheus' scrape timeout, less half a second. IPv4 first,
 * IPv6 when a name has no IPv4 address (the exporter's default is the reverse). No ICMP: it needs
 * a raw socket (NET_RAW), which the restricted Pod Security Standard does not grant.
 */
export function blackboxConfig(probes: Array<Pick<ProbeSpec, "module" | "expectStatus">>): BlackboxConfig {
  const ip = { preferred_ip_protocol: "ip4", ip_protocol_fallback: true } as const;
  const modules: BlackboxConfig["modules"] = {
    http_2xx: { prober: "http", http: { ...ip } },
    tcp_connect: { prober: "tcp", tcp: { ...ip } },
  };
  for (const probe of probes) {
    if (probe.module !== "http_2xx" || !probe.expectStatus) continue;
    modules[probeModule(probe)] = { prober: "http", http: { ...ip, valid_status_codes: [...probe.expectStatus] } };
  }
  return { modules: Object.fromEntries(Object.entries(modules).sort(([a], [b]) => a.localeCompare(b))) };
}

/** blackbox.yml as text, with a header saying where it comes from. */
export function blackboxConfigYaml(probes: Array<Pick<ProbeSpec, "module" | "expectStatus">>): string {
  return (
    "# Rendered by components/blackbox-exporter.ts from apps[].probe and probes[]; edit the config, not this file.\n" +
    YAML.stringify(blackboxConfig(probes), { lineWidth: 0 })
  );
}

export interface BlackboxExporterArgs {
  /** The stack namespace. It must exist first: pass its MonitoringNamespace in `opts.dependsOn`. */
  namespace: string;
  /** The stack's environment: app.kubernetes.io/instance and the Prometheus pods' instance label. */
  environment: string;
  /** The probes it runs: their modules make its config, their targets its egress policy. */
  probes: ProbeSpec[];
  /** Requests and limits of the container. */
  resources: ResourceRequirements;
  /** Further destinations of its egress (config networkPolicy.extraEgress.blackboxExporter). Default DEFAULT_EGRESS. */
  egress?: EgressSettings;
  /** The stack's PriorityClass for the pod. Default none. */
  priorityClassName?: string;
}

/**
 * Where the exporter connects, besides DNS: what it probes. A URL or host:port on its port at
 * any address (a NetworkPolicy cannot name a host); an app's Service on every pod of its
 * namespace, on the probed pod port when config gives its number (a Service port's name says
 * nothing of the pods' port). A redirect to another port needs networkPolicy.extraEgress.
 */
export function blackboxEgressRules(args: Pick<BlackboxExporterArgs, "probes" | "egress">): EgressRule[] {
  const outside = uniquePorts(
    args.probes.flatMap((p) =>
      "url" in p.target ? [urlPort(p.target.url)] : "address" in p.target ? [addressPort(p.target.address)] : [],
    ),
  );
  const services = new Map<string, Set<number> | undefined>();
  for (const p of args.probes) {
    if (!("service" in p.target)) continue;
    const { namespace, targetPort } = p.target.service;
    const ports = services.has(namespace) ? services.get(namespace) : new Set<number>();
    // A probe by port name opens every port of the namespace's pods, and then so does the namespace.
    services.set(namespace, ports && targetPort !== undefined ? ports.add(targetPort) : undefined);
  }
  const inCluster = [...services.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([namespace, ports]): EgressRule => ({
      ...(ports ? { ports: uniquePorts([...ports]) } : {}),
      to: [{ namespaces: { "kubernetes.io/metadata.name": namespace } }],
    }));
  return [...(outside.length > 0 ? [anywhereOn(outside)] : []), ...inCluster, ...extraEgressRules(args.egress ?? DEFAULT_EGRESS)];
}

/**
 * The blackbox exporter for one stack: a Deployment of one replica (a restart costs a probe or
 * two, which the alerts' `for` absorbs), its config, a Service and a NetworkPolicy that admits
 * only the stack's Prometheus. It reaches what it probes as any pod of the namespace does.
 */
export class BlackboxExporter extends StackComponent {
  public readonly deployment: k8s.apps.v1.Deployment;
  public readonly service: k8s.core.v1.Service;
  /** blackbox.yml, as mounted. */
  public readonly configYaml: string;
  /** host:port that Prometheus' probe jobs call. */
  public readonly address: string;
  /** The exporter's own metrics (job `blackbox-exporter`). */
  public readonly scrapeTargets: ScrapeTarget[];

  constructor(name: string, args: BlackboxExporterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitoring:index:BlackboxExporter", name, opts);
    const id = blackboxIdentity(args.environment);
    const ns = args.namespace;
    this.configYaml = blackboxConfigYaml(args.probes);
    this.address = blackboxAddress(ns);

    const config = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: objectMeta(id, ns, "blackbox-exporter"), data: { [BLACKBOX_CONFIG_KEY]: this.configYaml } },
      { parent: this },
    );
    // The exporter reads its config at start (or on a reload request): a new config rolls the pod.
    const checksum = configChecksum(this.configYaml);

    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: objectMeta(id, ns, "blackbox-exporter"),
        spec: {
          replicas: 1,
          selector: { matchLabels: selectorLabels(id) },
          template: {
            metadata: { labels: standardLabels(id), annotations: { "checksum/config": checksum } },
            spec: {
              automountServiceAccountToken: false,
              ...podPriority(args.priorityClassName),
              enableServiceLinks: false,
              nodeSelector: { "kubernetes.io/os": "linux" },
              securityContext: restrictedPodSecurity(65534),
              containers: [
                {
                  name: "blackbox-exporter",
                  image: imageOf(id),
                  args: [`--config.file=${BLACKBOX_CONFIG_DIR}/${BLACKBOX_CONFIG_KEY}`, `--web.listen-address=:${BLACKBOX_PORT}`],
                  ports: [{ name: "http", containerPort: BLACKBOX_PORT, protocol: "TCP" }],
                  readinessProbe: httpProbe("/-/healthy", "http"),
                  livenessProbe: httpProbe("/-/healthy", "http", { periodSeconds: 20 }),
                  resources: resourcesOf(args.resources),
                  securityContext: restrictedContainerSecurity(),
                  volumeMounts: [{ name: "config", mountPath: BLACKBOX_CONFIG_DIR, readOnly: true }],
                },
              ],
              volumes: [{ name: "config", configMap: { name: config.metadata.name } }],
            },
          },
        },
      },
      { parent: this },
    );

    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: objectMeta(id, ns, "blackbox-exporter"),
        spec: {
          selector: selectorLabels(id),
          ports: [{ name: "http", port: BLACKBOX_PORT, targetPort: "http", protocol: "TCP" }],
        },
      },
      { parent: this },
    );

    // Only Prometheus asks it to probe: anyone else could make it connect wherever they like.
    workloadPolicies(
      name,
      { id, namespace: ns, name: "blackbox-exporter" },
      { ingress: [{ ports: [BLACKBOX_PORT], from: [{ pods: prometheusPodLabels(args.environment) }] }], egress: blackboxEgressRules(args) },
      { parent: this },
    );

    this.scrapeTargets = [{ job: JOB.blackboxExporter, namespace: ns, selector: selectorLabels(id), port: "http" }];
    this.registerOutputs({ scrapeTargets: this.scrapeTargets, address: this.address });
  }
}
