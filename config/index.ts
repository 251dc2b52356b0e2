/**
 * Stack configuration: turns the raw `monitoring:*` keys of a Pulumi stack into one
 * typed, validated StackConfig with defaults per profile. Pure: nothing here reads
 * `pulumi.Config`; index.ts hands the raw values in.
 *
 * Every problem is collected and reported at once, each naming the key, what is
 * allowed and what was given, before any resource is created.
 *
 * This file is the public API; the rest of the program imports from here only. Where each concern lives:
 * - fields.ts: the field types (patterns, quantities, durations, matchers) and their wording;
 * - sections.ts: the sections' schemas (`prometheus`, `alertmanager`, …);
 * - schema.ts: the list entries' schemas, the raw schema (RawStackConfig) and RawConfig, the input;
 * - secrets.ts: the secret keys, and the stack file's plain entries beside secret ones;
 * - resolved.ts: the resolved configuration, StackConfig, made of the types its components own
 *   (components/kit/ for what several share, each component's args.ts for its own);
 * - defaults.ts: the profiles' defaults, and the stack's namespace and nodes;
 * - problems.ts: ConfigProblem, ConfigError, the wording of the schema's problems, did-you-mean;
 * - decode.ts: the values as Pulumi hands them over, and what is wrong there already;
 * - parse.ts: parseStackConfig and its steps (profile, retired keys, what the schema refused);
 * - resolve.ts, targets.ts: from the raw values to StackConfig (sections; apps, targets and
 *   probes); Alertmanager's routing is its section's (components/alertmanager/routing.ts);
 * - checks/: the rules over several keys, one file per component or concern they check;
 * - docs.ts: the documentation of every key (configKeyDocs).
 *
 * Three configs pass through these files, each under one name: `rawConfig` (RawConfig, the
 * values as Pulumi hands them over), `raw` (RawStackConfig, those values as the schema parsed
 * them) and `resolved` (StackConfig, with the profile's defaults).
 */
export { NODE_RESERVED_PORTS, USER_PRIORITY_MAX, parseMatcher } from "../components/kit/fields";
export { SECRET_KEYS, plainEntriesOfSecretKeys } from "./secrets";
export type { RawConfig } from "./schema";
export { exposedBy, publicHostname } from "./resolved";
export type { StackConfig } from "./resolved";
export { DEFAULT_NODES, PROFILE_DEFAULTS, defaultNamespace } from "./defaults";
export { ConfigError } from "./problems";
export type { ConfigProblem } from "./problems";
export { parseStackConfig } from "./parse";
export type { ParsedConfig } from "./parse";
export { componentScrapeJobs } from "./checks/prometheus";
export { configKeyDocs } from "./docs";
