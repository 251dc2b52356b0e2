/** What Grafana provisions at start: the datasources and the dashboard providers. */
import { imageVersion } from "../images";
import { SERVICE_PORTS, serviceUrl } from "../kit/services";
import { PATHS, WRITABLE_FOLDER_DEFAULT } from "./args";

/** What the datasources depend on. */
export interface GrafanaDatasourcesArgs {
  /** Namespace of the stack's Prometheus, Alertmanager and Loki Services. */
  namespace: string;
  /** Provision Loki. */
  loki: boolean;
  /** Prometheus' scrape interval: the smallest step worth querying. Default "15s". */
  scrapeInterval?: string;
}

/**
 * The datasources, with fixed uids that dashboards reference: `prometheus` (the
 * default), `loki` (when Loki runs) and `alertmanager`. A disabled Loki is deleted
 * so that turning it off does not leave a dead datasource behind.
 */
export function grafanaDatasources(args: GrafanaDatasourcesArgs): Record<string, unknown> {
  const datasources: Array<Record<string, unknown>> = [
    {
      name: "Prometheus",
      uid: "prometheus",
      type: "prometheus",
      access: "proxy",
      url: serviceUrl("prometheus", args.namespace, SERVICE_PORTS.prometheus),
      isDefault: true,
      editable: false,
      jsonData: {
        httpMethod: "POST",
        timeInterval: args.scrapeInterval ?? "15s",
        prometheusType: "Prometheus",
        prometheusVersion: imageVersion("prometheus").replace(/^v/, ""),
      },
    },
    {
      name: "Alertmanager",
      uid: "alertmanager",
      type: "alertmanager",
      access: "proxy",
      url: serviceUrl("alertmanager", args.namespace, SERVICE_PORTS.alertmanager),
      isDefault: false,
      editable: false,
      jsonData: { implementation: "prometheus", handleGrafanaManagedAlerts: false },
    },
  ];
  if (args.loki) {
    datasources.push({
      name: "Loki",
      uid: "loki",
      type: "loki",
      access: "proxy",
      url: serviceUrl("loki", args.namespace, SERVICE_PORTS.loki),
      isDefault: false,
      editable: false,
      jsonData: { maxLines: 1000 },
    });
  }
  return {
    apiVersion: 1,
    ...(args.loki ? {} : { deleteDatasources: [{ name: "Loki", orgId: 1 }] }),
    datasources,
  };
}

/** The uid of the writable folder: its identity, whatever its title. */
export const WRITABLE_FOLDER_UID = "writable-dashboards";

/**
 * Two file providers. `dashboards`: every dashboard of the repository, each directory under
 * the path a Grafana folder; the files are the source of truth (no saving from the UI), and a
 * removed file removes its dashboard. `writable-folder`: no dashboard at all, for its folder:
 * a provider with a `folder` (not foldersFromFilesStructure) gets or creates it at every scan
 * of its directory, even an empty one (Grafana's pkg/services/provisioning/dashboards,
 * storeDashboardsInFolder), so the folder exists on every start and comes back if deleted.
 * Dashboards users save there are not provisioned: Grafana lets them be edited and saved
 * like any other (its default permissions of a new top-level folder: Editors edit, Viewers
 * view), and the provider never deletes them (it deletes only dashboards it provisioned).
 * They live in Grafana's database; `npm run dashboard:export` brings one into the repository.
 */
export function grafanaDashboardProviders(writableFolder: string = WRITABLE_FOLDER_DEFAULT): Record<string, unknown> {
  return {
    apiVersion: 1,
    providers: [
      {
        name: "dashboards",
        orgId: 1,
        type: "file",
        disableDeletion: false,
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: PATHS.dashboards, foldersFromFilesStructure: true },
      },
      {
        name: "writable-folder",
        orgId: 1,
        type: "file",
        folder: writableFolder,
        folderUid: WRITABLE_FOLDER_UID,
        disableDeletion: true,
        allowUiUpdates: true,
        updateIntervalSeconds: 60,
        options: { path: PATHS.writableFolder },
      },
    ],
  };
}
