/**
 * The four CRDs the stack writes itself (components/monitors/crds.ts): structural, as the API
 * server requires, and taking the objects real charts publish (test/fixtures/operator-objects/),
 * while refusing what the fields the stack reads cannot be.
 */
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import * as YAML from "yaml";
import { CrdSchema, crdSchema, crdSpec } from "../../components/monitors/crds";
import { MONITOR_KINDS, MonitorKind, PROMETHEUS_OPERATOR_RELEASE } from "../../components/monitors/args";

const FIXTURES = path.join(__dirname, "..", "fixtures", "operator-objects");
const fixtures = fs
  .readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((file) => ({
    file,
    object: YAML.parse(fs.readFileSync(path.join(FIXTURES, file), "utf8")) as { kind: MonitorKind; spec: unknown },
  }));

const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
const validators = Object.fromEntries(
  (Object.keys(MONITOR_KINDS) as MonitorKind[]).map((kind) => [kind, ajv.compile(crdSchema(kind) as object)]),
) as Record<MonitorKind, ReturnType<Ajv["compile"]>>;
const errorsOf = (kind: MonitorKind, object: unknown): string[] => {
  const validate = validators[kind];
  return validate(object) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);
};

/** The places a structural schema breaks the API server's rules: a node without a type that is not int-or-string or preserved. */
function nonStructural(schema: CrdSchema, at = "$"): string[] {
  const found: string[] = [];
  const typed =
    typeof schema.type === "string" ||
    schema["x-kubernetes-int-or-string"] === true ||
    schema["x-kubernetes-preserve-unknown-fields"] === true;
  if (!typed) found.push(at);
  for (const [name, child] of Object.entries((schema.properties ?? {}) as Record<string, CrdSchema>))
    found.push(...nonStructural(child, `${at}.${name}`));
  if (schema.items) found.push(...nonStructural(schema.items as CrdSchema, `${at}[]`));
  if (typeof schema.additionalProperties === "object") found.push(...nonStructural(schema.additionalProperties as CrdSchema, `${at}{}`));
  return found;
}

describe("the operator's CRDs, written here", () => {
  test("the fixtures cover every kind", () => {
    expect([...new Set(fixtures.map((f) => f.object.kind))].sort()).toEqual(Object.keys(MONITOR_KINDS).sort());
  });

  test.each(fixtures.map((f) => [f.file, f.object] as const))("%s validates against its kind's schema", (_file, object) => {
    expect(errorsOf(object.kind, object)).toEqual([]);
  });

  test.each(Object.keys(MONITOR_KINDS) as MonitorKind[])("%s's schema is structural, its names the kind's", (kind) => {
    expect(nonStructural(crdSchema(kind))).toEqual([]);
    const spec = crdSpec(kind);
    expect(spec.names.kind).toBe(kind);
    expect(spec.versions).toEqual([expect.objectContaining({ name: "v1", served: true, storage: true })]);
    expect(spec.scope).toBe("Namespaced");
  });

  test("the release whose API they follow is the pinned config reloader's", () => {
    expect(PROMETHEUS_OPERATOR_RELEASE).toMatch(/^v0\.\d+\.\d+$/);
  });

  test.each<[string, MonitorKind, unknown, RegExp]>([
    [
      "a ServiceMonitor without selector",
      "ServiceMonitor",
      { spec: { endpoints: [{ port: "metrics" }] } },
      /must have required property 'selector'/,
    ],
    [
      "an endpoint scheme that is no HTTP scheme",
      "ServiceMonitor",
      { spec: { selector: {}, endpoints: [{ port: "metrics", scheme: "ftp" }] } },
      /\/spec\/endpoints\/0\/scheme must be equal to one of the allowed values/,
    ],
    [
      "an interval that is no Prometheus duration",
      "PodMonitor",
      { spec: { selector: {}, podMetricsEndpoints: [{ interval: "5 minutes" }] } },
      /interval must match pattern/,
    ],
    [
      "a relabelling action Prometheus does not take",
      "PodMonitor",
      { spec: { selector: {}, podMetricsEndpoints: [{ relabelings: [{ action: "rename" }] }] } },
      /action must be equal to one of the allowed values/,
    ],
    [
      "a basic-auth password without its key",
      "ServiceMonitor",
      { spec: { selector: {}, endpoints: [{ basicAuth: { password: { name: "auth" } } }] } },
      /must have required property 'key'/,
    ],
    [
      "a rule without expr",
      "PrometheusRule",
      { spec: { groups: [{ name: "g", rules: [{ alert: "A" }] }] } },
      /must have required property 'expr'/,
    ],
    ["a Probe's prober without url", "Probe", { spec: { prober: { path: "/probe" } } }, /must have required property 'url'/],
  ])("refused: %s", (_name, kind, object, expected) => {
    expect(errorsOf(kind, object).join("\n")).toMatch(expected);
  });

  test("a field of a later operator release is kept, not refused", () => {
    expect(
      errorsOf("ServiceMonitor", { spec: { selector: {}, endpoints: [{ port: "m", someFutureField: { x: 1 } }], futureTop: true } }),
    ).toEqual([]);
  });
});
