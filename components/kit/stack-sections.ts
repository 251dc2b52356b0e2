/**
 * The sections of the stack file that the kit owns because every workload shares them: where the
 * egress policies reach (`networkPolicy`, network.ts) and the stack's PriorityClass (`priorityClass`,
 * priority.ts). The same in every profile. Their fields are declared here once: the defaults and
 * the resolved values are typed from the schemas.
 */
import { z } from "zod";
import { USER_PRIORITY_MAX, bool, cidrList, extraEgressList, portList } from "./fields";
import { ANYWHERE, API_SERVER_PORTS, EGRESS_COMPONENTS, EgressComponent } from "./network";
import { FieldsOf, componentSection, overDefaults } from "./section";

type ExtraEgressShape = { [K in EgressComponent]: z.ZodOptional<typeof extraEgressList> };

const networkPolicySchema = z.strictObject({
  apiServerCidrs: cidrList
    .optional()
    .describe("Where pods reach the API server after kube-proxy's rewrite (the nodes' or control plane's addresses); default anywhere."),
  apiServerPorts: portList.optional().describe("The API server's ports: the kubernetes Service's 443 and its own 6443; default both."),
  nodeCidrs: cidrList.optional().describe("The nodes' addresses, where Prometheus scrapes kubelets and node-exporter; default anywhere."),
  extraEgress: z
    .strictObject(Object.fromEntries(EGRESS_COMPONENTS.map((component) => [component, extraEgressList.optional()])) as ExtraEgressShape)
    .optional(),
});

/** What the egress policies take from the cluster's layout, and what teams add (each workload's EgressSettings): every workload's list. */
export type NetworkPolicySettings = Omit<FieldsOf<typeof networkPolicySchema>, "extraEgress"> & {
  extraEgress: Required<FieldsOf<typeof networkPolicySchema>["extraEgress"]>;
};

const NETWORK_POLICY_DEFAULTS: NetworkPolicySettings = {
  apiServerCidrs: [...ANYWHERE],
  apiServerPorts: [...API_SERVER_PORTS],
  nodeCidrs: [...ANYWHERE],
  extraEgress: Object.fromEntries(EGRESS_COMPONENTS.map((component) => [component, []])) as unknown as NetworkPolicySettings["extraEgress"],
};

/** The `networkPolicy` section: each key given over the default, each workload's extra destinations apart. */
export const networkPolicySection = componentSection({
  schema: networkPolicySchema,
  defaults: (): NetworkPolicySettings => NETWORK_POLICY_DEFAULTS,
  resolve: (given, context): NetworkPolicySettings => {
    const { extraEgress, ...plain } = given ?? {};
    return {
      ...overDefaults(NETWORK_POLICY_DEFAULTS, plain, context),
      extraEgress: overDefaults(NETWORK_POLICY_DEFAULTS.extraEgress, extraEgress, context),
    };
  },
});

const priorityClassSchema = z.strictObject({
  enabled: bool.optional().describe("Create the stack's PriorityClass and give it to every pod the stack creates; default true."),
  value: z
    .number({ error: `must be a whole number 1-${USER_PRIORITY_MAX}` })
    .int(`must be a whole number 1-${USER_PRIORITY_MAX}`)
    .min(1, `must be a whole number 1-${USER_PRIORITY_MAX}`)
    .max(USER_PRIORITY_MAX, `must be at most ${USER_PRIORITY_MAX}: higher values are kept for the system's own classes`)
    .optional()
    .describe("The class's priority; default 1000000."),
});

/** The stack's PriorityClass: whether there is one, and its priority. */
export type PriorityClassSettings = FieldsOf<typeof priorityClassSchema>;

// Above every pod without a class (0), far below the system's own classes (2000000000 and up).
const PRIORITY_CLASS_DEFAULTS: PriorityClassSettings = { enabled: true, value: 1_000_000 };

/** The `priorityClass` section: its range is its field's (at most USER_PRIORITY_MAX). */
export const priorityClassSection = componentSection({
  schema: priorityClassSchema,
  defaults: (): PriorityClassSettings => PRIORITY_CLASS_DEFAULTS,
  resolve: (given, context): PriorityClassSettings => overDefaults(PRIORITY_CLASS_DEFAULTS, given, context),
});
