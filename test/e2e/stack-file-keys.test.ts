/**
 * The keys of a stack file as the real Pulumi CLI reads them (.tools/bin/pulumi, `pulumi config
 * --json`, a local backend in a temporary directory) and as the offline render reads them
 * (readStackConfig): a key without the project prefix is the project's in both
 * (stackConfigNamespacedWithProject, sdk/go/common/workspace/loaders.go).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT, readStackConfig } from "../../cli/stackfile";
import { pulumiCli } from "./support/pulumi-cli";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "stack-file-keys-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The Pulumi CLI in the project directory, its state, home and passphrase in the temporary directory; what it printed. */
const pulumi = (args: string[]) =>
  pulumiCli(work, args, { home: path.join(work, "pulumi-home"), passphrase: "stack-file-keys-test-passphrase" });

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
