/**
 * The GitHub workflows by what they do. Each way each workflow starts (a push to main, a pull
 * request, ci's run finishing, a deploy by hand) is played as GitHub evaluates its expressions:
 * which jobs run, in which environment, which steps, and which secrets they read. Each rule of
 * docs/ci.md and docs/deployment.md ("GitHub workflows") is one check over that model, shown
 * failing on a workflow (or a docs table) that breaks it. The steps' .ci/ scripts run here.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { validateWorkflow } from "@action-validator/core";
import { goVersion, pinnedNpmVersion } from "../../lab/tools/tool-versions";
import { ROOT, TIERS, TOOLS, goModRequire } from "../../lab/tools/tools";
import { scaledMs } from "../support/time-scale";

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  steps: Step[];
  "timeout-minutes"?: number;
  environment?: string | { name: string };
  if?: string;
  env?: Record<string, string>;
  permissions?: Record<string, string>;
}
interface Workflow {
  on: unknown;
  permissions?: Record<string, string> | string;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}
type Texts = Record<string, string>;
type Context = Record<string, unknown>;

const DIR = path.join(ROOT, ".github", "workflows");
const TEXTS: Texts = Object.fromEntries(
  fs
    .readdirSync(DIR)
    .filter((f) => f.endsWith(".yml"))
    .map((f) => [f, fs.readFileSync(path.join(DIR, f), "utf8")]),
);
/** The stacks, one per Pulumi.<stack>.yaml. */
const STACKS = fs.readdirSync(ROOT).flatMap((f) => /^Pulumi\.([\w-]+)\.yaml$/.exec(f)?.[1] ?? []);
/** The measured durations of the steps (minutes), from which the timeouts are set. */
const DURATIONS = YAML.parse(fs.readFileSync(path.join(ROOT, ".ci", "durations.yml"), "utf8")) as {
  margin: number;
  steps: Record<string, number>;
};
/** The Pulumi CLI the tools build (lab/tools/tools.ts), which the workflows install too. */
const PULUMI_CLI = (TOOLS.find((t) => t.binary === "pulumi")?.release ?? "").replace(/^v/, "");
/** What files pin a tool: a change to any must miss the tools' cache. */
const TOOL_PINS = [
  "tools/**/go.mod",
  "tools/**/go.sum",
  "tools/**/*.go",
  "tools/**/requirements.txt",
  "lab/tools/*.ts",
  "components/images.ts",
  "components/database-exporters/kinds.ts",
];
/** The one secret a stack's preview and deploy share: it opens neither cluster nor backend, but decrypts every secret of the stack. */
const PASSPHRASE = "PULUMI_CONFIG_PASSPHRASE";
/** Credentials that decrypt a deployed stack: its passphrase, and a backend token (Pulumi Cloud's secrets provider). */
const DECRYPTING = (name: string) => name === PASSPHRASE || name.startsWith("PULUMI_ACCESS_TOKEN");

// --- GitHub's expressions -------------------------------------------------------------------

const truthy = (v: unknown) => !(v === false || v === 0 || v === "" || v === null || v === undefined);
const TOKEN = /\s*('(?:[^']|'')*'|&&|\|\||==|!=|!|\(|\)|\d+(?:\.\d+)?|[A-Za-z_][\w-]*(?:\.[\w-]+)*)/y;
const STATUS: Record<string, boolean> = { always: true, success: true, failure: false, cancelled: false };
/**
 * The value of a GitHub expression, the part of the language the workflows use (literals, context
 * paths, !, ==, !=, && and || with their short-circuit, parentheses, the status functions), as
 * JavaScript, whose operators have the same precedence and short-circuit and return an operand
 * as GitHub's do. `secret` answers `secrets.NAME` only where GitHub evaluates it. Anything else
 * throws: the callers then take every secret name the text holds.
 */
