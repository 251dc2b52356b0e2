/**
 * Entry point: the only place that reads Pulumi config. It validates the stack's
 * config into one StackConfig (refusing bad input before any resource exists),
 * builds the MonitoringStack and returns the stack outputs.
 *
 * The module exports a function so that Pulumi runs it for `pulumi up` and the
 * offline renderer (scripts/render.ts) can run it again under mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, RawConfig, parseStackConfig } from "./components/config";
import { MonitoringStack } from "./components/stack";

/** Whether Pulumi holds a config key as a secret. The SDK exports this at run time but not in its typings. */
function isSecretKey(fullKey: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
  if (typeof runtime.isConfigSecret !== "function") {
    throw new Error("This @pulumi/pulumi version does not expose runtime.isConfigSecret; pin a 3.x release that does.");
  }
  return runtime.isConfigSecret(fullKey);
}

/** Every config value of the stack, as Pulumi hands it to the program. */
function readRawConfig(): RawConfig {
  const values = pulumi.runtime.allConfig();
  return {
    project: pulumi.getProject(),
    stack: pulumi.getStack(),
    values,
    secretKeys: Object.keys(values).filter(isSecretKey),
  };
}

async function main(): Promise<Record<string, unknown>> {
  let parsed;
  try {
    parsed = parseStackConfig(readRawConfig());
  } catch (err) {
    // A RunError prints the message alone, without a stack trace: the message is the manual.
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
  for (const warning of parsed.warnings) pulumi.log.warn(warning);

  const stack = new MonitoringStack("monitoring", { config: parsed.config });
  return {
    environment: parsed.config.environment,
    namespace: stack.namespace,
    prometheusUrl: stack.prometheusUrl,
    grafanaUrl: stack.grafana.url,
    grafanaInternalUrl: stack.grafana.internalUrl,
    grafanaAdminUser: pulumi.secret(stack.grafana.adminUser),
    grafanaAdminPassword: pulumi.secret(stack.grafana.adminPassword),
    alertmanagerUrl: stack.alertmanagerUrl,
    // Present only when Traefik or the Cloudflare tunnel publishes them.
    ...(stack.publicUrls.prometheus ? { prometheusPublicUrl: stack.publicUrls.prometheus } : {}),
    ...(stack.publicUrls.alertmanager ? { alertmanagerPublicUrl: stack.publicUrls.alertmanager } : {}),
    ...(stack.basicAuthCredentials ? { basicAuthCredentials: pulumi.secret(stack.basicAuthCredentials) } : {}),
  };
}

// Pulumi calls an exported function and takes what it returns as the stack outputs.
export = main;
