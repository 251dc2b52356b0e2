/**
 * A bound a test gives a child process of its own (spawnSync's `timeout`), scaled as jest.config.js
 * scales the tests' own bound: by TEST_TIME_SCALE, 1 unless given (jest.config.js refuses anything but
 * a number of at least 1 before any test runs). .ci/run runs `npm run test:quick` at nice 19 beside
 * the tool builds with TEST_TIME_SCALE=20, where a child that takes seconds alone waits minutes for a
 * core: a fixed bound there kills it half-way (spawnSync's status null), which no test means.
 */
export function scaledMs(aloneMs: number): number {
  const scale = Number(process.env.TEST_TIME_SCALE);
  return aloneMs * (Number.isFinite(scale) && scale >= 1 ? scale : 1);
}