function evaluate(expression: string, context: Context, secret: (name: string) => unknown = () => null): unknown {
  const js: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expression.trimEnd().length) {
    const token = TOKEN.exec(expression)?.[1];
    if (token === undefined) throw new Error(`${expression}: not read here at ${TOKEN.lastIndex}`);
    const next = expression.slice(TOKEN.lastIndex).trimStart();
    if (token.startsWith("'")) js.push(JSON.stringify(token.slice(1, -1).replace(/''/g, "'")));
    else if (/^(?:&&|\|\||==|!=|!|\(|\)|\d.*|true|false|null)$/.test(token)) js.push(token);
    else if (token in STATUS && next.startsWith("()")) {
      js.push(String(STATUS[token]));
      TOKEN.lastIndex = expression.indexOf(")", TOKEN.lastIndex) + 1;
    } else if (/^[([]/.test(next) || /^secrets(?:$|\.[\w-]+\.)/.test(token)) throw new Error(`${expression}: ${token} is not read here`);
    else if (token.startsWith("secrets.")) js.push(`s(${JSON.stringify(token.slice(8).toUpperCase())})`);
    else js.push(`v(${JSON.stringify(token)})`);
  }
  const lookup = (p: string) =>
    p.split(".").reduce<unknown>((v, key) => (v !== null && typeof v === "object" ? ((v as Context)[key] ?? null) : null), context);
  return (new Function("v", "s", `return (${js.join(" ")});`) as (v: typeof lookup, s: typeof secret) => unknown)(lookup, secret);
}
/** A string with `${{ }}` in it as GitHub fills it in; the text itself when an expression is not read here. */
function interpolate(text: string, context: Context): string {
  try {
    return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, e: string) => String(evaluate(e, context) ?? ""));
  } catch {
    return text;
  }
}
/** Whether an `if:` holds (true when it is not read here: the checks then look at the step). */
function holds(condition: string | undefined, context: Context): boolean {
  if (condition === undefined) return true;
  try {
    return truthy(evaluate(/^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(condition)?.[1] ?? condition, context));
  } catch {
    return true;
  }
}
/** Every secret a part of a workflow names, as GitHub stores them (upper case); "*" for the whole context. */
function secretNames(part: unknown): Set<string> {
  // A key `secrets` (`secrets: inherit` hands a called workflow every secret) is a name without a dot: "*".
  const text = JSON.stringify(part ?? null);
  return new Set(
    [...text.matchAll(/(?<![\w.-])secrets(?![\w-])(?:\s*\.\s*(\w+)|\s*\[\s*'([^']+)'\s*\])?/g)].map((m) =>
      (m[1] ?? m[2] ?? "*").toUpperCase(),
    ),
  );
}

// --- The runs: each job in each way its workflow starts ----------------------------------------

const REPOSITORY = "team/monitoring";
const HEAD_SHA = "a".repeat(40);
/** Ways a workflow starts; `branchCode`: it runs code a branch chose (a pull request's, or a fork's). */
function startsOf(wf: Workflow): Array<{ label: string; branchCode: boolean; context: Context }> {
  const on = (
    typeof wf.on === "string" ? { [wf.on]: null } : Array.isArray(wf.on) ? Object.fromEntries(wf.on.map((e) => [e, null])) : wf.on
  ) as Context;
  const github = (event_name: string, ref: string, event: Context = {}) => ({
    github: { event_name, ref, sha: HEAD_SHA, repository: REPOSITORY, event },
  });
  return Object.entries(on).flatMap(([event, spec]) => {
    const { branches, inputs = {} } = (spec ?? {}) as {
      branches?: string[];
      inputs?: Record<string, { options?: string[]; default?: string }>;
    };
    if (event === "pull_request" || event === "pull_request_target") {
      // From a branch of this repository (one from a fork gets no secrets).
      const pr = { pull_request: { head: { repo: { full_name: REPOSITORY } } } };
      return [{ label: event, branchCode: true, context: github(event, "refs/pull/1/merge", pr) }];
    }
    if (event === "push") {
      const main = { label: "push to main", branchCode: false, context: github(event, "refs/heads/main") };
      const other = { label: "push to a branch", branchCode: true, context: github(event, "refs/heads/a-branch") };
      return branches?.every((b) => b === "main") ? [main] : [main, other];
    }
    if (event === "workflow_run") {
      // ci's run that finished: on a push to main, and those that must not deploy (their head_sha is a branch's commit).
      // github.sha is then main's newest commit, which may be newer than the one ci tested.
      const run = (label: string, branchCode: boolean, over: Context = {}) => {
        const context = github(event, "refs/heads/main", {
          workflow_run: { conclusion: "success", event: "push", head_repository: { full_name: REPOSITORY }, head_sha: HEAD_SHA, ...over },
        });
        return { label: `${event}${label}`, branchCode, context: { github: { ...context.github, sha: "b".repeat(40) } } };
      };
      return [
        run("", false),
        run(" that failed", false, { conclusion: "failure" }),
        run(" of a pull request", true, { event: "pull_request" }),
        run(" from a fork", true, { head_repository: { full_name: "someone/fork" } }),
      ];
    }
    if (event === "workflow_dispatch") {
      // By hand on main; from another branch, the environment's branch rule decides.
      let choices: Array<Record<string, string>> = [{}];
      for (const [name, input] of Object.entries(inputs))
        choices = choices.flatMap((c) => (input.options ?? [input.default ?? ""]).map((v) => ({ ...c, [name]: v })));
      return choices.map((inputs) => ({
        label: [event, ...Object.entries(inputs).map(([k, v]) => `${k}=${v}`)].join(" "),
        branchCode: false,
        context: { ...github(event, "refs/heads/main"), inputs },
      }));
    }
    return [{ label: event, branchCode: true, context: github(event, "refs/heads/a-branch") }];
  });
}

/** A job as it runs in one start: its environment and env filled in, the steps whose `if` holds. */
interface Run {
  file: string;
  id: string;
  /** "deploy.yml: job up (workflow_dispatch stack=production)" */
  where: string;
  branchCode: boolean;
  wf: Workflow;
  job: Job;
  context: Context;
  environment?: string;
  steps: Step[];
}
const jobsOf = (texts: Texts) =>
  Object.entries(texts).flatMap(([file, t]) => {
    const wf = YAML.parse(t) as Workflow;
    return Object.entries(wf.jobs).map(([id, job]) => ({ file, id, wf, job, where: `${file}: job ${id}` }));
  });
function runsOf(texts: Texts): Run[] {
  return jobsOf(texts).flatMap(({ file, id, wf, job, where }) =>
    startsOf(wf)
      .filter((s) => holds(job.if, s.context))
      .map((s) => {
        const env: Record<string, string> = {};
        for (const [k, v] of Object.entries({ ...wf.env, ...job.env })) env[k] = interpolate(String(v), { ...s.context, env });
        const context = { ...s.context, env, vars: {} };
        const named = typeof job.environment === "object" ? job.environment.name : job.environment;
        const environment = named === undefined ? undefined : interpolate(named, context);
        const steps = job.steps.filter((step) => holds(step.if, context));
        return { file, id, where: `${where} (${s.label})`, branchCode: s.branchCode, wf, job, context, environment, steps };
      }),
  );
}
/** The .ci/ script a `run:` calls and its plain arguments, or undefined. */
function scriptOf(run: string | undefined): { script: string; args: string[] } | undefined {
  const m = /^\.ci\/([a-z][a-z0-9-]*)((?: [a-z0-9-]+)*)$/.exec((run ?? "").trim());
  return m ? { script: m[1], args: m[2].trim().split(" ").filter(Boolean) } : undefined;
}
/** What a step runs: its `run:` and, for a script of .ci/, the script's text. */
function runText(step: Step): string {
  const file = scriptOf(step.run) && path.join(ROOT, ".ci", scriptOf(step.run)?.script ?? "");
  return `${step.run ?? ""}\n${file && fs.existsSync(file) ? fs.readFileSync(file, "utf8") : ""}`;
}
/** What a run does, in order: its scripts ("tools offline") and pulumi commands ("pulumi up staging"). */
const doneBy = (run: Run) =>
  run.steps.flatMap((step) => {
    const called = scriptOf(step.run);
    if (called) return [[called.script, ...called.args].join(" ")];
    if (step.uses?.startsWith("pulumi/actions@"))
      return [`pulumi ${String(step.with?.command)} ${interpolate(String(step.with?.["stack-name"]), run.context)}`];
    return [];
  });
/** A job that changes a stack: pulumi/actions with any command but preview, or a script that runs `pulumi up` and the like. */
const deploys = (job: Job) =>
  job.steps.some(
    (s) =>
      (s.uses?.startsWith("pulumi/actions@") && String(s.with?.command ?? "").trim() !== "preview") ||
      /\bpulumi\s+(?:up|update|destroy|refresh|import)\b/.test(runText(s).replace(/^\s*#.*$/gm, "")),
  );

// --- Where the secrets live: docs/deployment.md's table, which users follow ------------------------

interface Layout {
  repository: Set<string>;
  environments: Map<string, { mainOnly: boolean; reviewed: boolean; secrets: Set<string> }>;
}
function layoutOf(markdown: string): Layout {
  const lines = markdown.split("\n");
  const header = lines.indexOf("| scope | deployment branches | required reviewers | secrets |");
  if (header < 0) throw new Error("docs/deployment.md: no table of where each secret lives");
  const layout: Layout = { repository: new Set(), environments: new Map() };
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith("|")) break;
    const [scope, branches, reviewers, secrets] = line
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim());
    const names = new Set([...secrets.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]));
    const environment = /^environment `([\w.-]+)`$/.exec(scope)?.[1];
    if (scope === "repository") layout.repository = names;
    else if (environment)
      layout.environments.set(environment, { mainOnly: branches === "`main`", reviewed: reviewers.startsWith("yes"), secrets: names });
    else throw new Error(`docs/deployment.md: ${scope} is neither the repository nor an environment`);
  }
  return layout;
}
const LAYOUT = layoutOf(fs.readFileSync(path.join(ROOT, "docs", "deployment.md"), "utf8"));

/** Where a run gets a secret: its environment's if that holds one of the name, else the repository's. */
function scopeOf(layout: Layout, name: string, environment?: string): string | undefined {
  if (environment && layout.environments.get(environment)?.secrets.has(name)) return `environment ${environment}`;
  return layout.repository.has(name) ? "repository" : undefined;
}
/** The names with "*" spelled out (every secret of the repository and of the run's environment), GITHUB_TOKEN aside. */
function spelledOut(names: Iterable<string>, run: Run, layout: Layout): Set<string> {
  const all = [...names];
  const every = all.includes("*") ? [...layout.repository, ...(layout.environments.get(run.environment ?? "")?.secrets ?? [])] : [];
  return new Set([...all, ...every].filter((n) => n !== "*" && n !== "GITHUB_TOKEN"));
}
/**
 * The secrets a run reads as GitHub evaluates its expressions: once with each set where the table
 * puts it, once with all unset, as in an environment someone forgot to fill (`a && secrets.X ||
 * secrets.Y` reads Y then); every name of an expression not read here.
 */
