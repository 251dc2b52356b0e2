// @ts-check
/**
 * Files kept between runs under node_modules/.cache/<name>/: the offline render's transpiled
 * TypeScript (fast-start.js) and its stand-in bcrypt hashes (bcrypt-worker.ts). Plain CommonJS,
 * so that fast-start.js, which runs before any TypeScript can load, uses it too.
 *
 * An entry is written aside and renamed into place: processes (jest workers) and concurrent
 * writes in one process never read half of one. A caller checks what it reads is what it asked
 * for; a missing or unreadable entry reads as undefined.
 */
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const CACHE_ROOT = path.join(__dirname, "..", "..", "node_modules", ".cache");

/**
 * The directory of one cache.
 * @param {string} name
 */
function cacheDir(name) {
  return path.join(CACHE_ROOT, name);
}

/**
 * The text of an entry, or undefined when there is none.
 * @param {string} name
 * @param {string} entry
 * @returns {string | undefined}
 */
function readCacheEntry(name, entry) {
  return readCacheBytes(name, entry)?.toString("utf8");
}

/**
 * The bytes of an entry, or undefined when there is none.
 * @param {string} name
 * @param {string} entry
 * @returns {Buffer | undefined}
 */
function readCacheBytes(name, entry) {
  try {
    return fs.readFileSync(path.join(cacheDir(name), entry));
  } catch {
    return undefined;
  }
}

/**
 * Writes an entry, aside then renamed.
 * @param {string} name
 * @param {string} entry
 * @param {string | Uint8Array} text
 */
function writeCacheEntry(name, entry, text) {
  const file = path.join(cacheDir(name), entry);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${crypto.randomUUID()}`;
  fs.writeFileSync(temporary, text);
  fs.renameSync(temporary, file);
}

module.exports = { cacheDir, readCacheBytes, readCacheEntry, writeCacheEntry };
