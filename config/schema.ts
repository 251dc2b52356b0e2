/**
 * The schema of a stack's raw values: the plain keys with the sections, the secret keys, and
 * RawConfig, the input as Pulumi hands it over. The list entries are their owners': apps, targets
 * and probes Prometheus' (components/prometheus/scraped.ts), databases the database exporters'
 * (components/database-exporters/section.ts).
 */
import { z } from "zod";
import { PROFILES } from "../components/kit/profiles";
import { appSchema, probeSchema, scrapeTargetSchema } from "../components/prometheus/scraped";
import { bool, dnsLabel, dnsSubdomain, hostname, nodeCount, projectDirectory } from "../components/kit/fields";
import { databasesSection } from "../components/database-exporters/section";
import { secretKeySchemas } from "./secrets";
import { sectionSchemas } from "../components/stack/sections";

/** Plain (non-secret) keys, with the type Pulumi hands them in. */
export const plainKeySchemas = {
  profile: z.enum(PROFILES).describe("staging (small) or production (HA); default: the stack name."),
  environment: dnsLabel.describe("Environment label on every alert and series; default: the stack name."),
  namespace: dnsLabel.describe("Namespace of the stack; default monitoring-<environment>."),
  nodes: nodeCount.describe(
    "Nodes the stack's pods can be scheduled on; default 1. Replicas never outnumber them and run on nodes of their own.",
  ),
  domain: hostname.describe("Base domain; hostnames default to <service>.<domain>."),
  storageClass: dnsSubdomain("a StorageClass name").describe("Default StorageClass of every volume."),
  protectVolumes: bool.describe("Protect volumes from deletion by update or destroy."),
  apps: z.array(appSchema, { error: "must be a list of apps" }).describe("Apps to scrape."),
  databases: databasesSection.schema,
  teamContent: projectDirectory.describe("Directory of the team's own rules and dashboards; default team (when it exists)."),
  targets: z.array(scrapeTargetSchema, { error: "must be a list of scrape targets" }).describe("Plain scrape targets (no HTTP contract)."),
  probes: z.array(probeSchema, { error: "must be a list of probes" }).describe("URLs probed by the blackbox exporter."),
  ...sectionSchemas,
};

/** Keys Pulumi hands over as JSON (objects, lists, booleans) rather than as plain strings. */
export const STRUCTURED_KEYS = new Set<string>(
  Object.entries({ ...plainKeySchemas, ...secretKeySchemas })
    .filter(([, schema]) => !["string", "enum"].includes(schema.def.type))
    .map(([key]) => key),
);

/** Every key of the stack, each optional: defaults come from the profile. */
export const rawSchema = z.strictObject({
  ...Object.fromEntries(Object.entries(plainKeySchemas).map(([k, s]) => [k, s.optional()])),
  ...Object.fromEntries(Object.entries(secretKeySchemas).map(([k, s]) => [k, s.optional()])),
} as { [K in keyof typeof plainKeySchemas]: z.ZodOptional<(typeof plainKeySchemas)[K]> } & {
  [K in keyof typeof secretKeySchemas]: z.ZodOptional<(typeof secretKeySchemas)[K]>;
});
/**
 * A stack's values as the schema parsed them, before any default: `raw` in this folder, beside
 * `rawConfig` (RawConfig, what Pulumi hands over) and `resolved` (StackConfig, with the defaults).
 */
export type RawStackConfig = z.infer<typeof rawSchema>;

/** The raw input: every config value of the stack as Pulumi hands it to the program. */
export interface RawConfig {
  project: string;
  stack: string;
  /** Full keys (`monitoring:domain`, `cloudflare:apiToken`) to their string values (JSON for structured values). */
  values: Record<string, string>;
  /** Full keys whose values are secrets. */
  secretKeys: readonly string[];
  /**
   * Entries of structured keys that the stack file holds in plain text (`monitoring:databaseDsns.orders`),
   * from plainEntriesOfSecretKeys. Pulumi marks a whole structured key secret when any one entry is,
   * so only the stack file tells a plain entry beside a secret one.
   */
  plainPaths?: readonly string[];
}

/** A schema without its optional or default wrappers. */
export function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
  return s;
}
