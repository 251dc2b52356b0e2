/**
 * `apps[].port` as a number, under the deployed promtool's discovery check: the staging stack
 * run against a stand-in cluster of Services (test/preflight/service-ports.test.ts) renders
 * scrape jobs that each find the one endpoint of their Service port and no other.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { renderRun } from "../../cli/render";
import { stackBinary } from "../../lab/local/binaries";
import { TargetGroup, discoverableConfig, endpointsOf, layOutContainer } from "../../lab/local/prometheus";
import { SERVICES, app, run } from "../support/service-ports";

describe("the program under mocks, against a stand-in cluster", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "service-ports-"));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  let rendered: ReturnType<typeof renderRun>;

  beforeAll(async () => {
    rendered = renderRun(await run([app("api", "api", 80), app("checkout", "checkout", 80), app("billing", "billing", 8080)]), true);
  });

  test("promtool's discovery check: each app's job finds the one endpoint of its Service port", async () => {
    layOutContainer(rendered, root);
    // What endpoints discovery reports for the three Services; billing's pod names its container port `metrics` (3000).
    const endpoints: TargetGroup[] = [
      ...endpointsOf(SERVICES[0] as never, "10.42.0.10"),
      ...endpointsOf(SERVICES[1] as never, "10.42.0.11"),
      ...endpointsOf(SERVICES[2] as never, "10.42.0.12").map((g) => ({
        targets: ["10.42.0.12:3000"],
        labels: { ...g.labels, __meta_kubernetes_pod_container_port_name: "metrics", __meta_kubernetes_pod_container_port_number: "3000" },
      })),
    ];
    const { file } = discoverableConfig(rendered.files.get("prometheus/prometheus.yml") ?? "", root, { endpoints, pod: [], node: [] });
    const addresses = async (job: string) => {
      const { stdout } = await promisify(execFile)(stackBinary("promtool"), ["check", "service-discovery", "--timeout=1s", file, job], {
        encoding: "utf8",
        timeout: 60_000,
      });
      const kept = (JSON.parse(stdout) as Array<{ labels: Record<string, string> }>)
        .map((r) => r.labels)
        .filter((l) => Object.keys(l).length > 0);
      return [...new Set(kept.map((l) => l.__address__))].sort();
    };
    expect(await addresses("api")).toEqual(["10.42.0.10:3333"]);
    expect(await addresses("checkout")).toEqual(["10.42.0.11:3333"]);
    expect(await addresses("billing")).toEqual(["10.42.0.12:3000"]);
  });
});
