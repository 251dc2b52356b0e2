// @ts-check
/**
 * How many times longer than alone a test may take: TEST_TIME_SCALE, 1 unless given. .ci/run sets it for
 * `npm run test:quick`, which it runs at nice 19 beside the tool builds: there a render that takes seconds
 * alone waits minutes for a core, and no test is stuck. Read once here, for jest.config.js (the bound of
 * every test and hook) and for test/support/time-scale.ts (the bound a test gives a child process of its own).
 * @param {string | undefined} given
 * @returns {number}
 */
function timeScale(given = process.env.TEST_TIME_SCALE) {
  if (given === undefined || given === "") return 1;
  const scale = Number(given);
  if (!Number.isFinite(scale) || scale < 1)
    throw new Error(
      `TEST_TIME_SCALE must be a number of at least 1 (how many times longer than alone a test may take); given ${JSON.stringify(given)}`,
    );
  return scale;
}

module.exports = { timeScale };
