/**
 * parseStackConfig: the steps from the raw values of a stack to its resolved configuration,
 * every problem collected and reported at once.
 */
import { z } from "zod";
import { PROFILES, Profile } from "../components/kit/profiles";
import { crossChecks } from "./checks";
import { controlCharacterProblems, decodeValues, secretnessProblems } from "./decode";
import { ConfigError, ConfigProblem, CrossProblem, keyOf, zodProblems } from "./problems";
import { resolve } from "./resolve";
import { StackConfig } from "../components/stack/config";
import { RawConfig, RawStackConfig, rawSchema } from "./schema";

export interface ParsedConfig {
  config: StackConfig;
  /** Things that deploy but deserve attention (printed as warnings at preview time). */
  warnings: string[];
}

/** The profile: explicit, or the stack name when it is one. */
function profileOf(rawConfig: RawConfig, rawProfile: unknown, problems: ConfigProblem[]): Profile {
  if (typeof rawProfile === "string" && (PROFILES as readonly string[]).includes(rawProfile)) return rawProfile as Profile;
  if (rawProfile === undefined && (PROFILES as readonly string[]).includes(rawConfig.stack)) return rawConfig.stack as Profile;
  if (rawProfile === undefined) {
    problems.push({
      key: `${rawConfig.project}:profile`,
      message: `is required because the stack name "${rawConfig.stack}" is neither staging nor production; set it to "staging" or "production"`,
    });
  }
  return "staging";
}

/**
 * Keys and values the program no longer reads, with what to do instead. They are taken out
 * before the schema sees them, so that the message is the migration, not "unknown key" or
 * "must be one of".
 */
function retiredKeyProblems(project: string, decoded: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const example =
    'alertmanager.receivers [{name: alerts-critical, slack: {channel: "#alerts-critical"}}, {name: infrastructure, slack: {channel: "#infrastructure"}}], ' +
    "alertmanager.routes [{matchers: ['severity=\"critical\"'], receiver: alerts-critical}], alertmanager.defaultReceiver: infrastructure, " +
    "and one webhook per receiver: pulumi config set --secret --path 'slackWebhookUrls.<receiver>' <url> (docs/alerts.md, \"Channels: a team's own routing\")";
  if (decoded.slackWebhookUrl !== undefined) {
    delete decoded.slackWebhookUrl;
    problems.push({
      key: `${project}:slackWebhookUrl`,
      message:
        "is no longer read: one Slack webhook posts to the one channel it was made for (Slack app webhooks ignore `channel`), " +
        `so critical and warning alerts would land in the same channel. Give each channel its own receiver and webhook: ${example}; ` +
        "then pulumi config rm slackWebhookUrl",
    });
  }
  const am = decoded.alertmanager;
  if (typeof am === "object" && am !== null && !Array.isArray(am) && "slack" in am) {
    delete (am as Record<string, unknown>).slack;
    problems.push({
      key: `${project}:alertmanager.slack`,
      message: `is no longer read: each Slack channel is a receiver with its own webhook. Instead: ${example}; then pulumi config rm --path alertmanager.slack`,
    });
  }
  const collector = decoded.logCollector;
  if (typeof collector === "object" && collector !== null && !Array.isArray(collector) && "agent" in collector) {
    const section = collector as Record<string, unknown>;
    if (section.agent === RETIRED_AGENT) {
      delete section.agent;
      problems.push({ key: `${project}:logCollector.agent`, message: retiredAgentMessage(section.resources !== undefined) });
    }
  }
  return problems;
}

/** The log collector the program no longer runs. */
const RETIRED_AGENT = "promtail";

/** Why logCollector.agent: promtail is refused, and the way over to Alloy (docs/operations.md, "From Promtail to Alloy"). */
function retiredAgentMessage(resourcesSet: boolean): string {
  return (
    `is "${RETIRED_AGENT}", which is no longer supported: Promtail reached its end of life in March 2026 (2026-03-02) and is not ` +
    `part of Loki 3.7 and later. Grafana Alloy replaces it and is the default: run ` +
    `npm run migrate -- --stack <stack>, which takes the key out (or pulumi config rm --path logCollector.agent), then pulumi up. Alloy produces the same ` +
    `streams and labels, so Loki and the dashboards keep working; it first reads the pods' current log files again from ` +
    `their first line, and Loki drops or merges the lines it already has (docs/operations.md, "From Promtail to Alloy")` +
    (resourcesSet
      ? `. logCollector.resources is set and now sizes Alloy, which takes about 224 MiB resident (Promtail about 90): raise its memory or remove it`
      : "")
  );
}

