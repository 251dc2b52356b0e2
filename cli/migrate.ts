/**
 * `npm run migrate`: rewrites, in a stack file, the shapes an earlier release took and this one
 * refuses (CHANGELOG.md, each release's "Upgrading"), in place. Every edit is a splice of the
 * file's own text: the comments, the order, the quoting and the layout of everything else stay
 * as they were, and a `secure:` value is never touched. What it cannot decide from the file (a
 * second Slack webhook, the namespace an app sends OTLP from) it refuses, naming the key, and
 * writes nothing. A stack file with nothing to migrate comes out as it went in.
 */
import * as path from "path";
import { isDeepStrictEqual } from "util";
import * as YAML from "yaml";
import { Pair, Scalar, YAMLMap, YAMLSeq, isMap, isScalar, isSeq } from "yaml";
import { exporterHostExample } from "../components/database-exporters/kinds";
import { DATABASE_TYPES, DatabaseType } from "../components/kit/database-exporters";
import { parseVolumeRecords, VOLUMES_OUTPUT } from "../components/stack/volumes";
import { unifiedDiff } from "./line-diff";

/** A shape migrate will not rewrite, and why: `key` as the render names it (`monitoring:logCollector.resources`). */
export interface MigrationRefusal {
  key: string;
  message: string;
}

export interface MigrationResult {
  /** The stack file after the migration: the same text when nothing changed or anything was refused. */
  text: string;
  /** What was rewritten, one line each. */
  changes: string[];
  /** What to do beside it that the file does not hold (a secret to check, a rollout to expect). */
  notes: string[];
  refusals: MigrationRefusal[];
}

export interface MigrationInput {
  /** The stack file's text. */
  text: string;
  /** The project name, the prefix of its keys (`monitoring`). */
  project: string;
  /** The previous deployment's stack outputs (`pulumi stack output --json`), when given. */
  previous?: Record<string, unknown>;
}

/** One splice of the file's text. */
interface Edit {
  start: number;
  end: number;
  text: string;
}

interface Context {
  text: string;
  project: string;
  edits: Edit[];
  changes: string[];
  notes: string[];
  refusals: MigrationRefusal[];
  previous?: Record<string, unknown>;
}

const isKey = (pair: Pair, name: string) => isScalar(pair.key) && pair.key.value === name;
const pairOf = (map: YAMLMap, name: string) => map.items.find((p) => isKey(p, name));
/**
 * The project's key `name` of the stack file's config map, written `<project>:<name>` or, as the Pulumi CLI reads a
 * key without a namespace, `<name>` (cli/stackfile.ts refuses a key written both ways).
 */
const projectPair = (config: YAMLMap, project: string, name: string) => pairOf(config, `${project}:${name}`) ?? pairOf(config, name);
const keyStart = (pair: Pair) => (pair.key as Scalar).range?.[0] ?? 0;
const valueEnd = (pair: Pair) => ((pair.value as Scalar | null)?.range ?? (pair.key as Scalar).range)?.[1] ?? 0;

/** The start of the line that holds `at`. */
function lineStart(text: string, at: number): number {
  return text.lastIndexOf("\n", at - 1) + 1;
}

/** Past the line break that ends the line holding `at - 1` (or the end of the text). */
function pastLine(text: string, at: number): number {
  if (at > 0 && text[at - 1] === "\n") return at;
  const nl = text.indexOf("\n", at);
  return nl < 0 ? text.length : nl + 1;
}

/** Takes `pair` out of `map`, in the text and in the document. */
function deletePair(ctx: Context, map: YAMLMap, pair: Pair): void {
  const i = map.items.indexOf(pair);
  if (map.flow) {
    const next = map.items[i + 1];
    const before = map.items[i - 1];
    if (next) ctx.edits.push({ start: keyStart(pair), end: keyStart(next), text: "" });
    else if (before) ctx.edits.push({ start: valueEnd(before), end: valueEnd(pair), text: "" });
    else ctx.edits.push({ start: keyStart(pair), end: valueEnd(pair), text: "" });
  } else {
    const start = lineStart(ctx.text, keyStart(pair));
    if (ctx.text.slice(start, keyStart(pair)).trim() !== "") {
      throw new Error(`cannot take ${String((pair.key as Scalar).value)} out in place: it shares its line with what comes before it`);
    }
    ctx.edits.push({ start, end: pastLine(ctx.text, valueEnd(pair)), text: "" });
  }
  map.items.splice(i, 1);
}

