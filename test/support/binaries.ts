/** The exact binaries, for the tests: scripts/lib/binaries.ts. */
export * from "../../scripts/lib/binaries";
