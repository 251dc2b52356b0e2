/**
 * Volume changes that cannot be done in place (another StorageClass, a smaller claim, a larger
 * one on a class that cannot expand) are refused before anything changes: the program reads the
 * previous deployment's `volumes` output through a StackReference to its own stack, and
 * registers nothing else before it has compared. An expansion the class allows grows the claims
 * and leaves each StatefulSet's immutable claim template as it was.
 */
import { parseStackConfig } from "../../config";
import { applyPreviousVolumes, volumeChangeProblems } from "../../preflight/volume-changes";
import { VolumeRecords, componentsWithClaims, parseVolumeRecords } from "../../components/stack/volumes";
import { RenderedObject, kubernetesYaml, renderRun } from "../../cli/render";
import { withOfflineSalt } from "../../cli/render-stack";
import { RecordedResource, RunResult, runProgram } from "../../cli/runner";
import { readStackConfig } from "../../cli/stackfile";

type Stack = "staging" | "production";

interface Deploy {
  /** `--set` overrides of the stack file. */
  sets?: string[];
  /** Top-level keys removed from the stack file (without the project prefix). */
  without?: string[];
  /** The previous deployment's stack outputs. */
  previous?: Record<string, unknown>;
  journal?: RecordedResource[];
}

async function deploy(stack: Stack, { sets = [], without = [], previous, journal }: Deploy = {}): Promise<RunResult> {
  const input = readStackConfig(stack, sets);
  const config = Object.fromEntries(Object.entries(input.config).filter(([k]) => !without.includes(k.slice("monitoring:".length))));
  return runProgram({
    project: input.project,
    stack: input.stack,
    config,
    secretKeys: input.secretKeys,
    // The stack's salt as the render stands it in (and kept from `previous`), so that two deployments compare object for object.
    previousOutputs: withOfflineSalt(input.project, input.stack, previous),
    ...(journal ? { journal } : {}),
  });
}

/** The message a deployment is refused with, and everything the program registered or read before. */
async function refusal(stack: Stack, args: Deploy): Promise<{ message: string; journal: RecordedResource[] }> {
  const journal: RecordedResource[] = [];
  try {
    await deploy(stack, { ...args, journal });
  } catch (err) {
    return { message: (err as Error).message, journal };
  }
  throw new Error("the deployment was accepted");
}

const STACK_REFERENCE = "pulumi:pulumi:StackReference";
const objects = (run: RunResult) => renderRun(run, true).kubernetes.map((o) => o.object);
const objectOf = (run: RunResult, kind: string, name: string) =>
  objects(run).find((o) => o.kind === kind && o.metadata.name === name) as RenderedObject["object"];
const claimSize = (run: RunResult, name: string) =>
  (objectOf(run, "PersistentVolumeClaim", name).spec as { resources: { requests: { storage: string } } }).resources.requests.storage;
const templateSize = (run: RunResult, statefulSet: string) =>
  (
    objectOf(run, "StatefulSet", statefulSet).spec as {
      volumeClaimTemplates: Array<{ spec: { resources: { requests: { storage: string } } } }>;
    }
  ).volumeClaimTemplates[0].spec.resources.requests.storage;
const yaml = (run: RunResult) => kubernetesYaml(renderRun(run, true));
/** Every resource with its inputs, components' args included: what the engine diffs. */
const inputs = (run: RunResult) => JSON.stringify(run.resources.map((r) => [r.urn, r.inputs]));

const STAGING_VOLUMES: VolumeRecords = {
  prometheus: { size: "10Gi", storageClass: "local-path", templateSize: "10Gi", claims: ["data-prometheus-0"] },
  alertmanager: { size: "1Gi", storageClass: "local-path", templateSize: "1Gi", claims: ["data-alertmanager-0"] },
  loki: { size: "10Gi", storageClass: "local-path", templateSize: "10Gi", claims: ["data-loki-0"] },
  grafana: { size: "2Gi", storageClass: "local-path", claims: ["grafana"] },
};

const first: Record<Stack, RunResult> = {} as Record<Stack, RunResult>;
beforeAll(async () => {
  first.staging = await deploy("staging");
  first.production = await deploy("production");
});

