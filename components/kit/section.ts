/**
 * A component's section of the stack file (`loki`, `grafana`, …), owned by the component: the
 * schema that defines each of its fields once (with its doc text), the secret keys it reads,
 * `resolve` from what the stack gives to the component's resolved values over its profile's
 * defaults, and the problems and warnings of its own values. components/stack/sections.ts collects the
 * sections into the stack's schema, its defaults, its resolution, its problems and the key
 * reference, in one loop; what spans sections stays in config/.
 */
import { z } from "zod";
import { resources, storage } from "./fields";
import { ArgsProblem } from "./problems";
import { Profile } from "./profiles";
import { ResourceRequirements, StorageSpec } from "./resources";

/** What every section resolves with besides its own values: the stack-wide keys. */
export interface SectionContext {
  project: string;
  stack: string;
  profile: Profile;
  environment: string;
  /** Nodes the stack's pods can be scheduled on. */
  nodes: number;
  /** The stack's default StorageClass (config storageClass). */
  storageClass?: string;
  /**
   * Where `resolve` reports, in order, what only resolving finds wrong in what the stack gives (a
   * secret for a receiver that is not there), keyed from the top of the stack file (`alertmanager.smtp`,
   * `smtpPassword`): a section's secrets are top-level keys. Config lists them where sections resolve.
   */
  problems: ArgsProblem[];
}

/** The values of a section's secret keys (each a top-level key of its own), as the stack gives them. */
export type SecretValues<Secrets extends Record<string, z.ZodType>> = { [K in keyof Secrets]?: z.infer<Secrets[K]> };

/**
 * What the offline render puts in place of a secret value it cannot decrypt (a `secure:` value of
 * the stack file): a value the key's own checks take, so that the render goes on and shows the
 * rest of the stack. `key` names the value as `pulumi config set --path` does (`databaseDsns.orders`),
 * `entry` is the entry's name in a secret map (`orders`), `stack` the stack's other values by key
 * (`databases`), as the stack file gives them.
 */
export type SecretStandIn = (at: { key: string; entry?: string; stack: Readonly<Record<string, unknown>> }) => string;

/** A stand-in for each of a section's secret keys: declared beside the keys' schemas, so that no secret key goes without. */
export type SecretStandIns<Secrets extends Record<string, z.ZodType>> = { readonly [K in keyof Secrets]-?: SecretStandIn };

/** A stand-in URL (`https://placeholder.invalid/secret/<key>`): .invalid is reserved (RFC 2606) and never resolves. */
export const urlStandIn: SecretStandIn = ({ key }) => `https://placeholder.invalid/secret/${key}`;

/**
 * A stand-in password or token: `PLACEHOLDER-secret-<key>`, with every character but letters and
 * digits a '-'; at least 19 characters and at most 72 (bcrypt's limit, basicAuthPasswords').
 */
export const textStandIn: SecretStandIn = ({ key }) => `PLACEHOLDER-secret-${key.replace(/[^a-zA-Z0-9]/g, "-")}`.slice(0, 72);

/**
 * What deploys but deserves attention, keyed inside the section: worded as a problem (`<key> <message>.`),
 * or as a sentence of its own after the key (`<key>: <sentence>`).
 */
export type SectionWarning = ArgsProblem | { key: string; sentence: string };

/**
 * What a section reads of the other sections as it resolves, by their names in the registry: their
 * resolved values (`resolved`) and what the stack gave there (`given`). The section names the type
 * of what it reads, and declares the sections in `needs`; the registry resolves those first
 * (components/stack/sections.ts).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each section names the type of what it reads
export interface Needed<Resolved = any, Given = any> {
  resolved: Resolved;
  given: Given;
}

/** A component's section: see the file's comment. `Resolved` is what the component reads of the stack's config. */
export interface ComponentSection<
  Schema extends z.ZodType,
  Resolved,
  Secrets extends Record<string, z.ZodType> = Record<never, z.ZodType>,
> {
  /** The section's fields, each optional: what is not given comes from the profile's defaults. */
  schema: Schema;
  /** The top-level secret keys the section reads, with their schemas (config/secrets.ts gathers them). */
  secrets?: Secrets;
  /** What the offline render stands in for each of its secret keys' values (config/secrets.ts gathers them). */
  standIns?: SecretStandIns<Secrets>;
  /** How each of its secret maps is given, for a value given whole (config/decode.ts). */
  secretMessages?: { readonly [K in keyof Secrets]?: string };
  /**
   * The other sections it reads (`tracing` reads `apps`), or must follow so that the problems its
   * resolve finds come after theirs: the registry resolves them first.
   */
  needs?: readonly string[];
  /** What a profile sets when the stack says nothing. */
  defaults: (profile: Profile) => Resolved;
  /** The stack's values over the profile's defaults, with what it reads of the sections it needs. */
  resolve: (given: z.infer<Schema> | undefined, context: SectionContext, secrets: SecretValues<Secrets>, needed: Needed) => Resolved;
  /**
   * What the section's values must keep together (the component's problems.ts), keyed inside the
   * section (a list's from the top: `apps[1].name`), with what the stack gave there and the stack's
   * resolved sections, of which it reads those it needs.
   */
  problems?: (resolved: Resolved, given: z.infer<Schema> | undefined, stack: Needed["resolved"]) => ArgsProblem[];
  /** What deploys but deserves attention, keyed inside the section. */
  warnings?: (resolved: Resolved) => SectionWarning[];
  /**
   * The `job`s of the series the component gives Prometheus for these values (its scrape targets',
   * or what it pushes: the backups'), each of components/kit/stack-jobs.ts' JOB: config reserves
   * them (an app or a target may not take one), and a test holds them to the render.
   */
  jobs?: (resolved: Resolved) => readonly string[];
}

