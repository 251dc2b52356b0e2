/**
 * `npm run test:quick`: for the edit–check loop, the offline jest files that need neither a
 * binary nor a run of the Pulumi program under mocks, in the test process (runProgram) or as
 * a render command it spawns: each run of the whole stack costs seconds. What remains is the
 * configuration's units and project rules, the rules and dashboards as files, the tool table
 * and the workflows, the repository's own checks; `npm test` runs every file. The files are
 * chosen by what their code reaches (scripts/lib/tool-uses.ts, reachedCode), not listed by hand:
 * a file that starts running a binary or the program leaves the subset by itself.
 *
 * @type {import('jest').Config}
 */
require("ts-node").register({ transpileOnly: true });
const base = require("./jest.config.js");
const { binaryUses, reachedCode, tierEntryFiles } = require("./scripts/lib/tool-uses.ts");

const runsProgram = (code) =>
  code.name === "runProgram" || /\bspawn(?:Sync)?\([^;]*(?:scripts\/render\.ts|"run", (?:"--silent", )?"render")/.test(code.text);
const quick = (file) => binaryUses([file]).size === 0 && !reachedCode([file]).some(runsProgram);

module.exports = {
  ...base,
  testMatch: tierEntryFiles("offline")
    .filter(quick)
    .map((file) => `<rootDir>/${file}`),
};
