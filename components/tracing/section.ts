/** The traces backend's section of the stack file (`tracing`): its fields, its defaults per profile, its resolution and its problems. */
import { z } from "zod";
import { bool, duration, resources, storage } from "../kit/fields";
import { componentSection, overDefaults } from "../kit/section";
import { TRACING_DEFAULTS, TracingDefaults } from "./args";
import { problems } from "./problems";

const schema = z.strictObject({
  enabled: bool
    .optional()
    .describe(
      "Run the traces backend (Jaeger, in-cluster only) that the collector's OTLP endpoint forwards spans to; default: on when an app sends OTLP (apps[].otlp), else off.",
    ),
  // At least 1h: problems.ts.
  retention: duration.optional().describe("How long spans are kept (at least 1h)."),
  storage: storage.optional(),
  resources: resources.optional(),
});

/**
 * The `tracing` section; its problems only while the backend runs. What the OTLP endpoint for
 * apps needs of the log collector spans sections (config/checks/tracing.ts).
 */
export const tracingSection = componentSection({
  schema,
  defaults: (profile): TracingDefaults => TRACING_DEFAULTS[profile],
  resolve: (given, context) => overDefaults(TRACING_DEFAULTS[context.profile], given, context),
  problems: (tracing) => (tracing.enabled ? problems(tracing) : []),
});
