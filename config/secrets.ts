/**
 * The keys whose values must be Pulumi secrets, each declared by the section that reads it (its
 * `secrets`, with its `standIns` and `secretMessages`), gathered from the registry; and the stack
 * file's plain entries beside secret ones.
 */
import { z } from "zod";
import { LEGACY_RECEIVER_SECRETS } from "../components/alertmanager/routing";
import { SecretStandIn } from "../components/kit/section";
import { AnySection, COMPONENT_SECTIONS, ComponentSectionName, SECTION_ENTRIES } from "../components/stack/sections";

/** One type of a union's members together. */
type Together<U> = (U extends unknown ? (member: U) => void : never) extends (all: infer All) => void ? All : never;

/** Every section's secret keys, with their schemas. */
type SecretKeySchemas = Together<
  { [K in ComponentSectionName]: NonNullable<(typeof COMPONENT_SECTIONS)[K]["secrets"]> }[ComponentSectionName]
>;

/**
 * Where each section's secret keys sit among the stack's secret keys (the key reference's order, and
 * the schema's): by owner, Alertmanager's single keys of earlier releases before the other sections'
 * maps. A section not named here has its keys after these, in the registry's order.
 */
const SECRET_KEY_PLACES: ReadonlyArray<ComponentSectionName | readonly string[]> = [
  "grafana",
  Object.keys(LEGACY_RECEIVER_SECRETS),
  "databases",
  "prometheus",
  "logCollector",
  "traefik",
  "alertmanager",
  "targets",
  "backup",
];

/** Each secret key with the section that reads it, in SECRET_KEY_PLACES' order. */
const OWNERS: ReadonlyArray<[string, AnySection]> = (() => {
  const owners = new Map<string, AnySection>();
  const ownerOf = (key: string) => SECTION_ENTRIES.find(([, section]) => key in (section.secrets ?? {}))?.[1] as AnySection;
  const keysOf = (name: ComponentSectionName) => Object.keys((COMPONENT_SECTIONS[name] as AnySection).secrets ?? {});
  const placed = [
    ...SECRET_KEY_PLACES.flatMap((place) => (typeof place === "string" ? keysOf(place) : place)),
    ...SECTION_ENTRIES.flatMap(([name]) => keysOf(name)),
  ];
  for (const key of placed) if (!owners.has(key)) owners.set(key, ownerOf(key));
  return [...owners.entries()];
})();

/** Keys whose values must be Pulumi secrets, with their schemas: the sections' own, in their places. */
export const secretKeySchemas = Object.fromEntries(
  OWNERS.map(([key, section]) => [key, (section.secrets as Record<string, z.ZodType>)[key]]),
) as SecretKeySchemas;

export const SECRET_KEYS = Object.keys(secretKeySchemas) as ReadonlyArray<keyof SecretKeySchemas>;

/**
 * What the offline render stands in for each secret key's value when the stack file's is encrypted
 * (cli/stackfile.ts): each declared by its section beside its key's schema, which takes it. A section
 * that reads a secret key without its stand-in does not compile (components/kit/section.ts).
 */
export const SECRET_STAND_INS = Object.fromEntries(
  OWNERS.map(([key, section]) => [key, (section.standIns as Record<string, SecretStandIn>)[key]]),
) as { readonly [K in keyof SecretKeySchemas]: SecretStandIn };

/** What a secret map takes, and how to give it: entry by entry, by path (each section's maps say their own). */
export const SECRET_MAP_MESSAGES: Readonly<Record<string, string>> = Object.fromEntries(
  OWNERS.flatMap(([key, section]) => {
    const message = (section.secretMessages as Partial<Record<string, string>> | undefined)?.[key];
    return message !== undefined ? [[key, message]] : [];
  }),
);

/**
 * Entries of structured keys that a stack file's `config:` block holds in plain text
 * beside secure ones (`monitoring:databaseDsns.orders`), for RawConfig.plainPaths.
 */
export function plainEntriesOfSecretKeys(stackFileConfig: Record<string, unknown>): string[] {
  const isSecure = (v: unknown) =>
    typeof v === "object" && v !== null && Object.keys(v).length === 1 && typeof (v as { secure?: unknown }).secure === "string";
  const plain: string[] = [];
  const walk = (value: unknown, path: string): boolean => {
    if (isSecure(value)) return true;
    if (typeof value !== "object" || value === null) {
      plain.push(path);
      return false;
    }
    let secure = false;
    for (const [k, v] of Object.entries(value)) secure = walk(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`) || secure;
    return secure;
  };
  const result: string[] = [];
  for (const [key, value] of Object.entries(stackFileConfig)) {
    plain.length = 0;
    if (typeof value === "object" && value !== null && !isSecure(value) && walk(value, key)) result.push(...plain);
  }
  return result;
}
