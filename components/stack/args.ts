/**
 * The one place that maps the resolved stack config to each component's args (the
 * kube-prometheus `main` shape): no component sees the whole config.
 */
import * as pulumi from "@pulumi/pulumi";
import { StackConfig, exposedBy, publicHostname } from "../../config";
import { egressSettings } from "../kit/network";
import { podPriority, stackPriorityClass } from "../kit/priority";
import { PrometheusArgs } from "../prometheus/args";

/** The Prometheus component's args for a validated stack config (secrets wrapped in pulumi.secret). */
export function prometheusArgs(cfg: StackConfig): PrometheusArgs {
  const p = cfg.prometheus;
  const hostname = publicHostname(cfg, "prometheus");
  return {
    namespace: cfg.namespace,
    environment: cfg.environment,
    replicas: p.replicas,
    retention: p.retention,
    retentionSize: p.retentionSize,
    scrapeInterval: p.scrapeInterval,
    scrapeTimeout: p.scrapeTimeout,
    evaluationInterval: p.evaluationInterval,
    externalLabels: p.externalLabels,
    apps: cfg.apps,
    targets: cfg.targets.map((t) =>
      t.credential && "value" in t.credential ? { ...t, credential: { value: pulumi.secret(t.credential.value) } } : t,
    ),
    probes: cfg.probes,
    databases: cfg.databases.map(({ name, type }) => ({ name, type })),
    remoteWrite: p.remoteWrite.map((rw) => ({
      name: rw.name,
      url: rw.url,
      ...(rw.auth && "username" in rw.auth
        ? { auth: { type: "basic" as const, username: rw.auth.username, password: pulumi.secret(rw.auth.password) } }
        : rw.auth
          ? { auth: { type: "bearer" as const, token: pulumi.secret(rw.auth.bearerToken) } }
          : {}),
    })),
    runbookBaseUrl: p.runbookBaseUrl,
    thresholds: cfg.thresholds,
    storage: p.storage,
    resources: p.resources,
    protectVolumes: cfg.protectVolumes,
    ...(hostname ? { publicHostname: hostname } : {}),
    ingressFromTraefik: exposedBy(cfg, "prometheus", "traefik"),
    ingressFromCloudflared: exposedBy(cfg, "prometheus", "cloudflare"),
    egress: egressSettings(cfg, "prometheus"),
    ...podPriority(stackPriorityClass(cfg)),
  };
}
