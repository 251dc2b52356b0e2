/**
 * Logs off the node (logCollector.externalLoki), on the releases the stack deploys, on 127.0.0.1: staging's rendered
 * config.alloy tails the pod log files and sends them to two real Lokis: the stack's own (the rendered loki.yaml) and an
 * "external" one (the same config with multi-tenancy on), behind a local proxy that lets a request through only with the
 * rendered basic auth (the password read by Alloy from the Secret's file, laid out locally). The external Loki holds the
 * lines under the rendered tenant only. With loki.enabled false, the rendered config has no writer to a Loki of the
 * stack's, and the real Alloy sends the lines to the external endpoint alone. Only what needs a cluster is swapped for
 * local equivalents, as in shared-logs.test.ts.
 */
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { EXTERNAL_LOKI_DIR } from "../../components/log-collector";
import { stackBinary } from "../../lab/local/binaries";
import { httpGet, httpRequest } from "../../lab/local/http";
import { localAlloyArgs, localLokiArgs, podDiscoveryTargets, writePodLogs } from "../../lab/local/logs";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { objectOf, render } from "../support/render";
import { localRun } from "./support/local-run";

jest.setTimeout(240_000);

const NS = "shop-staging";
const NODE = "k3s-server";
const TENANT = "staging";
const USER = "shipper";
const PASSWORD = "external-loki-password-42";

const PODS = [
  {
    namespace: NS,
    pod: "api-7d9c5b6f4-0x7z",
    uid: "0b6f1c3e-0000-4a4a-9c9c-000000000000",
    container: "api",
    controller: ["ReplicaSet", "api-7d9c5b6f4"] as const,
    labels: { pod_template_hash: "7d9c5b6f4" },
    lines: [1, 2, 3].map((n) => JSON.stringify({ level: "info", msg: "request served", n })),
  },
];

interface LokiStreams {
  data: { result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> };
}

/** Every line a Loki holds for a tenant (none: a single-tenant Loki), over the last 15 minutes. */
async function lines(lokiUrl: string, tenant?: string): Promise<string[]> {
  const query = encodeURIComponent('{namespace=~".+"}');
  const r = await httpRequest("GET", `${lokiUrl}/loki/api/v1/query_range?query=${query}&since=15m&limit=1000`, {
    headers: tenant ? { "X-Scope-OrgID": tenant } : {},
    timeoutMs: 5000,
  });
  if (r.status !== 200) return [];
  return (JSON.parse(r.body) as LokiStreams).data.result.flatMap((s) => s.values.map((v) => v[1])).sort();
}

