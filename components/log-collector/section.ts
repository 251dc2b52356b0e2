/** The log collector's section of the stack file (`logCollector`): its fields, its defaults per profile and its resolution. */
import { z } from "zod";
import { bool, resources } from "../kit/fields";
import { componentSection, overDefaults } from "../kit/section";
import { LOG_COLLECTOR_AGENT, LOG_COLLECTOR_DEFAULTS, LogCollectorDefaults } from "./args";

const schema = z.strictObject({
  enabled: bool.optional(),
  // Its one value is the default; the retired "promtail" is refused with the way over (config/parse.ts).
  agent: z.enum([LOG_COLLECTOR_AGENT]).optional().describe("The agent: alloy (Grafana Alloy), the default and the only value."),
  resources: resources.optional(),
});

/**
 * The `logCollector` section. It has no problems of its own: that it ships to Loki, and that apps'
 * OTLP arrives at its endpoint, span sections (config/checks/log-collector.ts and tracing.ts).
 */
export const logCollectorSection = componentSection({
  schema,
  defaults: (profile): LogCollectorDefaults => LOG_COLLECTOR_DEFAULTS[profile],
  resolve: (given, context) => overDefaults(LOG_COLLECTOR_DEFAULTS[context.profile], given, context),
});
