/**
 * The limits every monitor is held to (config monitors.limits), the way prometheus-operator's
 * enforcedSampleLimit, enforcedTargetLimit and enforcedLabelLimit hold them: the lower of the
 * monitor's own and the stack's wins.
 *
 * The collector cannot do it: Alloy (v1.19.2, `internal/component/prometheus/operator/configgen`)
 * takes sampleLimit, targetLimit and labelLimit from the object as they are, its `scrape` block
 * offering only `default_sample_limit` (for a monitor that sets none: a larger one of its own
 * replaces it) and no default for the other two. So the API server holds them, on the objects
 * themselves: a MutatingAdmissionPolicy (admissionregistration.k8s.io/v1, on by default since
 * Kubernetes 1.36) sets each of the three fields of every ServiceMonitor, PodMonitor and Probe
 * written in a namespace the stack reads to the stack's value when the object leaves it out, gives
 * 0 (Prometheus' "no limit"), or gives more; a lower value of its own is kept. A value CEL cannot
 * compare (a string in a field the CRD leaves open) fails the policy, and the write is refused
 * (failurePolicy Fail). The policy runs again when another mutation changes the object after it
 * (reinvocationPolicy IfNeeded).
 *
 * An object written before the policy existed keeps what it holds until it is next written: its
 * scrape then has the collector's `default_sample_limit` if it sets no sampleLimit of its own.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { StackComponent } from "../kit/component";
import { agentsNamespaceOf, stackLabels } from "../kit/labels";
import { programmingError } from "../kit/problems";
import { MONITORING_GROUP, MONITORING_VERSION, MONITOR_KINDS, MONITOR_LIMIT_FIELDS, MonitorLimits } from "./args";

/** The API of the policy and its binding: GA in Kubernetes 1.36, the release the stack is tested on. */
export const ADMISSION_POLICY_API = "admissionregistration.k8s.io/v1";

/** The kinds whose objects are held to the limits: those with a scrape of their own. */
export const LIMITED_KINDS = ["ServiceMonitor", "PodMonitor", "Probe"] as const;

/** The name of a stack's policy and binding: its namespace's, so that two stacks on one cluster hold theirs apart. */
export const monitorLimitsName = (stackNamespace: string): string => `${stackNamespace}-monitor-limits`;

/** What both policies apply to: the monitor kinds written (created or updated) in the namespaces the stack reads. */
function monitorMatchConstraints(namespaces: readonly string[]) {
  return {
    resourceRules: [
      {
        apiGroups: [MONITORING_GROUP],
        apiVersions: [MONITORING_VERSION],
        operations: ["CREATE", "UPDATE"],
        resources: LIMITED_KINDS.map((k) => MONITOR_KINDS[k].plural),
      },
    ],
    namespaceSelector: {
      matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [...namespaces].sort() }],
    },
  };
}

/**
 * The CEL expression of the JSON patch: for each limit, nothing when the object gives a value in
 * 1..limit, else an `add` (which replaces a member that is there) of the stack's value.
 */
export function monitorLimitsPatch(limits: MonitorLimits): string {
  return (Object.keys(MONITOR_LIMIT_FIELDS) as Array<keyof MonitorLimits>)
    .map((key) => {
      const field = MONITOR_LIMIT_FIELDS[key];
      const limit = limits[key];
      if (!Number.isInteger(limit) || limit < 1)
        programmingError(`monitors.limits.${key} must be a whole number of at least 1, not ${limit}`);
      const own = `object.spec.${field}`;
      return `((has(${own}) && ${own} > 0 && ${own} <= ${limit}) ? [] : [JSONPatch{op: "add", path: "/spec/${field}", value: ${limit}}])`;
    })
    .join(" +\n");
}

export interface MonitorLimitsArgs {
  /** The stack's namespace: the policy's name. */
  stackNamespace: string;
  /** The stack's environment (app.kubernetes.io/instance). */
  environment: string;
  /** The namespaces whose monitors the stack reads (monitors.namespaces, else the watched ones). */
  namespaces: readonly string[];
  limits: MonitorLimits;
}

