// @ts-check
/**
 * The modules the Pulumi SDK loads to serialize closures (TypeScript, npm's arborist), which a program that
 * registers no function-valued resource never calls: loaded when first used rather than when required.
 * Requiring @pulumi/pulumi and @pulumi/kubernetes loads 892 modules without these deferrals and 422 with them.
 * Two loaders apply the list: `npm run render`'s (cli/fast-start.js, Node's) and the offline tests'
 * (test/sdk-on-first-use.js, jest's module registry of each test file); docs/benchmark.md has what each saves.
 */

/**
 * Each module, by the SDK file that requires it. `esModule`: what the stand-in answers to `__esModule`, so that
 * TypeScript's import helpers keep it rather than list its keys (which would load it): `import * as` of a
 * CommonJS module (true), `import x from` of a function (false). test/scripts/render.test.ts uses them through
 * their stand-ins.
 * @type {ReadonlyArray<{ request: string; from: string; esModule: boolean }>}
 */
const ON_FIRST_USE = [
  { request: "typescript", from: "@pulumi/pulumi/typescript-shim.js", esModule: false },
  { request: "@npmcli/arborist", from: "@pulumi/pulumi/runtime/closure/codePaths.js", esModule: true },
  { request: "normalize-package-data", from: "@pulumi/pulumi/runtime/closure/codePaths.js", esModule: false },
];

/**
 * A stand-in for a module that loads it (`load`) on first use: reading a key, asking for one, calling or
 * constructing it. A function, so that it can be called and constructed as the module's export may be.
 * @param {() => any} load
 * @param {boolean} esModule
 */
function standIn(load, esModule) {
  /** @type {any} */
  let real;
  const loaded = () => (real ??= load());
  return new Proxy(function () {}, {
    get: (_target, key) => (key === "__esModule" ? esModule : Reflect.get(loaded(), key)),
    has: (_target, key) => Reflect.has(loaded(), key),
    apply: (_target, self, args) => Reflect.apply(loaded(), self, args),
    construct: (_target, args) => Reflect.construct(loaded(), args),
  });
}

module.exports = { ON_FIRST_USE, standIn };
