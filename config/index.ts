/**
 * Stack configuration: turns the raw `monitoring:*` keys of a Pulumi stack into one
 * typed, validated StackConfig with defaults per profile. Pure: nothing here reads
 * `pulumi.Config`; index.ts hands the raw values in.
 *
 * Every problem is collected and reported at once, each naming the key, what is
 * allowed and what was given, before any resource is created.
 *
 * This file is the public API; the rest of the program imports from here only. Each component owns
 * its section of the stack file (components/<component>/section.ts: schema, secret keys, defaults,
 * resolve, problems; the field types are components/kit/fields.ts). What is here spans sections:
 * - components/stack/sections.ts (beside StackConfig, components/stack/config.ts): the registry of
 *   the components' sections (COMPONENT_SECTIONS), the loops over them (schemas, defaults,
 *   resolution), and `hostnames`, which spans the edges; they live with the stack, which reads
 *   them, so that no component imports config/;
 * - schema.ts: the top-level keys and lists, the raw schema (RawStackConfig) and RawConfig, the input;
 * - secrets.ts: the secret keys in their order, each group from the section that reads it, and the
 *   stack file's plain entries beside secret ones;
 * - defaults.ts: the profiles' defaults, and the stack's namespace and nodes;
 * - problems.ts: ConfigProblem, ConfigError, the wording of the schema's problems, did-you-mean;
 * - decode.ts: the values as Pulumi hands them over, and what is wrong there already;
 * - parse.ts: parseStackConfig and its steps (profile, retired keys, what the schema refused);
 * - resolve.ts, targets.ts: from the raw values to StackConfig (the sections through the
 *   registry; apps, targets and probes, which span the lists);
 * - checks/: the order of the one problem list (checks/index.ts), the sections' own checks through
 *   the registry (checks/sections.ts), and the rules over several sections, one file per concern;
 * - docs.ts: the documentation of every key (configKeyDocs).
 *
 * Three configs pass through these files, each under one name: `rawConfig` (RawConfig, the
 * values as Pulumi hands them over), `raw` (RawStackConfig, those values as the schema parsed
 * them) and `resolved` (StackConfig, with the profile's defaults).
 */
export { NODE_RESERVED_PORTS, USER_PRIORITY_MAX, parseMatcher } from "../components/kit/fields";
export { SECRET_KEYS, SECRET_STAND_INS, plainEntriesOfSecretKeys } from "./secrets";
export type { RawConfig } from "./schema";
export { exposedBy, publicHostname } from "../components/stack/config";
export type { StackConfig } from "../components/stack/config";
export { DEFAULT_NODES, PROFILE_DEFAULTS, defaultNamespace } from "./defaults";
export { ConfigError } from "./problems";
export type { ConfigProblem } from "./problems";
export { parseStackConfig } from "./parse";
export type { ParsedConfig } from "./parse";
export { componentScrapeJobs } from "./checks/prometheus";
export { configKeyDocs } from "./docs";
