// @ts-check
/**
 * What a jest worker keeps for its later test files. Jest gives each file a module registry and globals of its
 * own; a core module is the one object every file of a worker shares, so each store hangs on one (v8) under a
 * symbol of its name, made on first use. What crosses between files through a store should be text or other
 * primitives, so that each file builds its own realm's objects from it. The stores: the renders
 * (test/support/render-cache.ts) and bcrypt's hashes (test/bcrypt-kept.js).
 */
const v8 = require("v8");

/** The stores' names. */
const STORES = { renders: "test-render-cache", bcryptHashes: "test-bcrypt-kept" };

/**
 * The worker's store of that name, `init()` the first time a file of the worker asks.
 * @template T
 * @param {string} name
 * @param {() => T} init
 * @returns {T}
 */
function workerStore(name, init) {
  const holder = /** @type {Record<symbol, unknown>} */ (/** @type {unknown} */ (v8));
  const key = Symbol.for(`monitoring-stack/${name}`);
  return /** @type {T} */ (holder[key] ??= init());
}

module.exports = { STORES, workerStore };
