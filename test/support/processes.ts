/** Test servers: see scripts/lib/processes.ts, shared with the scripts. */
export * from "../../scripts/lib/processes";