/** Sets a scalar's value, in the text (its quotes, if any, rewritten) and in the document. */
function setScalar(ctx: Context, node: Scalar, value: string): void {
  const [start, end] = node.range ?? [0, 0];
  ctx.edits.push({ start, end, text: value });
  node.value = value;
}

/** Puts `name: value` first in `map` (block or flow), in the text and in the document. */
function prependPair(ctx: Context, map: YAMLMap, name: string, value: boolean): void {
  const first = map.items[0];
  if (!first) throw new Error(`cannot add ${name} in place to an empty map`);
  if (map.flow) ctx.edits.push({ start: keyStart(first), end: keyStart(first), text: `${name}: ${String(value)}, ` });
  else {
    const start = lineStart(ctx.text, keyStart(first));
    const indent = ctx.text.slice(start, keyStart(first));
    if (indent.trim() !== "") throw new Error(`cannot add ${name} in place: its map starts on the line of its parent`);
    ctx.edits.push({ start, end: start, text: `${indent}${name}: ${String(value)}\n` });
  }
  map.items.unshift(new Pair(new Scalar(name), new Scalar(value)));
}

/** Adds `key:` with a map of one `name: value` at the end of the config map, in the text and in the document. */
function appendSection(ctx: Context, config: YAMLMap, key: string, name: string, value: boolean): void {
  const last = config.items[config.items.length - 1];
  if (!last || config.flow) throw new Error(`cannot add ${key} in place to this config map`);
  const indent = ctx.text.slice(lineStart(ctx.text, keyStart(last)), keyStart(last));
  const at = pastLine(ctx.text, valueEnd(last));
  const lead = ctx.text[at - 1] === "\n" ? "" : "\n";
  ctx.edits.push({ start: at, end: at, text: `${lead}${indent}${key}:\n${indent}  ${name}: ${String(value)}\n` });
  config.items.push(new Pair(new Scalar(key), new YAMLMap()));
  (config.items[config.items.length - 1].value as YAMLMap).items.push(new Pair(new Scalar(name), new Scalar(value)));
}

/** `logCollector.agent: promtail`, refused since Promtail's retirement: the key goes (Alloy is the default and only collector). */
function promtail(ctx: Context, config: YAMLMap): void {
  const key = `${ctx.project}:logCollector`;
  const section = projectPair(config, ctx.project, "logCollector");
  if (!section || !isMap(section.value)) return;
  const agent = pairOf(section.value, "agent");
  if (!agent || !isScalar(agent.value) || agent.value.value !== "promtail") return;
  if (pairOf(section.value, "resources")) {
    ctx.refusals.push({
      key: `${key}.resources`,
      message:
        "sizes the log collector, and logCollector.agent: promtail says it was sized for Promtail (about 90 MiB resident); Alloy, " +
        "which replaces it, takes about 224 MiB: raise its memory (docs/configuration.md gives Alloy's defaults) or remove it " +
        "(pulumi config rm --path logCollector.resources), then run migrate again",
    });
    return;
  }
  if (section.value.items.length === 1) deletePair(ctx, config, section);
  else deletePair(ctx, section.value, agent);
  ctx.changes.push(
    `${key}.agent: promtail removed: Alloy, the default and only collector, runs in its place (it reads the pods' current log files again from their first line; Loki drops or merges the lines it already has)`,
  );
}

