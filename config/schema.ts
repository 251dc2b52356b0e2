/**
 * The schema of a stack's raw values: the plain keys with the sections, the secret keys, and
 * RawConfig, the input as Pulumi hands it over. The sections are the registry's
 * (components/stack/sections.ts), the lists Prometheus scrapes and the databases' among them.
 */
import { z } from "zod";
import { PROFILES } from "../components/kit/profiles";
import { bool, dnsLabel, dnsSubdomain, hostname, nodeCount, projectDirectory } from "../components/kit/fields";
import { secretKeySchemas } from "./secrets";
import { COMPONENT_SECTIONS, ComponentSectionName, SECTION_ENTRIES, hostnamesSchema } from "../components/stack/sections";

/** The stack's own keys that come first in the stack file (and the key reference), with the type Pulumi hands them in. */
const stackKeySchemas = {
  profile: z.enum(PROFILES).describe("staging (small) or production (HA); default: the stack name."),
  environment: dnsLabel.describe("Environment label on every alert and series; default: the stack name."),
  namespace: dnsLabel.describe("Namespace of the stack; default monitoring-<environment>."),
  nodes: nodeCount.describe(
    "Nodes the stack's pods can be scheduled on; default 1. Replicas never outnumber them and run on nodes of their own.",
  ),
  domain: hostname.describe("Base domain; hostnames default to <service>.<domain>."),
  storageClass: dnsSubdomain("a StorageClass name").describe("Default StorageClass of every volume."),
  protectVolumes: bool.describe("Protect volumes from deletion by update or destroy."),
};

/** The stack's own keys that sit among the sections: each after the section it follows. */
const keysAfter = {
  databases: { teamContent: projectDirectory.describe("Directory of the team's own rules and dashboards; default team (when it exists).") },
  // `hostnames` spans the edges (Traefik's and the tunnel's): after the edges' priorityClass.
  priorityClass: { hostnames: hostnamesSchema },
} satisfies Partial<Record<ComponentSectionName, Record<string, z.ZodType>>>;

/** The keys of keysAfter, each with its schema. */
type KeysAfter = (
  (typeof keysAfter)[keyof typeof keysAfter] extends infer K ? (K extends unknown ? (keys: K) => void : never) : never
) extends (keys: infer All) => void
  ? All
  : never;

/** Plain (non-secret) keys, with the type Pulumi hands them in: the stack's own, and the registry's sections among them. */
export const plainKeySchemas = {
  ...stackKeySchemas,
  ...Object.fromEntries(
    SECTION_ENTRIES.flatMap(([name, section]) => [
      [name, section.schema],
      ...Object.entries((keysAfter as Partial<Record<ComponentSectionName, Record<string, z.ZodType>>>)[name] ?? {}),
    ]),
  ),
} as typeof stackKeySchemas & { [K in ComponentSectionName]: (typeof COMPONENT_SECTIONS)[K]["schema"] } & KeysAfter;

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
