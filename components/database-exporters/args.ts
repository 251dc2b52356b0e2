/** The database exporters' args: one exporter per configured database (config `databases[]`, section.ts). */
import type { DatabaseType } from "../kit/database-exporters";
import type { EgressSettings } from "../kit/network";
import type { ResourceRequirements } from "../kit/resources";

/** A configured database, as its exporter needs it. */
export interface DatabaseExporter {
  name: string;
  type: DatabaseType;
  /** Always its own Deployment in the stack namespace: sidecars are refused (see index.ts). */
  mode: "standalone";
  /** Where the DSN comes from: an existing Secret in the stack's namespace, or the (secret) config value. */
  dsn: { secretRef: { name: string; key: string } } | { value: string };
  resources: ResourceRequirements;
}

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
