/**
 * What turns a dashboard from somewhere else (a Grafana instance's API, a grafana.com export) into a
 * file of the repository, shared by `npm run dashboard:export` (cli/dashboard-export.ts)
 * and `npm run dashboard:import` (cli/dashboard-import.ts): without the fields that
 * belong to one instance, with the datasource variables' selection cleared and the repository's
 * tags. The text is written with canonicalDashboardText (files.ts).
 */
import { JsonObject, SHARED_TAG, asArray, isObject } from "./files";

/** Top-level fields that only mean something in the instance or the export they come from. */
export const INSTANCE_FIELDS = ["id", "version", "iteration", "__inputs", "__requires", "__elements"] as const;

/**
 * Removes the instance's fields in place and sets what provisioning expects: Grafana assigns the id
 * (`null`) and the version starts at 1. Returns the fields that were there.
 */
export function dropInstanceFields(dashboard: JsonObject): string[] {
  const present = INSTANCE_FIELDS.filter((field) => field in dashboard);
  for (const field of INSTANCE_FIELDS) delete dashboard[field];
  dashboard.id = null;
  dashboard.version = 1;
  return present;
}

/** The datasource variables of a templating list, without the datasource an instance had selected (in place). */
export function clearDatasourceSelections(list: readonly unknown[]): void {
  for (const variable of list) {
    if (isObject(variable) && variable.type === "datasource") {
      variable.current = {};
      variable.options = [];
    }
  }
}

/** The dashboard's tags with the shared tag and the folder's (the area tag) added after its own. */
export function repositoryTags(dashboard: JsonObject, folder?: string): string[] {
  const tags = asArray(dashboard.tags).filter((t): t is string => typeof t === "string");
  for (const tag of [SHARED_TAG, ...(folder ? [folder] : [])]) if (!tags.includes(tag)) tags.push(tag);
  return tags;
}
