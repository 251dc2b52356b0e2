/**
 * The rendered config.alloy of both stacks under the release of Grafana Alloy the stack
 * deploys: accepted by `alloy validate` and left unchanged by `alloy fmt` (the writer is
 * checked without a binary in test/components/alloy.test.ts). Rendered with an app that sends
 * OTLP, so that the OTLP endpoint and the traces pipeline are in it (the stack files' own apps
 * send none, and tracing follows the apps); the stack files' own config too.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LOG_COLLECTOR_DEFAULTS } from "../../components/log-collector/args";
import { otlpMemoryLimiter } from "../../components/log-collector/alloy";
import { runBinary } from "../../lab/local/binaries";
import { alloyRunArgs } from "../../lab/local/logs";
import { freePort } from "../../lab/ports";
import { render } from "../support/render";

/** An app that sends OTLP: the collector's OTLP endpoint, and Jaeger behind it, run because of it. */
const OTLP_APP = "apps[2]={name: checkout, namespace: shop, otlp: true}";

describe.each(["staging", "production"] as const)("the %s stack's config.alloy under the deployed Alloy", (stack) => {
  let dir: string;
  let file: string;
  let shipped: string;
  beforeAll(async () => {
    const rendered = await render(stack, [OTLP_APP]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "alloy-"));
    file = path.join(dir, "config.alloy");
    fs.writeFileSync(file, rendered.files.get("log-collector/config.alloy") ?? "");
    shipped = path.join(dir, "shipped.alloy");
    fs.writeFileSync(shipped, (await render(stack)).files.get("log-collector/config.alloy") ?? "");
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("alloy validate accepts it (generally-available components only, Alloy's default), with and without the OTLP endpoint", () => {
    expect(fs.readFileSync(file, "utf8")).toContain('otelcol.receiver.otlp "apps"');
    expect(fs.readFileSync(shipped, "utf8")).not.toContain("otelcol");
    for (const config of [file, shipped]) {
      const result = runBinary("alloy", ["validate", config]);
      expect(result.output).toBe("");
      expect(result.ok).toBe(true);
    }
  });

  test("alloy fmt leaves it as it is: the writer follows Alloy's own formatting", () => {
    const result = runBinary("alloy", ["fmt", file]);
    expect(result.ok).toBe(true);
    expect(result.output).toBe(fs.readFileSync(file, "utf8"));
  });

  test("alloy validate refuses a component argument it does not know, so the check above can fail", () => {
    const broken = path.join(dir, "broken.alloy");
    fs.writeFileSync(broken, fs.readFileSync(file, "utf8").replace("max_backoff_retries", "max_backoff_retry"));
    const result = runBinary("alloy", ["validate", broken]);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/max_backoff_retry/);
  });

  // `alloy validate` does not decode component arguments: a run builds every component (then stops
  // here, where no cluster answers its Kubernetes discovery), which the memory limiter logs.
  test("alloy run builds the OTLP path's memory limiter with the limits sized from the collector's memory limit", async () => {
    const expected = otlpMemoryLimiter(LOG_COLLECTOR_DEFAULTS[stack].resources.limits.memory);
    const run = async (config: string) =>
      runBinary("alloy", alloyRunArgs(config, await freePort(), fs.mkdtempSync(path.join(dir, "data-"))), { timeoutMs: 60_000 }).output;
    expect(await run(file)).toMatch(
      new RegExp(`msg="Memory limiter configured".*limit_mib=${expected.limitMiB} spike_limit_mib=${expected.spikeLimitMiB} `),
    );
    // The same run refuses a spike limit that is not under the limit: the check above can fail.
    const broken = path.join(dir, "spike.alloy");
    fs.writeFileSync(
      broken,
      fs
        .readFileSync(file, "utf8")
        .replace(`spike_limit    = "${expected.spikeLimitMiB}MiB"`, `spike_limit    = "${expected.limitMiB}MiB"`),
    );
    expect(await run(broken)).toMatch(/spike_limit must be less than limit/);
  });
});