describe("a first deployment", () => {
  test("reads its own stack's outputs before anything else, finds none, and deploys", async () => {
    const journal: RecordedResource[] = [];
    const run = await deploy("staging", { journal });
    expect(journal[0]).toMatchObject({ type: STACK_REFERENCE, name: "previous-deployment" });
    expect(run.reads.map((r) => ({ type: r.type, name: r.inputs.name }))).toEqual([
      { type: STACK_REFERENCE, name: "organization/monitoring/staging" },
    ]);
    // A read creates nothing: it is not among what the stack deploys.
    expect(run.resources.some((r) => r.type === STACK_REFERENCE)).toBe(false);
    expect(yaml(run)).toBe(yaml(first.staging));
  });

  test("records its volumes in a plain stack output: size, StorageClass, claim template size and claim names", () => {
    expect(first.staging.outputs.volumes).toEqual(STAGING_VOLUMES);
    // The production stack file runs on one node: one replica each.
    expect(first.production.outputs.volumes).toEqual({
      prometheus: { size: "50Gi", storageClass: "local-path", templateSize: "50Gi", claims: ["data-prometheus-0"] },
      alertmanager: { size: "1Gi", storageClass: "local-path", templateSize: "1Gi", claims: ["data-alertmanager-0"] },
      loki: { size: "30Gi", storageClass: "local-path", templateSize: "30Gi", claims: ["data-loki-0"] },
      grafana: { size: "5Gi", storageClass: "local-path", claims: ["grafana"] },
    });
  });

  test.each([
    ["staging", []],
    ["production", []],
    ["staging", ["loki.enabled=false", "logCollector.enabled=false"]],
    ["production", ["loki.enabled=false", "logCollector.enabled=false"]],
    ["production", ["nodes=3"]],
    ["staging", ["nodes=2", "grafana.replicas=2", "grafana.database={type: postgres, host: db, name: grafana, user: grafana}"]],
    ["production", ["nodes=2", "grafana.replicas=2", "grafana.database={type: postgres, host: db, name: grafana, user: grafana}"]],
  ] as Array<[Stack, string[]]>)("%s %j: the record names exactly the claims deployed", async (stack, sets) => {
    const secrets = sets.some((s) => s.startsWith("grafana.database")) ? ["grafanaDatabasePassword=database-password"] : [];
    const run = await deploy(stack, { sets: [...sets, ...secrets] });
    const volumes = run.outputs.volumes as VolumeRecords;
    const claims = objects(run)
      .filter((o) => o.kind === "PersistentVolumeClaim")
      .map((o) => o.metadata.name);
    expect(
      Object.values(volumes)
        .flatMap((v) => v.claims)
        .sort(),
    ).toEqual(claims.sort());
    const input = readStackConfig(stack, [...sets, ...secrets]);
    const { config } = parseStackConfig({ project: "monitoring", stack, values: input.config, secretKeys: input.secretKeys });
    expect(Object.keys(volumes)).toEqual(componentsWithClaims(config));
  });
});

