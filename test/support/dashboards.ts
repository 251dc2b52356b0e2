/** A shipped dashboard, parsed, for the tests that read one view (the pod view: test/content, test/e2e). */
import { type DashboardFile, type JsonObject, loadDashboards } from "../../cli/dashboards/files";

/** The dashboard at `relPath` under dashboards/ (e.g. "infrastructure/pod.json"), parsed; throws naming it when it is missing or not a JSON object. */
export function shippedDashboard(relPath: string, files: readonly DashboardFile[] = loadDashboards()): JsonObject {
  const file = files.find((f) => f.relPath === relPath);
  if (!file) throw new Error(`${relPath} is not among the dashboards`);
  if (!file.dashboard) throw new Error(`${relPath}: ${file.parseError ?? "not a JSON object"}`);
  return file.dashboard;
}