describe("logs off the node: the real Alloy sends the stack's pod logs to its own Loki and to an external one with a tenant", () => {
  const run = localRun();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "external-logs-e2e-"));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const urls = { own: "", external: "" };
  let proxyPort = 0;
  let alloyPorts: number[] = [];
  /** What reached the proxy: the tenant header and whether the credential was right, per request. */
  const seen: Array<{ tenant: string | undefined; authorised: boolean }> = [];
  const podLogs = path.join(tmp, "pods");
  const targetsFile = path.join(tmp, "targets.json");

  /** The rendered config.alloy, made local, with the credential file where the test wrote it; starts Alloy. */
  function startAlloy(name: string, config: string, pushUrl: string, port: number): void {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir);
    const credential = path.join(dir, "credential");
    fs.writeFileSync(credential, PASSWORD);
    const args = localAlloyArgs(config, dir, { targetsFile, podLogs, pushUrl, port });
    const file = path.join(dir, "config.alloy");
    const text = fs.readFileSync(file, "utf8");
    expect(text).toContain(JSON.stringify(`${EXTERNAL_LOKI_DIR}/credential`));
    fs.writeFileSync(file, text.split(JSON.stringify(`${EXTERNAL_LOKI_DIR}/credential`)).join(JSON.stringify(credential)));
    run.start(name, stackBinary("alloy"), args, { env: { HOSTNAME: NODE } });
  }

  beforeAll(async () => {
    const [ownHttp, ownGrpc, extHttp, extGrpc, proxy, alloyA, alloyB] = await freePorts(7);
    proxyPort = proxy;
    alloyPorts = [alloyA, alloyB];
    const rendered = await render("staging", [
      `logCollector.externalLoki={url: "http://${LOOPBACK}:${proxyPort}/loki/api/v1/push", tenant: ${TENANT}, username: ${USER}}`,
      `externalLokiPassword=${PASSWORD}`,
    ]);
    // The credential reaches the pod only through the Secret the DaemonSet mounts.
    expect(objectOf(rendered, "Secret", "alloy-external-loki").stringData).toEqual({ credential: PASSWORD });
    const lokiConfig = rendered.files.get("loki/loki.yaml") ?? "";
    expect(lokiConfig).toContain("auth_enabled: false");
    for (const [which, ports, config] of [
      ["own", { http: ownHttp, grpc: ownGrpc }, lokiConfig],
      // The external one takes tenants: a push without X-Scope-OrgID is refused, and each tenant sees only its own.
      ["external", { http: extHttp, grpc: extGrpc }, lokiConfig.replace("auth_enabled: false", "auth_enabled: true")],
    ] as const) {
      const dir = path.join(tmp, `loki-${which}`);
      fs.mkdirSync(dir);
      run.start(`loki (${which})`, stackBinary("loki"), localLokiArgs(config, dir, ports));
      urls[which] = `http://${LOOPBACK}:${ports.http}`;
    }
    for (const which of ["own", "external"] as const)
      await run.waitFor(
        `Loki (${which}) ready`,
        async () => ((await httpGet(`${urls[which]}/ready`).catch(() => undefined))?.status === 200 ? true : undefined),
        90_000,
        500,
      );
    // The endpoint's gateway: basic auth checked, then the request passed on to the external Loki as it came.
    const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
    await run.serve(proxyPort, (req, res) => {
      const authorised = req.headers.authorization === expected;
      seen.push({ tenant: req.headers["x-scope-orgid"] as string | undefined, authorised });
      if (!authorised) return void res.writeHead(401).end("unauthorised");
      const upstream = http.request(`${urls.external}${req.url}`, { method: req.method, headers: req.headers }, (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      });
      upstream.on("error", () => res.writeHead(502).end());
      req.pipe(upstream);
    });

    writePodLogs(podLogs, PODS);
    fs.writeFileSync(targetsFile, JSON.stringify(podDiscoveryTargets(PODS, NODE)));
    startAlloy("alloy", rendered.files.get("log-collector/config.alloy") ?? "", `${urls.own}/loki/api/v1/push`, alloyA);
  });

  test("the lines reach both Lokis; the external one holds them under the rendered tenant alone, sent with the rendered credential", async () => {
    const expected = [...PODS[0].lines].sort();
    const both = await run.waitFor(
      "the lines in both Lokis",
      async () => {
        const own = await lines(urls.own);
        const external = await lines(urls.external, TENANT);
        return own.length >= 3 && external.length >= 3 ? { own, external } : undefined;
      },
      90_000,
      1000,
    );
    expect(both.own).toEqual(expected);
    expect(both.external).toEqual(expected);
    expect(await lines(urls.external, "another-tenant")).toEqual([]);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s.authorised && s.tenant === TENANT)).toBe(true);
  });

  test("with loki.enabled false, the rendered config has no writer to a Loki of the stack's, and the real Alloy sends to the external endpoint alone", async () => {
    const alone = "staging-alone";
    const rendered = await render("staging", [
      "loki.enabled=false",
      "tracing.enabled=false",
      `logCollector.externalLoki={url: "http://${LOOPBACK}:${proxyPort}/loki/api/v1/push", tenant: ${alone}, username: ${USER}}`,
      `externalLokiPassword=${PASSWORD}`,
    ]);
    const config = rendered.files.get("log-collector/config.alloy") ?? "";
    expect(config).not.toContain('loki.write "loki"');
    expect(config).toContain('loki.write "external"');
    expect(rendered.files.has("loki/loki.yaml")).toBe(false);
    // A second collector on the same files, its own positions: its push URL is the external endpoint's, left as rendered.
    startAlloy("alloy (no Loki)", config, `http://${LOOPBACK}:${proxyPort}/loki/api/v1/push`, alloyPorts[1]);
    const got = await run.waitFor(
      "the lines under the second tenant",
      async () => {
        const found = await lines(urls.external, alone);
        return found.length >= 3 ? found : undefined;
      },
      90_000,
      1000,
    );
    expect(got).toEqual([...PODS[0].lines].sort());
  });
});
