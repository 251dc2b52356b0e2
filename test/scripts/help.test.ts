/**
 * `--help` (and `-h`) on every user command prints its usage on stdout and exits 0, before it reads
 * any stack, builds anything or reaches any cluster: each command's body (cli/commands/, migrate's
 * runner, lab/commands/tools.ts) run as its entry in scripts/ runs it, with the command line
 * `<command> --help`. The README's quick start says so of each `npm run` command it lists but the
 * tests: every one of them is here.
 */
import * as fs from "fs";
import * as path from "path";
import { main as alertTest } from "../../cli/commands/alert-test";
import { main as check } from "../../cli/commands/check";
import { main as dashboardExport } from "../../cli/commands/dashboard-export";
import { main as dashboardImport } from "../../cli/commands/dashboard-import";
import { main as render } from "../../cli/commands/render";
import { main as restore } from "../../cli/commands/restore";
import { runMigrate } from "../../cli/migrate";
import { main as tools } from "../../lab/commands/tools";
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
  ["tools", () => tools(process.argv.slice(2))],
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

test("every npm run command of the README's quick start but the tests is covered here", () => {
  const readme = fs.readFileSync(path.resolve(__dirname, "..", "..", "README.md"), "utf8");
  const quickStart = /^## Quick start\n[\s\S]*?^```bash\n([\s\S]*?)^```\n\n(.*)$/m.exec(readme);
  expect(quickStart?.[2]).toMatch(/^Each `npm run` command of these but the tests /);
  const listed = [...(quickStart?.[1] ?? "").matchAll(/\bnpm run ([\w:-]+)/g)].map((m) => m[1]);
  const commands = [...new Set(listed)].filter((name) => !/^test(:|$)/.test(name));
  expect(commands.length).toBeGreaterThan(0);
  expect(commands.filter((name) => !COMMANDS.some(([covered]) => covered === name))).toEqual([]);
});