describe("the next deployment", () => {
  test("with the same config, changes nothing, not even a component's args", async () => {
    const next = await deploy("staging", { previous: first.staging.outputs });
    expect(inputs(next)).toBe(inputs(first.staging));
    expect(next.outputs.volumes).toEqual(STAGING_VOLUMES);
  });

  test("with expandable set, and nothing else, changes nothing", async () => {
    const next = await deploy("staging", { sets: ["prometheus.storage.expandable=true"], previous: first.staging.outputs });
    expect(inputs(next)).toBe(inputs(first.staging));
  });

  test("with the same size written another way (10240Mi for 10Gi), changes nothing", async () => {
    const next = await deploy("staging", { sets: ["prometheus.storage.size=10240Mi"], previous: first.staging.outputs });
    expect(inputs(next)).toBe(inputs(first.staging));
  });

  test("after a deployment that did not record its volumes (an older program), has nothing to compare", async () => {
    const { volumes, ...older } = first.staging.outputs;
    expect(volumes).toBeDefined();
    const next = await deploy("staging", { sets: ["prometheus.storage.size=20Gi"], previous: older });
    expect(claimSize(next, "data-prometheus-0")).toBe("20Gi");
  });

  test("on fewer nodes by default than its replicas ran on, is refused before it drops their claims; with the replicas set, it goes ahead", async () => {
    // A production stack deployed on three nodes, before `nodes` existed or with it set.
    const wide = await deploy("production", { sets: ["nodes=3"] });
    expect((wide.outputs.volumes as VolumeRecords).alertmanager?.claims).toHaveLength(3);
    const { message, journal } = await refusal("production", { previous: wide.outputs });
    expect(message).toBe(
      "Invalid stack configuration (2 problems):\n" +
        "  - monitoring:prometheus.replicas: is 1, the production default on 1 node (nodes), but the last deployment ran 2 (claims " +
        "data-prometheus-0, data-prometheus-1): the claims of the replicas that go would be dropped, and Pulumi would stop at them, " +
        "protected. If the cluster has more nodes, say so: pulumi config set nodes <count>; to run 1 anyway, set it: pulumi config set " +
        "--path 'prometheus.replicas' 1 (see docs/operations.md, \"Good to know\") (got nothing)\n" +
        "  - monitoring:alertmanager.replicas: is 1, the production default on 1 node (nodes), but the last deployment ran 3 (claims " +
        "data-alertmanager-0, data-alertmanager-1, data-alertmanager-2): the claims of the replicas that go would be dropped, and Pulumi " +
        "would stop at them, protected. If the cluster has more nodes, say so: pulumi config set nodes <count>; to run 1 anyway, set it: " +
        "pulumi config set --path 'alertmanager.replicas' 1 (see docs/operations.md, \"Good to know\") (got nothing)",
    );
    expect(journal.map((r) => r.type)).toEqual([STACK_REFERENCE]);
    // Said explicitly, either way, it deploys.
    await deploy("production", { sets: ["nodes=3"], previous: wide.outputs });
    const fewer = await deploy("production", { sets: ["prometheus.replicas=1", "alertmanager.replicas=1"], previous: wide.outputs });
    expect((fewer.outputs.volumes as VolumeRecords).prometheus?.claims).toEqual(["data-prometheus-0"]);
  });

  test("whose namespace came from the old default, is refused before it moves the stack; set explicitly, it stays or moves", async () => {
    // Deployed when every stack defaulted to `monitoring`.
    const older = { ...first.staging.outputs, namespace: "monitoring" };
    const { message, journal } = await refusal("staging", { previous: older });
    expect(message).toBe(
      "Invalid stack configuration (1 problem):\n" +
        '  - monitoring:namespace: is not set, so it defaults to "monitoring-staging" (monitoring-<environment>), but this stack runs ' +
        'in "monitoring": moving it would replace the namespace and delete the claims in it, data included. Keep it: pulumi config set ' +
        "namespace monitoring (got nothing)",
    );
    expect(journal.map((r) => r.type)).toEqual([STACK_REFERENCE]);
    const kept = await deploy("staging", { sets: ["namespace=monitoring"], previous: older });
    expect(kept.outputs.namespace).toBe("monitoring");
    // The same namespace as before: nothing to say.
    expect((await deploy("staging", { previous: first.staging.outputs })).outputs.namespace).toBe("monitoring-staging");
  });

  test("set explicitly to another namespace, moves a stack that does not protect its volumes, and is refused in one that does", async () => {
    // Staging keeps nothing: the stack is made anew in the namespace given (its claims go with the old one).
    const moved = await deploy("staging", { sets: ["namespace=monitoring-shop"], previous: first.staging.outputs });
    expect(moved.outputs.namespace).toBe("monitoring-shop");
    // Production protects its namespace and claims: Pulumi would stop at them halfway, so the program stops first.
    expect(first.production.outputs.namespace).toBe("monitoring-production");
    const { message, journal } = await refusal("production", { sets: ["namespace=monitoring-shop"], previous: first.production.outputs });
    expect(message).toBe(
      "Invalid stack configuration (1 problem):\n" +
        '  - monitoring:namespace: cannot move a stack that protects its volumes (protectVolumes) from "monitoring-production", where ' +
        'it runs, to "monitoring-shop": Pulumi would make the stack anew in "monitoring-shop" and stop mid-update at the namespace ' +
        '"monitoring-production" and its claims, which are protected, after other objects have changed. Keep it: pulumi config set ' +
        'namespace monitoring-production; to move the stack and its data, see "Moving a protected stack" in docs/operations.md ' +
        '(got "monitoring-shop")',
    );
    expect(journal.map((r) => r.type)).toEqual([STACK_REFERENCE]);
    // The namespace it runs in, said explicitly, and the same stack without protectVolumes, deploy.
    await deploy("production", { sets: ["namespace=monitoring-production"], previous: first.production.outputs });
    const unprotected = await deploy("production", {
      sets: ["namespace=monitoring-shop", "protectVolumes=false"],
      previous: first.production.outputs,
    });
    expect(unprotected.outputs.namespace).toBe("monitoring-shop");
  });

  test("compares only what stays: Loki turned off in staging takes its claim away, whatever its size", async () => {
    const next = await deploy("staging", {
      sets: ["loki.enabled=false", "logCollector.enabled=false", "loki.storage.size=5Gi"],
      previous: first.staging.outputs,
    });
    expect(Object.keys(next.outputs.volumes as VolumeRecords)).toEqual(["prometheus", "alertmanager", "grafana"]);
  });

  test("Jaeger's claim is compared while tracing runs, and kept off by the key where volumes are protected", async () => {
    // The stack files' apps send no OTLP: tracing runs by its key here.
    const jaeger = await deploy("staging", { sets: ["tracing.enabled=true"] });
    expect((jaeger.outputs.volumes as VolumeRecords).tracing).toEqual({
      size: "5Gi",
      storageClass: "local-path",
      templateSize: "5Gi",
      claims: ["data-jaeger-0"],
    });
    const { message, journal } = await refusal("staging", {
      sets: ["tracing.enabled=true", "profile=production"],
      previous: jaeger.outputs,
    });
    expect(message).toContain(
      "monitoring:tracing.storage.size: cannot grow the existing claims (data-jaeger-0) from 5Gi to 20Gi unless their StorageClass, " +
        '"local-path", expands volumes (allowVolumeExpansion: true). If it does, say so: pulumi config set --path ' +
        "'tracing.storage.expandable' true. k3s's local-path does not: there, set it to 5Gi and move the data to a new, larger claim (see " +
        'docs/operations.md, "Changing volumes") (got the production default, "20Gi")',
    );
    expect(journal.map((r) => r.type)).toEqual([STACK_REFERENCE]);
    // Off by the key in production, its claim stays (protected) and is compared still.
    const ran = await deploy("production", { sets: ["tracing.enabled=true"] });
    const { message: shrunk } = await refusal("production", {
      sets: ["tracing.enabled=false", "tracing.storage.size=10Gi"],
      previous: ran.outputs,
    });
    expect(shrunk).toContain("monitoring:tracing.storage.size: must be at least 20Gi, the size of the existing claims (data-jaeger-0)");
  });
});

