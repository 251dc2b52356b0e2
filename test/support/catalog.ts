/** The metric catalogue, for the tests: scripts/lib/catalog.ts. */
export * from "../../scripts/lib/catalog";
