/**
 * Both real stack files, end to end: rendered under mocks exactly as
 * `npm run render` does, then checked with the official schemas.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { images } from "../../components/images";
import { Rendered, kubernetesYaml, renderRun, writeRender } from "../../cli/render";
import { RunResult, runProgram } from "../../cli/runner";
import { DESTROY_GUARD_NAME } from "../../components/stack";
import { readStackConfig } from "../../cli/stackfile";
import { objectOf, objectsOf, renderStack } from "../support/render";
import { schemaProblems } from "../support/schema";

const STACKS = ["staging", "production"] as const;

interface PodSpecHolder {
  spec?: { template?: { spec?: { containers?: Array<{ image?: string }>; initContainers?: Array<{ image?: string }> } } };
}

describe.each(STACKS)("the %s stack", (stack) => {
  let rendered: Awaited<ReturnType<typeof renderStack>>;
  beforeAll(async () => {
    rendered = await renderStack({ stack });
  });

  test("renders its own namespace, monitoring-<environment>, with restricted Pod Security", () => {
    const ns = rendered.kubernetes.find((o) => o.object.kind === "Namespace" && o.object.metadata.name === `monitoring-${stack}`);
    expect(ns?.object.metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
      "app.kubernetes.io/instance": stack,
    });
  });

  test("every Kubernetes object is valid against the official schema", () => {
    const invalid = rendered.kubernetes
      .map((o) => ({
        id: `${o.object.kind} ${o.object.metadata.namespace ?? ""}/${o.object.metadata.name ?? "(patch)"}`,
        problems: schemaProblems(o.object, o.patch),
      }))
      .filter((r) => r.problems.length > 0);
    expect(invalid).toEqual([]);
  });

  test("every object carries the stack's standard labels", () => {
    const unlabelled = rendered.kubernetes
      .filter((o) => !o.patch)
      .filter((o) => o.object.metadata.labels?.["app.kubernetes.io/part-of"] !== "monitoring-stack")
      .map((o) => `${o.object.kind}/${o.object.metadata.name}`);
    expect(unlabelled).toEqual([]);
  });

  test("every container image is one of the pinned images", () => {
    const pinned = new Set<string>(Object.values(images));
    const used = rendered.kubernetes.flatMap((o) => {
      const spec = (o.object as PodSpecHolder).spec?.template?.spec;
      return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].map((c) => c.image ?? "");
    });
    expect(used.filter((image) => !pinned.has(image))).toEqual([]);
  });

  test("secrets are redacted in the default render", () => {
    const secrets = rendered.kubernetes.filter((o) => o.object.kind === "Secret");
    for (const s of secrets) {
      for (const value of Object.values({ ...(s.object.data as object), ...(s.object.stringData as object) }))
        expect(value).toBe("[secret]");
    }
  });

  test("two renders of the same input are byte-identical", async () => {
    const again = await renderStack({ stack });
    const dirs = [fs.mkdtempSync(path.join(os.tmpdir(), "render-a-")), fs.mkdtempSync(path.join(os.tmpdir(), "render-b-"))];
    writeRender(rendered, dirs[0]);
    writeRender(again, dirs[1]);
    const read = (dir: string): Record<string, string> => {
      const out: Record<string, string> = {};
      const walk = (d: string) => {
        for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, entry.name);
          if (entry.isDirectory()) walk(p);
          else out[path.relative(dir, p)] = fs.readFileSync(p, "utf8");
        }
      };
      walk(dir);
      return out;
    };
    expect(read(dirs[1])).toEqual(read(dirs[0]));
    expect(kubernetesYaml(again)).toBe(kubernetesYaml(rendered));
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
});

test("the images list pins every image to an exact version, and by digest once Renovate has pinned it", () => {
  for (const ref of Object.values(images)) {
    expect(ref).toMatch(/^[a-z0-9.-]+\/[a-z0-9._/-]+:v?\d+\.\d+\.\d+(?:@sha256:[a-f0-9]{64})?$/);
    expect(ref).not.toMatch(/:latest(?:@|$)/);
  }
});

describe.each(STACKS)("stored data in the %s stack", (stack) => {
  // What holds metrics, logs, silences and Grafana's own state: every claim, explicit Pulumi
  // resources; and, where the stack keeps its data, the namespace they live in (deleting a
  // namespace deletes its claims).
  const keeps = stack === "production";
  let run: RunResult;
  let rendered: Rendered;
  beforeAll(async () => {
    const input = readStackConfig(stack);
    run = await runProgram({ project: input.project, stack, config: input.config, secretKeys: input.secretKeys });
    rendered = renderRun(run, true);
  });

  interface StatefulSetSpec {
    replicas: number;
    persistentVolumeClaimRetentionPolicy?: unknown;
    volumeClaimTemplates?: Array<{ metadata: { name: string; labels: Record<string, string> }; spec: object }>;
  }
  const resourceOf = (kind: string, name: string) =>
    run.resources.find((r) => r.type.endsWith(`/v1:${kind}`) && (r.inputs.metadata as { name?: string } | undefined)?.name === name);

  test("every claim is a Pulumi resource: each StatefulSet replica's, named as the controller names it, and Grafana's", () => {
    // Both stack files run on one node: one replica of each StatefulSet. No Jaeger: no app of theirs sends OTLP.
    const expected = ["data-alertmanager-0", "data-loki-0", "data-prometheus-0", "grafana"];
    expect(objectsOf(rendered, "PersistentVolumeClaim").map((c) => `${c.metadata.namespace}/${c.metadata.name}`)).toEqual(
      expected.map((n) => `monitoring-${stack}/${n}`),
    );
  });

  test("each StatefulSet replica's claim is exactly what the controller would make from the template, and the StatefulSet depends on it", () => {
    // The stack's own StatefulSets (not the server-side-apply patches of other teams' databases).
    const statefulSets = rendered.kubernetes.filter((o) => o.object.kind === "StatefulSet" && !o.patch).map((o) => o.object);
    expect(statefulSets.map((s) => s.metadata.name).sort()).toEqual(["alertmanager", "loki", "prometheus"]);
    for (const sts of statefulSets) {
      const spec = sts.spec as StatefulSetSpec;
      const name = sts.metadata.name ?? "";
      expect(spec.volumeClaimTemplates?.length).toBe(1);
      const dependencies = resourceOf("StatefulSet", name)?.dependencies ?? [];
      for (const template of spec.volumeClaimTemplates ?? []) {
        for (let ordinal = 0; ordinal < spec.replicas; ordinal++) {
          const claimName = `${template.metadata.name}-${name}-${ordinal}`;
          const claim = objectOf(rendered, "PersistentVolumeClaim", claimName);
          // The controller's claim: the template's labels (with the selector's), size and class, in the set's namespace.
          expect(claim.metadata).toEqual({
            name: claimName,
            namespace: sts.metadata.namespace,
            labels: { ...template.metadata.labels, ...(sts.spec as { selector: { matchLabels: object } }).selector.matchLabels },
            annotations: { "pulumi.com/skipAwait": "true" },
          });
          expect(claim.spec).toEqual(template.spec);
          expect(dependencies).toContain(resourceOf("PersistentVolumeClaim", claimName)?.urn);
        }
      }
    }
  });

  test("no StatefulSet deletes its claims, when deleted, replaced or scaled down, and none is protected (they hold no data)", () => {
    for (const sts of rendered.kubernetes.filter((o) => o.object.kind === "StatefulSet" && !o.patch)) {
      expect((sts.object.spec as StatefulSetSpec).persistentVolumeClaimRetentionPolicy).toEqual({
        whenDeleted: "Retain",
        whenScaled: "Retain",
      });
      expect(resourceOf("StatefulSet", sts.object.metadata.name ?? "")?.options).toMatchObject({ protect: false, retainOnDelete: false });
    }
  });

  test(
    keeps
      ? "the claims and their namespace are protected and kept in the cluster when removed; nothing else is"
      : "nothing is protected or kept: a destroy removes the claims and the namespaces, so nothing of the stack stays behind",
    () => {
      const held = run.resources
        .filter((r) => r.options.protect || r.options.retainOnDelete)
        .filter((r) => (r.inputs.metadata as { name?: string }).name !== DESTROY_GUARD_NAME)
        .map((r) => ({ what: `${r.type.split(":").pop()}/${(r.inputs.metadata as { name?: string }).name}`, ...r.options }));
      const expected = keeps
        ? [
            ...objectsOf(rendered, "PersistentVolumeClaim").map((c) => `PersistentVolumeClaim/${c.metadata.name}`),
            `Namespace/monitoring-${stack}`,
          ]
        : [];
      expect(held.map((h) => h.what).sort()).toEqual(expected.sort());
      for (const h of held) expect(h).toMatchObject({ protect: true, retainOnDelete: true });
      // The node agents' namespace holds no data: a destroy always removes it.
      expect(resourceOf("Namespace", `monitoring-${stack}-agents`)?.options).toMatchObject({ protect: false, retainOnDelete: false });
    },
  );

  test(
    keeps
      ? "a protected guard depends on every other resource, so that a destroy meets it first and stops with the stack whole"
      : "no destroy guard: nothing is protected",
    () => {
      const guard = resourceOf("ConfigMap", DESTROY_GUARD_NAME);
      if (!keeps) {
        expect(guard).toBeUndefined();
        return;
      }
      expect(guard?.options).toMatchObject({ protect: true, retainOnDelete: false });
      const others = run.resources.filter((r) => r.custom && r.urn !== guard?.urn).map((r) => r.urn);
      expect(others.filter((urn) => !guard?.dependencies.includes(urn))).toEqual([]);
    },
  );
});

test("a service admits only the proxies that publish it", async () => {
  // Production: Traefik publishes Prometheus and Alertmanager, the tunnel publishes Grafana.
  const rendered = await renderStack({ stack: "production" });
  const peersOf = (name: string) =>
    JSON.stringify(
      rendered.kubernetes.find((o) => o.object.kind === "NetworkPolicy" && o.object.metadata.name === name && o.component === name)?.object
        .spec,
    );
  expect(peersOf("grafana")).toContain('"app.kubernetes.io/name":"cloudflared"');
  expect(peersOf("grafana")).not.toContain('"app.kubernetes.io/name":"traefik"');
  expect(peersOf("prometheus")).toContain('"app.kubernetes.io/name":"traefik"');
  expect(peersOf("prometheus")).not.toContain('"app.kubernetes.io/name":"cloudflared"');
});
