/** The units of stack config: Kubernetes quantities, Prometheus durations and sizes. */
import {
  PROMETHEUS_MAX_DURATION_MS,
  cpuMillicores,
  durationMilliseconds,
  formatDuration,
  prometheusSizeBytes,
  quantityBytes,
  quantityValue,
} from "../../components/kit/units";

test("Kubernetes quantities in every form the API server takes, by value", () => {
  expect(quantityValue("512Mi")).toBe(512 * 2 ** 20);
  expect(quantityValue("1G")).toBe(1e9);
  expect(quantityValue("1e9")).toBe(1e9);
  expect(quantityValue("1E")).toBe(1e18);
  expect(quantityValue("1E3")).toBe(1e3);
  expect(quantityValue(".5")).toBe(0.5);
  expect(quantityValue("250m")).toBe(0.25);
  for (const bad of ["", "1 Gi", "1gb", "Mi", "1e", "-1"]) expect(quantityValue(bad)).toBeUndefined();
});

test("memory is in bytes and never in thousandths; CPU is in millicores", () => {
  expect(quantityBytes("1.5Ki")).toBe(1536);
  expect(quantityBytes("512m")).toBeUndefined();
  expect(cpuMillicores("0.1")).toBe(100);
  expect(cpuMillicores("250m")).toBe(250);
  expect(cpuMillicores("2")).toBe(2000);
});

test("Prometheus durations in milliseconds, and back", () => {
  expect(durationMilliseconds("1h30m")).toBe(5_400_000);
  expect(durationMilliseconds("1s500ms")).toBe(1500);
  expect(durationMilliseconds("30 days")).toBeUndefined();
  expect(formatDuration(90_061_001)).toBe("1d1h1m1s1ms");
  expect(formatDuration(PROMETHEUS_MAX_DURATION_MS)).toBe("292y24w3d23h47m16s854ms");
  expect(durationMilliseconds(formatDuration(PROMETHEUS_MAX_DURATION_MS))).toBe(PROMETHEUS_MAX_DURATION_MS);
});

test("Prometheus sizes are base 2", () => {
  expect(prometheusSizeBytes("45GB")).toBe(45 * 2 ** 30);
  expect(prometheusSizeBytes("512MB")).toBe(2 ** 29);
  expect(prometheusSizeBytes("45GiB")).toBeUndefined();
});
