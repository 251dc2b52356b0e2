/** The sections of the stack file (`prometheus`, `alertmanager`, …): every field optional, defaults come from the profile. */
import { z } from "zod";
import { alertmanagerSection } from "../components/alertmanager/section";
import { cloudflareSection } from "../components/cloudflare-tunnel/section";
import { grafanaSection } from "../components/grafana/section";
import { lokiSection } from "../components/loki/section";
import { logCollectorSection } from "../components/log-collector/section";
import { tracingSection } from "../components/tracing/section";
import { nodeExporterSection } from "../components/exporters/node-exporter-section";
import { kubeStateMetricsSection } from "../components/exporters/kube-state-metrics-section";
import { networkPolicySection, priorityClassSection } from "../components/kit/stack-sections";
import { traefikSection } from "../components/traefik/section";
import { ComponentSection, SectionContext } from "../components/kit/section";
import { Profile } from "../components/kit/profiles";
import { ALERT_SEVERITIES, THRESHOLD_LEVELS, THRESHOLD_NAMES, THRESHOLD_SPECS } from "../components/prometheus/rules/thresholds";
import {
  bool,
  dnsLabel,
  duration,
  hostname,
  labelMap,
  nonEmpty,
  plainHttpUrl,
  prometheusSize,
  replicas,
  resources,
  storage,
} from "../components/kit/fields";

const remoteWriteSchema = z.strictObject({
  name: dnsLabel,
  url: plainHttpUrl,
  username: nonEmpty("a user name").optional().describe("Basic-auth user; the password comes from secret remoteWritePasswords.<name>."),
  bearerToken: bool.optional().describe("Send remoteWritePasswords.<name> as a bearer token instead."),
});

/** One level of a tunable node alert (components/prometheus/rules/thresholds.ts); every field defaults to rules/nodes.yml's value. */
const thresholdLevel = (name: (typeof THRESHOLD_NAMES)[number], level: (typeof THRESHOLD_LEVELS)[number]) => {
  const spec = THRESHOLD_SPECS[name];
  const d = spec.defaults[level];
  return z.strictObject({
    enabled: bool.optional().describe(`Whether ${spec.alert} has its ${level} level; default true.`),
    percent: z
      .number({ error: `must be a percent 1-99 (the share of ${spec.what})` })
      .min(1, "must be at least 1 (percent)")
      .max(99, "must be at most 99 (percent)")
      .optional()
      .describe(
        `Share of ${spec.what} at which the ${level} fires (${spec.measure === "used" ? "above" : "below"}); default ${d.percent}.`,
      ),
    for: duration.optional().describe(`How long it must hold; default ${d.for}.`),
    severity: z.enum(ALERT_SEVERITIES).optional().describe(`The alert's severity label; default ${level}.`),
  });
};

const thresholdAlert = (name: (typeof THRESHOLD_NAMES)[number]) =>
  z.strictObject({ warning: thresholdLevel(name, "warning").optional(), critical: thresholdLevel(name, "critical").optional() });

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySection = ComponentSection<z.ZodType, any, any>;

/**
 * The sections the components own (components/<component>/section.ts), in the stack file's order:
 * each one's schema, defaults, resolution, problems and warnings are collected from here.
 */
export const COMPONENT_SECTIONS = {
  alertmanager: alertmanagerSection,
  grafana: grafanaSection,
  loki: lokiSection,
  logCollector: logCollectorSection,
  tracing: tracingSection,
  nodeExporter: nodeExporterSection,
  kubeStateMetrics: kubeStateMetricsSection,
  traefik: traefikSection,
  cloudflare: cloudflareSection,
  networkPolicy: networkPolicySection,
  priorityClass: priorityClassSection,
};

export type ComponentSectionName = keyof typeof COMPONENT_SECTIONS;

/** Each component section's resolved values, as its own `resolve` returns them. */
export type ResolvedSections = { [K in ComponentSectionName]: ReturnType<(typeof COMPONENT_SECTIONS)[K]["resolve"]> };

/** Every component section resolved: its values over the profile's defaults. */
export function resolveSections(raw: Readonly<Record<string, unknown>>, context: SectionContext): ResolvedSections {
  const resolved: Partial<Record<ComponentSectionName, unknown>> = {};
  for (const [name, section] of Object.entries(COMPONENT_SECTIONS) as Array<[ComponentSectionName, AnySection]>) {
    const secrets = Object.fromEntries(Object.keys(section.secrets ?? {}).map((key) => [key, raw[key]]));
    resolved[name] = section.resolve(raw[name], context, secrets);
  }
  return resolved as ResolvedSections;
}

/** Every component section's defaults in a profile. */
export function sectionDefaults(profile: Profile): ResolvedSections {
  return Object.fromEntries(
    (Object.entries(COMPONENT_SECTIONS) as Array<[ComponentSectionName, AnySection]>).map(([name, section]) => [
      name,
      section.defaults(profile),
    ]),
  ) as ResolvedSections;
}

export const sectionSchemas = {
  prometheus: z.strictObject({
    replicas: replicas.optional(),
    retention: duration.optional().describe("How long samples are kept."),
    retentionSize: prometheusSize.optional().describe("Size cap of the TSDB; default 85 % of the volume."),
    scrapeInterval: duration.optional(),
    scrapeTimeout: duration.optional(),
    evaluationInterval: duration.optional(),
    externalLabels: labelMap.optional(),
    remoteWrite: z.array(remoteWriteSchema).optional(),
    runbookBaseUrl: plainHttpUrl
      .optional()
      .describe("URL of your published copy of docs/runbooks.md (e.g. your fork's): alerts then carry a runbook_url link into it."),
    storage: storage.optional(),
    resources: resources.optional(),
  }),
  alertmanager: COMPONENT_SECTIONS.alertmanager.schema,
  grafana: COMPONENT_SECTIONS.grafana.schema,
  loki: COMPONENT_SECTIONS.loki.schema,
  logCollector: COMPONENT_SECTIONS.logCollector.schema,
  tracing: COMPONENT_SECTIONS.tracing.schema,
  nodeExporter: COMPONENT_SECTIONS.nodeExporter.schema,
  kubeStateMetrics: COMPONENT_SECTIONS.kubeStateMetrics.schema,
  traefik: COMPONENT_SECTIONS.traefik.schema,
  cloudflare: COMPONENT_SECTIONS.cloudflare.schema,
  networkPolicy: COMPONENT_SECTIONS.networkPolicy.schema,
  priorityClass: COMPONENT_SECTIONS.priorityClass.schema,
  hostnames: z.strictObject({
    grafana: hostname.optional(),
    prometheus: hostname.optional(),
    alertmanager: hostname.optional(),
  }),
  thresholds: z.strictObject({
    nodeCpu: thresholdAlert("nodeCpu").optional(),
    nodeMemory: thresholdAlert("nodeMemory").optional(),
    nodeDisk: thresholdAlert("nodeDisk").optional(),
  }),
};
