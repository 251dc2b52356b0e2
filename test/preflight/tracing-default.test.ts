/**
 * Tracing now runs only when an app sends OTLP unless tracing.enabled says otherwise: a stack
 * whose last deployment ran Jaeger (its `volumes` output lists Jaeger's claim) and whose tracing
 * is off only by that default is refused before anything changes, naming monitoring:tracing.enabled
 * and both ways out (preflight/tracing-default.ts).
 */
import { parseStackConfig } from "../../config";
import { VolumeRecords } from "../../components/stack/volumes";
import { tracingDefaultProblems } from "../../preflight/tracing-default";
import { applyPreviousVolumes } from "../../preflight/volume-changes";
import { kubernetesYaml, renderRun } from "../../cli/render";
import { withOfflineSalt } from "../../cli/render-stack";
import { RecordedResource, RunResult, runProgram } from "../../cli/runner";
import { readStackConfig } from "../../cli/stackfile";

type Stack = "staging" | "production";

/** The stack file with `sets`, parsed as the program parses it. */
function configOf(stack: Stack, sets: string[] = []) {
  const input = readStackConfig(stack, sets);
  const raw = { project: input.project, stack, values: input.config, secretKeys: input.secretKeys };
  return { raw, config: parseStackConfig(raw).config };
}

/** What a deployment that ran Jaeger recorded of it (components/stack/volumes.ts), with the other claims. */
const RAN_JAEGER: VolumeRecords = {
  prometheus: { size: "10Gi", storageClass: "local-path", templateSize: "10Gi", claims: ["data-prometheus-0"] },
  alertmanager: { size: "1Gi", storageClass: "local-path", templateSize: "1Gi", claims: ["data-alertmanager-0"] },
  loki: { size: "10Gi", storageClass: "local-path", templateSize: "10Gi", claims: ["data-loki-0"] },
  grafana: { size: "2Gi", storageClass: "local-path", claims: ["grafana"] },
  tracing: { size: "5Gi", storageClass: "local-path", templateSize: "5Gi", claims: ["data-jaeger-0"] },
};
const NO_JAEGER: VolumeRecords = Object.fromEntries(Object.entries(RAN_JAEGER).filter(([c]) => c !== "tracing"));
const PRODUCTION_RAN_JAEGER: VolumeRecords = {
  ...RAN_JAEGER,
  prometheus: { size: "50Gi", storageClass: "local-path", templateSize: "50Gi", claims: ["data-prometheus-0"] },
  loki: { size: "30Gi", storageClass: "local-path", templateSize: "30Gi", claims: ["data-loki-0"] },
  grafana: { size: "5Gi", storageClass: "local-path", claims: ["grafana"] },
  tracing: { size: "20Gi", storageClass: "local-path", templateSize: "20Gi", claims: ["data-jaeger-0"] },
};

const SENDER = "apps[2]={name: checkout, namespace: shop, otlp: true}";

describe("the problem, from the previous record and the config", () => {
  test("off only by the default over Jaeger's claim: refused, naming the key, why, and both ways out", () => {
    const { raw, config } = configOf("staging");
    expect(tracingDefaultProblems(raw, config, RAN_JAEGER)).toEqual([
      {
        key: "monitoring:tracing.enabled",
        message:
          "is not set, and tracing now runs only when an app sends OTLP (apps[].otlp), which none of this stack's apps does; " +
          "but this stack ran Jaeger: its claim data-jaeger-0 holds spans. Say which you want: " +
          "pulumi config set --path 'tracing.enabled' true keeps Jaeger and its spans; " +
          "pulumi config set --path 'tracing.enabled' false removes Jaeger and its claim with the spans; " +
          "npm run migrate -- --stack <stack> --previous <pulumi stack output --json> sets true " +
          '(see docs/operations.md, "Tracing follows the apps") (got nothing)',
      },
    ]);
  });

  test("in a stack that protects its volumes, false is said to keep the claim, protected", () => {
    const { raw, config } = configOf("production");
    const [problem] = tracingDefaultProblems(raw, config, PRODUCTION_RAN_JAEGER);
    expect(problem.key).toBe("monitoring:tracing.enabled");
    expect(problem.message).toContain(
      "pulumi config set --path 'tracing.enabled' false stops Jaeger and keeps its claim, protected (protectVolumes), with the spans on it",
    );
  });

  test.each([
    ["the key set true", ["tracing.enabled=true"], RAN_JAEGER],
    ["the key set false", ["tracing.enabled=false"], RAN_JAEGER],
    ["an app that sends OTLP (tracing on by the default)", [SENDER], RAN_JAEGER],
    ["a previous deployment without Jaeger's claim", [], NO_JAEGER],
    ["a first deployment, or one before the record", [], undefined],
  ] as Array<[string, string[], VolumeRecords | undefined]>)("nothing with %s", (_title, sets, previous) => {
    const { raw, config } = configOf("staging", sets);
    expect(tracingDefaultProblems(raw, config, previous)).toEqual([]);
    expect(() => applyPreviousVolumes(raw, config, previous)).not.toThrow();
  });

  test("listed first with the volume changes, in one refusal", () => {
    const { raw, config } = configOf("staging", ["storageClass=fast"]);
    let keys: string[] = [];
    try {
      applyPreviousVolumes(raw, config, RAN_JAEGER);
    } catch (err) {
      keys = (err as { problems: Array<{ key: string }> }).problems.map((p) => p.key);
    }
    expect(keys).toEqual(["monitoring:tracing.enabled", "monitoring:storageClass"]);
  });
});

async function deploy(stack: Stack, sets: string[], previous?: Record<string, unknown>, journal?: RecordedResource[]): Promise<RunResult> {
  const input = readStackConfig(stack, sets);
  return runProgram({
    project: input.project,
    stack: input.stack,
    config: input.config,
    secretKeys: input.secretKeys,
    previousOutputs: withOfflineSalt(input.project, input.stack, previous),
    ...(journal ? { journal } : {}),
  });
}

describe("the program", () => {
  test("a stack that ran Jaeger and sets nothing is refused before anything is registered; with the key set, it deploys", async () => {
    // The last deployment ran Jaeger: tracing set on, as the stack file used to.
    const before = await deploy("staging", ["tracing.enabled=true"]);
    expect((before.outputs.volumes as VolumeRecords).tracing?.claims).toEqual(["data-jaeger-0"]);

    const journal: RecordedResource[] = [];
    await expect(deploy("staging", [], before.outputs, journal)).rejects.toThrow(
      /monitoring:tracing\.enabled: is not set, and tracing now runs only when an app sends OTLP .*its claim data-jaeger-0 holds spans/,
    );
    expect(journal.map((r) => r.type)).toEqual(["pulumi:pulumi:StackReference"]);

    // Kept: nothing changes. Removed: Jaeger goes, and the next deployment has no claim to compare.
    const kept = await deploy("staging", ["tracing.enabled=true"], before.outputs);
    expect(kubernetesYaml(renderRun(kept, true))).toBe(kubernetesYaml(renderRun(before, true)));
    const removed = await deploy("staging", ["tracing.enabled=false"], before.outputs);
    expect(renderRun(removed, true).kubernetes.filter((o) => o.object.metadata.name?.includes("jaeger"))).toEqual([]);
    expect((removed.outputs.volumes as VolumeRecords).tracing).toBeUndefined();
    await expect(deploy("staging", [], removed.outputs)).resolves.toBeDefined();
  });
});
