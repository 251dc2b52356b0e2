/**
 * The `monitors` section of the stack file: the Prometheus operator's objects, honoured without the
 * operator. Its fields are declared here once: its defaults and resolved values are typed from the schema.
 */
import { z } from "zod";
import { bool, kubeLabelMap, matching, positiveCount } from "../kit/fields";
import { ArgsProblem, duplicates } from "../kit/problems";
import { DefaultsOf, FieldsOf, componentSection, overDefaults } from "../kit/section";
import { CRD_MODES, MONITOR_LIMITS } from "./args";

/** `<namespace>/<name>`: a DNS-1123 label, '/', a DNS-1123 subdomain. */
const SECRET_REF = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\/(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The samples one scrape of a monitor may return by default: the limit of an app's job (prometheus' DEFAULT_SCRAPE_LIMITS). */
export const MONITOR_SAMPLE_LIMIT = MONITOR_LIMITS.samples;

const schema = z.strictObject({
  /** Default false: nothing of this feature is deployed. */
  enabled: bool
    .optional()
    .describe(
      "Honour ServiceMonitor, PodMonitor, Probe and PrometheusRule objects (monitoring.coreos.com/v1) without the operator; default false.",
    ),
  /** No default: the stack's watched ones (watch), every namespace when it watches every namespace. */
  namespaces: z
    .array(matching(NAMESPACE, "a namespace (a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters)"))
    .min(1, "must name at least one namespace, or be left out for the namespaces the stack watches")
    .optional()
    .describe("The namespaces whose monitors and rules are read; default the ones the stack watches (watch)."),
  /** A label selector's matchLabels; empty: every object. */
  selector: kubeLabelMap
    .optional()
    .describe("Labels a monitor or rule object must carry to be read (all of them); default none: every object."),
  secrets: z
    .array(matching(SECRET_REF, "a Secret as <namespace>/<name>, such as shop/metrics-auth"))
    .optional()
    .describe(
      "The Secrets (<namespace>/<name>) monitors may name for basicAuth, bearerTokenSecret or tlsConfig: the collector may read those and no other.",
    ),
  crds: z
    .enum(CRD_MODES, { error: `must be one of ${CRD_MODES.join(", ")}` })
    .optional()
    .describe(
      "The four CRDs: auto installs them unless another owner did (read at preview and up), install always, external never; default auto.",
    ),
  rules: bool.optional().describe("Load the PrometheusRules into Prometheus (read at preview and up); default true."),
  /** Every other monitor's series get its own namespace, whatever its relabelings or honorLabels say. */
  honorLabels: z
    .array(
      z.union([matching(NAMESPACE, "a namespace"), matching(SECRET_REF, "a monitor as <namespace>/<name>")], {
        error: "must be a namespace (such as kube-system) or a monitor as <namespace>/<name> (such as monitoring/kube-state-metrics)",
      }),
    )
    .optional()
    .describe(
      "The monitors whose series keep the namespace labels they give (honorLabels across namespaces): a namespace, or <namespace>/<name>; every other monitor's series get its own namespace. Default none.",
    ),
  limits: z
    .strictObject({
      samples: positiveCount("samples")
        .optional()
        .describe(
          `Samples one scrape of a monitor may return, whatever its own sampleLimit (the lower wins); more fail the scrape. Default ${MONITOR_LIMITS.samples}.`,
        ),
      targets: positiveCount("targets")
        .optional()
        .describe(
          `Targets one endpoint of a monitor may have, whatever its own targetLimit (the lower wins); more fail every target of it. Default ${MONITOR_LIMITS.targets}.`,
        ),
      labels: positiveCount("labels")
        .optional()
        .describe(
          `Labels one series of a monitor may carry (its name and the target labels included), whatever its own labelLimit (the lower wins); more fail the scrape. Default ${MONITOR_LIMITS.labels}.`,
        ),
    })
    .optional()
    .describe("What one monitor may take in, held on every monitor of the namespaces read."),
});

/** What a stack's config says of the four kinds (config `monitors`): each field, `limits` each set; `namespaces` when given. */
export type MonitorsSettings = Omit<FieldsOf<typeof schema, "namespaces">, "limits"> & {
  limits: Required<FieldsOf<typeof schema>["limits"]>;
};

const MONITORS_DEFAULTS: DefaultsOf<typeof schema, "namespaces"> & Pick<MonitorsSettings, "limits"> = {
  enabled: false,
  selector: {},
  secrets: [],
  crds: "auto",
  rules: true,
  honorLabels: [],
  limits: { ...MONITOR_LIMITS },
};

function problems(section: MonitorsSettings): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  for (const name of duplicates(section.secrets)) {
    found.push({ key: `secrets[${section.secrets.lastIndexOf(name)}]`, message: `names ${name} a second time: give each Secret once` });
  }
  for (const ns of duplicates(section.namespaces ?? [])) {
    found.push({
      key: `namespaces[${(section.namespaces ?? []).lastIndexOf(ns)}]`,
      message: `names ${ns} a second time: give each namespace once`,
    });
  }
  for (const entry of duplicates(section.honorLabels)) {
    found.push({ key: `honorLabels[${section.honorLabels.lastIndexOf(entry)}]`, message: `names ${entry} a second time: give each once` });
  }
  section.honorLabels.forEach((entry, i) => {
    const [ns, name] = entry.split("/");
    if (name !== undefined && section.honorLabels.includes(ns)) {
      found.push({
        key: `honorLabels[${i}]`,
        message: `is in namespace ${ns}, which honorLabels names whole: give the namespace or its monitors, not both`,
      });
    }
    if (section.namespaces !== undefined && !section.namespaces.includes(ns)) {
      found.push({
        key: `honorLabels[${i}]`,
        message: `is in namespace ${ns}, whose monitors are not read (namespaces: ${section.namespaces.join(", ")})`,
        involves: ["namespaces"],
      });
    }
  });
  if (!section.enabled) {
    const set = (["namespaces", "secrets", "honorLabels"] as const).filter((k) => (section[k] ?? []).length > 0);
    for (const key of set) {
      found.push({
        key,
        message: "is set, but enabled is false: nothing reads monitors (set monitors.enabled: true, or remove it)",
        involves: ["enabled"],
      });
    }
  }
  if (section.enabled && section.namespaces !== undefined) {
    section.secrets.forEach((ref, i) => {
      const ns = ref.split("/")[0];
      if (!(section.namespaces ?? []).includes(ns)) {
        found.push({
          key: `secrets[${i}]`,
          message: `is in namespace ${ns}, whose monitors are not read (namespaces: ${(section.namespaces ?? []).join(", ")}): a monitor reads Secrets of its own namespace only`,
          involves: ["namespaces"],
        });
      }
    });
  }
  return found;
}

/** The `monitors` section. That the collector runs to read them is config/checks/monitors.ts'. */
export const monitorsSection = componentSection({
  schema,
  defaults: (): MonitorsSettings => MONITORS_DEFAULTS,
  resolve: (given, context): MonitorsSettings => {
    const { namespaces, limits, ...plain } = given ?? {};
    return {
      ...overDefaults(MONITORS_DEFAULTS, plain, context),
      ...(namespaces !== undefined ? { namespaces } : {}),
      limits: {
        samples: limits?.samples ?? MONITORS_DEFAULTS.limits.samples,
        targets: limits?.targets ?? MONITORS_DEFAULTS.limits.targets,
        labels: limits?.labels ?? MONITORS_DEFAULTS.limits.labels,
      },
    };
  },
  problems,
});
