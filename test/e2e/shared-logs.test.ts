/**
 * One collector for two stacks (logCollector.shareWith), on the releases the stack deploys, on
 * 127.0.0.1: production's rendered config.alloy, serving staging, tails the pod log files of two
 * namespaces once and sends each namespace's lines to its own stack's Loki: two real Lokis
 * with the rendered loki.yaml, one for each stack. Only what needs a cluster is swapped for local
 * equivalents, as in logs.test.ts (Kubernetes discovery by file discovery of the same labels,
 * the pod log directory, the Lokis' addresses).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Rendered } from "../../cli/render";
import { stackBinary } from "../../lab/local/binaries";
import { localAlloyArgs, localLokiArgs, podDiscoveryTargets, writePodLogs } from "../../lab/local/logs";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { httpGet } from "../../lab/local/http";
import { render } from "../support/render";
import { localRun } from "./support/local-run";

jest.setTimeout(240_000);

/** Production's own app namespace, and staging's, whose logs production's collector sends to staging's Loki. */
const OWN = "shop";
const SHARED = "shop-staging";
const OTHER_STACK = "monitoring-staging";
const NODE = "k3s-server";

const PODS = [OWN, SHARED].map((namespace, i) => ({
  namespace,
  pod: `api-7d9c5b6f4-${i}x7z`,
  uid: `0b6f1c3e-${i}${i}${i}${i}-4a4a-9c9c-00000000000${i}`,
  container: "api",
  controller: ["ReplicaSet", "api-7d9c5b6f4"] as const,
  labels: { pod_template_hash: "7d9c5b6f4" },
  lines: [1, 2, 3].map((n) => JSON.stringify({ level: "info", msg: `request served in ${namespace}`, n })),
}));

interface LokiStreams {
  data: { result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> };
}

/** Every line a Loki holds, by namespace, over the last 15 minutes. */
async function linesByNamespace(lokiUrl: string): Promise<Map<string, string[]>> {
  const query = encodeURIComponent('{namespace=~".+"}');
  const r = await httpGet(`${lokiUrl}/loki/api/v1/query_range?query=${query}&since=15m&limit=1000`);
  const found = new Map<string, string[]>();
  for (const s of (JSON.parse(r.body) as LokiStreams).data.result) {
    found.set(s.stream.namespace, [...(found.get(s.stream.namespace) ?? []), ...s.values.map((v) => v[1])]);
  }
  return found;
}

describe("one collector for two stacks: production's Alloy sends staging's namespace to staging's Loki", () => {
  let rendered: Rendered;
  let tmp: string;
  const lokiUrls: Record<"own" | "other", string> = { own: "", other: "" };
  const run = localRun();

  beforeAll(async () => {
    rendered = await render("production", [`logCollector.shareWith=[{namespace: ${OTHER_STACK}, namespaces: [${SHARED}]}]`]);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "shared-logs-e2e-"));
    const [ownHttp, ownGrpc, otherHttp, otherGrpc, alloyHttp] = await freePorts(5);
    const lokiConfig = rendered.files.get("loki/loki.yaml") ?? "";
    for (const [which, ports] of [
      ["own", { http: ownHttp, grpc: ownGrpc }],
      ["other", { http: otherHttp, grpc: otherGrpc }],
    ] as const) {
      const dir = path.join(tmp, `loki-${which}`);
      fs.mkdirSync(dir);
      run.start(`loki (${which})`, stackBinary("loki"), localLokiArgs(lokiConfig, dir, ports));
      lokiUrls[which] = `http://${LOOPBACK}:${ports.http}`;
    }
    for (const which of ["own", "other"] as const) {
      await run.waitFor(
        `Loki (${which}) ready`,
        async () => ((await httpGet(`${lokiUrls[which]}/ready`).catch(() => undefined))?.status === 200 ? true : undefined),
        90_000,
        500,
      );
    }

    const podLogs = path.join(tmp, "pods");
    writePodLogs(podLogs, PODS);
    const targetsFile = path.join(tmp, "targets.json");
    fs.writeFileSync(targetsFile, JSON.stringify(podDiscoveryTargets(PODS, NODE)));
    // The rendered config, made local; the other stack's Loki is the second local one.
    const config = rendered.files.get("log-collector/config.alloy") ?? "";
    // The other stack's Loki on its push port (components/loki/push-proxy.ts).
    const otherPush = `http://loki.${OTHER_STACK}.svc:3101/loki/api/v1/push`;
    expect(config).toContain(JSON.stringify(otherPush));
    const alloyDir = path.join(tmp, "alloy");
    fs.mkdirSync(alloyDir);
    const args = localAlloyArgs(config, alloyDir, { targetsFile, podLogs, pushUrl: `${lokiUrls.own}/loki/api/v1/push`, port: alloyHttp });
    const file = path.join(alloyDir, "config.alloy");
    fs.writeFileSync(
      file,
      fs
        .readFileSync(file, "utf8")
        .split(JSON.stringify(otherPush))
        .join(JSON.stringify(`${lokiUrls.other}/loki/api/v1/push`)),
    );
    run.start("alloy", stackBinary("alloy"), args, { env: { HOSTNAME: NODE } });
  });

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("each namespace's lines reach its own stack's Loki, and only that one", async () => {
    const expected = (ns: string) => PODS.find((p) => p.namespace === ns)?.lines ?? [];
    const both = await run.waitFor(
      "the lines in both Lokis",
      async () => {
        const own = await linesByNamespace(lokiUrls.own);
        const other = await linesByNamespace(lokiUrls.other);
        return (own.get(OWN)?.length ?? 0) >= 3 && (other.get(SHARED)?.length ?? 0) >= 3 ? { own, other } : undefined;
      },
      90_000,
      1000,
    );
    expect([...both.own.keys()]).toEqual([OWN]);
    expect([...both.other.keys()]).toEqual([SHARED]);
    expect([...(both.own.get(OWN) ?? [])].sort()).toEqual([...expected(OWN)].sort());
    expect([...(both.other.get(SHARED) ?? [])].sort()).toEqual([...expected(SHARED)].sort());
  });

  test("the shared namespace's streams carry the same labels as the stack's own", async () => {
    const labels = async (url: string, ns: string) => {
      const r = await httpGet(`${url}/loki/api/v1/series?match[]=${encodeURIComponent(`{namespace="${ns}"}`)}&since=15m`);
      return (JSON.parse(r.body) as { data: Array<Record<string, string>> }).data.map((s) => Object.keys(s).sort());
    };
    const own = await labels(lokiUrls.own, OWN);
    const other = await labels(lokiUrls.other, SHARED);
    expect(own.length).toBeGreaterThan(0);
    expect(other).toEqual(own);
  });
});
