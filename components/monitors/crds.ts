/**
 * The CustomResourceDefinitions of the four kinds, written here (never copied): a structural
 * schema that types the fields the stack reads (selector, namespaceSelector, each endpoint's
 * port, path, interval, scheme, TLS, basic auth, bearer token Secret and relabelling, the sample,
 * target and label limits (components/monitors/limits.ts compares them), a Probe's
 * prober and targets, a PrometheusRule's groups and rules) and keeps every other field as given
 * (`x-kubernetes-preserve-unknown-fields`), so that objects written for a later operator release
 * are stored whole and the fields the stack reads are checked by the API server.
 */
import { MONITORING_GROUP, MONITORING_VERSION, MONITOR_KINDS, MonitorKind, PROMETHEUS_OPERATOR_RELEASE, crdName } from "./args";

/** An OpenAPI v3 schema, as a CRD's `openAPIV3Schema` takes it. */
export type CrdSchema = { [key: string]: unknown };

const PRESERVE = { "x-kubernetes-preserve-unknown-fields": true } as const;
const text: CrdSchema = { type: "string" };
const flag: CrdSchema = { type: "boolean" };
const texts: CrdSchema = { type: "array", items: text };
const stringMap: CrdSchema = { type: "object", additionalProperties: text };
const intOrString: CrdSchema = { "x-kubernetes-int-or-string": true };

/** Prometheus' duration (the operator's pattern: units from years to milliseconds, in order). */
const duration: CrdSchema = {
  type: "string",
  pattern: "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
};

/** An object with typed fields, any other field kept as given. */
function open(properties: Record<string, CrdSchema>, required?: string[]): CrdSchema {
  return { type: "object", properties, ...(required ? { required } : {}), ...PRESERVE };
}

/** A key of a Secret (or ConfigMap) of the object's own namespace. */
const keySelector = open({ name: text, key: text, optional: flag }, ["key"]);

/** A CA or certificate: from a Secret or a ConfigMap of the object's namespace. */
const secretOrConfigMap = open({ secret: keySelector, configMap: keySelector });

const labelSelector = open({
  matchLabels: stringMap,
  matchExpressions: {
    type: "array",
    items: open({ key: text, operator: text, values: texts }, ["key", "operator"]),
  },
});

const namespaceSelector = open({ any: flag, matchNames: texts });

/** The relabelling actions Prometheus takes, in either case the operator accepts. */
const RELABEL_ACTIONS = [
  ["replace", "Replace"],
  ["keep", "Keep"],
  ["drop", "Drop"],
  ["hashmod", "HashMod"],
  ["labelmap", "LabelMap"],
  ["labeldrop", "LabelDrop"],
  ["labelkeep", "LabelKeep"],
  ["lowercase", "Lowercase"],
  ["uppercase", "Uppercase"],
  ["keepequal", "KeepEqual"],
  ["dropequal", "DropEqual"],
].flat();

const relabelling: CrdSchema = {
  type: "array",
  items: open({
    sourceLabels: texts,
    separator: text,
    targetLabel: text,
    regex: text,
    modulus: { type: "integer", format: "int64" },
    replacement: text,
    action: { type: "string", enum: RELABEL_ACTIONS },
  }),
};

const tlsConfig = open({
  ca: secretOrConfigMap,
  cert: secretOrConfigMap,
  keySecret: keySelector,
  caFile: text,
  certFile: text,
  keyFile: text,
  serverName: text,
  insecureSkipVerify: flag,
});

const basicAuth = open({ username: keySelector, password: keySelector });

/** What a ServiceMonitor's endpoint and a PodMonitor's endpoint share: how to scrape. */
const scrapeFields: Record<string, CrdSchema> = {
  port: text,
  targetPort: intOrString,
  path: text,
  scheme: { type: "string", enum: ["http", "https", "HTTP", "HTTPS"] },
  params: { type: "object", additionalProperties: texts },
  interval: duration,
  scrapeTimeout: duration,
  honorLabels: flag,
  honorTimestamps: flag,
  tlsConfig,
  basicAuth,
  bearerTokenSecret: keySelector,
  authorization: open({ type: text, credentials: keySelector }),
  relabelings: relabelling,
  metricRelabelings: relabelling,
};