describe("a change that cannot be done in place is refused before anything is registered", () => {
  const GROW =
    'cannot grow the existing claims (data-prometheus-0) from 10Gi to 20Gi unless their StorageClass, "local-path", expands volumes ' +
    "(allowVolumeExpansion: true). If it does, say so: pulumi config set --path 'prometheus.storage.expandable' true. " +
    'k3s\'s local-path does not: there, keep 10Gi and move the data to a new, larger claim (see docs/operations.md, "Changing volumes") (got "20Gi")';
  const cases: Array<[string, Stack, Deploy, string[]]> = [
    [
      "a larger Prometheus volume, on a class not declared expandable",
      "staging",
      { sets: ["prometheus.storage.size=20Gi"] },
      [`monitoring:prometheus.storage.size: ${GROW}`],
    ],
    [
      "a smaller Alertmanager volume",
      "staging",
      { sets: ["alertmanager.storage.size=512Mi"] },
      [
        "monitoring:alertmanager.storage.size: must be at least 1Gi, the size of the existing claims (data-alertmanager-0): Kubernetes " +
          'never shrinks a claim. Keep 1Gi; to use less space, move the data to a new, smaller claim (see docs/operations.md, "Changing volumes") ' +
          '(got "512Mi")',
      ],
    ],
    [
      "a smaller volume, even on a class declared expandable",
      "staging",
      { sets: ["loki.storage.size=5Gi", "loki.storage.expandable=true"] },
      [
        "monitoring:loki.storage.size: must be at least 10Gi, the size of the existing claims (data-loki-0): Kubernetes never shrinks a " +
          'claim. Keep 10Gi; to use less space, move the data to a new, smaller claim (see docs/operations.md, "Changing volumes") (got "5Gi")',
      ],
    ],
    [
      "another StorageClass for every volume",
      "staging",
      { sets: ["storageClass=fast"] },
      [
        "monitoring:storageClass: cannot move the existing claims (data-prometheus-0, data-alertmanager-0, data-loki-0, grafana) from " +
          '"local-path" to "fast": a claim\'s StorageClass cannot change, so Pulumi would replace the claims and their StatefulSets, ' +
          "deleting the claims and with them their data (local-path, like most classes, deletes a volume with its claim). Keep " +
          '"local-path"; to move the data to another class, see docs/operations.md, "Changing volumes" (got "fast")',
      ],
    ],
    [
      "another StorageClass for Grafana's volume",
      "staging",
      { sets: ["grafana.storage.storageClass=fast"] },
      [
        'monitoring:grafana.storage.storageClass: cannot move the existing claims (grafana) from "local-path" to "fast": a claim\'s ' +
          "StorageClass cannot change, so Pulumi would replace the claims, deleting the claims and with them their data (local-path, like " +
          'most classes, deletes a volume with its claim). Keep "local-path"; to move the data to another class, see ' +
          'docs/operations.md, "Changing volumes" (got "fast")',
      ],
    ],
    [
      "the StorageClass unset (the cluster's default, which the program cannot know)",
      "staging",
      { without: ["storageClass"] },
      [
        "monitoring:storageClass: cannot move the existing claims (data-prometheus-0, data-alertmanager-0, data-loki-0, grafana) from " +
          "\"local-path\" to the cluster's default class (none named): a claim's StorageClass cannot change, so Pulumi would replace the " +
          "claims and their StatefulSets, deleting the claims and with them their data (local-path, like most classes, deletes a volume " +
          'with its claim). Keep "local-path"; to move the data to another class, see docs/operations.md, "Changing volumes" (got nothing)',
      ],
    ],
    [
      "another StorageClass in a stack that protects its volumes",
      "production",
      { sets: ["prometheus.storage.storageClass=fast"] },
      [
        "monitoring:prometheus.storage.storageClass: cannot move the existing claims (data-prometheus-0) from " +
          '"local-path" to "fast": a claim\'s StorageClass cannot change, so Pulumi would replace the claims and their StatefulSets, ' +
          "and stop mid-update at the claims, which are protected (protectVolumes), after other objects have changed. Keep " +
          '"local-path"; to move the data to another class, see docs/operations.md, "Changing volumes" (got "fast")',
      ],
    ],
    [
      "the profile's larger default sizes (staging to production)",
      "staging",
      { sets: ["profile=production"] },
      [
        "monitoring:loki.storage.size: cannot grow the existing claims (data-loki-0) from 10Gi to 30Gi unless their StorageClass, " +
          '"local-path", expands volumes (allowVolumeExpansion: true). If it does, say so: pulumi config set --path ' +
          "'loki.storage.expandable' true. k3s's local-path does not: there, set it to 10Gi and move the data to a new, larger claim (see " +
          'docs/operations.md, "Changing volumes") (got the production default, "30Gi")',
        "monitoring:grafana.storage.size: cannot grow the existing claims (grafana) from 2Gi to 5Gi unless their StorageClass, " +
          '"local-path", expands volumes (allowVolumeExpansion: true). If it does, say so: pulumi config set --path ' +
          "'grafana.storage.expandable' true. k3s's local-path does not: there, set it to 2Gi and move the data to a new, larger claim (see " +
          'docs/operations.md, "Changing volumes") (got the production default, "5Gi")',
      ],
    ],
    [
      "a kept claim of a component turned off (Loki, production)",
      "production",
      { sets: ["loki.enabled=false", "logCollector.enabled=false", "loki.storage.size=20Gi"] },
      [
        "monitoring:loki.storage.size: must be at least 30Gi, the size of the existing claims (data-loki-0): Kubernetes never shrinks a " +
          'claim. Keep 30Gi; to use less space, move the data to a new, smaller claim (see docs/operations.md, "Changing volumes") (got "20Gi")',
      ],
    ],
    [
      "several at once, in one list",
      "staging",
      { sets: ["storageClass=fast", "prometheus.storage.size=20Gi"] },
      [
        "monitoring:storageClass: cannot move the existing claims (data-prometheus-0, data-alertmanager-0, data-loki-0, grafana) from " +
          '"local-path" to "fast": a claim\'s StorageClass cannot change, so Pulumi would replace the claims and their StatefulSets, ' +
          "deleting the claims and with them their data (local-path, like most classes, deletes a volume with its claim). Keep " +
          '"local-path"; to move the data to another class, see docs/operations.md, "Changing volumes" (got "fast")',
        `monitoring:prometheus.storage.size: ${GROW}`,
      ],
    ],
  ];

  test.each(cases)("%s", async (_, stack, args, expected) => {
    const { message, journal } = await refusal(stack, { ...args, previous: first[stack].outputs });
    expect(message).toBe(
      `Invalid stack configuration (${expected.length} problem${expected.length === 1 ? "" : "s"}):\n` +
        expected.map((line) => `  - ${line}`).join("\n"),
    );
    // Nothing but the read of the previous outputs: no Kubernetes object, not even a component.
    expect(journal.map((r) => r.type)).toEqual([STACK_REFERENCE]);
  });

  test("from a deployment that named no StorageClass, naming one (even the cluster's default) is refused", async () => {
    // A copy made in this realm: the SDK serialises only its own realm's arrays as lists.
    const previous = JSON.parse(JSON.stringify(first.staging.outputs)) as { volumes: VolumeRecords };
    for (const record of Object.values(previous.volumes)) record.storageClass = null;
    const { message } = await refusal("staging", { previous });
    expect(message).toContain(
      "monitoring:storageClass: cannot move the existing claims (data-prometheus-0, data-alertmanager-0, data-loki-0, grafana) from " +
        'the cluster\'s default class (none named) to "local-path"',
    );
    expect(message).toContain("Keep it unset;");
  });
});

