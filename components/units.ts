/**
 * Parsing and formatting of the units that appear in stack config: Prometheus
 * durations, Kubernetes quantities and Prometheus byte sizes. Pure functions.
 */

const DURATION_UNITS: ReadonlyArray<[string, number]> = [
  ["y", 365 * 24 * 3600],
  ["w", 7 * 24 * 3600],
  ["d", 24 * 3600],
  ["h", 3600],
  ["m", 60],
  ["s", 1],
  ["ms", 0.001],
];

/** Prometheus duration syntax: units in decreasing order, each at most once (`30d`, `1h30m`, `500ms`). */
export const DURATION_PATTERN = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Seconds in a Prometheus duration, or undefined when the text is not one. */
export function durationSeconds(text: string): number | undefined {
  const m = DURATION_PATTERN.exec(text);
  if (!m || text === "") return undefined;
  let total = 0;
  DURATION_UNITS.forEach(([, factor], i) => {
    if (m[i + 1] !== undefined) total += Number(m[i + 1]) * factor;
  });
  return total;
}

/** Kubernetes quantity for bytes (`10Gi`, `512Mi`, `1G`). */
export const BYTES_QUANTITY_PATTERN = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
/** Kubernetes quantity for CPU (`250m`, `0.5`, `2`). */
export const CPU_QUANTITY_PATTERN = /^(\d+(?:\.\d+)?)(m)?$/;

const QUANTITY_FACTORS: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Bytes in a Kubernetes quantity, or undefined when the text is not one. */
export function quantityBytes(text: string): number | undefined {
  const m = BYTES_QUANTITY_PATTERN.exec(text);
  return m ? Number(m[1]) * QUANTITY_FACTORS[m[2] ?? ""] : undefined;
}

/** Millicores in a CPU quantity, or undefined when the text is not one. */
export function cpuMillicores(text: string): number | undefined {
  const m = CPU_QUANTITY_PATTERN.exec(text);
  if (!m) return undefined;
  return m[2] ? Number(m[1]) : Number(m[1]) * 1000;
}

/** Prometheus byte size (`--storage.tsdb.retention.size`): base-2 units B, KB, MB, GB, TB, PB, EB. */
export const PROMETHEUS_SIZE_PATTERN = /^(\d+)(B|KB|MB|GB|TB|PB|EB)$/;

/** Formats bytes as a whole number of Prometheus megabytes (MiB), rounding down. */
export function prometheusSizeMB(bytes: number): string {
  return `${Math.floor(bytes / 2 ** 20)}MB`;
}

/** Human-readable binary size for summaries (`1.5 GiB`). */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number(value.toFixed(2))} ${units[unit]}`;
}
