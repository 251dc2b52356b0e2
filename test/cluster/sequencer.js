// @ts-check
/**
 * The order the cluster tier's files run in, from TIER_ORDER, so that the tier can be shown
 * not to depend on it (docs/development.md, "The cluster tier"):
 *
 *   TIER_ORDER unset or ""   jest's usual order (slowest first, by the recorded durations)
 *   TIER_ORDER=name          by path
 *   TIER_ORDER=reverse       by path, reversed
 *   TIER_ORDER=shuffle:<n>   a shuffle of the by-path order, the same for the same seed n
 *
 * The order used is printed to stderr before the first file runs.
 */
const path = require("path");
const Sequencer = require("@jest/test-sequencer").default;

/** A small seeded generator (mulberry32): the same seed gives the same shuffle on every machine. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The paths in the order TIER_ORDER asks for; undefined for jest's usual order.
 * @param {string[]} paths
 * @param {string | undefined} order
 * @returns {string[] | undefined}
 */
function ordered(paths, order) {
  if (order === undefined || order === "") return undefined;
  const byName = [...paths].sort();
  if (order === "name") return byName;
  if (order === "reverse") return byName.reverse();
  const shuffle = /^shuffle:(\d+)$/.exec(order);
  if (shuffle) {
    const next = random(Number(shuffle[1]));
    for (let i = byName.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [byName[i], byName[j]] = [byName[j], byName[i]];
    }
    return byName;
  }
  throw new Error(`TIER_ORDER must be unset, "name", "reverse" or "shuffle:<seed>" (a whole number), got "${order}"`);
}

class TierSequencer extends Sequencer {
  /** @param {import("@jest/test-result").Test[]} tests */
  sort(tests) {
    const order = process.env.TIER_ORDER;
    const paths = ordered(
      tests.map((t) => t.path),
      order,
    );
    const sorted = paths
      ? paths.map((p) => /** @type {import("@jest/test-result").Test} */ (tests.find((t) => t.path === p)))
      : super.sort(tests);
    const names = sorted.map((t) => path.relative(process.cwd(), t.path));
    process.stderr.write(`cluster tier order (TIER_ORDER=${order || "jest's usual"}): ${names.join(", ")}\n`);
    return sorted;
  }
}

module.exports = TierSequencer;
module.exports.ordered = ordered;