/** An admission policy and its binding, as the API server takes them. */
export interface PolicyObjects {
  policy: AdmissionObject;
  binding: AdmissionObject;
}
type AdmissionObject = { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec: Record<string, unknown> };

/**
 * A policy on the monitors of `namespaces` (monitorMatchConstraints) and its binding, both named `name` and labelled as
 * the stack's: `spec` follows the match constraints, `binding` the policy's name. `what` says in an error what the
 * policy does to them.
 */
function monitorPolicy(
  kind: "MutatingAdmissionPolicy" | "ValidatingAdmissionPolicy",
  name: string,
  args: { environment: string; namespaces: readonly string[] },
  what: string,
  spec: Record<string, unknown>,
  binding: Record<string, unknown> = {},
): PolicyObjects {
  if (args.namespaces.length === 0) programmingError(`monitors: the namespaces whose monitors are ${what} must be given`);
  const metadata = { name, labels: stackLabels(args.environment) };
  return {
    policy: {
      apiVersion: ADMISSION_POLICY_API,
      kind,
      metadata,
      spec: { matchConstraints: monitorMatchConstraints(args.namespaces), ...spec },
    },
    binding: { apiVersion: ADMISSION_POLICY_API, kind: `${kind}Binding`, metadata, spec: { policyName: name, ...binding } },
  };
}

/** The policy and its binding, as the API server takes them. */
export function monitorLimitsObjects(args: MonitorLimitsArgs): PolicyObjects {
  return monitorPolicy("MutatingAdmissionPolicy", monitorLimitsName(args.stackNamespace), args, "limited", {
    failurePolicy: "Fail",
    reinvocationPolicy: "IfNeeded",
    mutations: [{ patchType: "JSONPatch", jsonPatch: { expression: monitorLimitsPatch(args.limits) } }],
  });
}

/** The name of a stack's policy on where monitors send the collector: its namespace's, as the limits'. */
export const monitorTargetsName = (stackNamespace: string): string => `${stackNamespace}-monitor-targets`;

/** The name of the policy (and its binding) that warns of a monitor endpoint naming a file of the collector's pod. */
export const monitorFilesName = (stackNamespace: string): string => `${stackNamespace}-monitor-files`;

/** The namespaces a Probe's prober may not be in: the stack's and its agents' (where the collector runs). */
export const stackNamespacesOf = (stackNamespace: string): string[] => [stackNamespace, agentsNamespaceOf(stackNamespace)];

/** A CEL namespace selector check: none, or the object's own namespace only (`any` false, `matchNames` empty or its own). */
const ownNamespaceOnly = (selector: string) =>
  `(!has(${selector}.any) || !${selector}.any) && (!has(${selector}.matchNames) || ${selector}.matchNames.all(n, n == request.namespace))`;

/**
 * The policy's variables for a Probe's prober field (`url`, `proxyUrl`): the host the collector
 * connects to, as the scrape reads it — lower case (DNS is not case-sensitive), without scheme,
 * path, user or port, a final dot removed — and its dot-separated labels. Empty for other kinds.
 */
function proberHostVariables(field: "url" | "proxyUrl"): Array<{ name: string; expression: string }> {
  const v = (name: string) => `variables.${field}${name}`;
  return [
    {
      name: `${field}Given`,
      expression: `object.kind == "Probe" && has(object.spec.prober) && has(object.spec.prober.${field}) ? object.spec.prober.${field}.lowerAscii() : ""`,
    },
    {
      name: `${field}Authority`,
      expression: `(${v("Given")}.indexOf("://") >= 0 ? ${v("Given")}.substring(${v("Given")}.indexOf("://") + 3) : ${v("Given")}).split("/")[0].split("@")`,
    },
    { name: `${field}HostPort`, expression: `${v("Authority")}[${v("Authority")}.size() - 1]` },
    {
      name: `${field}Host`,
      expression: `${v("HostPort")}.startsWith("[") ? ${v("HostPort")}.substring(0, ${v("HostPort")}.indexOf("]") + 1) : ${v("HostPort")}.split(":")[0]`,
    },
    { name: `${field}Name`, expression: `${v("Host")}.endsWith(".") ? ${v("Host")}.substring(0, ${v("Host")}.size() - 1) : ${v("Host")}` },
    { name: `${field}Labels`, expression: `${v("Name")}.split(".")` },
  ];
}