function reads(run: Run, layout: Layout): Set<string> {
  const read: string[] = [];
  let unset = false;
  const secret = (name: string) => {
    read.push(name);
    return !unset && scopeOf(layout, name, run.environment) ? "***" : "";
  };
  const visit = (value: unknown, key?: string): void => {
    if (typeof value === "string") {
      const expressions =
        key === "if" ? [value.replace(/^\s*\$\{\{|\}\}\s*$/g, "")] : [...value.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => m[1]);
      for (const e of expressions) {
        try {
          evaluate(e, run.context, secret);
        } catch {
          read.push(...secretNames(e));
        }
      }
    } else if (Array.isArray(value)) value.forEach((v) => visit(v));
    else if (value && typeof value === "object")
      for (const [k, v] of Object.entries(value)) visit(k === "secrets" ? "${{ secrets }}" : v, k);
  };
  for (unset of [false, true]) visit([run.wf.env, { ...run.job, steps: undefined }, run.steps]);
  return spelledOut(read, run, layout);
}
/** Every secret a run can read: what it reads, what its text names in any step, and every secret of its environment. */
const reachable = (run: Run, layout: Layout) =>
  spelledOut(
    [
      ...reads(run, layout),
      ...secretNames(run.wf.env),
      ...secretNames(run.job),
      ...(layout.environments.get(run.environment ?? "")?.secrets ?? []),
    ],
    run,
    layout,
  );

// --- The rules, each a list of what breaks it (empty when nothing does) ------------------------------

