// @ts-check
/**
 * Files kept between runs under node_modules/.cache/<name>/: the offline render's transpiled
 * TypeScript and V8's compiled code (fast-start.js). Plain CommonJS, so that fast-start.js,
 * which runs before any TypeScript can load, can use it.
 *
 * An entry is written aside and renamed into place: processes (jest workers) and concurrent
 * writes in one process never read half of one. A missing or unreadable entry reads as
 * undefined. A file's entry (fileEntry) holds the key it was made under before its data, and
 * reads as undefined under any other key.
 */
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..", "..");
const CACHE_ROOT = path.join(ROOT, "node_modules", ".cache");

/**
 * The directory of one cache.
 * @param {string} name
 */
function cacheDir(name) {
  return path.join(CACHE_ROOT, name);
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

/**
 * The entry of a file of the checkout: its path with the separators replaced, so that a file has
 * one entry, which a new key replaces: the cache never grows.
 * @param {string} filename
 */
function fileEntry(filename) {
  return path.relative(ROOT, filename).replace(/[\\/]/g, "__");
}

/**
 * What a cache keeps for a file under `key` (hex, the same length every time), or undefined when
 * it keeps nothing for the file or keeps it under another key (the file or what it is made with
 * changed).
 * @param {string} name
 * @param {string} filename
 * @param {string} key
 * @returns {Buffer | undefined}
 */
function readFileEntry(name, filename, key) {
  const bytes = readCacheBytes(name, fileEntry(filename));
  return bytes && bytes.subarray(0, key.length).toString("latin1") === key ? bytes.subarray(key.length) : undefined;
}

/**
 * Keeps `data` for a file under `key`, in place of what was kept for it before.
 * @param {string} name
 * @param {string} filename
 * @param {string} key
 * @param {string | Uint8Array} data
 */
function writeFileEntry(name, filename, key, data) {
  writeCacheEntry(name, fileEntry(filename), Buffer.concat([Buffer.from(key, "latin1"), Buffer.from(data)]));
}

module.exports = { cacheDir, fileEntry, readFileEntry, writeFileEntry };
