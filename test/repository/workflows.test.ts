/**
 * The GitHub workflows: valid against GitHub's workflow schema, doing what docs/ci.md says,
 * every step a script of .ci/ that runs here (the offline ones for real, the others with the
 * command they call stubbed), and timeouts above the measured durations of .ci/durations.yml.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { validateWorkflow } from "@action-validator/core";
import { goVersion, pinnedNpmVersion } from "../../lab/tools/tool-versions";
import { ROOT, TIERS, TOOLS, goModRequire } from "../../lab/tools/tools";

const DIR = path.join(ROOT, ".github", "workflows");
const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".yml"));
const text = (f: string) => fs.readFileSync(path.join(DIR, f), "utf8");

interface Step {
  name?: string;
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
  strategy?: { matrix?: { stack?: string[] } };
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}
const workflow = (f: string) => YAML.parse(text(f)) as Workflow;
const steps = (f: string) => Object.values(workflow(f).jobs).flatMap((j) => j.steps);

/** The .ci/ script a `run:` calls and its arguments, or undefined when the run is anything else. */
function scriptOf(run: string | undefined): { script: string; args: string[] } | undefined {
  const match = /^\.ci\/([a-z][a-z0-9-]*)((?: [a-z0-9-]+)*)$/.exec((run ?? "").trim());
  return match ? { script: match[1], args: match[2].trim().split(" ").filter(Boolean) } : undefined;
}
/** What a step runs: its `run:` and, when that is a script of .ci/, the script's text. */
function runText(step: Step): string {
  const called = scriptOf(step.run);
  const file = called && path.join(ROOT, ".ci", called.script);
  return `${step.run ?? ""}\n${file && fs.existsSync(file) ? fs.readFileSync(file, "utf8") : ""}`;
}

test("every workflow is valid against GitHub's workflow schema", () => {
  expect(files.sort()).toEqual(["ci.yml", "deploy.yml", "preview.yml"]);
  for (const f of files) expect({ file: f, errors: validateWorkflow(text(f)).errors }).toEqual({ file: f, errors: [] });
});

test("the schema check rejects a broken workflow", () => {
  expect(validateWorkflow("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    stepz: []\n").errors.length).toBeGreaterThan(0);
});

test("every job that builds the tools sets up Go from a tool module's go.mod, and caches Go and .tools/bin keyed on the pins", () => {
  for (const f of files) {
    for (const [id, job] of Object.entries(workflow(f).jobs)) {
      const build = job.steps.findIndex((s) => scriptOf(s.run)?.script === "tools");
      if (build < 0) continue;
      const where = `${f}: job ${id}`;
      const before = job.steps.slice(0, build);
      const go = before.find((s) => s.uses?.startsWith("actions/setup-go@"));
      expect({ where, with: go?.with }).toEqual({
        where,
        with: { "go-version-file": expect.stringMatching(/^tools\/[a-z-]+\/go\.mod$/), cache: false },
      });
      const restore = before.find((s) => s.uses?.startsWith("actions/cache/restore@"));
      const save = job.steps.slice(build + 1).find((s) => s.uses?.startsWith("actions/cache/save@"));
      const paths = (s?: Step) =>
        String(s?.with?.path ?? "")
          .trim()
          .split("\n")
          .sort();
      expect({ where, paths: paths(restore) }).toEqual({ where, paths: [".tools/bin", "~/.cache/go-build", "~/go/pkg/mod"] });
      expect({ where, paths: paths(save) }).toEqual({ where, paths: paths(restore) });
      const key = String(restore?.with?.key);
      for (const pin of [
        "tools/**/go.mod",
        "tools/**/go.sum",
        "lab/tools/*.ts",
        "components/images.ts",
        "components/database-exporters/kinds.ts",
      ]) {
        expect({ where, key, has: key.includes(`'${pin}'`) }).toEqual({ where, key, has: true });
      }
      const tier = scriptOf(job.steps[build].run)?.args[0];
      expect(key.startsWith(`tools-${tier}-`)).toBe(true);
      expect(restore?.with?.["restore-keys"]).toBe(key.slice(0, key.indexOf("${{ hashFiles")));
      expect(save?.with?.key).toBe(`\${{ steps.${restore?.id}.outputs.cache-primary-key }}`);
      expect(save?.if).toBe(`steps.${restore?.id}.outputs.cache-hit != 'true'`);
    }
  }
});

test("setup-go reads a go.mod with the highest go line of the tool modules (the Go that builds them all)", () => {
  const named = files.flatMap((f) =>
    steps(f)
      .filter((s) => s.uses?.startsWith("actions/setup-go@"))
      .map((s) => String(s.with?.["go-version-file"])),
  );
  expect(named.length).toBeGreaterThan(0);
  for (const file of new Set(named)) {
    const line = /^go (\S+)$/m.exec(fs.readFileSync(path.join(ROOT, file), "utf8"))?.[1];
    expect({ file, go: line }).toEqual({ file, go: goVersion().version });
  }
});

test("the workflows run one Node LTS, which package.json's engines and @pulumi/pulumi's accept", () => {
  const versions = new Set(
    files.flatMap((f) =>
      steps(f)
        .filter((s) => s.uses?.startsWith("actions/setup-node@"))
        .map((s) => String(s.with?.["node-version"])),
    ),
  );
  expect(versions.size).toBe(1);
  const [major] = [...versions].map(Number);
  // Even majors become LTS; 22 is supported until April 2027.
  expect(major % 2).toBe(0);
  const floor = (file: string) =>
    Number(/^>=(\d+)$/.exec((JSON.parse(fs.readFileSync(file, "utf8")) as { engines: { node: string } }).engines.node)?.[1]);
  const ours = floor(path.join(ROOT, "package.json"));
  expect(ours).toBeGreaterThanOrEqual(floor(path.join(ROOT, "node_modules", "@pulumi", "pulumi", "package.json")));
  expect(major).toBeGreaterThanOrEqual(ours);
});

test("each preview job asks for what it uses and no more", () => {
  const wf = workflow("preview.yml");
  expect(wf.permissions).toEqual({});
  for (const job of Object.values(wf.jobs)) expect(job.permissions).toEqual({ contents: "read", "pull-requests": "write" });
  // The pull request's code runs in the job: the checkout leaves no token in .git/config for it.
  for (const job of Object.values(wf.jobs)) {
    expect(job.steps.find((s) => s.uses?.startsWith("actions/checkout@"))?.with).toMatchObject({ "persist-credentials": false });
  }
});

test("the Pulumi CLI the workflows install is one exact release: the one tools/pulumi builds and @pulumi/pulumi is", () => {
  expect(PULUMI_CLI).toMatch(/^\d+\.\d+\.\d+$/);
  expect(goModRequire("pulumi", "github.com/pulumi/pulumi/pkg/v3")).toBe(`v${PULUMI_CLI}`);
  expect(pinnedNpmVersion("@pulumi/pulumi")).toBe(PULUMI_CLI);
  const installed = files.flatMap((f) =>
    steps(f)
      .filter((s) => s.uses?.startsWith("pulumi/actions@"))
      .map((s) => s.with?.["pulumi-version"]),
  );
  expect(installed).toEqual([PULUMI_CLI, PULUMI_CLI, PULUMI_CLI]);
});