const checks: Record<string, (texts: Texts, layout: Layout) => string[]> = {
  /** Every workflow is valid against GitHub's workflow schema. */
  schema: (texts) => Object.entries(texts).flatMap(([f, t]) => validateWorkflow(t).errors.map((e) => `${f}: ${JSON.stringify(e)}`)),
  /** Every `run:` is a script of .ci/ with plain arguments that exists and is executable: what CI runs is what runs here. */
  scriptsOnly: (texts) =>
    jobsOf(texts).flatMap(({ job, where }) =>
      job.steps
        .filter((s) => s.run !== undefined)
        .filter((s) => {
          const file = path.join(ROOT, ".ci", scriptOf(s.run)?.script ?? "/");
          return !scriptOf(s.run) || !fs.existsSync(file) || (fs.statSync(file).mode & 0o111) === 0;
        })
        .map((s) => `${where}: ${String(s.run).trim()}`),
    ),
  /** Every action by the commit of a release with the release in a comment (Renovate's format), one commit per action everywhere. */
  pinned(texts) {
    const bad: string[] = [];
    const seen = new Map<string, string>();
    for (const [file, t] of Object.entries(texts)) {
      const lines = t.split("\n").filter((l) => /^\s*(?:-\s+)?uses:/.test(l));
      for (const line of lines)
        if (!/^\s*(?:-\s+)?uses: [\w.-]+\/[\w.-]+(?:\/[\w./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+$/.test(line))
          bad.push(`${file}: ${line.trim()}`);
      // A `uses` the line check did not see (flow style, a quoted key) is not pinned as far as we know.
      const parsed = jobsOf({ [file]: t }).flatMap(({ job }) => job.steps.filter((s) => s.uses));
      if (parsed.length !== lines.length) bad.push(`${file}: ${parsed.length} uses, ${lines.length} uses: lines`);
      for (const [, action, pin] of t.matchAll(/uses: ([^@\s]+)@(\S+(?: # \S+)?)/g)) {
        if (seen.has(action) && seen.get(action) !== pin) bad.push(`${action}: ${seen.get(action)} and ${pin}`);
        seen.set(action, pin);
      }
    }
    return bad;
  },
  /** Every action that installs the Pulumi CLI installs the release the tools build: no range, no newest. */
  pulumiCliPinned: (texts) =>
    jobsOf(texts).flatMap(({ job, where }) =>
      job.steps
        .filter((s) => /^pulumi\/(?:actions|setup-pulumi|action-install-pulumi-cli)@/.test(s.uses ?? ""))
        .filter((s) => String(s.with?.["pulumi-version"]) !== PULUMI_CLI || s.with?.["pulumi-version-file"] !== undefined)
        .map((s) => `${where}: installs pulumi-version ${String(s.with?.["pulumi-version"] ?? "(unset: the newest)")}, not ${PULUMI_CLI}`),
    ),
  /** Every job's timeout is at least its steps' durations (.ci/durations.yml) times the margin, and its comment shows the sum. */
  timeouts(texts) {
    const bad: string[] = [];
    for (const { file, job, where } of jobsOf(texts)) {
      const terms = [
        "actions",
        ...job.steps.flatMap((s) =>
          s.run !== undefined
            ? [scriptOf(s.run)?.script ?? "(not a script)"]
            : s.uses?.startsWith("pulumi/actions@")
              ? [`pulumi-${String(s.with?.command)}`]
              : [],
        ),
      ];
      const unknown = terms.filter((t) => DURATIONS.steps[t] === undefined);
      if (unknown.length > 0) bad.push(`${where}: no duration for ${unknown.join(", ")} in .ci/durations.yml`);
      const needed = terms.reduce((total, t) => total + (DURATIONS.steps[t] ?? 0), 0) * DURATIONS.margin;
      if ((job["timeout-minutes"] ?? 0) < needed) bad.push(`${where}: timeout-minutes ${job["timeout-minutes"]} < ${needed}`);
      const shown = `(${terms.map((t) => `${t} ${DURATIONS.steps[t]}`).join(" + ")}) × ${DURATIONS.margin} = ${needed}`;
      if (!texts[file].includes(`# ${shown}`)) bad.push(`${where}: no comment "# ${shown}"`);
    }
    return bad;
  },
  /**
   * A job that builds tools sets up the Go of a tool module's go.mod (setup-go's own cache off: it
   * takes no restore keys), restores Go's caches and .tools/bin keyed on its tier and every file
   * that pins a tool (else the last build of its tier), and saves them right after the build when
   * the key missed, whatever the tests say next.
   */
  toolCache(texts) {
    const bad: string[] = [];
    for (const { job, where } of jobsOf(texts)) {
      const build = job.steps.findIndex((s) => scriptOf(s.run)?.script === "tools");
      if (build < 0) continue;
      const tier = scriptOf(job.steps[build].run)?.args[0];
      const go = job.steps.slice(0, build).find((s) => s.uses?.startsWith("actions/setup-go@"));
      const restore = job.steps.slice(0, build).find((s) => s.uses?.startsWith("actions/cache/restore@"));
      const save = job.steps[build + 1]?.uses?.startsWith("actions/cache/save@") ? job.steps[build + 1] : undefined;
      const paths = (s?: Step) =>
        String(s?.with?.path ?? "")
          .trim()
          .split("\n")
          .sort()
          .join(", ");
      const key = String(restore?.with?.key ?? "");
      const problems = {
        "setup-go reads no tool's go.mod or keeps its own cache":
          !/^tools\/[\w-]+\/go\.mod$/.test(String(go?.with?.["go-version-file"])) || go?.with?.cache !== false,
        "the restored cache is not Go's caches and .tools/bin": paths(restore) !== ".tools/bin, ~/.cache/go-build, ~/go/pkg/mod",
        [`the key is not the tier's and every pin's (${TOOL_PINS.join(", ")})`]:
          !key.startsWith(`tools-${tier}-`) || TOOL_PINS.some((pin) => !key.includes(`'${pin}'`)),
        "the restore key is not the key's prefix": restore?.with?.["restore-keys"] !== key.slice(0, key.indexOf("${{ hashFiles")),
        "the step after the build does not save what was restored when the key missed":
          paths(save) !== paths(restore) ||
          save?.with?.key !== `\${{ steps.${restore?.id}.outputs.cache-primary-key }}` ||
          save?.if !== `steps.${restore?.id}.outputs.cache-hit != 'true'`,
      };
      bad.push(...Object.entries(problems).flatMap(([problem, broken]) => (broken ? [`${where}: ${problem}`] : [])));
    }
    return bad;
  },
  /** setup-go reads a go.mod with the highest go line of the tool modules: the Go that builds them all. */
  goVersion: (texts) =>
    jobsOf(texts).flatMap(({ job, where }) =>
      job.steps
        .filter((s) => s.uses?.startsWith("actions/setup-go@"))
        .map((s) => String(s.with?.["go-version-file"]))
        .filter(
          (f) =>
            !fs.existsSync(path.join(ROOT, f)) ||
            /^go (\S+)$/m.exec(fs.readFileSync(path.join(ROOT, f), "utf8"))?.[1] !== goVersion().version,
        )
        .map((f) => `${where}: ${f} is not tools/${goVersion().module}/go.mod, whose go ${goVersion().version} is the highest`),
    ),
  /** One Node, an even (LTS) major that package.json's engines and @pulumi/pulumi's accept. */
  node(texts) {
    const majors = new Set(
      jobsOf(texts).flatMap(({ job }) =>
        job.steps.filter((s) => s.uses?.startsWith("actions/setup-node@")).map((s) => Number(s.with?.["node-version"])),
      ),
    );
    const floor = (...p: string[]) =>
      Number(
        /^>=(\d+)$/.exec((JSON.parse(fs.readFileSync(path.join(ROOT, ...p), "utf8")) as { engines: { node: string } }).engines.node)?.[1],
      );
    const [major] = majors;
    const ok =
      majors.size === 1 &&
      major % 2 === 0 &&
      major >= floor("package.json") &&
      floor("package.json") >= floor("node_modules", "@pulumi", "pulumi", "package.json");
    return ok ? [] : [`node-version ${[...majors].join(", ")}: not one even major at or above engines, at or above @pulumi/pulumi's`];
  },
  /** Every test tier the tools know has a ci job on each push to main and each pull request: it builds the tier's tools, then runs its tests. */
  everyTierTested(texts) {
    const runs = runsOf(texts).filter((r) => r.file === "ci.yml");
    const tests = (r: Run, tier: string) =>
      doneBy(r).indexOf(`test-${tier}`) > doneBy(r).indexOf(`tools ${tier}`) && doneBy(r).includes(`tools ${tier}`);
    return TIERS.flatMap((tier) =>
      ["push to main", "pull_request"]
        .filter((start) => !runs.some((r) => r.where.endsWith(`(${start})`) && tests(r, tier)))
        .map((start) => `ci.yml: no job builds the ${tier} tools and then runs test-${tier} on a ${start}`),
    );
  },
  /** The render is kept as an artifact before any tool builds or test runs: a reviewer gets it even when a test fails. */
  renderFirst: (texts) =>
    jobsOf(texts)
      .filter(({ job }) => job.steps.some((s) => scriptOf(s.run)?.script === "render"))
      .filter(({ job }) => {
        const upload = job.steps.findIndex((s) => s.uses?.startsWith("actions/upload-artifact@"));
        const first = job.steps.findIndex((s) => /^(?:tools|test-)/.test(scriptOf(s.run)?.script ?? ""));
        return upload < 0 || job.steps.findIndex((s) => scriptOf(s.run)?.script === "render") > upload || (first >= 0 && first < upload);
      })
      .map(({ where }) => `${where}: the render is not uploaded before the tools and tests`),
  /**
   * What deploys: staging when ci passed on a push to this repository's main, the chosen stack by
   * hand, nothing else (not a failed run of ci, not a pull request's, not a fork's); each deploy
   * first makes sure ci passed on the commit, which is the one ci tested.
   */
  deploysOnlyWhatCiPassed(texts) {
    const wanted = new Map([["workflow_run", "staging"], ...STACKS.map((s) => [`workflow_dispatch stack=${s}`, s] as const)]);
    return runsOf(texts).flatMap((run) => {
      const ups = doneBy(run).filter((d) => d.startsWith("pulumi up "));
      if (ups.length === 0) return [];
      const start = /\((.*)\)$/.exec(run.where)?.[1] ?? "";
      const checkout = run.steps.find((s) => s.uses?.startsWith("actions/checkout@"));
      return [
        ...(ups.join() !== `pulumi up ${wanted.get(start)}` ? [`${run.where}: ${ups.join(", ")}`] : []),
        ...(doneBy(run)[0] !== "require-ci-success" ? [`${run.where}: does not first require ci's success`] : []),
        ...(interpolate(String(checkout?.with?.ref), run.context) !== HEAD_SHA
          ? [`${run.where}: checks out ${String(checkout?.with?.ref)}, not the commit ci tested`]
          : []),
      ];
    });
  },
  /** Each deploy runs in the environment named after the stack it updates. */
  deployInItsStacksEnvironment: (texts) =>
    runsOf(texts).flatMap((run) =>
      doneBy(run)
        .flatMap((d) => /^pulumi (?!preview)\S+ (\S+)$/.exec(d)?.[1] ?? [])
        .filter((stack) => stack !== run.environment)
        .map((stack) => `${run.where}: updates ${stack} in environment ${run.environment ?? "(none)"}`),
    ),
  /** The deploy runs no test tier, no lab, no tool build and not .ci/run: ci did, on the same commit. */
  deployRunsNoTests: (texts) =>
    runsOf(texts)
      .filter((r) => deploys(r.job))
      .flatMap((r) =>
        r.steps
          .filter((s) => /\.ci\/(?:run|test-|tools)|test:live|test:cluster|npm (?:run )?test|npm run tools|\bjest\b/.test(runText(s)))
          .map((s) => `${r.where}: ${String(s.run).trim()}`),
      ),
  /** Every pull request previews every stack (in its preview environment) and deploys none. */
  pullRequestsPreviewEveryStack(texts) {
    const previews = runsOf(texts)
      .filter((r) => r.where.endsWith("(pull_request)"))
      .flatMap((r) =>
        doneBy(r)
          .filter((d) => d.startsWith("pulumi "))
          .map((d) => `${d} in ${r.environment}`),
      );
    const wanted = STACKS.map((s) => `pulumi preview ${s} in ${s}-preview`);
    return [
      ...wanted.filter((w) => !previews.includes(w)).map((w) => `no pull-request job runs ${w}`),
      ...previews.filter((p) => !wanted.includes(p)).map((p) => `a pull-request job runs ${p}`),
    ];
  },
  /** A job a pull request starts can write nothing but the pull request's comment; a job that reads a secret leaves no token in .git/config for the code it runs. */
  leastPermissions(texts) {
    const bad = runsOf(texts)
      .filter((r) => r.where.endsWith("(pull_request)"))
      .flatMap((r) =>
        Object.entries(
          r.job.permissions ?? (typeof r.wf.permissions === "object" ? r.wf.permissions : { all: String(r.wf.permissions ?? "default") }),
        )
          .filter(
            ([scope, level]) =>
              !(level === "read" && scope === "contents") && !(level === "write" && scope === "pull-requests") && level !== "none",
          )
          .map(([scope, level]) => `${r.where}: ${scope}: ${level}`),
      );
    for (const r of runsOf(texts).filter((r) => reads(r, LAYOUT).size > 0))
      if (r.steps.find((s) => s.uses?.startsWith("actions/checkout@"))?.with?.["persist-credentials"] !== false)
        bad.push(`${r.where}: the checkout keeps its token`);
    return [...new Set(bad)];
  },
  /** No workflow-wide env holds a secret: every job, with or without an environment, inherits it. */
  noWorkflowSecrets: (texts) =>
    Object.entries(texts)
      .filter(([, t]) => secretNames((YAML.parse(t) as Workflow).env).size > 0)
      .map(([f]) => f),
  /** No pull_request_target: it runs with the base repository's secrets on any pull request, forks included. */
  noPullRequestTarget: (texts) =>
    Object.entries(texts)
      .filter(([, t]) => /pull_request_target/.test(t))
      .map(([f]) => f),
  /** The kubeconfig is written private (umask 077) and removed by a step that runs even when the job failed, the last that uses it. */
  credentialsCleaned(texts) {
    const bad: string[] = [];
    for (const { job, where } of jobsOf(texts)) {
      const write = job.steps.findIndex((s) => /> "\$KUBECONFIG"/.test(runText(s)));
      if (write < 0) continue;
      if (!/^umask 077$/m.test(runText(job.steps[write]))) bad.push(`${where}: written without umask 077`);
      const remove = job.steps.findIndex((s, i) => i > write && s.if === "always()" && /rm -f "\$KUBECONFIG"/.test(runText(s)));
      if (remove < 0) bad.push(`${where}: no always() step removes it`);
      else if (job.steps.slice(remove + 1).some((s) => s.uses || /\$KUBECONFIG|npm|pulumi/.test(s.run ?? "")))
        bad.push(`${where}: steps run after the credentials are removed`);
    }
    return bad;
  },
  /** npm ci (the install scripts of whatever the lockfile holds) runs before any secret exists in the job. */
  noSecretBeforeInstall: (texts) =>
    jobsOf(texts)
      .filter(({ job }) => secretNames(job).size > 0)
      .filter(({ job }) => {
        const install = job.steps.findIndex((s) => /npm ci/.test(runText(s)));
        return install < 0 || secretNames(job.env).size > 0 || job.steps.slice(0, install + 1).some((s) => secretNames(s).size > 0);
      })
      .map(({ where }) => where),
  /**
   * No job that runs a branch's code can read a secret a deploy reads, by name or through its
   * environment (every secret of which is the job's to read); the stack's passphrase aside.
   */
  pullRequestsReadNoDeploySecret(texts, layout) {
    const runs = runsOf(texts);
    const deployed = new Map(
      runs.filter((r) => deploys(r.job)).flatMap((r) => [...reachable(r, layout)].map((n) => [n, `${r.file}: job ${r.id}`] as const)),
    );
    return [
      ...new Set(
        runs
          .filter((r) => r.branchCode)
          .flatMap((r) =>
            [...reachable(r, layout)]
              .filter((n) => deployed.has(n) && n !== PASSPHRASE)
              .map((n) => `${r.where} can read ${n}, which ${deployed.get(n)} deploys with`),
          ),
      ),
    ];
  },
  /**
   * A deploy runs in an environment the docs set up that admits main alone; what it reads is no
   * repository secret, and no job reads it outside such an environment that holds it: a deploy
   * never falls back to another environment's credential.
   */
  deployCredentialsInMainOnlyEnvironments(texts, layout) {
    const bad = new Set<string>();
    const runs = runsOf(texts);
    const credentials = new Map<string, string>();
    for (const run of runs.filter((r) => deploys(r.job))) {
      const scope = layout.environments.get(run.environment ?? "");
      if (run.environment === undefined) bad.add(`${run.where} deploys without an environment`);
      else if (!scope) bad.add(`${run.where} deploys in environment ${run.environment}, which docs/deployment.md does not set up`);
      else if (!scope.mainOnly) bad.add(`${run.where} deploys in environment ${run.environment}, which admits branches besides main`);
      for (const name of reads(run, layout)) if (name !== PASSPHRASE) credentials.set(name, `${run.file}: job ${run.id}`);
    }
    for (const [name, where] of credentials)
      if (layout.repository.has(name)) bad.add(`${name}, which ${where} deploys with, is a repository secret: every branch reads it`);
    for (const run of runs) {
      const scope = layout.environments.get(run.environment ?? "");
      for (const name of reads(run, layout))
        if (credentials.has(name) && !(scope?.mainOnly && scope.secrets.has(name)))
          bad.add(`${run.where} reads ${name} outside an environment that holds it and admits main alone`);
    }
    return [...bad];
  },
  /**
   * Every secret a job reads is set by docs/deployment.md's table where the job reads it from; every
   * environment a job runs in is one the table sets up; the table lists nothing no job reads.
   */
  secretsWhereDocsPutThem(texts, layout) {
    const bad = new Set<string>();
    const used = new Set<string>();
    for (const run of runsOf(texts)) {
      if (run.environment !== undefined && !layout.environments.has(run.environment))
        bad.add(`${run.where} runs in environment ${run.environment}, which docs/deployment.md does not set up`);
      for (const name of reads(run, layout)) {
        const scope = scopeOf(layout, name, run.environment);
        if (scope) used.add(`${scope}: ${name}`);
        else bad.add(`${run.where} reads ${name}, which docs/deployment.md sets neither in its environment nor in the repository`);
      }
    }
    const listed = [
      ...[...layout.repository].map((n) => `repository: ${n}`),
      ...[...layout.environments].flatMap(([e, s]) => [...s.secrets].map((n) => `environment ${e}: ${n}`)),
    ];
    for (const entry of listed) if (!used.has(entry)) bad.add(`docs/deployment.md sets ${entry}, which no job reads`);
    return [...bad];
  },
  /** A job that runs a branch's code reads read-only preview credentials (`*_PREVIEW`) and the passphrase, nothing else; a deploy reads no preview credential. */
  previewsReadPreviewCredentials: (texts, layout) =>
    runsOf(texts).flatMap((run) =>
      [...reachable(run, layout)].flatMap((name) => {
        if (run.branchCode && !name.endsWith("_PREVIEW") && name !== PASSPHRASE)
          return [`${run.where} can read ${name}, no preview credential`];
        if (deploys(run.job) && name.endsWith("_PREVIEW")) return [`${run.where} deploys with ${name}, a preview's read-only credential`];
        return [];
      }),
    ),
  /**
   * No pull_request job gets a secret that decrypts a deployed stack (DECRYPTING) unless it runs in
   * an environment with required reviewers that holds it; never from the repository.
   */
  decryptingAfterReview(texts, layout) {
    const bad = [...layout.repository].filter(DECRYPTING).map((n) => `${n} is a repository secret: every branch's code reads it`);
    for (const run of runsOf(texts).filter((r) => r.branchCode)) {
      const scope = layout.environments.get(run.environment ?? "");
      for (const name of [...reachable(run, layout)].filter(DECRYPTING))
        if (!scope?.reviewed || !scope.secrets.has(name))
          bad.push(`${run.where} can read ${name} without a reviewer's approval (environment ${run.environment ?? "none"})`);
    }
    return [...new Set(bad)];
  },
};

test.each(Object.keys(checks))("%s holds in every workflow", (check) => {
  expect(checks[check](TEXTS, LAYOUT)).toEqual([]);
});

/** docs/deployment.md's table with a change. */
const layoutWith = (change: (layout: Layout) => void) => {
  const layout = layoutOf(fs.readFileSync(path.join(ROOT, "docs", "deployment.md"), "utf8"));
  change(layout);
  return layout;
};
const IN_REPOSITORY = layoutWith((l) => l.repository.add("KUBECONFIG_STAGING"));
const NO_STAGING = layoutWith((l) => l.environments.delete("staging"));
const OPEN_STAGING = layoutWith((l) => Object.assign(l.environments.get("staging") ?? {}, { mainOnly: false }));
const UNREVIEWED = layoutWith((l) => Object.assign(l.environments.get("staging-preview") ?? {}, { reviewed: false }));
/** The layout of before: staging's preview credentials and passphrase repository secrets, no staging-preview environment. */
const BEFORE = layoutWith((l) => {
  l.environments.delete("staging-preview");
  for (const n of ["KUBECONFIG_STAGING_PREVIEW", "PULUMI_ACCESS_TOKEN_PREVIEW", PASSPHRASE]) l.repository.add(n);
});
/** deploy.yml's two kubeconfig steps, and one step that falls back to staging's when production's is unset. */
const KUBECONFIG_STEPS = /( {6}# Each stack's kubeconfig[\s\S]*?KUBECONFIG_PRODUCTION \}\}\n)/;
const FALLBACK = `      - run: .ci/kubeconfig-write
        env:
          KUBECONFIG_DATA: \${{ (inputs.stack == 'production') && secrets.KUBECONFIG_PRODUCTION || secrets.KUBECONFIG_STAGING }}\n`;
/** ci's offline job reading staging's deploy kubeconfig; ON_MAIN: only on pushes to main, in no environment. */
const RENOVATE = /( {6}- run: \.ci\/check-renovate)/;
const READ_STAGING = "$1\n        env:\n          DATA: ${{ secrets['KUBECONFIG_STAGING'] }}";
const ON_MAIN = /( {2}offline:\n)([\s\S]*?- run: \.ci\/check-renovate)/;
const ON_MAIN_READ_STAGING = "$1    if: github.event_name == 'push'\n$2\n        env:\n          DATA: ${{ secrets.KUBECONFIG_STAGING }}";

/**
 * Each check on copies of the workflows (or of docs/deployment.md's table) that break it: [file,
 * from, to, a problem the check names, the table], each copy the workflows with `from` replaced.
 */
const BROKEN: Record<string, Array<[string, string | RegExp, string, string, Layout?]>> = {
  schema: [["ci.yml", /^ {4}steps:/m, "    stepz:", "ci.yml: "]],
  scriptsOnly: [
    ["ci.yml", "run: .ci/npm-ci", "run: npm ci", "job offline: npm ci"],
    ["ci.yml", "run: .ci/test-live", "run: .ci/test-lab", "job live: .ci/test-lab"],
    ["ci.yml", "run: .ci/render", "run: .ci/render; curl x", "job offline: .ci/render; curl x"],
  ],
  pinned: [
    ["ci.yml", /(upload-artifact@)[0-9a-f]{40} # v4\.6\.2/, "$1v4", "uses: actions/upload-artifact@v4"],
    ["deploy.yml", " # v6.6.1", "", "uses: pulumi/actions@8582a9e8cc630786854029b4e09281acd6794b58"],
    ["preview.yml", /(checkout@[0-9a-f]{12})[0-9a-f]{28}/, "$1", "uses: actions/checkout@11d5960a3267 # v4.4.0"],
    ["ci.yml", "- uses: actions/upload-artifact@", '- "uses": actions/upload-artifact@', "ci.yml: 16 uses, 15 uses: lines"],
    ["deploy.yml", /(checkout@)[0-9a-f]{40}/, `$1${"0".repeat(40)}`, `and ${"0".repeat(40)} # v4.4.0`],
  ],
  pulumiCliPinned: [
    ["deploy.yml", /pulumi-version: .*/, "pulumi-version: ^3", `installs pulumi-version ^3, not ${PULUMI_CLI}`],
    ["deploy.yml", /^ {10}pulumi-version: .*\n/m, "", "installs pulumi-version (unset: the newest)"],
  ],
  timeouts: [
    ["ci.yml", "timeout-minutes: 143", "timeout-minutes: 90", "job cluster: timeout-minutes 90 < 142.5"],
    ["ci.yml", "run: .ci/render", "run: .ci/render-all", "job offline: no duration for render-all"],
    ["ci.yml", "      - run: .ci/test-live", "      - run: .ci/test-live\n      - run: .ci/npm-ci", "job live: no comment"],
  ],
  toolCache: [
    ["ci.yml", "cache: false", "cache: true", "job offline: setup-go reads no tool's go.mod or keeps its own cache"],
    ["ci.yml", ", 'components/images.ts'", "", "job offline: the key is not the tier's and every pin's"],
    ["ci.yml", /( {6}- run: \.ci\/tools live\n)([\s\S]*?primary-key \}\}\n)/, "$2$1", "job live: the step after the build"],
  ],
  goVersion: [["ci.yml", "tools/alloy/go.mod", "tools/kwok/go.mod", "job offline: tools/kwok/go.mod is not"]],
  node: [["preview.yml", "node-version: 22", "node-version: 23", "node-version 22, 23: not one even major"]],
  everyTierTested: [
    ["ci.yml", "      - run: .ci/test-cluster\n", "", "builds the cluster tools and then runs test-cluster on a pull_request"],
  ],
  renderFirst: [["ci.yml", /( {6}- run: \.ci\/render\n)/, "      - run: .ci/test-offline\n$1", "job offline: the render is not uploaded"]],
  deploysOnlyWhatCiPassed: [
    ["deploy.yml", /\S+conclusion == 'success' &&/, "", "job up (workflow_run that failed): pulumi up staging"],
    ["deploy.yml", "ref: ${{ env.DEPLOY_SHA }}", "ref: main", "(workflow_run): checks out main, not the commit ci tested"],
    ["deploy.yml", /\n {6}- run: \.ci\/require-ci-success/, "", "stack=production): does not first require ci's success"],
  ],
  deployInItsStacksEnvironment: [
    ["deploy.yml", "'staging' }}\n    # Never", "'production' }}\n    # Never", "updates staging in environment production"],
  ],
  deployRunsNoTests: [["deploy.yml", "run: .ci/npm-ci", "run: .ci/tools live", "job up (workflow_run): .ci/tools live"]],
  pullRequestsPreviewEveryStack: [
    ["preview.yml", "stack-name: production", "stack-name: staging", "no pull-request job runs pulumi preview production"],
  ],
  leastPermissions: [
    ["preview.yml", "credentials: false", "credentials: true", "staging (pull_request): the checkout keeps its token"],
    ["preview.yml", "pull-requests: write", "pull-requests: write\n      actions: write", "staging (pull_request): actions: write"],
  ],
  noWorkflowSecrets: [["ci.yml", /^permissions:/m, "env:\n  X: ${{ secrets.KUBECONFIG_PRODUCTION }}\npermissions:", "ci.yml"]],
  noPullRequestTarget: [["preview.yml", /^ {2}pull_request:$/m, "  pull_request_target:", "preview.yml"]],
  credentialsCleaned: [
    ["deploy.yml", "run: .ci/kubeconfig-write", `run: printf '%s' "$KUBECONFIG_DATA" > "$KUBECONFIG"`, "job up: written without umask"],
    ["preview.yml", /- if: always\(\)\n *run: \.ci\/kubeconfig-remove/, "- run: .ci/kubeconfig-remove", "staging: no always() step"],
  ],
  noSecretBeforeInstall: [
    ["preview.yml", /^ {4}env:\n/m, "    env:\n      TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}\n", "preview.yml: job staging"],
  ],
  pullRequestsReadNoDeploySecret: [
    ["preview.yml", "TOKEN_PREVIEW }}", "TOKEN }}", "(pull_request) can read PULUMI_ACCESS_TOKEN, which deploy.yml: job up"],
    // In the deploy's environment a preview can read its secrets though it names none of them.
    ["preview.yml", "environment: production-preview", "environment: production", "can read KUBECONFIG_PRODUCTION, which"],
    ["ci.yml", RENOVATE, READ_STAGING, "job offline (pull_request) can read KUBECONFIG_STAGING, which deploy.yml"],
  ],
  deployCredentialsInMainOnlyEnvironments: [
    ["deploy.yml", KUBECONFIG_STEPS, FALLBACK, "stack=production) reads KUBECONFIG_STAGING outside an environment"],
    ["preview.yml", "STAGING_PREVIEW }}", "STAGING }}", "(pull_request) reads KUBECONFIG_STAGING outside an environment"],
    ["ci.yml", ON_MAIN, ON_MAIN_READ_STAGING, "(push to main) reads KUBECONFIG_STAGING outside an environment"],
    ["deploy.yml", /^ {4}environment: .*\n/m, "", "(workflow_run) deploys without an environment"],
    ["deploy.yml", "", "", "KUBECONFIG_STAGING, which deploy.yml: job up deploys with, is a repository secret", IN_REPOSITORY],
    ["deploy.yml", "", "", "deploys in environment staging, which docs/deployment.md does not set up", NO_STAGING],
    ["deploy.yml", "", "", "deploys in environment staging, which admits branches besides main", OPEN_STAGING],
  ],
  secretsWhereDocsPutThem: [
    ["preview.yml", "STAGING_PREVIEW }}", "STAGING }}", "reads KUBECONFIG_STAGING, which docs/deployment.md sets neither"],
    ["preview.yml", "environment: production-preview", "environment: preview", "runs in environment preview, which docs"],
    ["deploy.yml", "", "", "sets repository: KUBECONFIG_STAGING, which no job reads", IN_REPOSITORY],
  ],
  previewsReadPreviewCredentials: [
    ["preview.yml", "STAGING_PREVIEW }}", "STAGING }}", "can read KUBECONFIG_STAGING, no preview credential"],
    ["deploy.yml", "KUBECONFIG_STAGING }}", "KUBECONFIG_STAGING_PREVIEW }}", "deploys with KUBECONFIG_STAGING_PREVIEW"],
  ],
  decryptingAfterReview: [
    ["preview.yml", "    environment: production-preview\n", "", "read PULUMI_CONFIG_PASSPHRASE without a reviewer's approval"],
    ["preview.yml", "    environment: staging-preview\n", "", "PULUMI_CONFIG_PASSPHRASE is a repository secret", BEFORE],
    ["preview.yml", "", "", "TOKEN_PREVIEW without a reviewer's approval (environment staging-preview)", UNREVIEWED],
  ],
};

test("every check is shown failing on a copy that breaks it", () => {
  expect(Object.keys(BROKEN).sort()).toEqual(Object.keys(checks).sort());
});

const COPIES = Object.entries(BROKEN).flatMap(([check, copies]) =>
  copies.map(([file, from, to, problem, layout = LAYOUT]) => ({ check, file, from, to, problem, layout })),
);
test.each(COPIES)("$check refuses a copy of $file that breaks it", ({ check, file, from, to, problem, layout }) => {
  expect(TEXTS[file]).toMatch(from);
  expect(checks[check]({ ...TEXTS, [file]: TEXTS[file].replace(from, to) }, layout).join("\n")).toContain(problem);
});

test("the Pulumi CLI the workflows install is the release tools/pulumi builds and @pulumi/pulumi is", () => {
  expect(PULUMI_CLI).toMatch(/^\d+\.\d+\.\d+$/);
  expect(goModRequire("pulumi", "github.com/pulumi/pulumi/pkg/v3")).toBe(`v${PULUMI_CLI}`);
  expect(pinnedNpmVersion("@pulumi/pulumi")).toBe(PULUMI_CLI);
});

test("the expression reader short-circuits as GitHub does, and refuses what it does not read (the checks then take every name)", () => {
  const read: string[] = [];
  const secret = (name: string) => (read.push(name), "***");
  const line = "(github.event_name == 'workflow_dispatch' && inputs.stack == 'production') && secrets.A || secrets.b";
  const context = (stack: string) => ({ github: { event_name: "workflow_dispatch" }, inputs: { stack } });
  expect(evaluate(line, context("production"), secret)).toBe("***");
  expect(read).toEqual(["A"]);
  expect(evaluate(line, context("staging"), secret)).toBe("***");
  expect(read).toEqual(["A", "B"]);
  expect(
    evaluate("steps.tools-cache.outputs.cache-hit != 'true' && !failure()", {
      steps: { "tools-cache": { outputs: { "cache-hit": "true" } } },
    }),
  ).toBe(false);
  for (const unread of ["toJSON(secrets)", "secrets['A']", "a ? b : c", "a; b", "process.exit()"])
    expect(() => evaluate(unread, {})).toThrow();
  expect(secretNames({ env: { ALL: "${{ toJSON(secrets) }}" }, with: { x: "${{ secrets['Some_Name'] }}" } })).toEqual(
    new Set(["*", "SOME_NAME"]),
  );
});

describe("the steps' scripts, run here", () => {
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "ci-step-"));
  /**
   * Runs a script of .ci/. `stubs` are commands put first on PATH (a command that needs the
   * network, secrets or root: npm's installs, gh, apt-get), each recording its arguments in
   * the log and running what it is given; `onlyStubs` leaves the real PATH out (bash aside).
   */
  function step(
    script: string,
    args: string[] = [],
    opts: { env?: Record<string, string>; stubs?: Record<string, string>; onlyStubs?: boolean } = {},
  ) {
    const dir = tmp();
    const log = path.join(dir, "calls.log");
    for (const [command, output] of Object.entries(opts.stubs ?? {}))
      fs.writeFileSync(path.join(dir, command), `#!/bin/sh\necho "${command} $*" >> "${log}"\n${output}\n`, { mode: 0o755 });
    if (opts.onlyStubs)
      for (const command of ["bash", "id"])
        fs.symlinkSync(spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).stdout.trim(), path.join(dir, command));
    const PATH = opts.onlyStubs ? dir : `${dir}${path.delimiter}${process.env.PATH}`;
    const r = spawnSync(path.join(ROOT, ".ci", script), args, {
      cwd: os.tmpdir(),
      env: { ...process.env, ...opts.env, PATH },
      encoding: "utf8",
      timeout: scaledMs(120_000),
    });
    const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
    return { status: r.status, output: `${r.stdout}${r.stderr}`, calls };
  }

  test(".ci/render renders both stacks, offline, into the folder given", () => {
    const out = tmp();
    const r = step("render", [out]);
    expect({ status: r.status, output: r.output }).toMatchObject({ status: 0 });
    for (const stack of STACKS)
      expect((fs.readdirSync(path.join(out, stack), { recursive: true }) as string[]).some((f) => f.endsWith(".yaml"))).toBe(true);
  });

  test(".ci/kubeconfig-write writes the credentials for this user only, .ci/kubeconfig-remove removes them", () => {
    const file = path.join(tmp(), "kubeconfig");
    expect(step("kubeconfig-write", [], { env: { KUBECONFIG: file, KUBECONFIG_DATA: "apiVersion: v1\n" } }).status).toBe(0);
    expect(fs.readFileSync(file, "utf8")).toBe("apiVersion: v1\n");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(step("kubeconfig-remove", [], { env: { KUBECONFIG: file } }).status).toBe(0);
    expect(fs.existsSync(file)).toBe(false);
    // A secret that is not set: the step says so instead of writing an empty kubeconfig.
    const unset = step("kubeconfig-write", [], { env: { KUBECONFIG: file, KUBECONFIG_DATA: "" } });
    expect(unset.status).not.toBe(0);
    expect(unset.output).toMatch(/no credentials: is the secret set/);
    expect(fs.existsSync(file)).toBe(false);
  });

  test(".ci/jest-summary adds up the tiers' results and fails on a failure, an empty run or a missing file", () => {
    const dir = tmp();
    const write = (name: string, passed: number, failed: number) => {
      fs.writeFileSync(
        path.join(dir, name),
        JSON.stringify({ numPassedTests: passed, numFailedTests: failed, numTotalTests: passed + failed }),
      );
      return path.join(dir, name);
    };
    const ok = step("jest-summary", [write("a.json", 3, 0), write("b.json", 2, 0)]);
    expect(ok.status).toBe(0);
    expect(ok.output).toMatch(/^jest: 5 passed, 0 failed$/m);
    expect(step("jest-summary", [write("c.json", 3, 1)]).status).toBe(1);
    expect(step("jest-summary", [write("d.json", 0, 0)]).status).toBe(1);
    expect(step("jest-summary", [path.join(dir, "none.json")]).output).toMatch(/none\.json: no results/);
  });

  test(".ci/system-packages installs what a tier lacks, and nothing for the cluster tier", () => {
    expect(step("system-packages", ["cluster"], { onlyStubs: true, stubs: { "apt-get": "" } })).toMatchObject({ status: 0, calls: [] });
    expect(step("system-packages", ["nightly"]).status).toBe(2);
    // --help (and -h): the usage and what each tier installs, on stdout, exit 0, and nothing run or changed.
    for (const flag of ["--help", "-h"]) {
      const help = step("system-packages", [flag], { stubs: { "apt-get": "", sysctl: "", unshare: "", sudo: "" } });
      expect(help).toMatchObject({ status: 0, calls: [] });
      expect(help.output).toMatch(/^usage: bash \.ci\/system-packages offline\|cluster\|live\|all\n/);
      expect(help.output).toMatch(/^ {2}live {5}the same, and e2fsprogs/m);
    }
    // On a PATH without openssl, redis, sqlite3, wget, gcc or mkfs.ext4 (apt-get stubbed: it installs nothing, which the script then says).
    const live = step("system-packages", ["live"], { onlyStubs: true, stubs: { "apt-get": "", sudo: 'exec "$@"' } });
    expect(live.calls.find((c) => c.startsWith("apt-get install"))).toMatch(
      // libsystemd-dev is found by its header and systemd-journal-remote under /lib/systemd, not on PATH:
      // missing or not as the host has them (a fresh machine has neither).
      /--no-install-recommends .*openssl redis-server redis-tools sqlite3 wget gcc (libsystemd-dev )?(systemd-journal-remote )?e2fsprogs$/,
    );
    expect(live.status).toBe(1);
    expect(live.output).toMatch(/missing openssl after install/);
  });

  test(".ci/system-packages lets unprivileged users make user namespaces where the host keeps them from it, for the test tiers", () => {
    // unshare fails until the sysctl ran (Ubuntu 24.04's default), then works.
    const stubs = {
      unshare: '[ -f "${0%/*}/unshare.ok" ] || exit 1',
      sysctl: 'case "$*" in *apparmor*) : > "${0%/*}/unshare.ok" ;; esac',
      sudo: 'exec "$@"',
      "apt-get": "",
    };
    const offline = step("system-packages", ["offline"], { onlyStubs: true, stubs });
    // (sudo, stubbed, runs it when the tests do not run as root; the inotify limit's read is the next test's)
    const namespaces = (calls: string[]) => calls.filter((c) => !c.startsWith("sudo ") && !c.includes("inotify"));
    expect(namespaces(offline.calls).slice(0, 3)).toEqual([
      "unshare -rn true",
      "sysctl -q -w kernel.apparmor_restrict_unprivileged_userns=0",
      "unshare -rn true",
    ]);
    // The cluster tier too (its three-nodes test runs the drained cluster's pods in one), installing nothing.
    expect(namespaces(step("system-packages", ["cluster"], { onlyStubs: true, stubs }).calls)).toEqual([
      "unshare -rn true",
      "sysctl -q -w kernel.apparmor_restrict_unprivileged_userns=0",
      "unshare -rn true",
    ]);
    // Where they can already, nothing is changed.
    const allowed = step("system-packages", ["offline"], { onlyStubs: true, stubs: { ...stubs, unshare: "" } });
    expect(allowed.calls.filter((c) => c.includes("apparmor"))).toEqual([]);
  });

  test(".ci/system-packages raises the inotify instances a user may hold to 1024 where fewer are allowed, and says so where it cannot", () => {
    // sysctl stubbed: -n prints the limit (the kernel's default 128, or more), -w succeeds or fails as told.
    const run = (limit: number, write = "") =>
      step("system-packages", ["cluster"], {
        onlyStubs: true,
        stubs: { unshare: "", "apt-get": "", sudo: 'exec "$@"', sysctl: `case "$1" in -n) echo ${limit} ;; -q) ${write || ":"} ;; esac` },
      });
    const low = run(128);
    expect(low.status).toBe(0);
    expect(low.calls.filter((c) => c.startsWith("sysctl"))).toEqual([
      "sysctl -n fs.inotify.max_user_instances",
      "sysctl -q -w fs.inotify.max_user_instances=1024",
    ]);
    expect(run(8192).calls.filter((c) => c.startsWith("sysctl"))).toEqual(["sysctl -n fs.inotify.max_user_instances"]);
    // A container's read-only /proc/sys: the run goes on, and the output says what stays.
    const refused = run(128, "exit 1");
    expect(refused.status).toBe(0);
    expect(refused.output).toContain("fs.inotify.max_user_instances stays 128 (could not raise it to 1024)");
  });

  test.each([
    ["npm-ci", [], "npm ci --no-audit --no-fund"],
    ["tools", ["offline"], "npm run tools -- --tier offline"],
    ["check-renovate", [], "npm run check:renovate"],
    ["test-offline", [], "npm test -- --json --outputFile=out/jest-results.json"],
    ["test-cluster", [], "npm run test:cluster -- --json --outputFile=out/jest-cluster-results.json"],
    ["test-live", [], "npm run test:live -- --json --outputFile=out/jest-live-results.json"],
    ["bench-smoke", [], "npm run bench -- --smoke"],
  ])(".ci/%s runs its npm command (npm stubbed)", (script, args, command) => {
    expect(step(script, args, { stubs: { npm: "" } })).toMatchObject({ status: 0, calls: [command] });
  });

  test(".ci/check-changelog compares with the pull request's target, else CHANGELOG_BASE, else the commit before HEAD (npm stubbed)", () => {
    const calls = (env: Record<string, string>) => step("check-changelog", [], { env, stubs: { npm: "" } });
    const check = "npm run --silent changelog:check -- --base";
    expect(calls({ GITHUB_BASE_REF: "main", CHANGELOG_BASE: "" })).toEqual({ status: 0, output: "", calls: [`${check} origin/main`] });
    expect(calls({ GITHUB_BASE_REF: "", CHANGELOG_BASE: "v1" }).calls).toEqual([`${check} v1`]);
    expect(calls({ GITHUB_BASE_REF: "", CHANGELOG_BASE: "" }).calls).toEqual([`${check} HEAD^`]);
  });

  test(".ci/require-ci-success passes a commit ci succeeded on, and refuses any other (gh stubbed)", () => {
    const env = { GITHUB_REPOSITORY: "team/monitoring", DEPLOY_SHA: HEAD_SHA };
    const passed = step("require-ci-success", [], { env, stubs: { gh: "echo 1" } });
    expect(passed).toMatchObject({
      status: 0,
      calls: [
        `gh api repos/team/monitoring/actions/workflows/ci.yml/runs?head_sha=${HEAD_SHA}&status=success&per_page=1 --jq .total_count`,
      ],
    });
    const refused = step("require-ci-success", [], { env, stubs: { gh: "echo 0" } });
    expect(refused.status).toBe(1);
    expect(refused.output).toMatch(/ci has not passed on a{40}/);
    expect(step("require-ci-success", [], { env, stubs: { gh: "exit 1" } }).status).not.toBe(0);
  });
});
