// @ts-check
/**
 * bcrypt's hash of a password under a given salt, kept for the rest of the jest worker's files. Renders derive
 * every salt (components/kit/basic-auth.ts, the mocks' random provider in cli/runner.ts), so the quick tier's
 * files hash the same passwords under the same salts again and again, at the servers' cost (2^10 rounds, about
 * 70 ms each in bcryptjs). components/kit/kdf.ts keeps each result for its module's life, which under jest is
 * one test file: every file has a module registry of its own. A hash is a function of the two strings, so the
 * worker keeps it, by the SHA-256 of both (test/worker-store.js, as test/support/render-cache.ts keeps
 * renders); a hash with a random salt (a number of rounds) is computed
 * every time. The offline tier's projects load this file first (jest.config.js); test/repository/bcrypt-kept.test.ts
 * holds it to bcryptjs' own results.
 */
const crypto = require("crypto");
const { STORES, workerStore } = require("./worker-store");

jest.mock("bcryptjs", () => {
  const real = jest.requireActual("bcryptjs");
  /** @type {Map<string, string>} */
  const kept = workerStore(STORES.bcryptHashes, () => new Map());
  /** @type {(password: string, salt: string | number) => string} */
  const hashSync = (password, salt) => {
    if (typeof password !== "string" || typeof salt !== "string") return real.hashSync(password, salt);
    const key = crypto
      .createHash("sha256")
      .update(JSON.stringify([password, salt]))
      .digest("hex");
    let hash = kept.get(key);
    if (hash === undefined) {
      hash = /** @type {string} */ (real.hashSync(password, salt));
      kept.set(key, hash);
    }
    return hash;
  };
  return { ...real, hashSync };
});
