/**
 * The offline tier (`jest`, the last step of `npm test`), by folder: the folder a test lives in
 * says what it needs, and nothing computes it (test/repository/tiers.test.ts holds the code to it).
 * - quick: the folders whose tests run no binary (`npm run test:quick`, `jest --selectProjects quick`);
 * - e2e: test/e2e, whose tests run the exact binaries of .tools/bin (`jest --selectProjects e2e`).
 * The cluster and live tiers run on their own (npm run test:cluster, npm run test:live).
 */
const QUICK_FOLDERS = ["components", "config", "content", "preflight", "repository", "scenarios", "scripts"];

/** A project of the tier: its name and the folders of test/ it runs. */
const project = (displayName, folders) => ({
  displayName,
  testEnvironment: "node",
  // Pulumi keeps global state between resources; jest 30's globals cleanup would break it.
  // (Jest stays on 29: jest 30's resolver needs platform packages the npm registry mirror here lacks.)
  testEnvironmentOptions: { globalsCleanup: "off" },
  roots: folders.map((folder) => `<rootDir>/test/${folder}`),
  testMatch: ["**/*.test.ts"],
  // Type-checking is tsc's job (npm test runs it first); ts-jest only transpiles (isolatedModules in tsconfig).
  transform: { "^.+\\.ts$": ["ts-jest", {}] },
});

/** @type {import('jest').Config} */
module.exports = {
  projects: [project("quick", QUICK_FOLDERS), project("e2e", ["e2e"])],
  testTimeout: 120000,
};