/** `databases[].mode: sidecar` and its `target`, refused since exporters run in pods of their own: `standalone`, without `target`. */
function sidecars(ctx: Context, config: YAMLMap): void {
  const key = `${ctx.project}:databases`;
  const list = projectPair(config, ctx.project, "databases")?.value;
  if (!isSeq(list)) return;
  (list as YAMLSeq).items.forEach((entry, i) => {
    if (!isMap(entry)) return;
    const mode = pairOf(entry, "mode");
    const target = pairOf(entry, "target");
    const name = String((pairOf(entry, "name")?.value as Scalar | undefined)?.value ?? i);
    const sidecar = mode && isScalar(mode.value) && mode.value.value === "sidecar";
    if (sidecar && mode && isScalar(mode.value)) {
      const type = (pairOf(entry, "type")?.value as Scalar | undefined)?.value;
      const known = DATABASE_TYPES.find((t): t is DatabaseType => t === type);
      const targetMap = target && isMap(target.value) ? target.value : undefined;
      const targetName = (targetMap && (pairOf(targetMap, "name")?.value as Scalar | undefined)?.value) as string | undefined;
      const targetNamespace = (targetMap && (pairOf(targetMap, "namespace")?.value as Scalar | undefined)?.value) as string | undefined;
      const host = known ? ` (for instance ${exporterHostExample(known, targetName, targetNamespace)})` : "";
      setScalar(ctx, mode.value, "standalone");
      ctx.changes.push(`${key}[${i}].mode: sidecar is now standalone: the exporter of "${name}" runs in a pod of its own`);
      ctx.notes.push(
        pairOf(entry, "secretRef")
          ? `${key}[${i}].secretRef: the Secret must be in the stack's namespace and its DSN must name the database's Service${host}, not localhost`
          : `${ctx.project}:databaseDsns.${name}: a secret migrate does not read; if it names localhost (a sidecar's did), give the database's Service${host}: pulumi config set --secret --path 'databaseDsns.${name}' <dsn>`,
      );
      ctx.notes.push(`${key}[${i}]: the next pulumi up takes the exporter container out of "${name}"'s pods: one rollout of the database`);
    }
    if (target) {
      deletePair(ctx, entry, target);
      ctx.changes.push(`${key}[${i}].target removed: it was for sidecars (the exporter reaches "${name}" through its DSN)`);
    }
  });
}

/** The single Slack webhook and `alertmanager.slack`: one webhook posts to one channel, so the second channel needs a webhook only its owner can make. */
function slack(ctx: Context, config: YAMLMap): void {
  const way =
    "each channel is now a receiver with its own webhook (alertmanager.receivers [{name: alerts-critical, slack: {channel: ...}}, ...], " +
    "alertmanager.routes, alertmanager.defaultReceiver, and pulumi config set --secret --path 'slackWebhookUrls.<receiver>' <url> " +
    'per receiver: docs/alerts.md, "Channels: a team\'s own routing"); a Slack webhook posts only to the channel it was made for, ' +
    "so migrate cannot tell which channel the one webhook belongs to, nor make the other's";
  if (projectPair(config, ctx.project, "slackWebhookUrl"))
    ctx.refusals.push({ key: `${ctx.project}:slackWebhookUrl`, message: `is no longer read: ${way}` });
  const am = projectPair(config, ctx.project, "alertmanager")?.value;
  if (isMap(am) && pairOf(am, "slack"))
    ctx.refusals.push({ key: `${ctx.project}:alertmanager.slack`, message: `is no longer read: ${way}` });
}

/** The apps that send OTLP (`otlp: true`) by their index, and those of them without `namespace`. */
function otlpApps(config: YAMLMap, project: string): { sending: number; withoutNamespace: number[] } {
  const list = projectPair(config, project, "apps")?.value;
  const apps = isSeq(list) ? (list as YAMLSeq).items : [];
  const sending = apps.flatMap((app, i) => (isMap(app) && (pairOf(app, "otlp")?.value as Scalar | undefined)?.value === true ? [i] : []));
  return { sending: sending.length, withoutNamespace: sending.filter((i) => !pairOf(apps[i] as YAMLMap, "namespace")) };
}

/** An app that sends OTLP now names the namespace its pods send from, which only its team knows. */
function otlpNamespaces(ctx: Context, config: YAMLMap): void {
  for (const i of otlpApps(config, ctx.project).withoutNamespace) {
    ctx.refusals.push({
      key: `${ctx.project}:apps[${i}].namespace`,
      message:
        "is required for an app with otlp: true: the namespace its pods send OTLP from, the only ones the collector's endpoint admits " +
        "(it admitted every namespace before); migrate cannot know it: set it, then run migrate again",
    });
  }
}

