/**
 * Entry point: the only place that reads Pulumi config. It validates the stack's
 * config into one StackConfig (refusing bad input before any resource exists),
 * compares its volumes with the previous deployment's (refusing what cannot be done in
 * place before anything changes), builds the MonitoringStack and returns the stack outputs.
 *
 * The module exports a function so that Pulumi runs it for `pulumi up` and the
 * offline renderer (scripts/render.ts) can run it again under mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { ConfigError, RawConfig, parseStackConfig } from "./config";
import { plainPaths } from "./preflight/stack-file";
import { checkCloudflareCredentials } from "./preflight/cloudflare-credentials";
import { ServicePortError, resolveAppServicePorts } from "./preflight/service-ports";
import { MonitoringStack } from "./components/stack";
import { SALT_OUTPUT, saltText, stackSaltOf } from "./preflight/stack-salt";
import { readTeamContent } from "./preflight/team-content";
import { VOLUMES_OUTPUT, parseVolumeRecords } from "./components/stack/volumes";
import { applyPreviousNamespace, applyPreviousVolumes } from "./preflight/volume-changes";
import { withOidcEndpoints } from "./preflight/oidc-discovery";
import { checkSharedLogs } from "./preflight/shared-logs";
import { checkSharedKubeStateMetrics } from "./preflight/shared-kube-state-metrics";
import { describeSignIn } from "./components/grafana/sign-in";
import { readOperatorObjects } from "./preflight/operator-objects";
import { checkRouteAlertnames } from "./preflight/route-alertnames";
import { checkAppliedMonitors, readServedMonitors } from "./preflight/served-monitors";

/** The stack output naming the stack's namespace, which the next deployment compares its own with. */
const NAMESPACE_OUTPUT = "namespace";

/** Whether Pulumi holds a config key as a secret. The SDK exports this at run time but not in its typings. */
function isSecretKey(fullKey: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
  if (typeof runtime.isConfigSecret !== "function") {
    throw new Error("This @pulumi/pulumi version does not expose runtime.isConfigSecret; pin a 3.x release that does.");
  }
  return runtime.isConfigSecret(fullKey);
}

/**
 * Whether the program runs under Pulumi's mocks (the offline render, the tests) rather than the
 * engine: nothing it registers then reaches a provider.
 */
function underMocks(): boolean {
  return pulumi.runtime.getMonitor() instanceof MockMonitor;
}

/** Every config value of the stack, as Pulumi hands it to the program. */
function readRawConfig(): RawConfig {
  const values = pulumi.runtime.allConfig();
  const stack = pulumi.getStack();
  // The project's directory, as Pulumi tells it (also when the Automation API runs the program in-process).
  const root = pulumi.getRootDirectory();
  const project = pulumi.getProject();
  return {
    project,
    stack,
    values,
    secretKeys: Object.keys(values).filter(isSecretKey),
    plainPaths: plainPaths(root, stack, project),
  };
}

/**
 * Runs a config check; a refusal becomes a RunError, which Pulumi prints alone, without a
 * stack trace: the message is the manual.
 */
function refusingConfigErrors<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

/**
 * Outputs of this stack's previous deployment, read through one StackReference to the stack
 * itself: the engine reads them from the stack's last checkpoint. Each is undefined on a first
 * deployment (no checkpoint) and when that deployment did not export it.
 */
async function previousOutputs(names: string[]): Promise<Record<string, unknown>> {
  const self = new pulumi.StackReference("previous-deployment", {
    name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
  });
  const outputs: Record<string, unknown> = {};
  for (const name of names) {
    const details = await self.getOutputDetails(name);
    outputs[name] = details.value ?? details.secretValue;
  }
  return outputs;
}

