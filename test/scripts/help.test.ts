/**
 * `--help` (and `-h`) on every user command prints its usage on stdout and exits 0, before it reads
 * any stack or reaches any cluster: each command's body (cli/commands/, and migrate's runner) run as
 * its entry in scripts/ runs it, with the command line `<command> --help`.
 */
import { main as alertTest } from "../../cli/commands/alert-test";
import { main as check } from "../../cli/commands/check";
import { main as dashboardExport } from "../../cli/commands/dashboard-export";
import { main as dashboardImport } from "../../cli/commands/dashboard-import";
import { main as render } from "../../cli/commands/render";
import { main as restore } from "../../cli/commands/restore";
import { runMigrate } from "../../cli/migrate";
import { runCommand as run } from "../support/command-run";

const neverCalled = () => {
  throw new Error("promtool must not run for --help");
};

const COMMANDS: Array<[string, () => unknown]> = [
  ["render", () => render()],
  ["check", () => check(neverCalled as never)],
  ["alert:test", () => alertTest()],
  ["restore", () => restore()],
  ["dashboard:import", () => dashboardImport()],
  ["dashboard:export", () => dashboardExport()],
  [
    "migrate",
    () =>
      runMigrate(process.argv.slice(2), {
        root: "/nonexistent",
        project: "monitoring",
        readFile: () => undefined,
        writeFile: neverCalled,
        print: console.log,
        printError: console.error,
      }),
  ],
];

describe.each(COMMANDS)("npm run %s", (name, body) => {
  test.each([["--help"], ["-h"]])("%s prints the usage and exits 0", async (flag) => {
    const { out, err, code } = await run(body, [flag]);
    expect({ code, err }).toEqual({ code: 0, err: "" });
    // The usage may start with the environment the command reads (GRAFANA_TOKEN=<token> npm run ...).
    expect(out).toMatch(new RegExp(`^usage: (\\S+=\\S+ )?npm run ${name}( |$)`));
  });
});
