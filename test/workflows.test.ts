/** The GitHub workflows: valid against GitHub's workflow schema, and doing what the README says. */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { validateWorkflow } from "@action-validator/core";

const DIR = path.join(__dirname, "..", ".github", "workflows");
const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".yml"));
const text = (f: string) => fs.readFileSync(path.join(DIR, f), "utf8");

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, { steps: Step[]; environment?: string; if?: string; strategy?: { matrix?: { stack?: string[] } } }>;
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

test("preview runs pulumi preview for both stacks on pull requests and comments on them", () => {
  const wf = workflow("preview.yml");
  expect(Object.keys(wf.on)).toEqual(["pull_request"]);
  expect(wf.jobs.preview.strategy?.matrix?.stack).toEqual(["staging", "production"]);
  expect(wf.permissions).toEqual({ contents: "read", "pull-requests": "write" });
  const pulumi = steps("preview.yml").find((s) => s.uses?.startsWith("pulumi/actions@"));
  expect(pulumi?.with).toMatchObject({ command: "preview", "comment-on-pr": true });
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

test("no workflow writes a secret into a file it leaves behind", () => {
  for (const f of ["preview.yml", "deploy.yml"]) {
    const cleanup = steps(f).find((s) => s.run?.includes('rm -f "$KUBECONFIG"'));
    expect(cleanup).toMatchObject({ if: "always()" });
  }
});
