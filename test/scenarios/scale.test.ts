/**
 * A thousand apps: the stack renders with every object well under the API server's limit
 * (512 KiB, half of it), and its container sees every file of Prometheus (the ConfigMaps'
 * projected directories). test/e2e/scale.test.ts has promtool check those files and
 * Prometheus itself load and evaluate every rule group. How long the render takes is measured
 * by `npm run bench`, never asserted here.
 */
import * as fs from "fs";
import * as path from "path";
import { OBJECT_BUDGET_BYTES, PROMETHEUS_PATHS } from "../../components/prometheus/args";
import type { Rendered } from "../../cli/render";
import { APPS, renderManyApps } from "../support/many-apps";

let rendered: Rendered;
let root: string;

beforeAll(async () => {
  ({ rendered, root } = await renderManyApps());
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe(`${APPS} apps`, () => {
  test("every object stays under 512 KiB, the config and the rules split across ConfigMaps", () => {
    const sizes = rendered.kubernetes
      .map((o) => ({ id: `${o.object.kind}/${o.object.metadata.name}`, bytes: Buffer.byteLength(JSON.stringify(o.object)) }))
      .sort((a, b) => b.bytes - a.bytes);
    expect(OBJECT_BUDGET_BYTES).toBe(512 * 1024);
    expect(sizes.filter((s) => s.bytes >= OBJECT_BUDGET_BYTES)).toEqual([]);
    const maps = (prefix: string) => sizes.filter((s) => s.id.startsWith(`ConfigMap/${prefix}`)).length;
    expect(maps("prometheus-rules")).toBeGreaterThan(1);
    expect(maps("prometheus-config")).toBeGreaterThan(1);
  });

  test("the container sees every rendered file of Prometheus, in its config, rules and scrape credentials directories", () => {
    // The scrape credentials (node-exporter's password and CA) are a Secret's, in a directory of their own.
    const seen = [PROMETHEUS_PATHS.configDir, PROMETHEUS_PATHS.rulesDir, PROMETHEUS_PATHS.scrapeSecretsDir]
      .flatMap((d) => fs.readdirSync(path.join(root, d)))
      .sort();
    const files = [...rendered.files.keys()].filter((f) => f.startsWith("prometheus/")).map((f) => f.slice("prometheus/".length));
    expect(seen).toEqual(files.sort());
    expect(seen).toEqual(expect.arrayContaining(["prometheus.yml", "apps.scrape.yml", "apps-2.scrape.yml", "apps.rules.yml"]));
  });
});
