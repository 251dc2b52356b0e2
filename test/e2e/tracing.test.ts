/**
 * Jaeger's config (components/tracing/jaeger-config.ts) under `jaeger validate` of the release
 * the stack deploys.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { jaegerConfig } from "../../components/tracing/jaeger-config";
import { runBinary } from "../../lab/local/binaries";

describe("Jaeger's config", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "jaeger-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const validate = (config: Record<string, unknown>) => {
    const file = path.join(dir, "jaeger.yaml");
    fs.writeFileSync(file, YAML.stringify(config));
    return runBinary("jaeger", ["validate", `--config=${file}`]);
  };

  test("jaeger validate accepts it", () => {
    const result = validate(jaegerConfig({ retention: "2d" }));
    expect(result.output).not.toMatch(/error/i);
    expect(result.ok).toBe(true);
  });

  test("jaeger validate refuses a key it does not know, so the check above can fail", () => {
    const config = jaegerConfig({ retention: "2d" }) as { processors: Record<string, Record<string, unknown>> };
    config.processors.batch = { sned_batch_size: 10 };
    const result = validate(config);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/sned_batch_size/);
  });
});