/**
 * Validates the raw config of a stack and fills in the defaults of its profile.
 * Throws ConfigError listing every problem.
 */
export function parseStackConfig(rawConfig: RawConfig): ParsedConfig {
  const problems: ConfigProblem[] = [];
  const decoded = decodeValues(rawConfig, problems);
  problems.push(...retiredKeyProblems(rawConfig.project, decoded));
  problems.push(...secretnessProblems(rawConfig, decoded));
  const textProblems = controlCharacterProblems(rawConfig.project, decoded);
  problems.push(...textProblems);
  let parsed = rawSchema.safeParse(decoded, { reportInput: true });
  const dropped: string[] = [];
  // The keys a misspelt key's "did you mean" names: what the stack gave there is missing from them.
  const meant: string[] = [];
  if (!parsed.success) {
    // A value with a line break is refused for that; what else its schema says would only repeat it.
    problems.push(...zodProblems(rawConfig.project, parsed.error, meant).filter((p) => !textProblems.some((t) => t.key === p.key)));
    // Check the rest too, so that one message lists every problem: drop what is malformed
    // (falling back to defaults) and parse again.
    const rest = withoutMalformed(decoded, parsed.error);
    parsed = rest.parsed;
    dropped.push(...rest.dropped.map((path) => keyOf(rawConfig.project, path)));
  }
  const profile = profileOf(rawConfig, decoded.profile, problems);

  const warnings: string[] = [];
  if (parsed.success) {
    const checked: CrossProblem[] = [];
    const raw = parsed.data as RawStackConfig;
    const resolved = resolve(rawConfig, raw, profile, checked);
    crossChecks(rawConfig, raw, resolved, checked, warnings);
    // A rule over keys one of which was refused would only repeat the problem, or report one
    // that follows from it (a malformed domain is not "no domain"; a secret for a receiver of a
    // misspelt alertmanager section is not a secret for no receiver).
    const refused = [...problems.map((p) => p.key), ...dropped, ...meant];
    const overlaps = (a: string, b: string) => a === b || b.startsWith(`${a}.`) || b.startsWith(`${a}[`);
    const follows = (problem: CrossProblem) =>
      [problem.key, ...(problem.involves ?? [])].some((key) => refused.some((r) => overlaps(key, r) || overlaps(r, key)));
    problems.push(...checked.filter((problem) => !follows(problem)).map(({ key, message }) => ({ key, message })));
    if (problems.length === 0) return { config: resolved, warnings };
  }
  throw new ConfigError(problems);
}

/**
 * The decoded config without the values and keys the schema refused, parsed again. Where
 * dropping a value leaves its parent incomplete (an app without its name), the parent goes
 * too, up to the top-level key, which is optional: so the rest can always be checked.
 */
function withoutMalformed(
  decoded: Record<string, unknown>,
  error: z.ZodError,
): { parsed: ReturnType<typeof rawSchema.safeParse>; dropped: PropertyKey[][] } {
  const copy = structuredClone(decoded);
  const dropped: PropertyKey[][] = [];
  const remove = (path: PropertyKey[]) => {
    if (path.length === 0) return;
    dropped.push(path);
    let node: unknown = copy;
    for (const part of path.slice(0, -1)) {
      if (typeof node !== "object" || node === null) return;
      node = (node as Record<PropertyKey, unknown>)[part as string];
    }
    if (typeof node === "object" && node !== null) {
      const last = path[path.length - 1];
      if (Array.isArray(node) && typeof last === "number") node[last] = undefined;
      else delete (node as Record<PropertyKey, unknown>)[last as string];
    }
  };
  let issues = error.issues;
  for (let round = 0; ; round++) {
    for (const issue of issues) {
      const path = [...issue.path];
      if (issue.code === "unrecognized_keys") for (const key of issue.keys) remove([...path, key]);
      else remove(round === 0 || path.length === 1 ? path : path.slice(0, -1));
    }
    const parsed = rawSchema.safeParse(copy);
    // Each round drops at least one level, and the config is a few levels deep.
    if (parsed.success || round === 8) return { parsed, dropped };
    issues = parsed.error.issues;
  }
}
