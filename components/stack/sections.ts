/**
 * The registry of the stack file's sections, the one place the components are listed: each key the
 * stack file gives a component (`prometheus`, `apps`, …), every field optional, defaults from the
 * profile. StackConfig (config.ts) is a mapped type over it, and config/ loops over it for the
 * schema, the defaults, the resolution, the secret keys, the problems and the key reference.
 */
import { z } from "zod";
import { alertmanagerSection } from "../alertmanager/section";
import { backupSection } from "../backup/section";
import { cloudflareSection } from "../cloudflare-tunnel/section";
import { databasesSection } from "../database-exporters/section";
import { kubeStateMetricsSection } from "../exporters/kube-state-metrics-section";
import { nodeExporterSection } from "../exporters/node-exporter-section";
import { grafanaSection } from "../grafana/section";
import { exporterJob } from "../kit/database-exporters";
import { hostname } from "../kit/fields";
import { programmingError } from "../kit/problems";
import { Profile } from "../kit/profiles";
import { ComponentSection, Needed, SectionContext, componentSection } from "../kit/section";
import { networkPolicySection, priorityClassSection } from "../kit/stack-sections";
import { WatchSettings, watchSection } from "../kit/watch";
import { logCollectorSection } from "../log-collector/section";
import { lokiSection } from "../loki/section";
import { monitorsSection } from "../monitors/section";
import { appsSection, probesSection, targetsSection } from "../prometheus/lists";
import { thresholdsSection } from "../prometheus/rules/thresholds";
import { prometheusSection } from "../prometheus/section";
import { traefikSection } from "../traefik/section";
import { tracingSection } from "../tracing/section";
import { AppTarget } from "../prometheus/args";
import { resolveTracing } from "./tracing";

/**
 * A section as the registry lists it: the component's own, and what it reads of another section
 * that is not its own to import (the wiring: tracing's default follows Prometheus' apps; the
 * cluster's node-exporter and the scrape of its Traefik follow `watch.cluster`). `over` completes
 * what the section resolved alone; the registry resolves the sections it needs first.
 */
function reading<Schema extends z.ZodType, Resolved, Secrets extends Record<string, z.ZodType>, Out extends Resolved, Reads extends Needed>(
  section: ComponentSection<Schema, Resolved, Secrets>,
  needs: ReadonlyArray<keyof Reads["resolved"] & string>,
  over: (resolved: Resolved, given: z.infer<Schema> | undefined, needed: Reads) => Out,
  defaults: (resolved: Resolved) => Out,
): ComponentSection<Schema, Out, Secrets> {
  const read: ComponentSection<Schema, Out, Secrets> = {
    ...section,
    needs,
    defaults: (profile) => defaults(section.defaults(profile)),
    resolve: (given, context, secrets, needed) => over(section.resolve(given, context, secrets, needed), given, needed as Reads),
  };
  return read;
}

/** What the cluster's shared pieces read: they run and are scraped, unless the stack says otherwise, by the stack that watches the cluster. */
type ReadsWatch = Needed<{ watch: WatchSettings }, unknown>;

/** `databases[]` and `databaseDsns` (components/database-exporters/section.ts) as a section: a list, its problems keyed from the top. */
const databasesListSection = componentSection({
  schema: databasesSection.schema,
  secrets: databasesSection.secrets,
  standIns: databasesSection.standIns,
  secretMessages: databasesSection.secretMessages,
  defaults: (): ReturnType<(typeof databasesSection)["resolve"]>["databases"] => [],
  resolve: (given, context, secrets) => {
    const { databases, problems } = databasesSection.resolve(given, context, secrets);
    context.problems.push(...problems);
    return databases;
  },
  problems: (databases) => databasesSection.problems(databases),
  jobs: (databases) => [...new Set(databases.map((db) => exporterJob(db.type)))],
});

/**
 * The sections, in the stack file's order (the schema's, the key reference's): the lists first
 * (`hostnames` and the stack's own keys, which no component owns, sit among them: config/schema.ts).
 */