/**
 * `tracing.enabled`, which defaulted to true and now follows the apps (on when one sends OTLP). A stack
 * file that does not set it reads alike in both releases, so only the previous deployment tells: when
 * its `volumes` output holds Jaeger's claim, `enabled: true` keeps Jaeger and its spans as they ran.
 */
function tracingDefault(ctx: Context, config: YAMLMap): void {
  const key = `${ctx.project}:tracing`;
  const section = projectPair(config, ctx.project, "tracing");
  if (section && isMap(section.value) && pairOf(section.value, "enabled")) return;
  if (otlpApps(config, ctx.project).sending > 0) return;
  if (!ctx.previous) {
    ctx.notes.push(
      `${key}.enabled: not set, so Jaeger now runs only when an app sends OTLP (it ran in every stack before 0.2.0); if this stack ran it, ` +
        `pulumi preview refuses until the key is set: run migrate with --previous <file of pulumi stack output --json> to keep it as it ran, ` +
        `or set it yourself (docs/operations.md, "Tracing follows the apps")`,
    );
    return;
  }
  const claims = parseVolumeRecords(ctx.previous[VOLUMES_OUTPUT])?.tracing?.claims ?? [];
  if (claims.length === 0) return;
  if (section && isMap(section.value) && section.value.items.length > 0) prependPair(ctx, section.value, "enabled", true);
  else if (!section) appendSection(ctx, config, key, "enabled", true);
  else throw new Error(`cannot set ${key}.enabled in place: ${key} is not a map of keys`);
  ctx.changes.push(
    `${key}.enabled: true: the previous deployment ran Jaeger (${claims.join(", ")}), which the new default would stop; set it to false to remove Jaeger`,
  );
}

/** Every `secure:` value of a document, by its path. */
function secureValues(value: unknown, path = "", found = new Map<string, unknown>()): Map<string, unknown> {
  if (typeof value !== "object" || value === null) return found;
  for (const [k, v] of Object.entries(value)) {
    if (k === "secure") found.set(path, v);
    secureValues(v, `${path}/${k}`, found);
  }
  return found;
}

/** Applies the splices, last first (they never overlap: each takes a different pair). */
function applyEdits(text: string, edits: Edit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start);
  for (let k = 1; k < sorted.length; k++) {
    if (sorted[k].end > sorted[k - 1].start) throw new Error("migrate's edits overlap: a bug of migrate (the file was left as it was)");
  }
  return sorted.reduce((t, e) => t.slice(0, e.start) + e.text + t.slice(e.end), text);
}

/** The migration of one stack file's text; it writes nothing. */
export function migrateStackText(input: MigrationInput): MigrationResult {
  const doc = YAML.parseDocument(input.text);
  if (doc.errors.length > 0) throw new Error(`not YAML: ${doc.errors[0].message}`);
  const ctx: Context = {
    text: input.text,
    project: input.project,
    edits: [],
    changes: [],
    notes: [],
    refusals: [],
    ...(input.previous ? { previous: input.previous } : {}),
  };
  const config = doc.get("config", true);
  if (!isMap(config)) return { text: input.text, changes: [], notes: [], refusals: [] };
  const before = doc.toJS() as unknown;
  for (const step of [slack, otlpNamespaces, promtail, sidecars]) step(ctx, config);
  tracingDefault(ctx, config);
  if (ctx.refusals.length > 0) return { text: input.text, changes: [], notes: ctx.notes, refusals: ctx.refusals };
  const text = applyEdits(input.text, ctx.edits);
  // The text says what the document says, and every secret is as it was: else nothing is written.
  const after = YAML.parseDocument(text);
  if (after.errors.length > 0 || !isDeepStrictEqual(after.toJS(), doc.toJS())) {
    throw new Error("migrate's edit of the text does not say what it meant to: a bug of migrate (the file was left as it was)");
  }
  if (!isDeepStrictEqual(secureValues(after.toJS()), secureValues(before))) {
    throw new Error("migrate would have changed a secure value: a bug of migrate (the file was left as it was)");
  }
  return { text, changes: ctx.changes, notes: ctx.notes, refusals: [] };
}

