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
