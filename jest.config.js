/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  // Pulumi keeps global state between resources; jest 30's globals cleanup would break it.
  // (Jest stays on 29: jest 30's resolver needs platform packages the npm registry mirror here lacks.)
  testEnvironmentOptions: { globalsCleanup: "off" },
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // The cluster and live tiers run on their own (npm run test:cluster, npm run test:live).
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/cluster/", "<rootDir>/test/live/"],
  // Type-checking is tsc's job (npm test runs it first); ts-jest only transpiles (isolatedModules in tsconfig).
  transform: { "^.+\\.ts$": ["ts-jest", {}] },
  testTimeout: 120000,
};