describe("an expansion on a class declared expandable", () => {
  let grown: RunResult;
  beforeAll(async () => {
    grown = await deploy("staging", {
      sets: ["prometheus.storage.size=20Gi", "prometheus.storage.expandable=true"],
      previous: first.staging.outputs,
    });
  });

  /** The objects, with Prometheus' size cap (85 % of its volume unless given) as it was at first. */
  const capAsAtFirst = (run: RunResult) =>
    JSON.parse(
      JSON.stringify(objects(run)).replace(/--storage\.tsdb\.retention\.size=\w+/g, "--storage.tsdb.retention.size=8704MB"),
    ) as ReturnType<typeof objects>;

  test("grows the claims and leaves the StatefulSet's immutable claim template as it was", () => {
    expect(claimSize(grown, "data-prometheus-0")).toBe("20Gi");
    expect(templateSize(grown, "prometheus")).toBe("10Gi");
    const spec = (run: RunResult) => objectOf(run, "StatefulSet", "prometheus").spec as { volumeClaimTemplates: unknown };
    expect(spec(grown).volumeClaimTemplates).toEqual(spec(first.staging).volumeClaimTemplates);
  });

  test("changes nothing else but Prometheus' size cap, which follows the volume (a rolling update of the pod template)", () => {
    expect(objectOf(grown, "StatefulSet", "prometheus").spec).toMatchObject({
      template: { spec: { containers: [{ args: expect.arrayContaining(["--storage.tsdb.retention.size=17408MB"]) }] } },
    });
    const others = (all: ReturnType<typeof objects>) =>
      all.filter((o) => !(o.kind === "PersistentVolumeClaim" && o.metadata.name === "data-prometheus-0"));
    expect(others(capAsAtFirst(grown))).toEqual(others(objects(first.staging)));
  });

  test("records the claims' new size and the template's first one, which later deployments keep", async () => {
    expect((grown.outputs.volumes as VolumeRecords).prometheus).toEqual({
      size: "20Gi",
      storageClass: "local-path",
      templateSize: "10Gi",
      claims: ["data-prometheus-0"],
    });
    const again = await deploy("staging", {
      sets: ["prometheus.storage.size=30Gi", "prometheus.storage.expandable=true", "nodes=2", "prometheus.replicas=2"],
      previous: grown.outputs,
    });
    expect([claimSize(again, "data-prometheus-0"), claimSize(again, "data-prometheus-1")]).toEqual(["30Gi", "30Gi"]);
    expect(templateSize(again, "prometheus")).toBe("10Gi");
    // Back to the grown size from the larger one is a shrink.
    const { message } = await refusal("staging", { sets: ["prometheus.storage.size=20Gi"], previous: again.outputs });
    expect(message).toContain("monitoring:prometheus.storage.size: must be at least 30Gi");
  });

  test("Grafana's claim, which no StatefulSet owns, grows alone", async () => {
    const next = await deploy("staging", {
      sets: ["grafana.storage.size=4Gi", "grafana.storage.expandable=true"],
      previous: first.staging.outputs,
    });
    expect(claimSize(next, "grafana")).toBe("4Gi");
    expect((next.outputs.volumes as VolumeRecords).grafana).toEqual({ size: "4Gi", storageClass: "local-path", claims: ["grafana"] });
  });
});

