/**
 * components/kit/kdf.ts: what it keeps is what the functions compute, for exactly the inputs given.
 */
import * as crypto from "crypto";
import { bcryptHash, scryptHex } from "../../components/kit/kdf";

const salt = Buffer.from("a stack's salt for one use, 32 b");
const scryptOf = (text: string, s: Buffer) =>
  crypto.scryptSync(text, s, 16, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }).toString("hex");

describe("scryptHex", () => {
  test("is scrypt (N=2^15, r=8, p=1, 16 bytes) of the text under the salt, asked once or again", async () => {
    const first = await scryptHex("s3cret", salt);
    expect(first).toBe(scryptOf("s3cret", salt));
    expect(await scryptHex("s3cret", salt)).toBe(first);
  });

  test("another text or another salt, even one that concatenates alike, gives its own", async () => {
    const other = Buffer.from("another salt, of the same length!");
    expect(await scryptHex("s3cret", other)).toBe(scryptOf("s3cret", other));
    expect(await scryptHex("s3cre", Buffer.concat([Buffer.from("t"), salt]))).toBe(
      scryptOf("s3cre", Buffer.concat([Buffer.from("t"), salt])),
    );
    expect(await scryptHex("s3cret2", salt)).not.toBe(await scryptHex("s3cret", salt));
  });
});

describe("bcryptHash", () => {
  // bcryptjs itself, not what the offline tier's files are given (test/bcrypt-kept.js keeps its hashes).
  const bcrypt = jest.requireActual<typeof import("bcryptjs")>("bcryptjs");
  const setting = `$2a$10$${bcrypt.encodeBase64(salt.subarray(0, 16), 16)}`;

  test("is bcrypt of the password under the setting, which a server's check accepts, asked once or again", () => {
    const hash = bcryptHash("correct horse", setting);
    expect(hash).toBe(bcrypt.hashSync("correct horse", setting));
    expect(bcrypt.compareSync("correct horse", hash)).toBe(true);
    expect(bcryptHash("correct horse", setting)).toBe(hash);
  });

  test("another password or another salt gives its own hash", () => {
    const otherSetting = `$2a$10$${bcrypt.encodeBase64(Buffer.alloc(16, 7), 16)}`;
    expect(bcryptHash("correct horse", otherSetting)).toBe(bcrypt.hashSync("correct horse", otherSetting));
    const other = bcryptHash("correct horsf", setting);
    expect(bcrypt.compareSync("correct horse", other)).toBe(false);
  });
});
