/** Dashboard loading and checks, for the tests: scripts/lib/dashboards.ts (npm run check uses them too). */
export * from "../../scripts/lib/dashboards";
