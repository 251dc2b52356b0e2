import { timeScale } from "../time-scale";

/**
 * A bound a test gives a child process of its own (spawnSync's `timeout`), scaled as jest.config.js
 * scales the tests' own bound (test/time-scale.js). .ci/run runs `npm run test:quick` at nice 19 beside
 * the tool builds with TEST_TIME_SCALE=20, where a child that takes seconds alone waits minutes for a
 * core: a fixed bound there kills it half-way (spawnSync's status null), which no test means.
 */
export function scaledMs(aloneMs: number): number {
  return aloneMs * timeScale();
}
