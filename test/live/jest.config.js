/**
 * The live tier: the exact binaries the stack deploys, on live data, in a lab on
 * 127.0.0.1 (test/live/support/lab.ts). Run with `npm run test:live` (in band: one lab).
 * Needs the built tools (`npm run tools`) and Debian's postgresql and redis-server.
 *
 * The lab's local cluster lives in .lab/.cluster (scripts/lib/cluster, LOCAL_CLUSTER_DIR), not
 * in the cluster tier's .cluster/: the two tiers can run at once in one checkout, as .ci/run does.
 *
 * @type {import('jest').Config}
 */
const path = require("path");

process.env.LOCAL_CLUSTER_DIR = path.join(__dirname, "..", "..", ".lab", ".cluster");

module.exports = {
  rootDir: "../..",
  testEnvironment: "node",
  testEnvironmentOptions: { globalsCleanup: "off" },
  roots: ["<rootDir>/test/live"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/"],
  transform: { "^.+\\.ts$": ["ts-jest", {}] },
  // The lab waits for alerts whose `for` is minutes long.
  testTimeout: 900000,
};
