/**
 * Stack configuration: turns the raw `monitoring:*` keys of a Pulumi stack into one
 * typed, validated StackConfig with defaults per profile. Pure: nothing here reads
 * `pulumi.Config`; index.ts hands the raw values in.
 *
 * Every problem is collected and reported at once, each naming the key, what is
 * allowed and what was given, before any resource is created.
 *
 * This file is the public API; the rest of the program imports from here only. Each component owns
 * its section of the stack file (components/<component>/section.ts: schema, secret keys and their
 * stand-ins, defaults, resolve, problems; the field types are components/kit/fields.ts); the lists
 * Prometheus scrapes (apps, targets, probes) are sections of Prometheus' (components/prometheus/lists.ts).
 * The registry, components/stack/sections.ts (beside StackConfig, components/stack/config.ts, a
 * mapped type over it), lists every section once, with what each reads of another; it lives with the
 * stack, which reads it, so that no component imports config/. What is here loops over it, and keeps
 * what spans sections:
 * - schema.ts: the stack's own keys, the sections' schemas from the registry, the raw schema
 *   (RawStackConfig) and RawConfig, the input;
 * - secrets.ts: the secret keys, each group from the section that reads it, in the key reference's
 *   order, and the stack file's plain entries beside secret ones;
 * - defaults.ts: the profiles' defaults, and the stack's namespace and nodes;
 * - problems.ts: ConfigProblem, ConfigError, the wording of the schema's problems, did-you-mean;
 * - decode.ts: the values as Pulumi hands them over, and what is wrong there already;
 * - parse.ts: parseStackConfig and its steps (profile, retired keys, what the schema refused);
 * - resolve.ts: from the raw values to StackConfig: the stack's keys, and the sections through the
 *   registry's one resolve loop;
 * - checks/: the one checks loop in its declared order (checks/index.ts), the sections' own problems
 *   through the registry and the rules over several sections, one file per concern;
 * - docs.ts: the documentation of every key (configKeyDocs).
 *
 * Three configs pass through these files, each under one name: `rawConfig` (RawConfig, the
 * values as Pulumi hands them over), `raw` (RawStackConfig, those values as the schema parsed
 * them) and `resolved` (StackConfig, with the profile's defaults).
 */
export { NODE_RESERVED_PORTS, USER_PRIORITY_MAX, parseMatcher } from "../components/kit/fields";
export { SECRET_KEYS, SECRET_STAND_INS, plainEntriesOfSecretKeys } from "./secrets";
export type { RawConfig } from "./schema";
export { componentJobs, exposedBy, publicHostname } from "../components/stack/config";
export type { StackConfig } from "../components/stack/config";
export { DEFAULT_NODES, PROFILE_DEFAULTS, defaultNamespace } from "./defaults";
export { ConfigError } from "./problems";
export type { ConfigProblem } from "./problems";
export { parseStackConfig } from "./parse";
export type { ParsedConfig } from "./parse";
export { configKeyDocs } from "./docs";
