/** PromQL and LogQL parsing, for the tests: scripts/lib/promql.ts. */
export * from "../../scripts/lib/promql";
