/**
 * The real Pulumi CLI (.tools/bin/pulumi) run in a project directory with a local backend there
 * (`<dir>/.state`), its home and passphrase given: never the user's login, plugins or update check.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stackBinary } from "../../../lab/local/binaries";

/** `pulumi <args> --non-interactive` in `dir`; what it printed, or an error with its status and stderr. */
export function pulumiCli(dir: string, args: string[], { home, passphrase }: { home: string; passphrase: string }): string {
  fs.mkdirSync(path.join(dir, ".state"), { recursive: true });
  const result = spawnSync(stackBinary("pulumi"), [...args, "--non-interactive"], {
    cwd: dir,
    encoding: "utf8",
    timeout: 120_000,
    env: {
      ...process.env,
      PULUMI_HOME: home,
      PULUMI_BACKEND_URL: `file://${path.join(dir, ".state")}`,
      PULUMI_CONFIG_PASSPHRASE: passphrase,
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
    },
  });
  if (result.status !== 0) throw new Error(`pulumi ${args.join(" ")} failed (${result.status}): ${result.stderr}${result.error ?? ""}`);
  return result.stdout;
}
