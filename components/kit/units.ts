/**
 * Parsing and formatting of the units that appear in stack config: Prometheus
 * durations, Kubernetes quantities and Prometheus byte sizes. Pure functions.
 */
import { programmingError } from "./problems";

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

/**
 * The longer of two Prometheus durations, as written: `floor` when it is strictly longer than `duration`, else
 * `duration` (kept too when either is not a duration). Rule groups use it: a group's own interval is never shorter
 * than the stack's evaluation interval.
 */
export function atLeastDuration(duration: string, floor: string): string {
  const own = durationSeconds(duration);
  const least = durationSeconds(floor);
  return own !== undefined && least !== undefined && least > own ? floor : duration;
}

/** Whole milliseconds in a Prometheus duration (its resolution), or undefined when the text is not one. */
export function durationMilliseconds(text: string): number | undefined {
  const m = DURATION_PATTERN.exec(text);
  if (!m || text === "") return undefined;
  let total = 0;
  DURATION_UNITS.forEach(([, factor], i) => {
    if (m[i + 1] !== undefined) total += Number(m[i + 1]) * Math.round(factor * 1000);
  });
  return total;
}

/**
 * The longest duration Prometheus and Alertmanager hold: model.ParseDuration
 * (github.com/prometheus/common/model) sums the units in nanoseconds and refuses a
 * total over 2^63-1 ns ("duration out of range"). Durations are whole milliseconds,
 * so the longest is floor((2^63-1) / 10^6) ms = 9223372036854ms, about 292 years.
 */
export const PROMETHEUS_MAX_DURATION_MS = 9223372036854;

/** A whole number of milliseconds in Prometheus syntax, largest unit first (`90061000` -> `1d1h1m1s`). */
export function formatDuration(milliseconds: number): string {
  let rest = milliseconds;
  let text = "";
  for (const [unit, factor] of DURATION_UNITS) {
    const ms = Math.round(factor * 1000);
    const n = Math.floor(rest / ms);
    if (n > 0) text += `${n}${unit}`;
    rest -= n * ms;
  }
  return text || "0s";
}

/**
 * A Kubernetes quantity (k8s.io/apimachinery resource.Quantity): a decimal number, then
 * a binary suffix (Ki … Ei), a decimal one (m, k, M, G, T, P, E) or a decimal exponent
 * (e3, E-2). `1E` is an exa, `1E3` an exponent.
 */
const QUANTITY_PATTERN = /^(\d+\.?\d*|\.\d+)([eE][-+]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$/;
/** Kubernetes quantity for bytes (`10Gi`, `512Mi`, `1G`, `1e9`): every form but milli (`500m` is half a byte). */
export const BYTES_QUANTITY_PATTERN = /^(\d+\.?\d*|\.\d+)([eE][-+]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
/** Kubernetes quantity for CPU (`250m`, `0.5`, `2`): any quantity, in cores. */
export const CPU_QUANTITY_PATTERN = QUANTITY_PATTERN;

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

/** The value of a Kubernetes quantity in its base unit (bytes, cores), or undefined when the text is not one. */
export function quantityValue(text: string): number | undefined {
  const m = QUANTITY_PATTERN.exec(text);
  if (!m) return undefined;
  const suffix = m[2] ?? "";
  const factor = /^[eE][-+]?\d/.test(suffix) ? 10 ** Number(suffix.slice(1)) : suffix === "m" ? 1e-3 : QUANTITY_FACTORS[suffix];
  return Number(m[1]) * factor;
}

/** Bytes in a Kubernetes quantity, or undefined when the text is not one (or is in milli-bytes). */
export function quantityBytes(text: string): number | undefined {
  return BYTES_QUANTITY_PATTERN.test(text) ? quantityValue(text) : undefined;
}

/**
 * A value of the stack file, parsed where a component reads it: config's schema (fields.ts)
 * refused a malformed one before any component ran, so one here is a programming error (args
 * built by hand, not by config), thrown as one rather than turned into a wrong figure.
 */
function validated(parsed: number | undefined, text: string, what: string): number {
  if (parsed === undefined) programmingError(`expected ${what}, got "${text}"`);
  return parsed;
}

/** Seconds in a Prometheus duration that config has validated (fields.ts' duration). */
export function validSeconds(text: string): number {
  return validated(durationSeconds(text), text, "a duration such as 3d");
}

/** Bytes in a Kubernetes quantity that config has validated (fields.ts' bytesQuantity). */
export function validBytes(text: string): number {
  return validated(quantityBytes(text), text, "a byte quantity such as 512Mi");
}

/** Share of a Go container's memory limit given to GOMEMLIMIT. */
export const GO_MEMORY_LIMIT_RATIO = 0.9;

/**
 * GOMEMLIMIT for a container with this memory limit: 90 % of it, in whole MiB (Go's
 * runtime takes B, KiB, MiB, GiB or TiB). The limit itself would leave no room for the
 * memory Go's limit does not count (cgo and other non-Go allocations, the binary itself),
 * so the container could be OOM-killed before the collector pushed back.
 */
export function goMemoryLimit(memoryLimit: string): string {
  return `${Math.floor((validBytes(memoryLimit) * GO_MEMORY_LIMIT_RATIO) / 2 ** 20)}MiB`;
}

/** Millicores in a CPU quantity, or undefined when the text is not one. */
export function cpuMillicores(text: string): number | undefined {
  const cores = quantityValue(text);
  // Rounded to the thousandth: 0.1 cores is 100m, not 100.00000000000001.
  return cores === undefined ? undefined : Math.round(cores * 1e6) / 1e3;
}

/** Prometheus byte size (`--storage.tsdb.retention.size`): base-2 units B, KB, MB, GB, TB, PB, EB. */
export const PROMETHEUS_SIZE_PATTERN = /^(\d+)(B|KB|MB|GB|TB|PB|EB)$/;

/** Bytes in a Prometheus size (`45GB` is 45 GiB), or undefined when the text is not one. */
export function prometheusSizeBytes(text: string): number | undefined {
  const m = PROMETHEUS_SIZE_PATTERN.exec(text);
  return m ? Number(m[1]) * 1024 ** ["B", "KB", "MB", "GB", "TB", "PB", "EB"].indexOf(m[2]) : undefined;
}

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
