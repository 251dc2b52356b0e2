/**
 * The offline tier (`jest`, the last step of `npm test`), by folder: the folder a test lives in
 * says what it needs, and nothing computes it (test/repository/tiers.test.ts holds the code to it).
 * - quick: the folders whose tests run no binary (`npm run test:quick`, `jest --selectProjects quick`);
 * - e2e: test/e2e, whose tests run the exact binaries of .tools/bin (`jest --selectProjects e2e`).
 * The cluster and live tiers run on their own (npm run test:cluster, npm run test:live).
 */
const TRANSFORM = require("./test/transform");

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
  // Type-checking is tsc's job (npm test runs it first); SWC only transpiles (test/transform.js).
  transform: TRANSFORM,
  // The Pulumi SDK's own stack traces, left unmapped (test/pulumi-stacks.js); its closure-serialization
  // modules loaded on first use (test/sdk-on-first-use.js); bcrypt's hashes under derived salts kept for the
  // worker (test/bcrypt-kept.js).
  setupFilesAfterEnv: ["<rootDir>/test/pulumi-stacks.js", "<rootDir>/test/sdk-on-first-use.js", "<rootDir>/test/bcrypt-kept.js"],
});

/**
 * How many times longer than alone a test may take (test/time-scale.js): the one bound of every test and
 * hook (no test file sets its own: test/repository/tiers.test.ts), so that the scale reaches them all.
 */
const { timeScale } = require("./test/time-scale");

/**
 * The project's tests run on the shipped content: the program leaves a team's own directory
 * (`team/`) unread in this project (preflight/team-content.ts, SHIPPED_CONTENT_ONLY_ENV), so that
 * what a team adds there never makes `npm test` fail. Set here, before the workers start, so
 * that every test file and every command a test runs (a render in a child process) inherits it.
 */
process.env.MONITORING_SHIPPED_CONTENT_ONLY = __dirname;

/** A test's or a hook's bound, alone: three minutes (a file that renders both stacks several times takes one). */
const TEST_TIMEOUT_MS = 180000;

/** @type {import('jest').Config} */
module.exports = {
  projects: [project("quick", QUICK_FOLDERS), project("e2e", ["e2e"])],
  testTimeout: TEST_TIMEOUT_MS * timeScale(),
};