/**
 * A section, checked against the contract with its types inferred: one that reads secret keys
 * declares a stand-in for each, so that a secret key without its stand-in does not compile.
 */
export function componentSection<Schema extends z.ZodType, Resolved, Secrets extends Record<string, z.ZodType> = Record<never, z.ZodType>>(
  section: ComponentSection<Schema, Resolved, Secrets> &
    ([keyof Secrets] extends [never] ? unknown : { standIns: SecretStandIns<Secrets> }),
): ComponentSection<Schema, Resolved, Secrets> {
  return section;
}

/** A profile's replicas, on as many nodes as there are: each replica runs on a node of its own. */
export function onNodes(context: Pick<SectionContext, "nodes">, replicas: number): number {
  return Math.min(replicas, context.nodes);
}

/** Requests and limits: each one given over the default's. */
export function resolveResources(base: ResourceRequirements, given: z.infer<typeof resources> | undefined): ResourceRequirements {
  return {
    requests: { ...base.requests, ...given?.requests } as ResourceRequirements["requests"],
    limits: { ...base.limits, ...given?.limits } as ResourceRequirements["limits"],
  };
}

/** A volume: the size given or the default's, the section's StorageClass or the stack's. */
export function resolveStorage(
  base: StorageSpec,
  given: z.infer<typeof storage> | undefined,
  context: Pick<SectionContext, "storageClass">,
): StorageSpec {
  const storageClass = given?.storageClass ?? context.storageClass;
  return {
    size: given?.size ?? base.size,
    ...(storageClass ? { storageClass } : {}),
    ...(given?.expandable ? { expandable: true } : {}),
    ...(given?.recreate ? { recreate: true } : {}),
  };
}

/** A field's resolved value: the schema's, never missing; `resources` and `storage` as resolveResources and resolveStorage make them. */
export type ResolvedField<K, V> = K extends "resources" ? ResourceRequirements : K extends "storage" ? StorageSpec : Exclude<V, undefined>;

/**
 * What a profile sets of a section, typed from its schema: every field but those that have no default
 * (`NoDefault`), each with its value. The defaults are of this type, so that a field the schema
 * declares and the defaults miss does not compile.
 */
export type DefaultsOf<Schema extends z.ZodType, NoDefault extends keyof z.output<Schema> = never> = {
  [K in Exclude<keyof z.output<Schema>, NoDefault>]-?: ResolvedField<K, z.output<Schema>[K]>;
};

/**
 * A section's fields resolved, typed from its schema: every field, each with its value or its
 * default; a field without a default (`NoDefault`, such as a link the stack may give or not) there
 * when given.
 */
export type FieldsOf<Schema extends z.ZodType, NoDefault extends keyof z.output<Schema> = never> = DefaultsOf<Schema, NoDefault> & {
  [K in NoDefault]?: Exclude<z.output<Schema>[K], undefined>;
};

/** What a section of plain fields gives: each field its default's type, `resources` and `storage` as their schemas read them. */
export type GivenOver<Defaults> = {
  [K in keyof Defaults]?: K extends "resources" ? z.infer<typeof resources> : K extends "storage" ? z.infer<typeof storage> : Defaults[K];
};

/**
 * A section's resolution when each of its fields is a plain value over its profile's default: a field
 * given replaces its default, `resources` merge by request and limit (resolveResources), `storage` as
 * resolveStorage does; the defaults' keys, in their order, are the result's. A section with a field
 * of its own making (a derived name, a unit to convert) resolves that one beside it, and leaves it
 * out of `given`: a field given that the defaults do not have does not compile (`never`), so that no
 * field is dropped unseen.
 */
export function overDefaults<Defaults extends object, Given extends GivenOver<Defaults>>(
  defaults: Defaults,
  given: (Given & { [K in Exclude<keyof Given, keyof Defaults>]: never }) | undefined,
  context: Pick<SectionContext, "storageClass">,
): Defaults {
  const resolved: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(defaults)) {
    const field = (given as Record<string, unknown> | undefined)?.[key];
    if (key === "resources")
      resolved[key] = resolveResources(value as ResourceRequirements, field as z.infer<typeof resources> | undefined);
    else if (key === "storage") resolved[key] = resolveStorage(value as StorageSpec, field as z.infer<typeof storage> | undefined, context);
    else resolved[key] = field ?? value;
  }
  return resolved as Defaults;
}
