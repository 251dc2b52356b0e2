/** kube-state-metrics' section of the stack file (`kubeStateMetrics`): its fields, its defaults per profile and its resolution. */
import { z } from "zod";
import { bool, resources } from "../kit/fields";
import { componentSection, overDefaults } from "../kit/section";
import { KUBE_STATE_METRICS_DEFAULTS, KubeStateMetricsDefaults } from "./kube-state-metrics";

const schema = z.strictObject({ enabled: bool.optional(), resources: resources.optional() });

/** The `kubeStateMetrics` section; it has no problems of its own. */
export const kubeStateMetricsSection = componentSection({
  schema,
  defaults: (profile): KubeStateMetricsDefaults => KUBE_STATE_METRICS_DEFAULTS[profile],
  resolve: (given, context) => overDefaults(KUBE_STATE_METRICS_DEFAULTS[context.profile], given, context),
});
