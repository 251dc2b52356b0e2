/** node-exporter's section of the stack file (`nodeExporter`): its fields, its defaults per profile and its resolution. */
import { z } from "zod";
import { bool, hostPort, resources } from "../kit/fields";
import { componentSection, overDefaults } from "../kit/section";
import { NODE_EXPORTER_DEFAULTS, NodeExporterDefaults } from "./node-exporter";

const schema = z.strictObject({
  enabled: bool.optional(),
  port: hostPort
    .optional()
    .describe("Port node-exporter listens on, on every node's own address (host network); each stack on a cluster needs its own."),
  resources: resources.optional(),
});

/** The `nodeExporter` section; its port is checked by its field (kit's hostPort), and it has no problems of its own. */
export const nodeExporterSection = componentSection({
  schema,
  defaults: (profile): NodeExporterDefaults => NODE_EXPORTER_DEFAULTS[profile],
  resolve: (given, context) => overDefaults(NODE_EXPORTER_DEFAULTS[context.profile], given, context),
  scrapeJobs: (nodeExporter) => (nodeExporter.enabled ? ["node-exporter"] : []),
});