test("the expression reader short-circuits as GitHub does, and refuses what it does not read (the checks then take every name)", () => {
  const context = { github: { event_name: "workflow_dispatch" }, inputs: { stack: "production" } };
  const read: string[] = [];
  const secret = (name: string) => {
    read.push(name);
    return "***";
  };
  const line = "(github.event_name == 'workflow_dispatch' && inputs.stack == 'production') && secrets.A || secrets.B";
  expect(evaluate(line, context, secret)).toBe("***");
  expect(read).toEqual(["A"]);
  expect(evaluate(line, { ...context, inputs: { stack: "staging" } }, secret)).toBe("***");
  expect(read).toEqual(["A", "B"]);
  expect(() => evaluate("toJSON(secrets)", context)).toThrow();
  expect(secretNames({ env: { ALL: "${{ toJSON(secrets) }}" }, with: { x: "${{ secrets['Some_Name'] }}" } })).toEqual(
    new Set(["*", "SOME_NAME"]),
  );
});

/** What one run of a job does: its scripts and pulumi commands, in order, as GitHub would run its steps in that start. */
function doneBy(run: Run): string[] {
  return run.job.steps
    .filter((step) => {
      try {
        return step.if === undefined || step.if === "always()" || truthy(evaluate(bare(String(step.if)), run.context));
      } catch {
        return true;
      }
    })
    .flatMap((step) => {
      const script = scriptOf(step.run);
      if (script) return [[script.script, ...script.args].join(" ")];
      if (step.uses?.startsWith("pulumi/actions@"))
        return [`pulumi ${String(step.with?.command)} ${interpolate(String(step.with?.["stack-name"]), run.context)}`];
      return [];
    });
}

test("what runs, where and with which secrets, in every way each workflow starts", () => {
  // A row per job and start, as GitHub evaluates the jobs' if and environment and the steps' if: [run, environment, steps, secrets read].
  const table = runsOf(TEXTS).map((r) => [
    `${r.where} (${r.label})`,
    r.environment ?? "-",
    doneBy(r).join(", "),
    [...secretsRead(r, LAYOUT)].sort().join(", "),
  ]);
  const ci = (job: string, steps: string) =>
    [`ci.yml: job ${job} (push to main)`, `ci.yml: job ${job} (pull_request)`].map((run) => [run, "-", steps, ""]);
  const preview = (stack: string, upper: string) => [
    `preview.yml: job ${stack} (pull_request)`,
    `${stack}-preview`,
    `npm-ci, kubeconfig-write, pulumi preview ${stack}, kubeconfig-remove`,
    `KUBECONFIG_${upper}_PREVIEW, PULUMI_ACCESS_TOKEN_PREVIEW, PULUMI_CONFIG_PASSPHRASE`,
  ];
  const up = (label: string, stack: string, upper: string) => [
    `deploy.yml: job up (${label})`,
    stack,
    `require-ci-success, npm-ci, kubeconfig-write, pulumi up ${stack}, kubeconfig-remove`,
    `KUBECONFIG_${upper}, PULUMI_ACCESS_TOKEN, PULUMI_CONFIG_PASSPHRASE`,
  ];
  expect(table).toEqual([
    ...ci("offline", "system-packages offline, npm-ci, check-changelog, render, tools offline, check-renovate, test-offline"),
    ...ci("cluster", "npm-ci, tools cluster, test-cluster"),
    ...ci("live", "system-packages live, npm-ci, tools live, test-live"),
    up("workflow_run", "staging", "STAGING"),
    up("workflow_dispatch stack=staging", "staging", "STAGING"),
    up("workflow_dispatch stack=production", "production", "PRODUCTION"),
    preview("staging", "STAGING"),
    preview("production", "PRODUCTION"),
  ]);
  // Every test tier the tools know has its ci job (a tier added there without one fails here).
  expect(TIERS.filter((t) => !table.some((row) => row[0] === `ci.yml: job ${t} (pull_request)`))).toEqual([]);
  // deploy.yml also starts on a failed ci run, a pull request's and a fork's, which run nothing above.
  expect(scenariosOf(workflow("deploy.yml")).map((s) => s.label)).toEqual(
    expect.arrayContaining(["workflow_run that failed", "workflow_run of a pull request", "workflow_run from a fork"]),
  );
  // The deploy checks out the commit ci tested (the workflow_run's head_sha), not main's latest.
  const staging = runsOf(TEXTS).find((r) => r.where === "deploy.yml: job up" && r.label === "workflow_run") as Run;
  expect(interpolate(String(staging.job.steps.find((s) => s.uses?.startsWith("actions/checkout@"))?.with?.ref), staging.context)).toBe(
    "a".repeat(40),
  );
  expect(checks.deployRunsNoTests(TEXTS)).toEqual([]);
});

/** The measured durations of the workflows' steps (minutes), from which their timeouts are set. */
const DURATIONS = YAML.parse(fs.readFileSync(path.join(ROOT, ".ci", "durations.yml"), "utf8")) as {
  margin: number;
  steps: Record<string, number>;
};

/**
 * What a security review of the workflows looks for, each as a list of the places that break it
 * (empty when none do), so that the tests below can show each check failing on a workflow that
 * breaks it. `texts` maps a file name to its YAML.
 */
const environmentOf = (job: Job) => (typeof job.environment === "object" ? job.environment.name : job.environment);
const jobsOf = (texts: Record<string, string>) =>
  Object.entries(texts).flatMap(([file, t]) =>
    Object.entries((YAML.parse(t) as Workflow).jobs).map(([id, job]) => ({ file, id, job, where: `${file}: job ${id}` })),
  );

/**
 * Where docs/deployment.md ("GitHub workflows") tells users to keep each secret: the repository,
 * which every workflow on every branch reads (a pull request runs its own copy of the
 * workflows), or a GitHub environment, which gives its secrets only to the branches it admits.
 * The checks below hold the workflows to this table, and the table is the one users follow.
 */
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

/**
 * The one secret a preview and a deploy of the same stack share: the stack's passphrase, without
 * which a preview cannot read the stack's config. It opens neither the cluster nor the backend,
 * but it decrypts every secret of the stack's config and state (DECRYPTING below).
 */
const STACK_PASSPHRASE = "PULUMI_CONFIG_PASSPHRASE";
/**
 * The credentials that decrypt a deployed stack's secrets: its passphrase, and the backend
 * tokens (with Pulumi Cloud's own secrets provider a token that reads the stack decrypts it).
 */
const DECRYPTING = (name: string) => name === STACK_PASSPHRASE || name.startsWith("PULUMI_ACCESS_TOKEN");
/** The Pulumi CLI the tools build (lab/tools/tools.ts), which the workflows install too. */
const PULUMI_CLI = (TOOLS.find((t) => t.binary === "pulumi")?.release ?? "").replace(/^v/, "");

type Context = Record<string, unknown>;
const truthy = (v: unknown) => !(v === false || v === 0 || v === "" || v === null || v === undefined);

/**
 * The value of a GitHub expression: the part of the language the workflows' `if`, `environment`
 * and `with` lines use (literals, context paths, !, ==, !=, &&, || with GitHub's short-circuit,
 * parentheses and the status functions). `secret` answers `secrets.NAME`, only where GitHub
 * would evaluate it. Anything else throws, and the checks then take every name the text holds.
 */
