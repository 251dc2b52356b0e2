/**
 * The sections of the stack file (`prometheus`, `alertmanager`, …), every field optional, defaults
 * from the profile: the registry of the sections the components own, and the one config keeps
 * itself (`hostnames`, which spans the edges).
 */
import { z } from "zod";
import { alertmanagerSection } from "../alertmanager/section";
import { backupSection } from "../backup/section";
import { cloudflareSection } from "../cloudflare-tunnel/section";
import { kubeStateMetricsSection } from "../exporters/kube-state-metrics-section";
import { nodeExporterSection } from "../exporters/node-exporter-section";
import { grafanaSection } from "../grafana/section";
import { hostname } from "../kit/fields";
import { Profile } from "../kit/profiles";
import { ComponentSection, SectionContext } from "../kit/section";
import { networkPolicySection, priorityClassSection } from "../kit/stack-sections";
import { logCollectorSection } from "../log-collector/section";
import { lokiSection } from "../loki/section";
import { monitorsSection } from "../monitors/section";
import { thresholdsSection } from "../prometheus/rules/thresholds";
import { prometheusSection } from "../prometheus/section";
import { traefikSection } from "../traefik/section";
import { watchSection } from "../kit/watch";
import { tracingSection } from "../tracing/section";

/**
 * The sections the components own (components/<component>/section.ts), in the stack file's order:
 * each one's schema, defaults, resolution, problems and warnings are collected from here.
 */
export const COMPONENT_SECTIONS = {
  prometheus: prometheusSection,
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
  thresholds: thresholdsSection,
  watch: watchSection,
  monitors: monitorsSection,
  backup: backupSection,
};

export type ComponentSectionName = keyof typeof COMPONENT_SECTIONS;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySection = ComponentSection<z.ZodType, any, any>;

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

/** `hostnames`, the section config keeps itself: it spans the edges (Traefik's and the tunnel's). */
const hostnamesSchema = z.strictObject({
  grafana: hostname.optional(),
  prometheus: hostname.optional(),
  alertmanager: hostname.optional(),
});

/** Where `hostnames` sits in the stack file (and the key reference): after the edges' priorityClass. */
const HOSTNAMES_AFTER: ComponentSectionName = "priorityClass";

/** The schema of each section, in the stack file's order: the components' from the registry, and `hostnames`. */
export const sectionSchemas = Object.fromEntries(
  Object.entries(COMPONENT_SECTIONS).flatMap(([name, section]: [string, AnySection]) => [
    [name, section.schema],
    ...(name === HOSTNAMES_AFTER ? [["hostnames", hostnamesSchema]] : []),
  ]),
) as { [K in ComponentSectionName]: (typeof COMPONENT_SECTIONS)[K]["schema"] } & { hostnames: typeof hostnamesSchema };
