/** Loki and Alloy configs made runnable locally: see scripts/lib/local-logs.ts, shared with the benchmark. */
export * from "../../scripts/lib/local-logs";
