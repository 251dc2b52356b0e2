/**
 * The cluster tier's handle on a real Pulumi stack: the real CLI (.tools/bin/pulumi), the
 * real Kubernetes provider plugin (.tools/pulumi-home), a local file backend and a
 * passphrase, against the local control plane (KUBECONFIG from the tier's global setup).
 *
 * Each stack runs in a scratch copy of the project (Pulumi.yaml, the stack file, index.ts,
 * components/, dashboards/, rules/), so that a test edits files the way a user edits a
 * checkout — the stack file, a dashboard — without touching the repository.
 *
 * The program runs through the Automation API's inline mode: the CLI talks to a language
 * host inside this process (`--client`), because the Node.js language host plugin cannot be
 * built here (lab/tools/unavailable-tools.ts). Everything else is what `pulumi up -s
 * <stack>` runs: the CLI reads Pulumi.yaml and the stack file, validates and decrypts the
 * config, runs the engine and the provider.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import * as YAML from "yaml";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { BIN_DIR, PULUMI_HOME, ROOT, binPath } from "../../../lab/tools/tools";

const execFileAsync = promisify(execFile);

export const PASSPHRASE = "cluster-tier-passphrase";
const PROJECT_FILES = ["Pulumi.yaml", "index.ts", "package.json", "tsconfig.json"];
const PROJECT_DIRS = ["components", "config", "dashboards", "preflight", "rules"];

export interface StackHandle {
  stack: Stack;
  /** The scratch project directory. */
  workDir: string;
  stackName: string;
  /** The project's program (index.ts of the scratch copy), which the stack runs unless a test sets another on `stack.workspace.program`. */
  program: () => Promise<Record<string, unknown>>;
  /** Environment for the CLI (backend, passphrase, plugins, kubeconfig). */
  env: Record<string, string>;
  /** Reads, changes and writes the stack file's `config:` map (secure values stay as they are). */
  editStackFile(change: (config: Record<string, unknown>) => void): void;
  /** Runs the CLI itself in the project, as a user would (`pulumi state unprotect ...`). */
  cli(args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** What a `preview` or `up` that the program refuses printed, run in a process of its own (see OWN_PROCESS_RUN). */
  failing(operation: "preview" | "up"): Promise<string>;
  /** Removes the scratch directory and the backend. */
  dispose(): void;
}

/**
 * A `preview` or `up` of the stack as the handle runs it (Automation API, inline program), in a
 * Node process of its own. For one the program refuses: then promises inside the SDK that
 * nobody awaits reject too (the stack's outputs; a component's outputs sent after the engine
 * stopped), which Pulumi's language host takes in its stride but which jest, in whose process
 * the handle runs the program, blames on the test.
 */
const OWN_PROCESS_RUN = `
require("ts-node").register({ transpileOnly: true });
const { LocalWorkspace, PulumiCommand } = require("@pulumi/pulumi/automation");
const [operation, stackName, root, pulumiHome, env] = process.argv.slice(2);
(async () => {
  const program = require(require("path").join(process.cwd(), "index.ts"));
  const pulumiCommand = await PulumiCommand.get({ root });
  const options = { workDir: process.cwd(), pulumiCommand, pulumiHome, envVars: JSON.parse(env) };
  const stack = await LocalWorkspace.selectStack({ stackName, projectName: "monitoring", program }, options);
  process.stdout.write((await stack[operation]()).stdout);
})().catch((err) => {
  process.stdout.write(String(err && err.message));
  process.exit(1);
});
`;

function copyProject(to: string, stackName: string): void {
  for (const file of [...PROJECT_FILES, `Pulumi.${stackName}.yaml`]) fs.copyFileSync(path.join(ROOT, file), path.join(to, file));
  for (const dir of PROJECT_DIRS) fs.cpSync(path.join(ROOT, dir), path.join(to, dir), { recursive: true });
  // The program resolves its packages from the checkout's node_modules.
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(to, "node_modules"), "dir");
}

export interface OpenStackOptions {
  /** Secret config values, set with `pulumi config set --secret` (keys without the project prefix; `a.b` is a path). */
  secrets?: Record<string, string>;
}

/** Creates a fresh stack from the project's stack file, with its secrets set the documented way. */
export async function openStack(stackName: string, options: OpenStackOptions = {}): Promise<StackHandle> {
  const kubeconfig = process.env.KUBECONFIG;
  if (!kubeconfig) throw new Error("KUBECONFIG is not set: the cluster tier's global setup starts the local control plane");
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `monitoring-${stackName}-`));
  const workDir = path.join(scratch, "project");
  const backend = path.join(scratch, "state");
  fs.mkdirSync(workDir);
  fs.mkdirSync(backend);
  copyProject(workDir, stackName);

  const env: Record<string, string> = {
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
    PULUMI_HOME,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    // Every plugin the stack needs is built and installed by `npm run tools`; never download one.
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    KUBECONFIG: kubeconfig,
  };
  const pulumiCommand = await PulumiCommand.get({ root: path.dirname(BIN_DIR) });
  // The entry point exports the program as a function (index.ts); load it from the scratch copy.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const program = require(path.join(workDir, "index.ts")) as () => Promise<Record<string, unknown>>;
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName, projectName: "monitoring", program },
    { workDir, pulumiCommand, envVars: env, pulumiHome: PULUMI_HOME },
  );
  for (const [key, value] of Object.entries(options.secrets ?? {})) {
    await stack.setConfig(`monitoring:${key}`, { value, secret: true }, key.includes("."));
  }

  const stackFile = path.join(workDir, `Pulumi.${stackName}.yaml`);
  return {
    stack,
    workDir,
    stackName,
    program,
    env,
    editStackFile(change) {
      const doc = YAML.parseDocument(fs.readFileSync(stackFile, "utf8"));
      const config = (doc.toJS() as { config: Record<string, unknown> }).config;
      change(config);
      doc.set("config", config);
      fs.writeFileSync(stackFile, doc.toString());
    },
    async cli(args) {
      try {
        return await execFileAsync(binPath("pulumi"), [...args, "--stack", stackName, "--non-interactive"], {
          cwd: workDir,
          env: { ...process.env, ...env },
          maxBuffer: 64 * 1024 * 1024,
        });
      } catch (err) {
        // What the CLI said is the point of a failure: put it in the message.
        const { stdout = "", stderr = "" } = err as { stdout?: string; stderr?: string };
        throw new Error(`pulumi ${args.join(" ")} failed:\n${stdout}\n${stderr}`);
      }
    },
    async failing(operation) {
      const script = path.join(workDir, "own-process-run.js");
      fs.writeFileSync(script, OWN_PROCESS_RUN);
      try {
        await execFileAsync(process.execPath, [script, operation, stackName, path.dirname(BIN_DIR), PULUMI_HOME, JSON.stringify(env)], {
          cwd: workDir,
          env: { ...process.env, ...env },
          maxBuffer: 64 * 1024 * 1024,
        });
      } catch (err) {
        return String((err as { stdout?: string }).stdout);
      }
      throw new Error(`pulumi ${operation} succeeded`);
    },
    dispose() {
      fs.rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** Collects what an operation prints, for assertions on warnings. */
export function outputCollector(): { onOutput: (line: string) => void; text: () => string } {
  const chunks: string[] = [];
  return { onOutput: (line) => chunks.push(line), text: () => chunks.join("") };
}
