/** The base of every component of the stack. */
import * as pulumi from "@pulumi/pulumi";

/** The type token of a component of the stack: `monitoring:index:<Class>`. */
export type ComponentType = `monitoring:index:${string}`;

/**
 * The base of every component of the stack: what Pulumi records of a component is decided here,
 * once. The SDK sends a ComponentResource's constructor args to the engine, which keeps them in
 * the state as the component's inputs, in plain text unless each value is a Pulumi secret; and
 * the args of this stack's components are resolved config: webhook URLs, passwords, DSNs. So a
 * component records no args at all, whatever its args hold: its children's inputs, which
 * the providers need, are where the state keeps the config, with the secrets as secrets.
 * test/repository/architecture.test.ts keeps every component on this base; test/scenarios/sealed.test.ts sweeps
 * every recorded input for secret values.
 */
export abstract class StackComponent extends pulumi.ComponentResource {
  constructor(type: ComponentType, name: string, opts?: pulumi.ComponentResourceOptions) {
    super(type, name, {}, opts);
  }
}
