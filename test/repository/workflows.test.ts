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
import { ROOT, TIERS, goVersion } from "../../scripts/lib/tools";

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
const runs = (job: Job) => job.steps.map((s) => scriptOf(s.run)).filter((r) => r !== undefined);

test("every workflow is valid against GitHub's workflow schema", () => {
  expect(files.sort()).toEqual(["ci.yml", "deploy.yml", "preview.yml"]);
  for (const f of files) expect({ file: f, errors: validateWorkflow(text(f)).errors }).toEqual({ file: f, errors: [] });
});

test("the schema check rejects a broken workflow", () => {
  expect(validateWorkflow("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    stepz: []\n").errors.length).toBeGreaterThan(0);
});

test("ci runs each tier in a job of its own, which builds that tier's tools, and keeps the render", () => {
  const wf = workflow("ci.yml");
  expect(Object.keys(wf.on).sort()).toEqual(["pull_request", "push"]);
  expect(Object.keys(wf.jobs)).toEqual([...TIERS]);
  for (const tier of TIERS) {
    const called = runs(wf.jobs[tier]).map((r) => [r.script, ...r.args].join(" "));
    expect(called).toContain(`tools ${tier}`);
    expect(called).toContain(`test-${tier}`);
    expect(called.filter((c) => c.startsWith("tools ") || c.startsWith("test-"))).toEqual([`tools ${tier}`, `test-${tier}`]);
  }
  const offline = wf.jobs.offline.steps;
  const render = offline.findIndex((s) => s.run === ".ci/render");
  expect(offline[render + 1].uses).toMatch(/^actions\/upload-artifact@/);
  expect(offline[render + 1].with).toMatchObject({ name: "render", path: "out/" });
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
      for (const pin of ["tools/**/go.mod", "tools/**/go.sum", "scripts/lib/tools.ts", "components/images.ts"]) {
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

test("preview runs pulumi preview of each stack on pull requests from the repository and comments on them", () => {
  const wf = workflow("preview.yml");
  expect(Object.keys(wf.on)).toEqual(["pull_request"]);
  expect(Object.keys(wf.jobs).sort()).toEqual(["production", "staging"]);
  for (const [stack, job] of Object.entries(wf.jobs)) {
    // Forks get no secrets; the ci workflow's render is their preview.
    expect(job.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    const pulumi = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(pulumi?.with).toMatchObject({ command: "preview", "stack-name": stack, "comment-on-pr": true });
  }
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

test("deploy updates staging once ci has passed on main, production only by hand, through its environment", () => {
  const wf = workflow("deploy.yml");
  expect(Object.keys(wf.on).sort()).toEqual(["workflow_dispatch", "workflow_run"]);
  expect(wf.on.workflow_run).toEqual({ workflows: ["ci"], types: ["completed"], branches: ["main"] });
  const up = wf.jobs.up;
  expect(up.environment).toContain("inputs.stack");
  expect(up.environment).toContain("'staging'");
  expect(up.if).toMatch(/github\.event\.workflow_run\.conclusion == 'success'/);
  expect(up.if).toMatch(/github\.event\.workflow_run\.event == 'push'/);
  expect(up.if).toMatch(/github\.event\.workflow_run\.head_repository\.full_name == github\.repository/);
  // The commit ci tested, not main's latest, and by hand only a commit ci passed on.
  expect(up.env?.DEPLOY_SHA).toBe("${{ github.event.workflow_run.head_sha || github.sha }}");
  expect(up.steps.find((s) => s.uses?.startsWith("actions/checkout@"))?.with?.ref).toBe("${{ env.DEPLOY_SHA }}");
  const gate = up.steps.findIndex((s) => s.run === ".ci/require-ci-success");
  const pulumi = up.steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@"));
  expect(gate).toBeGreaterThan(-1);
  expect(gate).toBeLessThan(pulumi);
  expect(up.steps[pulumi].with).toMatchObject({ command: "up" });
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
const DEFAULT_BRANCH_ONLY = /^github\.ref\s*==\s*'refs\/heads\/main'$/;
const environmentOf = (job: Job) => (typeof job.environment === "object" ? job.environment.name : job.environment);
const jobsOf = (texts: Record<string, string>) =>
  Object.entries(texts).flatMap(([file, t]) =>
    Object.entries((YAML.parse(t) as Workflow).jobs).map(([id, job]) => ({ file, id, job, where: `${file}: job ${id}` })),
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
  /** No job that can read production's secrets runs without a GitHub environment, or off the default branch. */
  productionGated(texts: Record<string, string>): string[] {
    return jobsOf(texts)
      .filter(({ job }) => /\bproduction\b|KUBECONFIG_PRODUCTION/.test(YAML.stringify(job)))
      .filter(({ job }) => {
        const usesSecrets = /secrets\./.test(YAML.stringify(job));
        return usesSecrets && !environmentOf(job) && !DEFAULT_BRANCH_ONLY.test(job.if ?? "");
      })
      .map(({ where }) => where);
  },
  /** The production preview in particular: its job runs in an environment of its own (not the deploy's). */
  productionPreviewGated(texts: Record<string, string>): string[] {
    const previews = jobsOf({ "preview.yml": texts["preview.yml"] }).filter(({ job }) =>
      job.steps.some((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.["stack-name"] === "production"),
    );
    if (previews.length === 0) return ["preview.yml: no production preview"];
    return previews.filter(({ job }) => environmentOf(job) !== "production-preview").map(({ where }) => where);
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

  test("the production preview without its environment is refused, and so is one in the deploy's environment", () => {
    const without = broken("preview.yml", /^ {4}environment: production-preview\n/m, "");
    expect(checks.productionPreviewGated(without)).toEqual(["preview.yml: job production"]);
    expect(checks.productionGated(without)).toEqual(["preview.yml: job production"]);
    const deploys = broken("preview.yml", /environment: production-preview/, "environment: production");
    expect(checks.productionPreviewGated(deploys)).toEqual(["preview.yml: job production"]);
    // Only on the default branch would do instead of an environment (the check reads the job's if).
    const mainOnly = broken("preview.yml", /^ {4}environment: production-preview\n/m, "");
    const onMain = {
      ...mainOnly,
      "preview.yml": mainOnly["preview.yml"].replace(/(production:\n {4}if: ).*/, "$1github.ref == 'refs/heads/main'"),
    };
    expect(checks.productionGated(onMain)).toEqual([]);
  });

  test("production's kubeconfig read by the staging job, which has no environment, is refused", () => {
    const t = broken("preview.yml", "secrets.KUBECONFIG_STAGING", "secrets.KUBECONFIG_PRODUCTION");
    expect(checks.productionGated(t)).toEqual(["preview.yml: job staging"]);
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
    expect(checks.timeouts(broken("ci.yml", "timeout-minutes: 100", "timeout-minutes: 90"))).toEqual([
      "ci.yml: job live: timeout-minutes 90 < 96.25",
    ]);
    const added = checks.timeouts(broken("ci.yml", "      - run: .ci/test-live", "      - run: .ci/test-live\n      - run: .ci/npm-ci"));
    expect(added).toEqual([
      expect.stringMatching(
        /^ci\.yml: job live: no comment "# \(actions 2 \+ system-packages 3 \+ npm-ci 2 \+ tools 62 \+ test-live 8 \+ npm-ci 2\)/,
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
    // On a PATH without openssl, redis or mkfs.ext4 (apt-get stubbed: it installs nothing, which the script then says).
    const live = step("system-packages", ["live"], { onlyStubs: true, stubs: { "apt-get": "", sudo: 'exec "$@"' } });
    const install = live.calls.find((c) => c.startsWith("apt-get install"));
    expect(install).toMatch(/--no-install-recommends .*openssl redis-server redis-tools e2fsprogs$/);
    expect(live.status).toBe(1);
    expect(live.output).toMatch(/missing openssl after install/);
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
