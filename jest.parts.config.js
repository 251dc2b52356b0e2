/**
 * The offline jest files in two parts, so that `.ci/run` can start the offline tier while the
 * tools still build (`.ci/test-offline without-tools`, then `.ci/test-offline with-tools`):
 * JEST_PART=without-tools runs the files whose code reaches no binary of .tools/bin,
 * JEST_PART=with-tools the others. Chosen by what their code reaches
 * (scripts/lib/tool-uses.ts, binaryUses), as jest.quick.config.js is: the two parts are always
 * the whole of `jest`'s files, each once.
 *
 * @type {import('jest').Config}
 */
require("ts-node").register({ transpileOnly: true });
const base = require("./jest.config.js");
const { binaryUses, tierEntryFiles } = require("./scripts/lib/tool-uses.ts");

const PARTS = ["without-tools", "with-tools"];
const part = process.env.JEST_PART;
if (!PARTS.includes(part)) {
  throw new Error(`JEST_PART must be one of ${PARTS.join(", ")}; given ${part === undefined ? "nothing" : JSON.stringify(part)}`);
}
const needsTools = (file) => binaryUses([file]).size > 0;

module.exports = {
  ...base,
  testMatch: tierEntryFiles("offline")
    .filter((file) => needsTools(file) === (part === "with-tools"))
    .map((file) => `<rootDir>/${file}`),
};
