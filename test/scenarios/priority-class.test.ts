/**
 * The stack's PriorityClass: created by the stack (one per stack, named after its namespace,
 * so that staging and production share a cluster), and named by every pod template the stack
 * creates; the stack patches none of the team's workloads, so none of theirs gets it.
 */
import type { K8sObject } from "../../cli/render";
import { EVERY_STACK_SHAPE } from "../support/everything";
import { objectsOf, render } from "../support/render";
import { schemaProblems } from "../support/schema";

type Rendered = Awaited<ReturnType<typeof render>>;
type Workload = K8sObject & { spec: { template: { spec: { priorityClassName?: string } } } };

function workloads(rendered: Rendered, patches: boolean): Workload[] {
  return rendered.kubernetes
    .filter((o) => o.patch === patches && ["Deployment", "StatefulSet", "DaemonSet", "CronJob"].includes(o.object.kind))
    .map((o) => {
      // A CronJob's pods (the backups) come from its Jobs' template.
      const jobTemplate = (o.object.spec as { jobTemplate?: { spec: Workload["spec"] } }).jobTemplate;
      return (jobTemplate ? { ...o.object, spec: jobTemplate.spec } : o.object) as Workload;
    });
}

describe.each(EVERY_STACK_SHAPE)("the %s stack", (_title, stack, sets) => {
  let rendered: Rendered;
  beforeAll(async () => {
    rendered = await render(stack, sets);
  });

  test("renders its PriorityClass: below the system's classes, never preempting, not the cluster's default", () => {
    const classes = objectsOf(rendered, "PriorityClass");
    expect(classes).toEqual([
      {
        apiVersion: "scheduling.k8s.io/v1",
        kind: "PriorityClass",
        metadata: {
          name: `monitoring-${stack}-priority`,
          labels: {
            "app.kubernetes.io/instance": stack,
            "app.kubernetes.io/part-of": "monitoring-stack",
            "app.kubernetes.io/managed-by": "pulumi",
          },
        },
        value: 1000000,
        globalDefault: false,
        preemptionPolicy: "Never",
        description: `Pods of the ${stack} monitoring stack (namespace monitoring-${stack}): evicted after other workloads, never preempting them.`,
      },
    ]);
    expect(schemaProblems(classes[0])).toEqual([]);
  });

  test("every pod template the stack creates names the class, and the stack patches no workload of the team's", () => {
    const own = workloads(rendered, false);
    expect(own.length).toBeGreaterThan(6);
    expect(
      own.filter((w) => w.spec.template.spec.priorityClassName !== `monitoring-${stack}-priority`).map((w) => w.metadata.name),
    ).toEqual([]);
    expect(workloads(rendered, true).map((w) => w.metadata.name)).toEqual([]);
  });
});

test("priorityClass.value sets the class's value; priorityClass.enabled false leaves the class and every priorityClassName out", async () => {
  const valued = await render("staging", ["priorityClass.value=5000"]);
  expect(objectsOf(valued, "PriorityClass").map((c) => (c as K8sObject & { value: number }).value)).toEqual([5000]);

  const off = await render("staging", ["priorityClass.enabled=false"]);
  expect(objectsOf(off, "PriorityClass")).toEqual([]);
  expect(workloads(off, false).filter((w) => "priorityClassName" in w.spec.template.spec)).toEqual([]);
});
