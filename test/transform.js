// @ts-check
/**
 * How jest turns the offline tier's TypeScript into JavaScript (jest.config.js: the quick and e2e
 * projects): SWC (@swc/jest), which only transpiles, as ts-jest did with the tsconfig's isolatedModules
 * (the cluster and live tiers' configs keep ts-jest until their tiers have run on this one). Type-checking is `npm run typecheck` (tsc --noEmit),
 * which `npm test` and CI run before the tests. Transpiling every .ts file of the repository takes
 * about 1 CPU-second with SWC against 17 with TypeScript's transpileModule, what ts-jest ran: the cost
 * of a run whose transform cache is cold (a fresh clone, CI, a changed config), and of every edited
 * file after (docs/benchmark.md, "The quick tier").
 * The options say what the tsconfig says for the emitted code: ES2022, CommonJS with the interop of
 * esModuleInterop; jest.mock calls are hoisted above the imports, as ts-jest's hoisting did.
 * @type {import("jest").Config["transform"]}
 */
module.exports = {
  "^.+\\.ts$": [
    "@swc/jest",
    {
      jsc: { parser: { syntax: "typescript" }, target: "es2022" },
      module: { type: "commonjs" },
      sourceMaps: "inline",
    },
  ],
};