function evaluate(expression: string, context: Context, secret: (name: string) => unknown = () => null): unknown {
  const tokens = [...expression.matchAll(/\s*('(?:[^']|'')*'|&&|\|\||==|!=|[A-Za-z_][\w-]*(?:\.[\w-]+)*|\d+(?:\.\d+)?|\S)/g)].map(
    (m) => m[1],
  );
  let at = 0;
  const equal = (a: unknown, b: unknown) =>
    typeof a === "string" && typeof b === "string" ? a.toLowerCase() === b.toLowerCase() : (a ?? null) === (b ?? null);
  // Each level parses its operands whatever `live` says, and looks values up only when it is live.
  const or = (live: boolean): unknown => {
    let value = and(live);
    while (tokens[at] === "||") {
      at++;
      const right = and(live && !truthy(value));
      if (!truthy(value)) value = right;
    }
    return value;
  };
  const and = (live: boolean): unknown => {
    let value = comparison(live);
    while (tokens[at] === "&&") {
      at++;
      const right = comparison(live && truthy(value));
      if (truthy(value)) value = right;
    }
    return value;
  };
  const comparison = (live: boolean): unknown => {
    const left = unary(live);
    if (tokens[at] !== "==" && tokens[at] !== "!=") return left;
    const same = tokens[at++] === "==";
    return equal(left, unary(live)) === same;
  };
  const unary = (live: boolean): unknown => {
    if (tokens[at] !== "!") return primary(live);
    at++;
    return !truthy(unary(live));
  };
  const primary = (live: boolean): unknown => {
    const token = tokens[at++];
    if (token === undefined) throw new Error(`${expression}: ends early`);
    if (token === "(") {
      const value = or(live);
      if (tokens[at++] !== ")") throw new Error(`${expression}: no )`);
      return value;
    }
    if (token.startsWith("'")) return token.slice(1, -1).replace(/''/g, "'");
    if (/^\d/.test(token)) return Number(token);
    if (token === "true" || token === "false") return token === "true";
    if (token === "null") return null;
    if (!/^[A-Za-z_]/.test(token)) throw new Error(`${expression}: ${token} is not read here`);
    if (tokens[at] === "(") {
      const status = ({ always: true, success: true, failure: false, cancelled: false } as Record<string, boolean>)[token];
      if (status === undefined || tokens[at + 1] !== ")") throw new Error(`${expression}: ${token}(…) is not read here`);
      at += 2;
      return status;
    }
    const [head, ...rest] = token.split(".");
    if (head === "secrets") {
      if (rest.length !== 1) throw new Error(`${expression}: the whole secrets context`);
      return live ? secret(rest[0].toUpperCase()) : null;
    }
    if (!live) return null;
    return [head, ...rest].reduce<unknown>(
      (v, key) => (v !== null && typeof v === "object" ? ((v as Context)[key] ?? null) : null),
      context,
    );
  };
  const value = or(true);
  if (at !== tokens.length) throw new Error(`${expression}: ${tokens[at]} is not read here`);
  return value;
}
/** A string with `${{ }}` in it, as GitHub fills it in; the text itself when an expression is not read here. */
function interpolate(text: string, context: Context): string {
  try {
    return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, e: string) => String(evaluate(e, context) ?? ""));
  } catch {
    return text;
  }
}
const bare = (condition: string) => /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(condition)?.[1] ?? condition;

