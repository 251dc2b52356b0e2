/**
 * Targets that are not HTTP apps and health probes, under the deployed promtool:
 * `promtool check config` accepts prometheus.yml with the credential and CA files where the
 * container finds them, and `promtool check service-discovery` relabels the targets and probes
 * with the labels the alerts and the Uptime dashboard read (config and render are checked without
 * a binary in test/scenarios/targets-probes.test.ts).
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import type { Rendered } from "../../cli/render";
import { promtool, stackBinary } from "../../lab/local/binaries";
import { containerConfig, discoverableConfig, endpointsOf, layOutContainer } from "../../lab/local/prometheus";
import { renderTargetsAndProbes } from "../support/targets-probes";

jest.setTimeout(120_000);

describe("the render under promtool", () => {
  let rendered: Rendered;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "targets-probes-"));
  beforeAll(async () => {
    rendered = await renderTargetsAndProbes();
    layOutContainer(rendered, root);
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test("promtool accepts prometheus.yml with the credential and CA files where the container finds them", () => {
    const result = promtool(["check", "config", containerConfig(rendered.files.get("prometheus/prometheus.yml") ?? "", root)]);
    expect(result.output).toContain("SUCCESS");
    expect(result.ok).toBe(true);
  });

  test("as relabelled by promtool: targets and probes get the labels the alerts and the Uptime dashboard read", async () => {
    const service = (ns: string, name: string, port: string, number: number) => ({
      metadata: { name, namespace: ns },
      spec: { ports: [{ name: port, port: number, targetPort: number }] },
    });
    const { file } = discoverableConfig(rendered.files.get("prometheus/prometheus.yml") ?? "", root, {
      endpoints: [
        ...endpointsOf(service("shop", "shop", "http", 8080), "10.42.0.7"),
        ...endpointsOf(service("billing", "billing-worker", "metrics", 9102), "10.42.0.9"),
      ],
      pod: [],
      node: [],
    });
    const discover = async (job: string) => {
      const { stdout, stderr } = await promisify(execFile)(
        stackBinary("promtool"),
        ["check", "service-discovery", "--timeout=1s", file, job],
        {
          encoding: "utf8",
          timeout: 60_000,
        },
      );
      // Discovery that could not run (no inotify instance left on the machine, say) shows as no target: say why.
      if (/level=ERROR/.test(stderr)) throw new Error(`promtool check service-discovery ${job}:\n${stderr}`);
      const decided = (k: string) =>
        !/^__.*__$/.test(k) || ["__address__", "__metrics_path__", "__scheme__"].includes(k) || k.startsWith("__param_");
      return (JSON.parse(stdout) as Array<{ labels: Record<string, string> }>)
        .map((r) => Object.fromEntries(Object.entries(r.labels).filter(([k]) => decided(k))))
        .filter((l) => Object.keys(l).length > 0);
    };
    const exporter = "blackbox-exporter.monitoring-staging.svc:9115";
    expect(await discover("blackbox/shop")).toEqual([
      {
        __address__: exporter,
        __metrics_path__: "/probe",
        __param_module: "http_2xx",
        __param_target: "http://10.42.0.7:8080/health",
        __scheme__: "http",
        instance: "shop-0",
        job: "blackbox",
        namespace: "shop",
        pod: "shop-0",
        probe: "shop",
        service: "shop",
      },
    ]);
    expect(await discover("blackbox/smtp")).toEqual([
      {
        __address__: exporter,
        __metrics_path__: "/probe",
        __param_module: "tcp_connect",
        __param_target: "mail.example.com:587",
        __scheme__: "http",
        instance: "mail.example.com:587",
        job: "blackbox",
        probe: "smtp",
      },
    ]);
    expect(await discover("billing")).toEqual([
      {
        __address__: "10.42.0.9:9102",
        __metrics_path__: "/metrics",
        __scheme__: "https",
        instance: "billing-worker-0",
        job: "billing",
        namespace: "billing",
        pod: "billing-worker-0",
        service: "billing-worker",
        team: "billing",
      },
    ]);
  });
});