export const MIGRATE_USAGE =
  "usage: npm run migrate -- --stack <name> [--stack-file <file>] [--previous <outputs.json>] [--dry-run]\n" +
  "  Rewrites in place, in Pulumi.<name>.yaml (or --stack-file), the shapes of earlier releases that this one refuses\n" +
  "  (CHANGELOG.md, each release's Upgrading), keeping comments, order and secure values, and prints the diff.\n" +
  "  --previous   the previous deployment's outputs (pulumi stack output --json -s <name> > outputs.json): lets it\n" +
  "               keep Jaeger where the deployment ran it and tracing.enabled is not set\n" +
  "  --dry-run    print the diff, write nothing\n" +
  "  Exits 0 when migrated or nothing to migrate, 1 when refused (nothing written; each refusal names its key), 2 on bad arguments.";

export interface MigrateArgs {
  stack: string;
  stackFile?: string;
  previous?: string;
  dryRun: boolean;
}

/** The command line, or the message that says what is wrong with it (`--help`: the usage). */
export function parseMigrateArgs(argv: readonly string[]): MigrateArgs | { message: string; help?: true } {
  let stack: string | undefined;
  let stackFile: string | undefined;
  let previous: string | undefined;
  let dryRun = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string | undefined => argv[++i];
    if (arg === "--help" || arg === "-h") return { message: MIGRATE_USAGE, help: true };
    else if (arg === "--dry-run") dryRun = true;
    else if (arg === "--stack" || arg === "-s" || arg === "--stack-file" || arg === "--previous") {
      const v = value();
      if (v === undefined || v.startsWith("--")) return { message: `${arg} needs a value\n${MIGRATE_USAGE}` };
      if (arg === "--stack-file") stackFile = v;
      else if (arg === "--previous") previous = v;
      else stack = v;
    } else return { message: `unknown argument "${arg}"\n${MIGRATE_USAGE}` };
  }
  if (!stack) return { message: `--stack is required\n${MIGRATE_USAGE}` };
  return { stack, dryRun, ...(stackFile ? { stackFile } : {}), ...(previous ? { previous } : {}) };
}

/** What the command needs from outside: the files, and where it prints. */
export interface MigrateIo {
  root: string;
  project: string;
  readFile(file: string): string | undefined;
  writeFile(file: string, text: string): void;
  print(line: string): void;
  printError(line: string): void;
}

/** `npm run migrate`: the exit code (0 migrated or nothing to do, 1 refused, 2 bad arguments). */
export function runMigrate(argv: readonly string[], io: MigrateIo): number {
  const args = parseMigrateArgs(argv);
  if ("message" in args) {
    (args.help ? io.print : io.printError)(args.message);
    return args.help ? 0 : 2;
  }
  const file = args.stackFile ?? path.relative(process.cwd(), path.join(io.root, `Pulumi.${args.stack}.yaml`));
  const text = io.readFile(file);
  if (text === undefined) {
    io.printError(`no stack file ${file}`);
    return 2;
  }
  let previous: Record<string, unknown> | undefined;
  if (args.previous) {
    const json = io.readFile(args.previous);
    if (json === undefined) {
      io.printError(`--previous: no file ${args.previous}`);
      return 2;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      io.printError(`--previous ${args.previous}: must be a map of stack outputs, as pulumi stack output --json prints them`);
      return 2;
    }
    previous = parsed as Record<string, unknown>;
  }
  let result: MigrationResult;
  try {
    result = migrateStackText({ text, project: io.project, ...(previous ? { previous } : {}) });
  } catch (err) {
    io.printError(`${file}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  for (const r of result.refusals) io.printError(`refused: ${r.key}: ${r.message}`);
  if (result.refusals.length > 0) {
    io.printError(`${file}: nothing written (${result.refusals.length} refused)`);
    return 1;
  }
  if (result.text === text) io.print(`${file}: nothing to migrate; the file is as it was`);
  else {
    io.print(unifiedDiff(text, result.text, file).trimEnd());
    for (const change of result.changes) io.print(`migrated: ${change}`);
    if (!args.dryRun) io.writeFile(file, result.text);
    io.print(args.dryRun ? `${file}: not written (--dry-run)` : `${file}: written`);
  }
  for (const note of result.notes) io.print(`note: ${note}`);
  return 0;
}
