/** What the component computes before it registers: everything that can refuse its args. */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { databaseExporterRules } from "./rules/database-rules";
import { WEB_CONFIG_FILE, webConfig } from "../kit/web";
import { durationSeconds } from "../kit/units";
import { CONFIG_KEY, GENERATED_KEY, PROBE_RULES_KEY, DATABASE_RULES_KEY, DEFAULT_RULES_DIR, PrometheusArgs } from "./args";
import { PrometheusConfig, prometheusConfig, planConfigFiles } from "./scrape-config";
import { probeRules, linkRunbooks, loadRuleFiles, PROBE_RULES_HEADER, DATABASE_RULES_HEADER, appRuleFiles } from "./rules/rule-files";
import { toYaml, ConfigMapPlan, packConfigMaps } from "./files";

const WEB_CONFIG_HEADER = "Prometheus' web server (--web.config.file): the security headers of every response (components/kit.ts).";

/**
 * Everything that can refuse the args, computed before the component registers so
 * that a refusal leaves nothing half-created: the config and the rule files.
 */
export function planPrometheus(
  name: string,
  args: PrometheusArgs,
  parent: pulumi.Resource | undefined,
): {
  config: PrometheusConfig;
  configFiles: Record<string, string>;
  ruleFiles: Record<string, string>;
  configMaps: ConfigMapPlan[];
  ruleMaps: ConfigMapPlan[];
} {
  const fail = (message: string) => new pulumi.ResourceError(`Prometheus ${name}: ${message}`, parent);
  if (!Number.isInteger(args.replicas) || args.replicas < 1)
    throw fail(`replicas must be a whole number of at least 1; got ${args.replicas}`);
  for (const [key, value] of [
    ["retention", args.retention],
    ["scrapeInterval", args.scrapeInterval],
    ["scrapeTimeout", args.scrapeTimeout],
    ["evaluationInterval", args.evaluationInterval],
  ] as const) {
    if (!durationSeconds(value)) throw fail(`${key} must be a positive Prometheus duration such as 15s or 30d; got "${value}"`);
  }
  if ((durationSeconds(args.scrapeTimeout) ?? 0) > (durationSeconds(args.scrapeInterval) ?? 0)) {
    throw fail(`scrapeTimeout (${args.scrapeTimeout}) must not exceed scrapeInterval (${args.scrapeInterval})`);
  }
  const remoteNames = (args.remoteWrite ?? []).map((rw) => rw.name);
  const dupRemote = remoteNames.find((n, i) => remoteNames.indexOf(n) !== i);
  if (dupRemote) throw fail(`remoteWrite: the name "${dupRemote}" is used twice`);

  let config: PrometheusConfig;
  try {
    config = prometheusConfig(args);
  } catch (err) {
    throw fail((err as Error).message);
  }

  // Rules: the repository's files (runbook links into the user's published runbooks, if any) and the generated app contract.
  const rulesDir = args.rulesDir ?? DEFAULT_RULES_DIR;
  let ruleFiles: Record<string, string>;
  try {
    ruleFiles = loadRuleFiles(rulesDir, args.runbookBaseUrl, args.thresholds);
  } catch (err) {
    throw fail((err as Error).message);
  }
  for (const reserved of Object.keys(ruleFiles).filter((f) => f === CONFIG_KEY || GENERATED_KEY.test(f))) {
    throw fail(`rulesDir: ${path.join(rulesDir, reserved)} takes a name the component generates; rename it`);
  }
  // Every file in order: the repository's, then the generated ones. Packed into as many
  // ConfigMaps as they need, each well under the API server's limit, whatever the number of apps.
  const teamRules = (args.teamRuleFiles ?? []).map(([key, text]): [string, string] => [key, linkRunbooks(text, args.runbookBaseUrl, key)]);
  const allRules: Array<[string, string]> = [
    ...Object.entries(ruleFiles),
    ...teamRules,
    ...appRuleFiles(args.apps ?? [], args.evaluationInterval),
    ...((args.probes ?? []).length > 0
      ? [[PROBE_RULES_KEY, toYaml(probeRules(args.probes ?? [], args.evaluationInterval), PROBE_RULES_HEADER)] as [string, string]]
      : []),
    ...((args.databases ?? []).length > 0
      ? [
          [
            DATABASE_RULES_KEY,
            linkRunbooks(
              toYaml(databaseExporterRules(args.databases ?? [], args.evaluationInterval), DATABASE_RULES_HEADER),
              args.runbookBaseUrl,
              DATABASE_RULES_KEY,
            ),
          ] as [string, string],
        ]
      : []),
  ];
  const planned = planConfigFiles(
    config,
    (args.apps ?? []).map((a) => a.name),
  );
  // The web config sits beside prometheus.yml (not a .yml: every .yml the tools find among
  // Prometheus' files is taken for a rule file).
  const configFiles: Array<[string, string]> = [...planned.files, [WEB_CONFIG_FILE, toYaml(webConfig(), WEB_CONFIG_HEADER)]];
  let ruleMaps: ConfigMapPlan[];
  let configMaps: ConfigMapPlan[];
  try {
    ruleMaps = packConfigMaps("prometheus-rules", allRules);
  } catch (err) {
    throw fail(`rulesDir: ${(err as Error).message}`);
  }
  try {
    configMaps = packConfigMaps("prometheus-config", configFiles);
  } catch (err) {
    throw fail((err as Error).message);
  }
  return {
    config: planned.config,
    configFiles: Object.fromEntries(configFiles),
    ruleFiles: Object.fromEntries(allRules),
    configMaps,
    ruleMaps,
  };
}