describe("claims made anew (storage.recreate), once their data is moved out", () => {
  test("may take another StorageClass and size, and the StatefulSet's claim template says what they are", async () => {
    const next = await deploy("staging", {
      sets: ["prometheus.storage.storageClass=fast", "prometheus.storage.size=5Gi", "prometheus.storage.recreate=true"],
      previous: first.staging.outputs,
    });
    const claim = objectOf(next, "PersistentVolumeClaim", "data-prometheus-0").spec as { storageClassName: string };
    expect(claim.storageClassName).toBe("fast");
    expect(claimSize(next, "data-prometheus-0")).toBe("5Gi");
    expect(templateSize(next, "prometheus")).toBe("5Gi");
    expect((next.outputs.volumes as VolumeRecords).prometheus).toEqual({
      size: "5Gi",
      storageClass: "fast",
      templateSize: "5Gi",
      claims: ["data-prometheus-0"],
    });
    // Removed at the next deployment, recreate changes nothing.
    const after = await deploy("staging", {
      sets: ["prometheus.storage.storageClass=fast", "prometheus.storage.size=5Gi"],
      previous: next.outputs,
    });
    expect(inputs(after)).toBe(inputs(next));
  });

  test("only for the deployment that changes them: left set once nothing changes, it is refused", async () => {
    const { message, journal } = await refusal("staging", { sets: ["prometheus.storage.recreate=true"], previous: first.staging.outputs });
    expect(message).toBe(
      "Invalid stack configuration (1 problem):\n" +
        "  - monitoring:prometheus.storage.recreate: is for the one deployment that makes the claims anew, and neither " +
        'prometheus.storage.size nor its StorageClass differs from what the last deployment made (10Gi, "local-path"): remove it, so ' +
        "that a later change is refused again: pulumi config rm --path 'prometheus.storage.recreate' (got true)",
    );
    expect(journal.map((r) => r.type)).toEqual([STACK_REFERENCE]);
  });

  test("changes only its own component's claims: the others are still compared", async () => {
    const { message } = await refusal("staging", {
      sets: ["storageClass=fast", "prometheus.storage.recreate=true"],
      previous: first.staging.outputs,
    });
    expect(message).toContain("monitoring:storageClass: cannot move the existing claims (data-alertmanager-0, data-loki-0, grafana) from");
  });
});

