/**
 * The live tier: the exact binaries the stack deploys, on live data, in labs on
 * 127.0.0.1 (test/live/support/lab.ts, two-stacks.ts, sign-in.ts). Run with `npm run test:live`.
 * Needs the built tools (`npm run tools`) and Debian's postgresql and redis-server.
 *
 * The labs run at once, a worker each: most of their time goes to waiting out alerts' `for`,
 * so side by side the tier takes about as long as its longest lab, not the sum of all three.
 * Each file's local cluster lives in .lab/<file>/.cluster (support/own-cluster.ts sets
 * LOCAL_CLUSTER_DIR), never in the cluster tier's .cluster/: the tiers can run at once in
 * one checkout, as .ci/run does, and so can the labs.
 *
 * @type {import('jest').Config}
 */
module.exports = {
  rootDir: "../..",
  testEnvironment: "node",
  testEnvironmentOptions: { globalsCleanup: "off" },
  roots: ["<rootDir>/test/live"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/"],
  transform: { "^.+\\.ts$": ["ts-jest", {}] },
  setupFilesAfterEnv: ["<rootDir>/test/pulumi-stacks.js", "<rootDir>/test/live/support/own-cluster.ts"],
  // One worker per lab file (three), whatever the number of cores.
  maxWorkers: 3,
  // The lab waits for alerts whose `for` is minutes long: the longest, the app contract's (15 minutes, evaluated
  // once a minute, from Prometheus' start), is delivered up to about 19 minutes after Prometheus starts.
  testTimeout: 1500000,
};
