/**
 * node-exporter's section of the stack file (`nodeExporter`): its fields, declared here once (the
 * defaults, the resolved values and the component's args are typed from the schema), its defaults
 * per profile and its resolution.
 */
import { z } from "zod";
import { bool, hostPort, resources } from "../kit/fields";
import { Profile, withOverrides } from "../kit/profiles";
import { requirements } from "../kit/resources";
import { FieldsOf, componentSection, overDefaults } from "../kit/section";
import { WATCH_DEFAULTS } from "../kit/watch";
import { JOB } from "../kit/stack-jobs";

const schema = z.strictObject({
  enabled: bool.optional(),
  /** On the host's network, so two stacks on one cluster each need their own. */
  port: hostPort
    .optional()
    .describe("Port node-exporter listens on, on every node's own address (host network); each stack on a cluster needs its own."),
  /** Requests and limits of the exporter container. */
  resources: resources.optional(),
});

/** What the stack's config holds of node-exporter: each field of the section. */
export type NodeExporterSettings = FieldsOf<typeof schema>;

// Not node-exporter's usual 9100, which the production profile takes: a staging stack next to a production one on the same nodes.
// npm run bench: 21 MiB and 3m steady, 22 MiB at the peak (× 1.25, × 2).
// It runs where the stack watches the cluster's nodes (watch.cluster, production by default), which config resolves it with.
const NODE_EXPORTER_STAGING: NodeExporterSettings = {
  enabled: WATCH_DEFAULTS.staging.cluster,
  port: 9101,
  resources: requirements("5m", "32Mi", "200m", "48Mi"),
};

/** node-exporter's defaults in each profile (kit/profiles.ts: the headroom). */
const NODE_EXPORTER_DEFAULTS: Record<Profile, NodeExporterSettings> = {
  staging: NODE_EXPORTER_STAGING,
  production: withOverrides(NODE_EXPORTER_STAGING, {
    enabled: WATCH_DEFAULTS.production.cluster,
    port: 9100,
    resources: requirements("10m", "48Mi", "200m", "80Mi"),
  }),
};

/** The `nodeExporter` section; its port is checked by its field (kit's hostPort), and it has no problems of its own. */
export const nodeExporterSection = componentSection({
  schema,
  defaults: (profile): NodeExporterSettings => NODE_EXPORTER_DEFAULTS[profile],
  resolve: (given, context): NodeExporterSettings => overDefaults(NODE_EXPORTER_DEFAULTS[context.profile], given, context),
  jobs: (nodeExporter) => (nodeExporter.enabled ? [JOB.nodeExporter] : []),
});
