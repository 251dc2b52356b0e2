/** The base of every component of the stack. */
import * as pulumi from "@pulumi/pulumi";
import type { ArgsProblem } from "./problems";

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
  constructor(
    private readonly componentType: ComponentType,
    private readonly componentName: string,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super(componentType, componentName, {}, opts);
  }

  /**
   * Refuses args that break the component's own rules: the problems its `problems(args)` finds,
   * the same function config's checks call, so each rule is written once. Through config these
   * never fire (config refused them before any resource); a program that builds args itself gets
   * them all in one ResourceError. The one place a component throws over its args.
   */
  protected refuseProblems(problems: readonly ArgsProblem[]): void {
    if (problems.length === 0) return;
    const list = problems.map((p) => `${p.key}: ${p.message}`).join("; ");
    throw new pulumi.ResourceError(`${this.componentType} "${this.componentName}": ${list}`, this);
  }
}
