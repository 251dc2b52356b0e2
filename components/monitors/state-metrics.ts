/**
 * What kube-state-metrics reports of the PrometheusRule objects (its custom resource state config):
 * kube_customresource_prometheusrule_generation{namespace, name} per object, its value the object's
 * generation, beside the series the stack records of what it loaded (components/prometheus/rules/operator-rules.ts).
 * With monitors.selector, each selector label's value as a label of its own (`selector_<i>`), so
 * that the alert on objects not loaded looks at the objects the stack reads only.
 */
import * as YAML from "yaml";
import { MONITORING_GROUP, MONITORING_VERSION } from "./args";

/** The label that carries the value of the selector's i-th key (sorted). */
export const selectorLabel = (i: number): string => `selector_${i}`;

/** The custom resource state config (YAML), and the API resources it reads. */
export function prometheusRuleStateConfig(selector: Readonly<Record<string, string>>): {
  config: string;
  reads: Array<{ apiGroup: string; resource: string }>;
  matchers: Array<{ label: string; value: string }>;
} {
  const keys = Object.keys(selector).sort();
  const config = {
    kind: "CustomResourceStateMetrics",
    spec: {
      resources: [
        {
          groupVersionKind: { group: MONITORING_GROUP, version: MONITORING_VERSION, kind: "PrometheusRule" },
          labelsFromPath: {
            namespace: ["metadata", "namespace"],
            name: ["metadata", "name"],
            ...Object.fromEntries(keys.map((k, i) => [selectorLabel(i), ["metadata", "labels", k]])),
          },
          metrics: [
            {
              name: "prometheusrule_generation",
              help: "The generation of each PrometheusRule object (metadata.generation).",
              each: { type: "Gauge", gauge: { path: ["metadata", "generation"] } },
            },
          ],
        },
      ],
    },
  };
  return {
    config: YAML.stringify(config, { lineWidth: 0 }),
    reads: [
      { apiGroup: MONITORING_GROUP, resource: "prometheusrules" },
      // kube-state-metrics finds the kinds it is configured for through their CRDs.
      { apiGroup: "apiextensions.k8s.io", resource: "customresourcedefinitions" },
    ],
    matchers: keys.map((k, i) => ({ label: selectorLabel(i), value: selector[k] })),
  };
}