/**
 * The CEL refusal of a prober field: a name with a label that is one of the stack's namespaces
 * (`loki.<ns>.svc`, `<pod>.<service>.<ns>.svc.cluster.local`), a name without a dot (it resolves in
 * the collector's own namespace, the agents'; `localhost`), or a loopback address (the collector's
 * own pod).
 */
function proberHostAllowed(field: "url" | "proxyUrl", stackNamespace: string): string {
  const v = (name: string) => `variables.${field}${name}`;
  const namespaces = JSON.stringify(stackNamespacesOf(stackNamespace));
  return (
    `${v("Given")} == "" || !(${v("Labels")}.size() == 1 || ${v("Labels")}.exists(l, l in ${namespaces}) || ` +
    `${v("Name")}.startsWith("127.") || ${v("Name")} in ["[::1]", "0.0.0.0"])`
  );
}

/**
 * A ServiceMonitor endpoint's fields that name a file of the scraper's pod, sent or used as a credential: the
 * collector's service-account token (`/var/run/secrets/kubernetes.io/serviceaccount/token`) as `bearerTokenFile`
 * would go to whatever the monitor scrapes, and with it the collector's read access to every namespace's pods.
 * Alloy (v1.19.2) never reads them: it refuses such an endpoint unless `allow_arbitrary_file_access`, which the
 * stack never sets (test/e2e/monitors-live.test.ts). PodMonitors and Probes take Secrets only (the operator's types:
 * Alloy reads no file field of theirs).
 */
const FILE_FIELDS = ["bearerTokenFile", "tlsConfig.caFile", "tlsConfig.certFile", "tlsConfig.keyFile"] as const;
const unset = (field: string) => {
  const [first, second] = field.split(".");
  return second === undefined
    ? `(!has(e.${first}) || e.${first} == "")`
    : `(!has(e.${first}) || !has(e.${first}.${second}) || e.${first}.${second} == "")`;
};

/**
 * The policy that says so when such a monitor is written: a warning (and an audit annotation), never a refusal.
 * Charts publish ServiceMonitors with these fields for scrapers that run with a token of their own (the operator's
 * Prometheus): refusing them would fail the chart's whole install, for an endpoint the collector skips anyway.
 */
export function monitorFilesObjects(args: Omit<MonitorLimitsArgs, "limits">): PolicyObjects {
  return monitorPolicy(
    "ValidatingAdmissionPolicy",
    monitorFilesName(args.stackNamespace),
    args,
    "checked",
    {
      failurePolicy: "Ignore",
      validations: [
        {
          expression:
            `object.kind != "ServiceMonitor" || !has(object.spec.endpoints) || ` +
            `object.spec.endpoints.all(e, ${FILE_FIELDS.map(unset).join(" && ")})`,
          message:
            `an entry of spec.endpoints sets one of ${FILE_FIELDS.join(", ")}: files of the scraper's pod, which the stack's collector ` +
            "never reads (its service-account token among them); it skips this endpoint. Give bearerTokenSecret or " +
            "authorization, and tlsConfig.ca, cert and keySecret, from a Secret of monitors.secrets",
          reason: "Invalid",
        },
      ],
    },
    { validationActions: ["Warn", "Audit"] },
  );
}

