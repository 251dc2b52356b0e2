/**
 * Both real stack files, end to end: rendered under mocks exactly as
 * `npm run render` does, then checked with the official schemas.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { images } from "../components/images";
import { kubernetesYaml, writeRender } from "../scripts/lib/render";
import { renderStack } from "./support/render";
import { schemaProblems } from "./support/schema";

const STACKS = ["staging", "production"] as const;

interface PodSpecHolder {
  spec?: { template?: { spec?: { containers?: Array<{ image?: string }>; initContainers?: Array<{ image?: string }> } } };
}

describe.each(STACKS)("the %s stack", (stack) => {
  let rendered: Awaited<ReturnType<typeof renderStack>>;
  beforeAll(async () => {
    rendered = await renderStack({ stack });
  });

  test("renders the monitoring namespace with restricted Pod Security", () => {
    const ns = rendered.kubernetes.find((o) => o.object.kind === "Namespace" && o.object.metadata.name === "monitoring");
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

test("the images list pins every image to an exact version", () => {
  for (const ref of Object.values(images)) {
    expect(ref).toMatch(/^[a-z0-9.-]+\/[a-z0-9._/-]+:v?\d+\.\d+\.\d+$/);
    expect(ref).not.toMatch(/:latest$/);
  }
});

describe("stored data", () => {
  interface WithClaims {
    spec?: { volumeClaimTemplates?: unknown[] };
  }
  const holdsData = (o: { object: { kind: string } }) =>
    o.object.kind === "PersistentVolumeClaim" || ((o.object as WithClaims).spec?.volumeClaimTemplates?.length ?? 0) > 0;

  test("production protects every object that holds metrics, logs, silences or dashboards", async () => {
    const rendered = await renderStack({ stack: "production" });
    const holders = rendered.kubernetes.filter(holdsData);
    expect(holders.map((o) => o.object.metadata.name).sort()).toEqual(expect.arrayContaining(["alertmanager", "prometheus"]));
    expect(holders.filter((o) => !o.protect).map((o) => `${o.object.kind}/${o.object.metadata.name}`)).toEqual([]);
  });

  test("staging leaves them unprotected, so a test environment can be torn down", async () => {
    const rendered = await renderStack({ stack: "staging" });
    expect(rendered.kubernetes.filter(holdsData).filter((o) => o.protect)).toEqual([]);
  });
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