export const COMPONENT_SECTIONS = {
  apps: appsSection,
  databases: databasesListSection,
  targets: targetsSection,
  probes: probesSection,
  prometheus: prometheusSection,
  alertmanager: alertmanagerSection,
  grafana: grafanaSection,
  loki: lokiSection,
  // The node's journal follows `watch.cluster` unless the stack says.
  logCollector: reading(
    logCollectorSection,
    ["watch"],
    (logCollector, given, { resolved: { watch } }: ReadsWatch) => ({ ...logCollector, journal: given?.journal ?? watch.cluster }),
    (logCollector) => logCollector,
  ),
  // On by the apps unless the stack says: `enabled` given, or an app that sends OTLP.
  tracing: reading(
    tracingSection,
    ["apps"],
    (tracing, given, { resolved: { apps } }: Needed<{ apps: readonly AppTarget[] }, unknown>) =>
      resolveTracing(tracing, given?.enabled, apps),
    (tracing) => resolveTracing(tracing, undefined, []),
  ),
  nodeExporter: reading(
    nodeExporterSection,
    ["watch"],
    (nodeExporter, given, { resolved: { watch } }: ReadsWatch) => ({ ...nodeExporter, enabled: given?.enabled ?? watch.cluster }),
    (nodeExporter) => nodeExporter,
  ),
  kubeStateMetrics: kubeStateMetricsSection,
  traefik: reading(
    traefikSection,
    ["watch"],
    (traefik, given, { resolved: { watch } }: ReadsWatch) => ({
      ...traefik,
      metrics: { ...traefik.metrics, enabled: given?.metrics?.enabled ?? watch.cluster },
    }),
    (traefik) => traefik,
  ),
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
export type AnySection = ComponentSection<z.ZodType<any>, any, any>;

/** Each section's resolved values, as its own `resolve` returns them. */
export type ResolvedSections = { [K in ComponentSectionName]: ReturnType<(typeof COMPONENT_SECTIONS)[K]["resolve"]> };

/** The registry's entries, in its order. */
export const SECTION_ENTRIES = Object.entries(COMPONENT_SECTIONS) as Array<[ComponentSectionName, AnySection]>;

/** The sections in the order they resolve: the registry's, each after the sections it needs. */
export const RESOLVE_ORDER: readonly ComponentSectionName[] = (() => {
  const order: ComponentSectionName[] = [];
  const visit = (name: ComponentSectionName, path: readonly ComponentSectionName[]) => {
    if (order.includes(name)) return;
    // A circle of needs is the program's own mistake: resolving would read a section not yet there.
    if (path.includes(name)) programmingError(`sections that need each other: ${[...path, name].join(" -> ")}`);
    for (const needed of (COMPONENT_SECTIONS[name] as AnySection).needs ?? []) visit(needed as ComponentSectionName, [...path, name]);
    order.push(name);
  };
  for (const [name] of SECTION_ENTRIES) visit(name, []);
  return order;
})();

/**
 * Every section resolved, in RESOLVE_ORDER: its values over the profile's defaults, with its secret
 * keys' values and what it reads of the sections it needs; what only resolving finds goes to
 * `context.problems`, in that order.
 */
export function resolveSections(raw: Readonly<Record<string, unknown>>, context: SectionContext): ResolvedSections {
  const resolved: Partial<Record<ComponentSectionName, unknown>> = {};
  for (const name of RESOLVE_ORDER) {
    const section: AnySection = COMPONENT_SECTIONS[name];
    const secrets = Object.fromEntries(Object.keys(section.secrets ?? {}).map((key) => [key, raw[key]]));
    resolved[name] = section.resolve(raw[name], context, secrets, { resolved, given: raw });
  }
  // In the registry's order, as the stack file has them.
  return Object.fromEntries(SECTION_ENTRIES.map(([name]) => [name, resolved[name]])) as ResolvedSections;
}

/** Every section's defaults in a profile. */
export function sectionDefaults(profile: Profile): ResolvedSections {
  return Object.fromEntries(SECTION_ENTRIES.map(([name, section]) => [name, section.defaults(profile)])) as ResolvedSections;
}

/** `hostnames`, the section config keeps itself: it spans the edges (Traefik's and the tunnel's). */
export const hostnamesSchema = z.strictObject({
  grafana: hostname.optional(),
  prometheus: hostname.optional(),
  alertmanager: hostname.optional(),
});

/** The sections that resolve a field `F` of their own (`resources`, `replicas`), by type. */
export type SectionsWith<F extends string> = {
  [K in ComponentSectionName]: ResolvedSections[K] extends Readonly<Record<F, unknown>> ? K : never;
}[ComponentSectionName];

/**
 * The sections whose schema has a field `field` at its top, in the registry's order: a check of
 * every `resources` or `replicas` loops over these, so that a section that has one is checked with
 * no list to keep.
 */
export function sectionsWith<F extends string>(field: F): ReadonlyArray<SectionsWith<F>> {
  return SECTION_ENTRIES.filter(([, section]) => section.schema instanceof z.ZodObject && field in section.schema.shape).map(
    ([name]) => name as SectionsWith<F>,
  );
}
