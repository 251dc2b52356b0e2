/**
 * test/bcrypt-kept.js: in an offline test file, bcryptjs' hashSync of a password under a given salt is bcryptjs'
 * own hash, computed once per jest worker; under a number of rounds (a random salt), every call computes.
 */
import * as bcrypt from "bcryptjs";
import { STORES, workerStore } from "../worker-store";

const real = jest.requireActual<typeof import("bcryptjs")>("bcryptjs");
/** The worker's store, as the setup file holds it (none yet: an empty one, which the setup file would then use). */
const kept = () => workerStore(STORES.bcryptHashes, () => new Map<string, string>());

test("a hash under a given salt is bcryptjs' own, kept for the worker: asked again, it is not computed again", () => {
  const salt = real.genSaltSync(4);
  const password = `a password of this run ${process.hrtime.bigint()}`;
  const before = kept()?.size ?? 0;
  const hash = bcrypt.hashSync(password, salt);
  expect(hash).toBe(real.hashSync(password, salt));
  expect(real.compareSync(password, hash)).toBe(true);
  expect(kept()?.size).toBe(before + 1);
  // What is kept is the hash: the store's new entry, under a key that is not the password.
  const entry = [...(kept() as Map<string, string>).entries()].find(([, h]) => h === hash);
  expect(entry?.[0]).toMatch(/^[0-9a-f]{64}$/);
  expect(bcrypt.hashSync(password, salt)).toBe(hash);
  expect(kept()?.size).toBe(before + 1);
  // Another password or salt: its own hash.
  const other = real.genSaltSync(4);
  expect(bcrypt.hashSync(password, other)).toBe(real.hashSync(password, other));
  expect(bcrypt.hashSync(`${password}!`, salt)).toBe(real.hashSync(`${password}!`, salt));
  expect(kept()?.size).toBe(before + 3);
});

test("a hash under a number of rounds draws its salt every time, and nothing is kept", () => {
  const before = kept()?.size ?? 0;
  const [a, b] = [bcrypt.hashSync("same", 4), bcrypt.hashSync("same", 4)];
  expect(a).not.toBe(b);
  expect([real.compareSync("same", a), real.compareSync("same", b)]).toEqual([true, true]);
  expect(kept()?.size ?? 0).toBe(before);
});

test("the offline tier's projects load it", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the config is a CommonJS module jest itself requires
  const offline = require("../../jest.config.js") as { projects: Array<{ displayName: string; setupFilesAfterEnv?: string[] }> };
  for (const project of offline.projects)
    expect([project.displayName, project.setupFilesAfterEnv]).toEqual([
      project.displayName,
      expect.arrayContaining(["<rootDir>/test/bcrypt-kept.js"]),
    ]);
});