/**
 * The policy that keeps a monitor's requests out of the stack (config monitors): Alloy (v1.19.2,
 * configgen) honours a monitor's `namespaceSelector` (`any: true`, other namespaces' `matchNames`)
 * and sends a Probe's scrape to its `prober.url` (through `prober.proxyUrl` when given), whatever
 * they name: a Probe whose prober is `loki.<stack namespace>.svc:3100` with path
 * `/ingester/shutdown` would have the collector stop Loki (Loki now admits such a collector on its
 * push port alone: components/loki/push-proxy.ts). A ValidatingAdmissionPolicy refuses, on
 * writing, a namespaceSelector other than none or the object's own namespace, and a prober URL or
 * proxy into the stack's namespaces, without a dot, or on loopback. The collector drops other
 * namespaces' targets too (components/log-collector/monitors.ts), for objects written before.
 */
export function monitorTargetsObjects(args: Omit<MonitorLimitsArgs, "limits">): PolicyObjects {
  const stack = stackNamespacesOf(args.stackNamespace).join(", ");
  const proberMessage = (field: "url" | "proxyUrl") =>
    `"spec.prober.${field} is " + object.spec.prober.${field} + ": a Probe's prober may not be in the stack's namespaces (${stack}), ` +
    `a name without a dot (it resolves in the collector's namespace) or loopback (the collector's pod)"`;
  return monitorPolicy(
    "ValidatingAdmissionPolicy",
    monitorTargetsName(args.stackNamespace),
    args,
    "checked",
    {
      failurePolicy: "Fail",
      variables: [...proberHostVariables("url"), ...proberHostVariables("proxyUrl")],
      validations: [
        {
          expression: `object.kind == "Probe" || !has(object.spec.namespaceSelector) || (${ownNamespaceOnly("object.spec.namespaceSelector")})`,
          messageExpression:
            '"spec.namespaceSelector may select namespace " + request.namespace + " only (any: false, matchNames empty or [" + request.namespace + "]): the collector scrapes a monitor\'s targets into its own namespace\'s series"',
          reason: "Forbidden",
        },
        {
          expression:
            `object.kind != "Probe" || !has(object.spec.targets) || !has(object.spec.targets.ingress) || ` +
            `!has(object.spec.targets.ingress.namespaceSelector) || (${ownNamespaceOnly("object.spec.targets.ingress.namespaceSelector")})`,
          messageExpression:
            '"spec.targets.ingress.namespaceSelector may select namespace " + request.namespace + " only (any: false, matchNames empty or [" + request.namespace + "])"',
          reason: "Forbidden",
        },
        { expression: proberHostAllowed("url", args.stackNamespace), messageExpression: proberMessage("url"), reason: "Forbidden" },
        {
          expression: proberHostAllowed("proxyUrl", args.stackNamespace),
          messageExpression: proberMessage("proxyUrl"),
          reason: "Forbidden",
        },
      ],
    },
    { validationActions: ["Deny"] },
  );
}

/** The policy and its binding in the cluster. */
export class MonitorLimitsPolicy extends StackComponent {
  constructor(name: string, args: MonitorLimitsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitoring:index:MonitorLimitsPolicy", name, opts);
    const { policy, binding } = monitorLimitsObjects(args);
    // @pulumi/kubernetes has no class of the v1 kinds (only v1alpha1, off by default): the generic resource.
    const created = new k8s.apiextensions.CustomResource(`${name}-policy`, policy, { parent: this });
    new k8s.apiextensions.CustomResource(`${name}-binding`, binding, { parent: this, dependsOn: [created] });
    // Where a monitor may send the collector: the same namespaces, refused on writing.
    const targets = monitorTargetsObjects(args);
    const validating = new k8s.apiextensions.CustomResource(`${name}-targets-policy`, targets.policy, { parent: this });
    new k8s.apiextensions.CustomResource(`${name}-targets-binding`, targets.binding, { parent: this, dependsOn: [validating] });
    // A file of the collector's pod named by a monitor: said when it is written, never refused.
    const files = monitorFilesObjects(args);
    const warning = new k8s.apiextensions.CustomResource(`${name}-files-policy`, files.policy, { parent: this });
    new k8s.apiextensions.CustomResource(`${name}-files-binding`, files.binding, { parent: this, dependsOn: [warning] });
    this.registerOutputs({});
  }
}