const monitorFields: Record<string, CrdSchema> = {
  jobLabel: text,
  podTargetLabels: texts,
  selector: labelSelector,
  namespaceSelector,
  sampleLimit: { type: "integer", format: "int64" },
  targetLimit: { type: "integer", format: "int64" },
  labelLimit: { type: "integer", format: "int64" },
};

const SPECS: Record<MonitorKind, CrdSchema> = {
  ServiceMonitor: open(
    {
      ...monitorFields,
      targetLabels: texts,
      endpoints: { type: "array", items: open({ ...scrapeFields, bearerTokenFile: text }) },
    },
    ["selector"],
  ),
  PodMonitor: open(
    {
      ...monitorFields,
      podMetricsEndpoints: { type: "array", items: open({ ...scrapeFields, portNumber: { type: "integer", format: "int32" } }) },
    },
    ["selector"],
  ),
  Probe: open({
    jobName: text,
    module: text,
    prober: open({ url: text, scheme: text, path: text, proxyUrl: text }, ["url"]),
    targets: open({
      staticConfig: open({ static: texts, labels: stringMap, relabelingConfigs: relabelling }),
      ingress: open({ selector: labelSelector, namespaceSelector, relabelingConfigs: relabelling }),
    }),
    interval: duration,
    scrapeTimeout: duration,
    tlsConfig,
    basicAuth,
    bearerTokenSecret: keySelector,
    metricRelabelings: relabelling,
    sampleLimit: { type: "integer", format: "int64" },
    targetLimit: { type: "integer", format: "int64" },
    labelLimit: { type: "integer", format: "int64" },
  }),
  PrometheusRule: open({
    groups: {
      type: "array",
      items: open(
        {
          name: { type: "string", minLength: 1 },
          interval: duration,
          query_offset: duration,
          limit: { type: "integer" },
          labels: stringMap,
          rules: {
            type: "array",
            items: open(
              {
                record: text,
                alert: text,
                expr: intOrString,
                for: duration,
                keep_firing_for: { type: "string", minLength: 1 },
                labels: stringMap,
                annotations: stringMap,
              },
              ["expr"],
            ),
          },
        },
        ["name"],
      ),
    },
  }),
};

/** The schema of a kind's objects: apiVersion, kind, metadata and the spec above. */
export function crdSchema(kind: MonitorKind): CrdSchema {
  return {
    type: "object",
    properties: {
      apiVersion: text,
      kind: text,
      metadata: { type: "object" },
      spec: SPECS[kind],
    },
    required: ["spec"],
  };
}

/** A kind's CustomResourceDefinition (its spec; the component adds the metadata that marks it as this stack's). */
export function crdSpec(kind: MonitorKind): {
  group: string;
  scope: string;
  names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
  versions: Array<{ name: string; served: boolean; storage: boolean; schema: { openAPIV3Schema: CrdSchema } }>;
} {
  const names = MONITOR_KINDS[kind];
  return {
    group: MONITORING_GROUP,
    scope: "Namespaced",
    names: {
      kind,
      listKind: `${kind}List`,
      plural: names.plural,
      singular: names.singular,
      shortNames: [...names.shortNames],
      categories: ["prometheus-operator"],
    },
    versions: [{ name: MONITORING_VERSION, served: true, storage: true, schema: { openAPIV3Schema: crdSchema(kind) } }],
  };
}

/** Each kind's CRD name with the release its API follows, for messages and docs. */
export function crdSummary(): string {
  return `${Object.keys(MONITOR_KINDS)
    .map((k) => crdName(k as MonitorKind))
    .join(", ")} (prometheus-operator ${PROMETHEUS_OPERATOR_RELEASE}'s API)`;
}
