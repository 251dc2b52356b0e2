import * as bcrypt from "bcryptjs";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { standInBcryptHash } from "../../scripts/lib/bcrypt-worker";

const CACHE = path.join(__dirname, "..", "..", "node_modules", ".cache", "stand-in-bcrypt");
const entryOf = (password: string, salt: string) =>
  path.join(CACHE, crypto.createHash("sha256").update(`${salt}\n${password}`).digest("hex"));

/** A password and salt no other test uses, so that its entry is this test's alone. */
function fresh(): { password: string; salt: string } {
  const alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.randomBytes(22);
  return { password: crypto.randomUUID(), salt: `$2a$04$${Array.from(bytes, (b) => alphabet[b % 64]).join("")}` };
}

test("the stand-in's hash is bcryptjs' own, computed once and then read from the cache", async () => {
  const { password, salt } = fresh();
  const hash = await standInBcryptHash(password, salt);
  expect(hash).toBe(bcrypt.hashSync(password, salt));
  expect(fs.readFileSync(entryOf(password, salt), "utf8")).toBe(hash);
  // A second call reads the entry: one written by hand (another valid hash of the salt) is what it returns.
  const other = bcrypt.hashSync("another password", salt);
  fs.writeFileSync(entryOf(password, salt), other);
  expect(await standInBcryptHash(password, salt)).toBe(other);
  fs.rmSync(entryOf(password, salt));
});

test("an entry that is not a hash of the salt asked for is computed again and replaced", async () => {
  const { password, salt } = fresh();
  fs.mkdirSync(CACHE, { recursive: true });
  for (const broken of ["", "$2a$04$truncated", bcrypt.hashSync(password, fresh().salt)]) {
    fs.writeFileSync(entryOf(password, salt), broken);
    const hash = await standInBcryptHash(password, salt);
    expect(bcrypt.compareSync(password, hash)).toBe(true);
    expect(hash.slice(0, 28)).toBe(salt.slice(0, 28));
    expect(fs.readFileSync(entryOf(password, salt), "utf8")).toBe(hash);
  }
  fs.rmSync(entryOf(password, salt));
});

test("hashes asked for at once are all answered, over the workers", async () => {
  const asked = Array.from({ length: 5 }, fresh);
  const hashes = await Promise.all(asked.map(({ password, salt }) => standInBcryptHash(password, salt)));
  hashes.forEach((hash, i) => expect(hash).toBe(bcrypt.hashSync(asked[i].password, asked[i].salt)));
  for (const { password, salt } of asked) fs.rmSync(entryOf(password, salt));
});

test("a hash the worker cannot compute fails with bcrypt's error and leaves no entry; the hashes after it are answered", async () => {
  const password = crypto.randomUUID();
  // bcryptjs throws in the worker, which then ends: the promise must reject, not hang.
  await expect(standInBcryptHash(password, "not-a-salt")).rejects.toThrow("Invalid salt version");
  expect(fs.existsSync(entryOf(password, "not-a-salt"))).toBe(false);
  const asked = Array.from({ length: 3 }, fresh);
  const hashes = await Promise.all(asked.map(({ password, salt }) => standInBcryptHash(password, salt)));
  hashes.forEach((hash, i) => expect(hash).toBe(bcrypt.hashSync(asked[i].password, asked[i].salt)));
  for (const { password, salt } of asked) fs.rmSync(entryOf(password, salt));
});
