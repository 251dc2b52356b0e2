// @ts-check
/**
 * The Pulumi SDK's closure-serialization modules (TypeScript, npm's arborist: cli/on-first-use.js), loaded in a
 * test file when first used rather than when the SDK is required, as `npm run render` loads them
 * (cli/fast-start.js). Jest gives every test file a module registry of its own, so every file that renders or
 * imports a component required them afresh: TypeScript's compiler alone is 9 MB of JavaScript. The offline
 * tier's projects load this file first (jest.config.js); the stand-in answers for every requirer in the file's
 * registry, where the SDK is the only one (test/repository/sdk-on-first-use.test.ts holds both).
 */
const { ON_FIRST_USE, standIn } = require("../cli/on-first-use");

for (const { request, esModule } of ON_FIRST_USE) {
  jest.mock(request, () => standIn(() => jest.requireActual(request), esModule));
}
