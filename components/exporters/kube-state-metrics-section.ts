/**
 * kube-state-metrics' section of the stack file (`kubeStateMetrics`): its fields, declared here once
 * (the defaults, the resolved values and the component's resources are typed from the schema), its
 * defaults per profile and its resolution.
 */
import { z } from "zod";
import { bool, dnsLabel, resources } from "../kit/fields";
import { ArgsProblem } from "../kit/problems";
import { Profile, withOverrides } from "../kit/profiles";
import { requirements } from "../kit/resources";
import { shareEntryProblems } from "../kit/share";
import { DefaultsOf, FieldsOf, componentSection, overDefaults } from "../kit/section";
import { JOB } from "../kit/stack-jobs";

const shareEntry = z.strictObject({
  namespace: dnsLabel.describe(
    "The namespace of the other stack on this cluster whose Prometheus scrapes this stack's kube-state-metrics (e.g. monitoring-staging).",
  ),
  namespaces: z
    .array(dnsLabel)
    .min(1, "must name at least one namespace: the ones whose objects that stack watches")
    .describe("The namespaces whose objects this stack's kube-state-metrics reports for that stack too."),
});

const schema = z.strictObject({
  enabled: bool.optional().describe("Run kube-state-metrics; default true, false with sharedFrom."),
  resources: resources.optional(),
  shareWith: z
    .array(shareEntry)
    .optional()
    .describe(
      "Other stacks on this cluster that scrape this stack's kube-state-metrics instead of running their own: it also reports each entry's namespaces and admits that stack's Prometheus (docs/operations.md, \"One kube-state-metrics for two stacks\").",
    ),
  sharedFrom: dnsLabel
    .optional()
    .describe(
      "The namespace of the stack on this cluster whose kube-state-metrics this stack scrapes, keeping the series of the namespaces it watches (that stack's kubeStateMetrics.shareWith names them): this stack runs none of its own.",
    ),
});

/** One other stack served by this stack's kube-state-metrics: its namespace (its Prometheus) and the namespaces reported for it. */
export type KsmShare = z.infer<typeof shareEntry>;

/** kube-state-metrics' resolved section: the profile's fields, and whom it serves or who serves it (sharedFrom: no default). */
export type KubeStateMetricsSection = FieldsOf<typeof schema, "sharedFrom">;

// npm run bench (lab/bench/ksm-footprint.ts: the release the image is tagged with, against a local
// control plane with both stack files and both teams' workloads, 114 pods): 56 MiB steady and 56 MiB at the
// peak narrowed to either stack's namespaces, 60 and 61 MiB watching both; most of it the binary's mapped
// pages (15 MiB anonymous). Memory × 1.25 and × 2 here, × 1.5 in production (CPU not measured: as before).
const KUBE_STATE_METRICS_STAGING: DefaultsOf<typeof schema, "sharedFrom"> = {
  enabled: true,
  resources: requirements("20m", "80Mi", "200m", "128Mi"),
  shareWith: [],
};

/** kube-state-metrics' defaults in each profile (kit/profiles.ts: the headroom). */
const KUBE_STATE_METRICS_DEFAULTS: Record<Profile, DefaultsOf<typeof schema, "sharedFrom">> = {
  staging: KUBE_STATE_METRICS_STAGING,
  production: withOverrides(KUBE_STATE_METRICS_STAGING, { resources: requirements("50m", "96Mi", "500m", "256Mi") }),
};

function problems(section: KubeStateMetricsSection): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  if (section.sharedFrom !== undefined && section.enabled) {
    found.push({
      key: "enabled",
      message: `is true, but sharedFrom says this stack scrapes the kube-state-metrics of the stack in ${section.sharedFrom}: remove one of them`,
      involves: ["sharedFrom"],
    });
  }
  if (section.sharedFrom !== undefined && section.shareWith.length > 0) {
    found.push({
      key: "shareWith",
      message: "is set, but sharedFrom says this stack runs no kube-state-metrics: only the stack that runs it shares it",
      involves: ["sharedFrom"],
    });
  }
  if (!section.enabled && section.sharedFrom === undefined && section.shareWith.length > 0) {
    found.push({
      key: "shareWith",
      message: "is set, but enabled is false: only a running kube-state-metrics can report other stacks' namespaces",
      involves: ["enabled"],
    });
  }
  found.push(...shareEntryProblems(section.shareWith));
  return found;
}

/** The `kubeStateMetrics` section. That a shared one serves other stacks, and a served stack watches no cluster, is config/checks/kube-state-metrics.ts's. */
export const kubeStateMetricsSection = componentSection({
  schema,
  defaults: (profile): KubeStateMetricsSection => KUBE_STATE_METRICS_DEFAULTS[profile],
  resolve: (given, context): KubeStateMetricsSection => {
    const { shareWith, sharedFrom, ...plain } = given ?? {};
    const base = overDefaults(KUBE_STATE_METRICS_DEFAULTS[context.profile], plain, context);
    return {
      ...base,
      // A stack that scrapes another's runs none unless it says so (which problems() refuses).
      ...(sharedFrom !== undefined && plain.enabled === undefined ? { enabled: false } : {}),
      shareWith: (shareWith ?? []).map((e) => ({ namespace: e.namespace, namespaces: [...e.namespaces] })),
      ...(sharedFrom !== undefined ? { sharedFrom } : {}),
    };
  },
  problems,
  jobs: (ksm) => (ksm.enabled ? [JOB.kubeStateMetrics] : []),
});
