/**
 * The keys of a stack file as the real Pulumi CLI reads them (.tools/bin/pulumi, `pulumi config
 * --json`, a local backend in a temporary directory) and as the offline render reads them
 * (readStackConfig): a key without the project prefix is the project's in both
 * (stackConfigNamespacedWithProject, sdk/go/common/workspace/loaders.go).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { binPath } from "../../lab/tools/tools";
import { ROOT, readStackConfig } from "../../cli/stackfile";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "stack-file-keys-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The Pulumi CLI in the project directory, its state, home and passphrase in the temporary directory; what it printed. */
function pulumi(args: string[]): string {
  fs.mkdirSync(path.join(work, ".state"), { recursive: true });
  const result = spawnSync(binPath("pulumi"), [...args, "--non-interactive"], {
    cwd: work,
    encoding: "utf8",
    timeout: 120_000,
    env: {
      ...process.env,
      PULUMI_HOME: path.join(work, "pulumi-home"),
      PULUMI_BACKEND_URL: `file://${path.join(work, ".state")}`,
      PULUMI_CONFIG_PASSPHRASE: "stack-file-keys-test-passphrase",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
    },
  });
  if (result.status !== 0) throw new Error(`pulumi ${args.join(" ")} failed (${result.status}): ${result.stderr}${result.error ?? ""}`);
  return result.stdout;
}

/** A value as the CLI's `--json` gives it and as the program receives it: a structured value compared as parsed JSON. */
const comparable = (value: string) => (/^[[{]/.test(value) ? (JSON.parse(value) as unknown) : value);

test("a key without the project prefix is the project's, as the Pulumi CLI reads it", () => {
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(work, "Pulumi.yaml"));
  pulumi(["stack", "init", "demo", "--secrets-provider", "passphrase"]);
  const file = path.join(work, "Pulumi.demo.yaml");
  // The stack file of a first hour: the prefix forgotten on one key, a section dedented by a slip.
  fs.appendFileSync(
    file,
    [
      "config:",
      "  monitoring:profile: staging",
      "  protectVolumes: true",
      "  kubernetes:enableConfigMapMutable: true",
      "  prometheus:",
      "    retention: 10d",
      "  storage: { size: 40Gi }",
      "",
    ].join("\n"),
  );
  const cli = JSON.parse(pulumi(["config", "--json"])) as Record<string, { value: string }>;
  const cliValues = Object.fromEntries(Object.entries(cli).map(([k, v]) => [k, comparable(v.value)]));
  expect(cliValues["monitoring:protectVolumes"]).toBe("true");

  const render = readStackConfig("demo", [], work);
  expect(Object.fromEntries(Object.entries(render.config).map(([k, v]) => [k, comparable(v)]))).toEqual(cliValues);
}, 180_000);
