/** test/worker-store.js: what a jest worker keeps for its later test files, on a core module, by name. */
export const STORES: { readonly renders: string; readonly bcryptHashes: string };
export function workerStore<T>(name: string, init: () => T): T;
