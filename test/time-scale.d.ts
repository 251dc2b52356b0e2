/** test/time-scale.js: TEST_TIME_SCALE, 1 unless given; anything but a number of at least 1 is refused, naming it. */
export function timeScale(given?: string): number;
