/**
 * Images pinned by digest (`registry/repository:tag@sha256:<digest>`, which Renovate's first
 * pull request writes into components/images.ts): the program passes the reference to the pods
 * exactly as written, and labels the workloads with the tag, not with a piece of the digest.
 */
import * as crypto from "crypto";
import { ImageName, images, imageVersion, parseImageRef } from "../../components/images";
// The program's images changed in-process, which no render-cache key sees (test/support/render-cache.ts): cli's render, never kept.
import { renderStack } from "../../cli/render-stack";

interface PodTemplateHolder {
  metadata?: { labels?: Record<string, string> };
  spec?: {
    template?: {
      metadata?: { labels?: Record<string, string> };
      spec?: { containers?: Array<{ image?: string }>; initContainers?: Array<{ image?: string }> };
    };
  };
}

const TAGGED = { ...images };
/** A digest per image, made up: no registry is reachable from the tests. */
const digestOf = (name: string) => `sha256:${crypto.createHash("sha256").update(name).digest("hex")}`;

describe("parseImageRef", () => {
  test.each([
    ["quay.io/prometheus/prometheus:v3.13.5", { repository: "quay.io/prometheus/prometheus", tag: "v3.13.5" }],
    [
      `docker.io/grafana/grafana:13.2.0@${digestOf("g")}`,
      { repository: "docker.io/grafana/grafana", tag: "13.2.0", digest: digestOf("g") },
    ],
    ["registry.example.com:5000/team/exporter:1.0.0", { repository: "registry.example.com:5000/team/exporter", tag: "1.0.0" }],
  ])("%s", (ref, parts) => {
    expect(parseImageRef(ref)).toEqual(parts);
  });

  test.each([
    [`docker.io/grafana/grafana@${digestOf("g")}`, "a digest without a tag"],
    ["docker.io/grafana/grafana", "no tag"],
    ["docker.io/grafana/grafana:13.2.0@sha256:abc", "a short digest"],
  ])("refuses %s (%s)", (ref) => {
    expect(() => parseImageRef(ref)).toThrow(`${ref}: not an image reference with a tag`);
  });
});

describe.each(["staging", "production"])("the %s stack with every image pinned by digest", (stack) => {
  let pods: PodTemplateHolder[];
  beforeAll(async () => {
    // As Renovate's first pull request leaves components/images.ts: tag, then digest.
    for (const name of Object.keys(images) as ImageName[]) {
      (images as Record<ImageName, string>)[name] = `${TAGGED[name]}@${digestOf(name)}`;
    }
    try {
      const rendered = await renderStack({ stack });
      pods = rendered.kubernetes.map((o) => o.object as PodTemplateHolder).filter((o) => o.spec?.template?.spec);
    } finally {
      Object.assign(images, TAGGED);
    }
  });

  test("every container runs the reference as written: tag and digest", () => {
    const pinned = Object.fromEntries(Object.entries(TAGGED).map(([name, ref]) => [`${ref}@${digestOf(name)}`, name]));
    const used = pods.flatMap((p) => [...(p.spec?.template?.spec?.containers ?? []), ...(p.spec?.template?.spec?.initContainers ?? [])]);
    expect(used.length).toBeGreaterThan(5);
    expect(used.map((c) => c.image).filter((image) => !(String(image) in pinned))).toEqual([]);
  });

  test("the version labels carry the tag", () => {
    const versions = new Set(Object.keys(TAGGED).map((name) => parseImageRef(TAGGED[name as ImageName]).tag));
    const labels = pods
      .flatMap((p) => [p.metadata?.labels, p.spec?.template?.metadata?.labels])
      .map((l) => l?.["app.kubernetes.io/version"]);
    const given = labels.filter((v): v is string => v !== undefined);
    expect(given.length).toBeGreaterThan(0);
    expect(given.filter((v) => !versions.has(v))).toEqual([]);
  });
});

test("the images are back as components/images.ts writes them", () => {
  expect(images).toEqual(TAGGED);
  expect(imageVersion("prometheus")).toBe(parseImageRef(TAGGED.prometheus).tag);
});
