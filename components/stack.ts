import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config";
import { MonitoringNamespace } from "./namespace";

export interface MonitoringStackArgs {
  /** The validated stack configuration (components/config.ts). */
  config: StackConfig;
}

/**
 * The whole monitoring stack of one environment, composed from StackConfig. Each
 * child component owns its objects and config files; this class only wires them
 * together and exposes what users need (URLs, credentials).
 */
export class MonitoringStack extends pulumi.ComponentResource {
  /** Namespace that holds the stack. */
  public readonly namespace: pulumi.Output<string>;

  constructor(name: string, args: MonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitoring:index:MonitoringStack", name, {}, opts);
    const cfg = args.config;
    for (const [enabled, key] of [
      [cfg.loki.enabled, "loki.enabled"],
      [cfg.logCollector.enabled, "logCollector.enabled"],
      [cfg.traefik.enabled, "traefik.enabled"],
      [cfg.cloudflare.enabled, "cloudflare.enabled"],
    ] as const) {
      // Accepted so that stack files are ready for them, but said out loud: nothing is deployed for these yet.
      if (enabled) pulumi.log.warn(`${cfg.project}:${key} is true, but this release does not deploy that component yet (see the README's Status section).`);
    }

    const ns = new MonitoringNamespace(
      `${name}-ns`,
      { name: cfg.namespace, environment: cfg.environment, podSecurity: "restricted" },
      { parent: this },
    );
    this.namespace = ns.name;

    // Order matters only for wiring: each component exposes plain data (scrape
    // targets, in-cluster URLs) that the ones after it take as args.
    // -- exporters --

    // -- alerting --

    // -- prometheus --

    // -- grafana --

    this.registerOutputs({ namespace: this.namespace });
  }
}
