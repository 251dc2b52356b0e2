/** What the component computes before it registers: its args' problems, and what can refuse what they point at (rule files, the files it packs). */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { databaseExporterRules } from "./rules/database-rules";
import { WEB_CONFIG_FILE, webConfig } from "../kit/web";
import {
  CONFIG_KEY,
  CONFIGMAP_DATA_BUDGET,
  GENERATED_KEY,
  PROBE_RULES_KEY,
  BACKUP_RULES_KEY,
  DATABASE_RULES_KEY,
  DEFAULT_RULES_DIR,
  PrometheusArgs,
} from "./args";
import { PrometheusConfig, prometheusConfig, planConfigFiles } from "./scrape-config";
import {
  probeRules,
  backupRules,
  linkRunbooks,
  loadRuleFiles,
  PROBE_RULES_HEADER,
  BACKUP_RULES_HEADER,
  DATABASE_RULES_HEADER,
  appRuleFiles,
} from "./rules/rule-files";
import { toYaml, ConfigMapPlan, oversizedFiles, packConfigMaps } from "./files";
import { argsProblems } from "./problems";

const WEB_CONFIG_HEADER = "Prometheus' web server (--web.config.file): the security headers of every response (components/kit/web.ts).";

/**
 * Everything that can refuse the args or what they point at, computed before the component
 * registers so that a refusal leaves nothing half-created: the args' problems (problems.ts: the
 * section's own, which config reports first for a stack's config, and the wiring's), then the rule
 * files and the files it packs.
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
  const found = argsProblems(args);
  if (found.length > 0) {
    throw fail(
      `${found.length} problem${found.length === 1 ? "" : "s"} in its args:\n${found.map((p) => `  - ${p.key}: ${p.message}`).join("\n")}`,
    );
  }
  const config = prometheusConfig(args);

  // Rules: the repository's files (runbook links into the user's published runbooks, if any) and the generated app contract.
  const rulesDir = args.rulesDir ?? DEFAULT_RULES_DIR;
  let ruleFiles: Record<string, string>;
  try {
    ruleFiles = loadRuleFiles(
      rulesDir,
      args.runbookBaseUrl,
      args.thresholds,
      args.withoutRuleFiles,
      args.withoutAlerts,
      args.evaluationInterval,
    );
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
    ...(args.backups
      ? [
          [
            BACKUP_RULES_KEY,
            toYaml(
              backupRules(args.namespace, args.backups.stack, args.backups.longestWaitSeconds, args.evaluationInterval),
              BACKUP_RULES_HEADER,
            ),
          ] as [string, string],
        ]
      : []),
    ...((args.databases ?? []).length > 0
      ? [
          [
            DATABASE_RULES_KEY,
            linkRunbooks(
              toYaml(databaseExporterRules(args.databases ?? [], args.evaluationInterval, args.namespace), DATABASE_RULES_HEADER),
              args.runbookBaseUrl,
              DATABASE_RULES_KEY,
            ),
          ] as [string, string],
        ]
      : []),
    ...(args.operatorRuleFiles ?? []).map(([key, text]): [string, string] => [key, linkRunbooks(text, args.runbookBaseUrl, key)]),
  ];
  const planned = planConfigFiles(
    config,
    (args.apps ?? []).map((a) => a.name),
  );
  // The web config sits beside prometheus.yml (not a .yml: every .yml the tools find among
  // Prometheus' files is taken for a rule file).
  const configFiles: Array<[string, string]> = [...planned.files, [WEB_CONFIG_FILE, toYaml(webConfig(), WEB_CONFIG_HEADER)]];
  // A file that no ConfigMap holds alone: a rule file of rulesDir or of the team (the generated ones are cut to fit).
  const [oversized] = [...oversizedFiles(allRules).map((f) => ({ ...f, key: `rulesDir: ${f.key}` })), ...oversizedFiles(configFiles)];
  if (oversized) {
    throw fail(
      `${oversized.key} weighs ${oversized.bytes} bytes serialised, more than one ConfigMap holds here (${CONFIGMAP_DATA_BUDGET} bytes): split it into smaller files`,
    );
  }
  const ruleMaps = packConfigMaps("prometheus-rules", allRules);
  const configMaps = packConfigMaps("prometheus-config", configFiles);
  return {
    config: planned.config,
    configFiles: Object.fromEntries(configFiles),
    ruleFiles: Object.fromEntries(allRules),
    configMaps,
    ruleMaps,
  };
}
