/**
 * The cluster tier: tests against a local k3s-shaped control plane (lab/cluster),
 * started once for the whole tier by global-setup.ts and stopped by global-teardown.ts.
 * Run with `npm run test:cluster` (in band: the tests share one cluster). Needs the built
 * tools (`npm run tools`).
 *
 * @type {import('jest').Config}
 */
module.exports = {
  rootDir: "../..",
  testEnvironment: "node",
  // Pulumi keeps global state between resources; jest 30's globals cleanup would break it.
  testEnvironmentOptions: { globalsCleanup: "off" },
  roots: ["<rootDir>/test/cluster"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/"],
  // Type-checking is tsc's job; ts-jest only transpiles (isolatedModules in tsconfig).
  transform: { "^.+\\.ts$": ["ts-jest", {}] },
  globalSetup: "<rootDir>/test/cluster/global-setup.ts",
  globalTeardown: "<rootDir>/test/cluster/global-teardown.ts",
  // Each file starts on the cluster as the tier found it (support/clean-slate.ts).
  setupFilesAfterEnv: ["<rootDir>/test/pulumi-stacks.js", "<rootDir>/test/cluster/support/setup-file.ts"],
  // TIER_ORDER=name|reverse|shuffle:<seed> runs the files in that order (sequencer.js).
  testSequencer: "<rootDir>/test/cluster/sequencer.js",
  // A Pulumi up or destroy against the cluster takes minutes, not seconds.
  testTimeout: 900000,
};
