/** The database exporters' args: one exporter per configured database (config `databases[]`, section.ts). */
import type { EgressSettings } from "../kit/network";
import type { DatabaseExporter } from "./section";

export interface DatabaseExportersArgs {
  /** The database exporters (config databases), keyed by name; may be empty. */
  databases: DatabaseExporter[];
  /**
   * The stack namespace: the exporters and their DSN Secrets live there. It must exist
   * first: pass its MonitoringNamespace in `opts.dependsOn`.
   */
  namespace: string;
  /** The stack's environment: app.kubernetes.io/instance, the Prometheus pods' instance label. */
  environment: string;
  /** Further destinations of the standalone exporters (config networkPolicy.extraEgress.databaseExporters). Default DEFAULT_EGRESS. */
  egress?: EgressSettings;
  /** The stack's PriorityClass for the standalone exporters' pods (never the patched workloads': they are the team's). Default none. */
  priorityClassName?: string;
  /**
   * The stack's salt (preflight/stack-salt.ts): keys the digest of each DSN given in config on its
   * exporter's pod template (`checksum/dsn`), so that a new DSN restarts the exporter, which reads it
   * from its environment at start. (A DSN in a Secret of yours, secretRef, is not the stack's to read.)
   */
  stackSalt: Buffer;
}