async function main(): Promise<Record<string, unknown>> {
  const raw = readRawConfig();
  const parsed = refusingConfigErrors(() => parseStackConfig(raw));
  for (const warning of parsed.warnings) pulumi.log.warn(warning);
  // The tunnel's provider needs credentials: refused here, before any resource, rather than at its first resource.
  const credentials = refusingConfigErrors(() =>
    checkCloudflareCredentials(raw, parsed.config.cloudflare.enabled, process.env, underMocks()),
  );
  if (credentials) pulumi.log.warn(credentials);
  // The team's own rules and dashboards: files of the project, checked before anything is read
  // from the cluster or created.
  const team = refusingConfigErrors(() =>
    readTeamContent(pulumi.getRootDirectory(), parsed.config.teamContent, undefined, `${raw.project}:teamContent`),
  );

  // Awaited before any other resource exists, so that a volume change that cannot be done in
  // place (another StorageClass, a claim shrunk or grown on a class that cannot expand, the
  // namespace that holds them moved by its default, Jaeger's claim given up by tracing's
  // default) stops the update before anything changes.
  const before = await previousOutputs([VOLUMES_OUTPUT, NAMESPACE_OUTPUT, SALT_OUTPUT]);
  const previous = parseVolumeRecords(before[VOLUMES_OUTPUT]);
  const previousApplied = refusingConfigErrors(() =>
    applyPreviousVolumes(raw, applyPreviousNamespace(raw, parsed.config, before[NAMESPACE_OUTPUT]), previous),
  );
  // The OpenID Connect endpoints the stack does not give: from the issuer's discovery document,
  // before any resource is created (the offline render reads no network: it asks for them).
  let config: typeof previousApplied;
  try {
    config = await withOidcEndpoints(previousApplied, raw.project, underMocks());
  } catch (err) {
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }

  // Apps that give their Service's port by number: resolved from the Service itself (read from
  // the cluster), before any resource is created. Without such apps nothing is read.
  let apps: typeof config.apps;
  try {
    apps = await resolveAppServicePorts(config.apps, (i) => `${raw.project}:apps[${i}].port`);
  } catch (err) {
    if (err instanceof ServicePortError) throw new pulumi.RunError(err.message);
    throw err;
  }

  // A stack served by another stack's collector or kube-state-metrics: that one must cover every
  // namespace this stack watches (preflight/shared-logs.ts, preflight/shared-kube-state-metrics.ts),
  // read from the cluster before any resource; the offline render has no cluster and says so.
  const sharedReads = [
    {
      from: config.logCollector.sharedFrom,
      key: "logCollector.sharedFrom",
      reads: `what the collector of the stack in ${config.logCollector.sharedFrom} sends`,
      check: () => checkSharedLogs(config, raw.project),
    },
    {
      from: config.kubeStateMetrics.sharedFrom,
      key: "kubeStateMetrics.sharedFrom",
      reads: `which namespaces the kube-state-metrics of the stack in ${config.kubeStateMetrics.sharedFrom} reports`,
      check: () => checkSharedKubeStateMetrics(config, raw.project),
    },
  ];
  for (const read of sharedReads) {
    if (read.from === undefined) continue;
    if (underMocks()) {
      pulumi.log.warn(
        `${raw.project}:${read.key}: the offline render has no cluster to read ${read.reads}; pulumi preview and up check it.`,
      );
      continue;
    }
    try {
      await read.check();
    } catch (err) {
      if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
      throw err;
    }
  }

  // The stack's salt: the previous deployment's, or a fresh one on the first (preflight/stack-salt.ts).
  const { salt, warning: saltWarning } = stackSaltOf(before[SALT_OUTPUT]);
  if (saltWarning) pulumi.log.warn(saltWarning);

  // The operator's objects (monitors): which CRDs to install and the PrometheusRules to load, read
  // from the cluster before any resource (preflight/operator-objects.ts); nothing is read when off.
  let operator: Awaited<ReturnType<typeof readOperatorObjects>>;
  try {
    operator = await readOperatorObjects(config, raw.project, underMocks());
  } catch (err) {
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
  for (const warning of operator?.warnings ?? []) pulumi.log.warn(warning);
  // A route naming an alert no rule defines never takes it (preflight/route-alertnames.ts).
  for (const warning of checkRouteAlertnames(config, team, operator?.ruleFiles, raw.project, underMocks())) pulumi.log.warn(warning);

  // One collector for two stacks, with monitors (preflight/served-monitors.ts): the serving stack reads how each
  // served stack reads its monitors; the served stack checks that the serving collector scrapes them.
  let servedMonitors: Awaited<ReturnType<typeof readServedMonitors>>;
  try {
    servedMonitors = await readServedMonitors(config, raw.project, underMocks());
    if (config.logCollector.sharedFrom !== undefined && config.monitors.enabled) {
      if (underMocks()) {
        pulumi.log.warn(
          `${raw.project}:monitors.enabled: the offline render has no cluster to read whether the collector of the stack in ${config.logCollector.sharedFrom} scrapes this stack's monitors; pulumi preview and up check it.`,
        );
      } else {
        const agentsCreated = config.nodeExporter.enabled || config.logCollector.enabled;
        servedMonitors.warnings.push(...(await checkAppliedMonitors(config, raw.project, agentsCreated)));
      }
    }
  } catch (err) {
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
  for (const warning of servedMonitors.warnings) pulumi.log.warn(warning);

  const stack = new MonitoringStack("monitoring", {
    config: { ...config, apps },
    team,
    stackSalt: salt,
    ...(operator ? { operator: { crdKinds: operator.crdKinds, ruleFiles: operator.ruleFiles } } : {}),
    ...(Object.keys(servedMonitors.settings).length > 0 ? { servedMonitors: servedMonitors.settings } : {}),
  });
  return {
    environment: config.environment,
    [NAMESPACE_OUTPUT]: stack.namespace,
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
    // Who signs in to Grafana, and with which role (grafana.signIn).
    ...(config.grafana.signIn ? { grafanaSignIn: describeSignIn(config.grafana.signIn, config.grafana.adminUser, stack.grafana.url) } : {}),
    // Plain: the next deployment reads it back through its StackReference (previousOutput).
    [VOLUMES_OUTPUT]: stack.volumes,
    // A secret: read back the same way, so that every deployment derives the same hashes.
    [SALT_OUTPUT]: pulumi.secret(saltText(salt)),
  };
}

// Pulumi calls an exported function and takes what it returns as the stack outputs.
export = main;