describe("the comparison, as a pure function", () => {
  const raw = (values: Record<string, unknown>) => ({
    project: "monitoring",
    stack: "staging",
    values: Object.fromEntries(Object.entries(values).map(([k, v]) => [`monitoring:${k}`, typeof v === "string" ? v : JSON.stringify(v)])),
    secretKeys: [],
  });

  test("nothing to compare without a previous record", () => {
    const r = raw({ prometheus: { storage: { size: "1Ti" } } });
    const { config } = parseStackConfig(r);
    expect(volumeChangeProblems(r, config, undefined)).toEqual([]);
    // A first deployment's StatefulSet templates say what its claims are.
    expect(applyPreviousVolumes(r, config, undefined).prometheus.storage).toEqual({ size: "1Ti", templateSize: "1Ti" });
  });

  test("expandable is false unless given, and only true is kept", () => {
    const { config } = parseStackConfig(raw({ prometheus: { storage: { expandable: false } }, loki: { storage: { expandable: true } } }));
    expect(config.prometheus.storage).toEqual({ size: "10Gi" });
    expect(config.loki.storage).toEqual({ size: "10Gi", expandable: true });
  });

  test("a record that is not one is left out; an output that is not a map is none", () => {
    expect(parseVolumeRecords(undefined)).toBeUndefined();
    expect(parseVolumeRecords("[secret]")).toBeUndefined();
    expect(
      parseVolumeRecords({
        prometheus: { size: "10Gi", claims: ["data-prometheus-0"], extra: 1 },
        alertmanager: { size: "big", storageClass: null, claims: [] },
        loki: { size: "10Gi", storageClass: 3, claims: [] },
        grafana: { size: "2Gi", storageClass: "x", claims: "grafana" },
        other: { size: "1Gi", storageClass: null, claims: [] },
      }),
    ).toEqual({ prometheus: { size: "10Gi", storageClass: null, claims: ["data-prometheus-0"] } });
  });
});
