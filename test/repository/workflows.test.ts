/** The GitHub workflows: valid against GitHub's workflow schema, and doing what docs/deployment.md says. */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { validateWorkflow } from "@action-validator/core";

const DIR = path.join(__dirname, "..", "..", ".github", "workflows");
const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".yml"));
const text = (f: string) => fs.readFileSync(path.join(DIR, f), "utf8");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  steps: Step[];
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

test("every workflow is valid against GitHub's workflow schema", () => {
  expect(files.sort()).toEqual(["ci.yml", "deploy.yml", "preview.yml"]);
  for (const f of files) expect({ file: f, errors: validateWorkflow(text(f)).errors }).toEqual({ file: f, errors: [] });
});

test("the schema check rejects a broken workflow", () => {
  expect(validateWorkflow("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    stepz: []\n").errors.length).toBeGreaterThan(0);
});

test("ci runs the same script as CI on a clean clone, then keeps the render", () => {
  expect(Object.keys(workflow("ci.yml").on).sort()).toEqual(["pull_request", "push"]);
  const runs = steps("ci.yml").map((s) => s.run ?? "");
  expect(runs).toContain("bash .ci/run");
  expect(runs.join("\n")).toMatch(/npm run render -- --stack staging\n\s*npm run render -- --stack production/);
  expect(steps("ci.yml").some((s) => s.uses?.startsWith("actions/upload-artifact@"))).toBe(true);
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

test("deploy updates staging on main and production only by hand, through its environment", () => {
  const wf = workflow("deploy.yml");
  expect(Object.keys(wf.on).sort()).toEqual(["push", "workflow_dispatch"]);
  expect(wf.jobs.up.environment).toContain("inputs.stack");
  expect(wf.jobs.up.environment).toContain("'staging'");
  const runs = steps("deploy.yml").map((s) => s.run ?? "");
  expect(runs).toContain("bash .ci/run");
  expect(steps("deploy.yml").find((s) => s.uses?.startsWith("pulumi/actions@"))?.with).toMatchObject({ command: "up" });
});

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
      const write = job.steps.findIndex((s) => /> "\$KUBECONFIG"/.test(s.run ?? ""));
      if (write < 0) continue;
      if (!/^umask 077$/m.test(job.steps[write].run ?? "")) bad.push(`${where}: written without umask 077`);
      const remove = job.steps.findIndex((s, i) => i > write && s.if === "always()" && /rm -f "\$KUBECONFIG"/.test(s.run ?? ""));
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
        const install = job.steps.findIndex((s) => /npm ci/.test(s.run ?? ""));
        return install < 0 || job.steps.slice(0, install + 1).some((s) => /secrets\./.test(YAML.stringify(s)));
      })
      .map(({ where }) => where);
  },
};
const TEXTS = Object.fromEntries(files.map((f) => [f, text(f)]));

describe("the workflows cannot leak production", () => {
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
    expect(checks.credentialsCleaned(broken("deploy.yml", /^ *umask 077\n/m, ""))).toEqual([
      "deploy.yml: job up: written without umask 077",
    ]);
    expect(checks.credentialsCleaned(broken("preview.yml", /^( *)if: always\(\)\n( *run: rm)/m, "$2"))).toEqual([
      "preview.yml: job staging: no always() step removes it",
    ]);
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