/** Every secret a part of a workflow names, as GitHub stores them (upper case); "*" for the whole context. */
function secretNames(part: unknown): Set<string> {
  const names = new Set<string>();
  const visit = (value: unknown) => {
    if (typeof value === "string") {
      for (const m of value.matchAll(/(?<![\w.-])secrets(?![\w-])(?:\s*\.\s*(\w+)|\s*\[\s*'([^']+)'\s*\])?/g)) {
        names.add((m[1] ?? m[2] ?? "*").toUpperCase());
      }
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") {
      // `secrets: inherit` hands a called workflow every secret.
      for (const [key, v] of Object.entries(value)) {
        if (key === "secrets") names.add("*");
        visit(v);
      }
    }
  };
  visit(part);
  return names;
}

/** One way a workflow starts, as its jobs' expressions see it; `branchCode`: it runs a branch's code (a pull request's). */
interface Scenario {
  label: string;
  branchCode: boolean;
  context: Context;
}
const REPOSITORY = "team/monitoring";
function scenariosOf(wf: Workflow): Scenario[] {
  const on = wf.on as unknown;
  const triggers = (
    typeof on === "string" ? { [on]: null } : Array.isArray(on) ? Object.fromEntries(on.map((e) => [e, null])) : on
  ) as Context;
  const github = (event_name: string, ref: string, event: Context = {}) => ({ github: { event_name, ref, repository: REPOSITORY, event } });
  return Object.entries(triggers).flatMap(([event, spec]): Scenario[] => {
    const { branches, inputs = {} } = (spec ?? {}) as {
      branches?: string[];
      inputs?: Record<string, { options?: string[]; default?: string }>;
    };
    switch (event) {
      case "pull_request":
      case "pull_request_target":
        // A pull request from a branch of this repository (one from a fork gets no secrets).
        return [
          {
            label: event,
            branchCode: true,
            context: github(event, "refs/pull/1/merge", { pull_request: { head: { repo: { full_name: REPOSITORY } } } }),
          },
        ];
      case "push":
        return [
          { label: "push to main", branchCode: false, context: github(event, "refs/heads/main") },
          ...(branches?.every((b) => b === "main")
            ? []
            : [{ label: "push to a branch", branchCode: true, context: github(event, "refs/heads/a-branch") }]),
        ];
      case "workflow_run": {
        // The run that finished: ci on a push to main, and the ones that must not deploy. One from a pull request
        // (or a fork's branch named main) carries that branch's commit as head_sha: a job that checks it out runs its code.
        const run = (over: Context) => ({
          workflow_run: {
            conclusion: "success",
            event: "push",
            head_repository: { full_name: REPOSITORY },
            head_sha: "a".repeat(40),
            ...over,
          },
        });
        return [
          { label: event, branchCode: false, context: github(event, "refs/heads/main", run({})) },
          { label: `${event} that failed`, branchCode: false, context: github(event, "refs/heads/main", run({ conclusion: "failure" })) },
          {
            label: `${event} of a pull request`,
            branchCode: true,
            context: github(event, "refs/heads/main", run({ event: "pull_request" })),
          },
          {
            label: `${event} from a fork`,
            branchCode: true,
            context: github(event, "refs/heads/main", run({ head_repository: { full_name: "someone/fork" } })),
          },
        ];
      }
      case "workflow_dispatch": {
        // Run by hand on main; from another branch, the environment's branch rule decides (checked below).
        let choices: Array<Record<string, string>> = [{}];
        for (const [name, input] of Object.entries(inputs)) {
          choices = choices.flatMap((c) => (input.options ?? [input.default ?? ""]).map((v) => ({ ...c, [name]: v })));
        }
        return choices.map((chosen) => ({
          label: [event, ...Object.entries(chosen).map(([k, v]) => `${k}=${v}`)].join(" "),
          branchCode: false,
          context: { ...github(event, "refs/heads/main"), inputs: chosen },
        }));
      }
      default:
        return [{ label: event, branchCode: true, context: github(event, "refs/heads/a-branch") }];
    }
  });
}

/** A job as it runs in one scenario: its environment and env filled in. */
interface Run {
  where: string;
  label: string;
  branchCode: boolean;
  job: Job;
  wf: Workflow;
  context: Context;
  environment?: string;
}
function runsOf(texts: Record<string, string>): Run[] {
  return jobsOf(texts).flatMap(({ file, job, where }) => {
    const wf = YAML.parse(texts[file]) as Workflow;
    return scenariosOf(wf)
      .filter((s) => {
        try {
          return job.if === undefined || truthy(evaluate(bare(String(job.if)), s.context));
        } catch {
          return true;
        }
      })
      .map((s) => {
        const env: Record<string, string> = {};
        for (const [k, v] of Object.entries({ ...wf.env, ...job.env })) env[k] = interpolate(String(v), { ...s.context, env });
        const context = { ...s.context, env, vars: {} };
        const named = environmentOf(job);
        const run: Run = { where, label: s.label, branchCode: s.branchCode, job, wf, context };
        if (named !== undefined) run.environment = interpolate(named, context);
        return run;
      });
  });
}

/** Where a job in `environment` gets a secret: the environment's if it holds one of that name, else the repository's. */
function scopeOf(layout: Layout, name: string, environment?: string): string | undefined {
  if (environment && layout.environments.get(environment)?.secrets.has(name)) return `environment ${environment}`;
  return layout.repository.has(name) ? "repository" : undefined;
}
/** The names a run may read with "*" spelled out: every secret of the repository and of its environment. GITHUB_TOKEN is every job's. */
function spelledOut(names: Set<string>, run: Run, layout: Layout): Set<string> {
  const all = names.has("*") ? [...layout.repository, ...(layout.environments.get(run.environment ?? "")?.secrets ?? [])] : [];
  return new Set([...names, ...all].filter((n) => n !== "*" && n !== "GITHUB_TOKEN"));
}
/** Every secret a run can read: what it names, and every secret of its environment, named or not. */
function readable(run: Run, layout: Layout): Set<string> {
  const names = new Set([
    ...secretNames(run.wf.env),
    ...secretNames(run.job),
    ...(layout.environments.get(run.environment ?? "")?.secrets ?? []),
  ]);
  return spelledOut(names, run, layout);
}
/** The secrets a run reads as GitHub evaluates its expressions (an unset secret is ''); every name in an expression not read here. */
function secretsRead(run: Run, layout: Layout): Set<string> {
  const read = new Set<string>();
  // Twice: with the secrets set where the table puts them, and with every one unset, as in an
  // environment someone forgot to fill: `a && secrets.X || secrets.Y` reads Y then.
  let unset = false;
  const secret = (name: string) => {
    read.add(name);
    return !unset && scopeOf(layout, name, run.environment) ? "***" : "";
  };
  const visit = (value: unknown, key?: string) => {
    if (typeof value === "string") {
      const expressions = key === "if" ? [bare(value)] : [...value.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => m[1]);
      for (const e of expressions) {
        try {
          evaluate(e, run.context, secret);
        } catch {
          for (const n of secretNames(e)) read.add(n);
        }
      }
    } else if (Array.isArray(value)) value.forEach((v) => visit(v));
    else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        if (k === "secrets") read.add("*");
        visit(v, k);
      }
    }
  };
  // A step whose `if` is false in this run reads nothing (deploy.yml's kubeconfig of the other stack).
  const runsHere = (step: Step) => {
    try {
      return step.if === undefined || truthy(evaluate(bare(String(step.if)), run.context));
    } catch {
      return true;
    }
  };
  for (unset of [false, true]) {
    visit(run.wf.env);
    visit({ ...run.job, steps: undefined });
    for (const step of run.job.steps.filter(runsHere)) visit(step);
  }
  return spelledOut(read, run, layout);
}
/** A job that changes a stack: pulumi/actions with any command but preview, or a script that runs `pulumi up` and the like. */
const deploys = (job: Job) =>
  (job.steps ?? []).some(
    (s) =>
      (s.uses?.startsWith("pulumi/actions@") && String(s.with?.command ?? "").trim() !== "preview") ||
      /\bpulumi\s+(?:up|update|destroy|refresh|import)\b/.test(runText(s).replace(/^\s*#.*$/gm, "")),
  );

const checks = {
  /** Every action by the commit of a release, with the release in a comment (Renovate's github-actions format). */
  pinned(texts: Record<string, string>): string[] {
    const bad: string[] = [];
    for (const [file, t] of Object.entries(texts)) {
      const lines = t.split("\n").filter((l) => /^\s*(?:-\s+)?uses:/.test(l));
      for (const line of lines) {
        if (!/^\s*(?:-\s+)?uses: [A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+$/.test(line)) {
          bad.push(`${file}: ${line.trim()}`);
        }
      }
      // A `uses` the line check did not see (flow style, a quoted key) is not pinned as far as we know.
      const parsed = Object.values((YAML.parse(t) as Workflow).jobs).flatMap((j) => j.steps.filter((s) => s.uses));
      if (parsed.length !== lines.length) bad.push(`${file}: ${parsed.length} uses, ${lines.length} uses: lines`);
    }
    // One action, one commit and one release everywhere: a half-done bump is no pin.
    const seen = new Map<string, string>();
    for (const t of Object.values(texts)) {
      for (const [, action, pin] of t.matchAll(/uses: ([^@\s]+)@(\S+(?: # \S+)?)/g)) {
        if (seen.has(action) && seen.get(action) !== pin) bad.push(`${action}: ${seen.get(action)} and ${pin}`);
        seen.set(action, pin);
      }
    }
    return bad;
  },
  /** Workflow-wide env is inherited by every job: a secret there reaches jobs without an environment. */
  noWorkflowSecrets(texts: Record<string, string>): string[] {
    return Object.entries(texts)
      .filter(([, t]) => /secrets\./.test(YAML.stringify((YAML.parse(t) as Workflow).env ?? {})))
      .map(([file]) => file);
  },
  /** pull_request_target runs with the base repository's secrets on any pull request, forks included. */
  noPullRequestTarget(texts: Record<string, string>): string[] {
    return Object.entries(texts)
      .filter(([, t]) => {
        const on = (YAML.parse(t) as Workflow).on as unknown;
        const events = typeof on === "string" ? [on] : Array.isArray(on) ? on : Object.keys(on as object);
        return events.includes("pull_request_target") || /pull_request_target/.test(t);
      })
      .map(([file]) => file);
  },
  /** The kubeconfig is written private (umask 077) and removed by a step that runs even when the job failed. */
  credentialsCleaned(texts: Record<string, string>): string[] {
    const bad: string[] = [];
    for (const { job, where } of jobsOf(texts)) {
      const write = job.steps.findIndex((s) => /> "\$KUBECONFIG"/.test(runText(s)));
      if (write < 0) continue;
      if (!/^umask 077$/m.test(runText(job.steps[write]))) bad.push(`${where}: written without umask 077`);
      const remove = job.steps.findIndex((s, i) => i > write && s.if === "always()" && /rm -f "\$KUBECONFIG"/.test(runText(s)));
      if (remove < 0) bad.push(`${where}: no always() step removes it`);
      else if (job.steps.slice(remove + 1).some((s) => s.uses || /\$KUBECONFIG|npm|pulumi/.test(s.run ?? ""))) {
        bad.push(`${where}: steps run after the credentials are removed`);
      }
    }
    return bad;
  },
  /** In a preview, the pull request's code installs before any secret exists in the job. */
  noSecretBeforeInstall(texts: Record<string, string>): string[] {
    return jobsOf({ "preview.yml": texts["preview.yml"] })
      .filter(({ job }) => {
        if (/secrets\./.test(YAML.stringify(job.env ?? {}))) return true;
        const install = job.steps.findIndex((s) => /npm ci/.test(runText(s)));
        return install < 0 || job.steps.slice(0, install + 1).some((s) => /secrets\./.test(YAML.stringify(s)));
      })
      .map(({ where }) => where);
  },
  /** Every `run:` is a script of .ci/ (with plain arguments) that exists and is executable: what CI runs is tested here. */
  scriptsOnly(texts: Record<string, string>): string[] {
    return jobsOf(texts).flatMap(({ job, where }) =>
      job.steps
        .filter((s) => s.run !== undefined)
        .filter((s) => {
          const called = scriptOf(s.run);
          if (!called) return true;
          const file = path.join(ROOT, ".ci", called.script);
          return !fs.existsSync(file) || (fs.statSync(file).mode & 0o111) === 0;
        })
        .map((s) => `${where}: ${String(s.run).trim()}`),
    );
  },
  /** The deploy runs no test tier, no lab, no tool build, and not the whole .ci/run: ci did. */
  deployRunsNoTests(texts: Record<string, string>): string[] {
    return jobsOf({ "deploy.yml": texts["deploy.yml"] }).flatMap(({ job, where }) =>
      job.steps
        .filter((s) => /\.ci\/(?:run|test-|tools)|test:live|test:cluster|npm (?:run )?test|npm run tools|\bjest\b/.test(runText(s)))
        .map((s) => `${where}: ${String(s.run).trim()}`),
    );
  },
  /** Every job's timeout is at least its steps' durations (.ci/durations.yml) times the margin, and says so. */
  timeouts(texts: Record<string, string>): string[] {
    const bad: string[] = [];
    for (const { file, job, where } of jobsOf(texts)) {
      const figures = job.steps.flatMap((s) => {
        if (s.run !== undefined) return [scriptOf(s.run)?.script ?? "(not a script)"];
        if (s.uses?.startsWith("pulumi/actions@")) return [`pulumi-${String(s.with?.command)}`];
        return [];
      });
      const terms = ["actions", ...figures];
      const unknown = terms.filter((t) => DURATIONS.steps[t] === undefined);
      if (unknown.length > 0) bad.push(`${where}: no duration for ${unknown.join(", ")} in .ci/durations.yml`);
      const sum = terms.reduce((total, t) => total + (DURATIONS.steps[t] ?? 0), 0);
      const needed = sum * DURATIONS.margin;
      const timeout = job["timeout-minutes"] ?? 0;
      if (timeout < needed) bad.push(`${where}: timeout-minutes ${timeout} < ${needed}`);
      // The comment above the timeout shows the same sum.
      const shown = `(${terms.map((t) => `${t} ${DURATIONS.steps[t]}`).join(" + ")}) × ${DURATIONS.margin} = ${needed}`;
      if (!texts[file].includes(`# ${shown}`)) bad.push(`${where}: no comment "# ${shown}"`);
    }
    return bad;
  },
  /**
   * No job that runs a branch's code (a pull request's, whose copy of the workflows is its own)
   * can read a secret a deploy reads: neither by name nor through its environment, every secret
   * of which is the job's to read. The stack's passphrase aside (STACK_PASSPHRASE).
   */
  pullRequestsReadNoDeploySecret(texts: Record<string, string>, layout: Layout = LAYOUT): string[] {
    const runs = runsOf(texts);
    const deployed = new Map<string, string>();
    for (const run of runs.filter((r) => deploys(r.job))) {
      for (const name of readable(run, layout)) if (!deployed.has(name)) deployed.set(name, run.where);
    }
    const bad = runs
      .filter((r) => r.branchCode)
      .flatMap((run) =>
        [...readable(run, layout)]
          .filter((name) => deployed.has(name) && name !== STACK_PASSPHRASE)
          .map((name) => `${run.where} (${run.label}) can read ${name}, which ${deployed.get(name)} deploys with`),
      );
    return [...new Set(bad)];
  },
  /**
   * What a deploy reads lives in the environment it runs in, which admits `main` alone: not in
   * the repository, which every branch reads, and no job reads it outside such an environment
   * (where the name would fetch a repository secret of that name, if one is left).
   */
  deployCredentialsInMainOnlyEnvironments(texts: Record<string, string>, layout: Layout = LAYOUT): string[] {
    const bad = new Set<string>();
    const runs = runsOf(texts);
    const credentials = new Map<string, string>();
    for (const run of runs.filter((r) => deploys(r.job))) {
      const scope = layout.environments.get(run.environment ?? "");
      if (run.environment === undefined) bad.add(`${run.where} (${run.label}) deploys without an environment`);
      else if (!scope)
        bad.add(`${run.where} (${run.label}) deploys in environment ${run.environment}, which docs/deployment.md does not set up`);
      else if (!scope.mainOnly)
        bad.add(`${run.where} (${run.label}) deploys in environment ${run.environment}, which admits branches besides main`);
      for (const name of secretsRead(run, layout)) if (name !== STACK_PASSPHRASE) credentials.set(name, run.where);
    }
    for (const [name, where] of credentials) {
      if (layout.repository.has(name)) bad.add(`${name}, which ${where} deploys with, is a repository secret: every branch reads it`);
    }
    for (const run of runs) {
      const scope = layout.environments.get(run.environment ?? "");
      for (const name of secretsRead(run, layout)) {
        if (credentials.has(name) && !(scope?.mainOnly && scope.secrets.has(name))) {
          bad.add(`${run.where} (${run.label}) reads ${name} outside an environment that holds it and admits main alone`);
        }
      }
    }
    return [...bad];
  },
  /** Each deploy runs in the environment named after the stack it updates: staging's in `staging`. */
  deployInItsStacksEnvironment(texts: Record<string, string>): string[] {
    return runsOf(texts)
      .filter((r) => deploys(r.job))
      .flatMap((run) =>
        run.job.steps
          .filter((s) => s.uses?.startsWith("pulumi/actions@"))
          .map((s) => interpolate(String(s.with?.["stack-name"] ?? ""), run.context))
          .filter((stack) => stack !== run.environment)
          .map((stack) => `${run.where} (${run.label}) updates ${stack} in environment ${run.environment ?? "(none)"}`),
      );
  },
  /**
   * Every secret a job reads is set, by docs/deployment.md's table, where that job reads it from
   * (its environment, or the repository); every environment a job runs in is one the table sets
   * up; and the table lists nothing that no job reads.
   */
  secretsWhereDocsPutThem(texts: Record<string, string>, layout: Layout = LAYOUT): string[] {
    const bad = new Set<string>();
    const used = new Set<string>();
    for (const run of runsOf(texts)) {
      if (run.environment !== undefined && !layout.environments.has(run.environment)) {
        bad.add(`${run.where} (${run.label}) runs in environment ${run.environment}, which docs/deployment.md does not set up`);
      }
      for (const name of secretsRead(run, layout)) {
        const scope = scopeOf(layout, name, run.environment);
        if (scope) used.add(`${scope}: ${name}`);
        else
          bad.add(
            `${run.where} (${run.label}) reads ${name}, which docs/deployment.md sets neither in its environment nor in the repository`,
          );
      }
    }
    const listed = [
      ...[...layout.repository].map((n) => `repository: ${n}`),
      ...[...layout.environments].flatMap(([e, s]) => [...s.secrets].map((n) => `environment ${e}: ${n}`)),
    ];
    for (const entry of listed) if (!used.has(entry)) bad.add(`docs/deployment.md sets ${entry}, which no job reads`);
    return [...bad];
  },
  /**
   * Jobs that run a branch's code read read-only preview credentials (`*_PREVIEW`) and the
   * stack's passphrase, nothing else; a deploy reads no preview credential.
   */
  previewsReadPreviewCredentials(texts: Record<string, string>, layout: Layout = LAYOUT): string[] {
    return runsOf(texts).flatMap((run) =>
      [...readable(run, layout)].flatMap((name) => {
        const preview = name.endsWith("_PREVIEW");
        if (run.branchCode && !preview && name !== STACK_PASSPHRASE)
          return [`${run.where} (${run.label}) can read ${name}, no preview credential`];
        if (deploys(run.job) && preview) return [`${run.where} (${run.label}) deploys with ${name}, a preview's read-only credential`];
        return [];
      }),
    );
  },
  /**
   * No job that runs a branch's code can read a credential that decrypts a deployed stack
   * (DECRYPTING) before a reviewer approves: only in an environment with required reviewers
   * (docs/deployment.md's table), which holds it; never from the repository.
   */
  decryptingAfterReview(texts: Record<string, string>, layout: Layout = LAYOUT): string[] {
    const bad = [...layout.repository].filter(DECRYPTING).map((n) => `${n} is a repository secret: every branch's code reads it`);
    for (const run of runsOf(texts).filter((r) => r.branchCode)) {
      const scope = layout.environments.get(run.environment ?? "");
      for (const name of [...readable(run, layout), ...secretsRead(run, layout)].filter(DECRYPTING)) {
        if (!scope?.reviewed || !scope.secrets.has(name))
          bad.push(`${run.where} (${run.label}) can read ${name} without a reviewer's approval (environment ${run.environment ?? "none"})`);
      }
    }
    return [...new Set(bad)];
  },
  /** Every action that installs the Pulumi CLI installs one release, the one the tools build: no range, no newest. */
  pulumiCliPinned(texts: Record<string, string>): string[] {
    return jobsOf(texts).flatMap(({ job, where }) =>
      job.steps
        .filter((s) => /^pulumi\/(?:actions|setup-pulumi|action-install-pulumi-cli)@/.test(s.uses ?? ""))
        .filter((s) => String(s.with?.["pulumi-version"]) !== PULUMI_CLI || s.with?.["pulumi-version-file"] !== undefined)
        .map(
          (s) =>
            `${where}: ${s.uses?.split("@")[0]} installs pulumi-version ${String(s.with?.["pulumi-version"] ?? "(unset: the newest 3.x)")}, not ${PULUMI_CLI}`,
        ),
    );
  },
};
const TEXTS = Object.fromEntries(files.map((f) => [f, text(f)]));

describe("the workflows cannot leak production, and run what is tested here", () => {
  test.each(Object.keys(checks) as Array<keyof typeof checks>)("%s holds in every workflow", (check) => {
    expect(checks[check](TEXTS)).toEqual([]);
  });

  /** The workflows with one text replaced (which must be there). */
  const broken = (file: string, from: string | RegExp, to: string) => {
    const t = TEXTS[file];
    expect(t).toMatch(from);
    return { ...TEXTS, [file]: t.replace(from, to) };
  };

  test.each([
    ["a major tag", "ci.yml", /upload-artifact@[0-9a-f]{40} # v4\.6\.2/, "upload-artifact@v4"],
    ["a commit without its release", "deploy.yml", /(pulumi\/actions@[0-9a-f]{40}) # v6\.6\.1/, "$1"],
    ["a short commit", "preview.yml", /checkout@([0-9a-f]{12})[0-9a-f]{28}/, "checkout@$1"],
    ["a quoted key", "ci.yml", /- uses: (actions\/upload-artifact@\S+) # v4\.6\.2/, '- "uses": $1'],
  ])("pinned: %s is refused", (_what, file, from, to) => {
    expect(checks.pinned(broken(file, from, to)).length).toBeGreaterThan(0);
  });

  test("pinned: one action at two commits is refused", () => {
    const t = broken("deploy.yml", /(checkout@)[0-9a-f]{40}/, "$1" + "0".repeat(40));
    const found = checks.pinned(t);
    expect(found.length).toBeGreaterThan(0);
    expect(found.filter((p) => !p.startsWith("actions/checkout: "))).toEqual([]);
  });

  test("the production preview without its environment, or in the deploy's, is refused", () => {
    const without = broken("preview.yml", /^ {4}environment: production-preview\n/m, "");
    expect(checks.decryptingAfterReview(without)).toEqual([
      "preview.yml: job production (pull_request) can read PULUMI_ACCESS_TOKEN_PREVIEW without a reviewer's approval (environment none)",
      "preview.yml: job production (pull_request) can read PULUMI_CONFIG_PASSPHRASE without a reviewer's approval (environment none)",
    ]);
    const deploys = broken("preview.yml", "environment: production-preview", "environment: production");
    expect(checks.pullRequestsReadNoDeploySecret(deploys).length).toBeGreaterThan(0);
  });

  test("a secret in a workflow's env is refused", () => {
    const t = broken("ci.yml", /^permissions:/m, "env:\n  KUBECONFIG_DATA: ${{ secrets.KUBECONFIG_PRODUCTION }}\npermissions:");
    expect(checks.noWorkflowSecrets(t)).toEqual(["ci.yml"]);
  });

  test("pull_request_target is refused", () => {
    expect(checks.noPullRequestTarget(broken("preview.yml", /^ {2}pull_request:$/m, "  pull_request_target:"))).toEqual(["preview.yml"]);
  });

  test("credentials written without umask, or not removed by an always() step, are refused", () => {
    const inline = broken("deploy.yml", "run: .ci/kubeconfig-write", `run: printf '%s' "$KUBECONFIG_DATA" > "$KUBECONFIG"`);
    expect(checks.credentialsCleaned(inline)).toEqual(["deploy.yml: job up: written without umask 077"]);
    expect(
      checks.credentialsCleaned(
        broken("preview.yml", /- if: always\(\)\n( *)run: \.ci\/kubeconfig-remove/, "- run: .ci/kubeconfig-remove"),
      ),
    ).toEqual(["preview.yml: job staging: no always() step removes it"]);
  });

  test("a run that is not a script of .ci/, or names one that does not exist, is refused", () => {
    expect(checks.scriptsOnly(broken("ci.yml", "run: .ci/npm-ci", "run: npm ci"))).toEqual(["ci.yml: job offline: npm ci"]);
    expect(checks.scriptsOnly(broken("ci.yml", "run: .ci/test-live", "run: .ci/test-lab"))).toEqual(["ci.yml: job live: .ci/test-lab"]);
    expect(checks.scriptsOnly(broken("ci.yml", "run: .ci/render", "run: .ci/render; curl x"))).toEqual([
      "ci.yml: job offline: .ci/render; curl x",
    ]);
  });

  test("a deploy that runs the live lab, a tier, the tools or .ci/run is refused", () => {
    for (const run of [".ci/test-live", ".ci/run", ".ci/tools live", ".ci/test-offline"]) {
      expect(checks.deployRunsNoTests(broken("deploy.yml", "run: .ci/npm-ci", `run: ${run}`))).toEqual([`deploy.yml: job up: ${run}`]);
    }
  });

  test("a timeout below the measured durations, a step without a duration, or a stale sum in the comment is refused", () => {
    expect(
      checks.timeouts(
        broken(
          "ci.yml",
          "test-live 20) × 1.25 = 111.25\n    timeout-minutes: 115",
          "test-live 20) × 1.25 = 111.25\n    timeout-minutes: 90",
        ),
      ),
    ).toEqual(["ci.yml: job live: timeout-minutes 90 < 111.25"]);
    const added = checks.timeouts(broken("ci.yml", "      - run: .ci/test-live", "      - run: .ci/test-live\n      - run: .ci/npm-ci"));
    expect(added).toEqual([
      expect.stringMatching(
        /^ci\.yml: job live: no comment "# \(actions 2 \+ system-packages 3 \+ npm-ci 2 \+ tools 62 \+ test-live 20 \+ npm-ci 2\)/,
      ),
    ]);
    expect(checks.timeouts(broken("ci.yml", "run: .ci/render", "run: .ci/render-all"))[0]).toBe(
      "ci.yml: job offline: no duration for render-all in .ci/durations.yml",
    );
  });

  test("a secret in the preview job's env, where npm ci sees it, is refused", () => {
    const t = broken(
      "preview.yml",
      /^( {4}env:\n)( {6}KUBECONFIG: )/m,
      "$1      PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}\n$2",
    );
    expect(checks.noSecretBeforeInstall(t)).toEqual(["preview.yml: job staging"]);
  });

  /** docs/deployment.md's table with a change. */
  const layoutWith = (change: (layout: Layout) => void) => {
    const layout = layoutOf(fs.readFileSync(path.join(ROOT, "docs", "deployment.md"), "utf8"));
    change(layout);
    return layout;
  };

  test("a preview that reads staging's deploy kubeconfig or the deploy's backend token, as before, is refused", () => {
    const kubeconfig = broken("preview.yml", "secrets.KUBECONFIG_STAGING_PREVIEW", "secrets.KUBECONFIG_STAGING");
    expect(checks.pullRequestsReadNoDeploySecret(kubeconfig)).toEqual([
      "preview.yml: job staging (pull_request) can read KUBECONFIG_STAGING, which deploy.yml: job up deploys with",
    ]);
    expect(checks.deployCredentialsInMainOnlyEnvironments(kubeconfig)).toEqual([
      "preview.yml: job staging (pull_request) reads KUBECONFIG_STAGING outside an environment that holds it and admits main alone",
    ]);
    expect(checks.secretsWhereDocsPutThem(kubeconfig)).toEqual([
      "preview.yml: job staging (pull_request) reads KUBECONFIG_STAGING, which docs/deployment.md sets neither in its environment nor in the repository",
      "docs/deployment.md sets environment staging-preview: KUBECONFIG_STAGING_PREVIEW, which no job reads",
    ]);
    expect(checks.previewsReadPreviewCredentials(kubeconfig)).toEqual([
      "preview.yml: job staging (pull_request) can read KUBECONFIG_STAGING, no preview credential",
    ]);
    const token = broken("preview.yml", "secrets.PULUMI_ACCESS_TOKEN_PREVIEW", "secrets.PULUMI_ACCESS_TOKEN");
    expect(checks.pullRequestsReadNoDeploySecret(token)).toEqual([
      "preview.yml: job staging (pull_request) can read PULUMI_ACCESS_TOKEN, which deploy.yml: job up deploys with",
    ]);
  });

  test("a pull-request job that can read the stack's passphrase without a reviewed environment is refused: staging's preview as before", () => {
    const before = broken("preview.yml", /^ {4}environment: staging-preview\n/m, "");
    const beforeLayout = layoutWith((l) => {
      l.environments.delete("staging-preview");
      for (const n of ["KUBECONFIG_STAGING_PREVIEW", "PULUMI_ACCESS_TOKEN_PREVIEW", "PULUMI_CONFIG_PASSPHRASE"]) l.repository.add(n);
    });
    expect(checks.decryptingAfterReview(before, beforeLayout)).toEqual([
      "PULUMI_ACCESS_TOKEN_PREVIEW is a repository secret: every branch's code reads it",
      "PULUMI_CONFIG_PASSPHRASE is a repository secret: every branch's code reads it",
      "preview.yml: job staging (pull_request) can read PULUMI_ACCESS_TOKEN_PREVIEW without a reviewer's approval (environment none)",
      "preview.yml: job staging (pull_request) can read PULUMI_CONFIG_PASSPHRASE without a reviewer's approval (environment none)",
    ]);
    // An environment without required reviewers does not do either: any branch's run gets its secrets at once.
    const unreviewed = layoutWith((l) => {
      const env = l.environments.get("staging-preview");
      if (env) env.reviewed = false;
    });
    expect(checks.decryptingAfterReview(TEXTS, unreviewed)).toEqual([
      "preview.yml: job staging (pull_request) can read PULUMI_ACCESS_TOKEN_PREVIEW without a reviewer's approval (environment staging-preview)",
      "preview.yml: job staging (pull_request) can read PULUMI_CONFIG_PASSPHRASE without a reviewer's approval (environment staging-preview)",
    ]);
  });

  test("a deploy that falls back to another environment's kubeconfig, as before, is refused", () => {
    const steps = /( {6}# Each stack's kubeconfig[\s\S]*?KUBECONFIG_PRODUCTION \}\}\n)/;
    const fallback =
      "      - run: .ci/kubeconfig-write\n        env:\n          KUBECONFIG_DATA: ${{ (github.event_name == 'workflow_dispatch' && inputs.stack == 'production') && secrets.KUBECONFIG_PRODUCTION || secrets.KUBECONFIG_STAGING }}\n";
    expect(checks.deployCredentialsInMainOnlyEnvironments(broken("deploy.yml", steps, fallback))).toEqual([
      "deploy.yml: job up (workflow_dispatch stack=production) reads KUBECONFIG_STAGING outside an environment that holds it and admits main alone",
    ]);
  });

  test("a preview in the deploy's environment can read its secrets though it names none of them, and is refused", () => {
    const t = broken("preview.yml", "environment: production-preview", "environment: production");
    expect(checks.pullRequestsReadNoDeploySecret(t).sort()).toEqual([
      "preview.yml: job production (pull_request) can read KUBECONFIG_PRODUCTION, which deploy.yml: job up deploys with",
      "preview.yml: job production (pull_request) can read PULUMI_ACCESS_TOKEN, which deploy.yml: job up deploys with",
    ]);
  });

  test("a ci job that reads a deploy credential is refused: on pull requests by the first check, on main outside the environment by the next", () => {
    const step = "      - run: .ci/check-renovate\n        env:\n          DATA: ${{ secrets['KUBECONFIG_STAGING'] }}";
    const read = broken("ci.yml", "      - run: .ci/check-renovate", step);
    expect(checks.pullRequestsReadNoDeploySecret(read)).toEqual([
      "ci.yml: job offline (pull_request) can read KUBECONFIG_STAGING, which deploy.yml: job up deploys with",
    ]);
    // Only on pushes to main (the job's if): no pull request runs it, but it reads the credential outside its environment.
    const onMain = { ...read, "ci.yml": read["ci.yml"].replace("  offline:\n", "  offline:\n    if: github.event_name == 'push'\n") };
    expect(checks.pullRequestsReadNoDeploySecret(onMain)).toEqual([]);
    expect(checks.deployCredentialsInMainOnlyEnvironments(onMain)).toEqual([
      "ci.yml: job offline (push to main) reads KUBECONFIG_STAGING outside an environment that holds it and admits main alone",
    ]);
  });

  test("a deploy credential in the repository, or a deploy environment open to other branches, is refused", () => {
    const inRepository = layoutWith((l) => l.repository.add("KUBECONFIG_STAGING"));
    expect(checks.deployCredentialsInMainOnlyEnvironments(TEXTS, inRepository)).toEqual([
      "KUBECONFIG_STAGING, which deploy.yml: job up deploys with, is a repository secret: every branch reads it",
    ]);
    // The layout before: staging's credentials in the repository, no staging environment.
    const before = layoutWith((l) => {
      l.environments.delete("staging");
      l.repository.add("KUBECONFIG_STAGING").add("PULUMI_ACCESS_TOKEN");
    });
    expect(checks.deployCredentialsInMainOnlyEnvironments(TEXTS, before)).toEqual(
      expect.arrayContaining([
        "deploy.yml: job up (workflow_run) deploys in environment staging, which docs/deployment.md does not set up",
        "KUBECONFIG_STAGING, which deploy.yml: job up deploys with, is a repository secret: every branch reads it",
      ]),
    );
    const open = layoutWith((l) => {
      const staging = l.environments.get("staging");
      if (staging) staging.mainOnly = false;
    });
    expect(checks.deployCredentialsInMainOnlyEnvironments(TEXTS, open)).toEqual(
      expect.arrayContaining(["deploy.yml: job up (workflow_run) deploys in environment staging, which admits branches besides main"]),
    );
  });

  test("a deploy without an environment, or staging's in production's, is refused", () => {
    const none = broken("deploy.yml", /^ {4}environment: .*\n/m, "");
    expect(checks.deployCredentialsInMainOnlyEnvironments(none)).toEqual(
      expect.arrayContaining(["deploy.yml: job up (workflow_run) deploys without an environment"]),
    );
    const swapped = broken("deploy.yml", "inputs.stack || 'staging' }}\n    # Never", "inputs.stack || 'production' }}\n    # Never");
    expect(checks.deployInItsStacksEnvironment(swapped)).toEqual([
      "deploy.yml: job up (workflow_run) updates staging in environment production",
    ]);
  });

  test("a table that lists a secret no job reads, or a job in an environment the table lacks, is refused", () => {
    expect(
      checks.secretsWhereDocsPutThem(
        TEXTS,
        layoutWith((l) => l.repository.add("KUBECONFIG_STAGING")),
      ),
    ).toEqual(["docs/deployment.md sets repository: KUBECONFIG_STAGING, which no job reads"]);
    expect(checks.secretsWhereDocsPutThem(broken("preview.yml", "environment: production-preview", "environment: preview"))).toEqual(
      expect.arrayContaining([
        "preview.yml: job production (pull_request) runs in environment preview, which docs/deployment.md does not set up",
      ]),
    );
  });

  test.each([
    ["no version (the newest 3.x)", /^ {10}pulumi-version: .*\n/m, ""],
    ["a range", /pulumi-version: .*/, "pulumi-version: ^3"],
    ["another release", /pulumi-version: .*/, "pulumi-version: 3.258.0"],
  ])("pulumiCliPinned: %s is refused", (_what, from, to) => {
    expect(checks.pulumiCliPinned(broken("deploy.yml", from, to))).toEqual([
      expect.stringMatching(
        new RegExp(`^deploy\\.yml: job up: pulumi/actions installs pulumi-version .*, not ${PULUMI_CLI.replace(/\./g, "\\.")}$`),
      ),
    ]);
  });
});

describe("the steps' scripts, run here", () => {
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "ci-step-"));
  /**
   * Runs a script of .ci/. `stubs` are commands put first on PATH (a command that needs the
   * network, secrets or root: npm's installs, gh, apt-get), each recording its arguments in
   * the log and printing what it is given; `onlyStubs` leaves the real PATH out (bash aside).
   */
  function step(
    script: string,
    args: string[] = [],
    opts: { env?: Record<string, string>; stubs?: Record<string, string>; onlyStubs?: boolean } = {},
  ) {
    const dir = tmp();
    const log = path.join(dir, "calls.log");
    for (const [command, output] of Object.entries(opts.stubs ?? {})) {
      fs.writeFileSync(path.join(dir, command), `#!/bin/sh\necho "${command} $*" >> "${log}"\n${output}\n`, { mode: 0o755 });
    }
    if (opts.onlyStubs)
      for (const command of ["bash", "id"])
        fs.symlinkSync(spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).stdout.trim(), path.join(dir, command));
    const PATH = opts.onlyStubs ? dir : `${dir}${path.delimiter}${process.env.PATH}`;
    const r = spawnSync(path.join(ROOT, ".ci", script), args, {
      cwd: os.tmpdir(),
      env: { ...process.env, ...opts.env, PATH },
      encoding: "utf8",
      timeout: 120_000,
    });
    const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
    return { status: r.status, output: `${r.stdout}${r.stderr}`, calls };
  }

  test(".ci/render renders both stacks, offline, into the folder given", () => {
    const out = tmp();
    const r = step("render", [out]);
    expect({ status: r.status, output: r.output }).toMatchObject({ status: 0 });
    for (const stack of ["staging", "production"]) {
      const written = fs.readdirSync(path.join(out, stack), { recursive: true }) as string[];
      expect(written.some((f) => f.endsWith(".yaml"))).toBe(true);
    }
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
    // On a PATH without openssl, redis, sqlite3, wget or mkfs.ext4 (apt-get stubbed: it installs nothing, which the script then says).
    const live = step("system-packages", ["live"], { onlyStubs: true, stubs: { "apt-get": "", sudo: 'exec "$@"' } });
    const install = live.calls.find((c) => c.startsWith("apt-get install"));
    expect(install).toMatch(/--no-install-recommends .*openssl redis-server redis-tools sqlite3 wget e2fsprogs$/);
    expect(live.status).toBe(1);
    expect(live.output).toMatch(/missing openssl after install/);
  });

  test(".ci/system-packages lets unprivileged users make user namespaces where the host keeps them from it, for the test tiers", () => {
    // unshare fails until the sysctl ran (Ubuntu 24.04's default), then works.
    const stubs = {
      unshare: '[ -f "${0%/*}/unshare.ok" ] || exit 1',
      sysctl: ': > "${0%/*}/unshare.ok"',
      sudo: 'exec "$@"',
      "apt-get": "",
    };
    const offline = step("system-packages", ["offline"], { onlyStubs: true, stubs });
    // (sudo, stubbed, runs it when the tests do not run as root)
    expect(offline.calls.filter((c) => !c.startsWith("sudo ")).slice(0, 3)).toEqual([
      "unshare -rn true",
      "sysctl -q -w kernel.apparmor_restrict_unprivileged_userns=0",
      "unshare -rn true",
    ]);
    // Where they can already, and for the cluster tier, nothing is changed.
    const allowed = step("system-packages", ["offline"], { onlyStubs: true, stubs: { ...stubs, unshare: "" } });
    expect(allowed.calls.filter((c) => c.includes("sysctl"))).toEqual([]);
    expect(step("system-packages", ["cluster"], { onlyStubs: true, stubs }).calls).toEqual([]);
  });

  test.each([
    ["npm-ci", [], "npm ci --no-audit --no-fund"],
    ["tools", ["offline"], "npm run tools -- --tier offline"],
    ["check-renovate", [], "npm run check:renovate"],
    ["test-offline", [], "npm test -- --json --outputFile=out/jest-results.json"],
    ["test-cluster", [], "npm run test:cluster -- --json --outputFile=out/jest-cluster-results.json"],
    ["test-live", [], "npm run test:live -- --json --outputFile=out/jest-live-results.json"],
  ])(".ci/%s runs its npm command (npm stubbed)", (script, args, command) => {
    const r = step(script, args, { stubs: { npm: "" } });
    expect({ status: r.status, calls: r.calls }).toEqual({ status: 0, calls: [command] });
  });

  test(".ci/check-changelog compares with the pull request's target, else CHANGELOG_BASE, else the commit before HEAD (npm stubbed)", () => {
    const calls = (env: Record<string, string>) => step("check-changelog", [], { env, stubs: { npm: "" } });
    const check = "npm run --silent changelog:check -- --base";
    expect(calls({ GITHUB_BASE_REF: "main", CHANGELOG_BASE: "" })).toEqual({ status: 0, output: "", calls: [`${check} origin/main`] });
    expect(calls({ GITHUB_BASE_REF: "", CHANGELOG_BASE: "v1" }).calls).toEqual([`${check} v1`]);
    expect(calls({ GITHUB_BASE_REF: "", CHANGELOG_BASE: "" }).calls).toEqual([`${check} HEAD^`]);
  });

  test(".ci/require-ci-success passes a commit ci succeeded on, and refuses any other (gh stubbed)", () => {
    const env = { GITHUB_REPOSITORY: "team/monitoring", DEPLOY_SHA: "a".repeat(40) };
    const passed = step("require-ci-success", [], { env, stubs: { gh: "echo 1" } });
    expect(passed.status).toBe(0);
    expect(passed.calls).toEqual([
      `gh api repos/team/monitoring/actions/workflows/ci.yml/runs?head_sha=${"a".repeat(40)}&status=success&per_page=1 --jq .total_count`,
    ]);
    const refused = step("require-ci-success", [], { env, stubs: { gh: "echo 0" } });
    expect(refused.status).toBe(1);
    expect(refused.output).toMatch(/ci has not passed on a{40}/);
    expect(step("require-ci-success", [], { env, stubs: { gh: "exit 1" } }).status).not.toBe(0);
  });
});
