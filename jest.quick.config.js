/**
 * `npm run test:quick`: the offline jest files that run no binary (the configuration, the
 * render, the rules and dashboards as files, the repository's own checks), for the edit–check
 * loop; `npm test` runs them all. The files are chosen by what their code runs
 * (scripts/lib/tools.ts, binaryUses), not listed by hand: a file that starts running a binary
 * leaves the subset by itself.
 *
 * @type {import('jest').Config}
 */
require("ts-node").register({ transpileOnly: true });
const base = require("./jest.config.js");
const { binaryUses, tierEntryFiles } = require("./scripts/lib/tools.ts");

module.exports = {
  ...base,
  testMatch: tierEntryFiles("offline")
    .filter((file) => binaryUses([file]).size === 0)
    .map((file) => `<rootDir>/${file}`),
};
