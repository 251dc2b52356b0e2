/**
 * What the proxy in front of Prometheus costs while its admin API is on (components/prometheus/admin-proxy.ts): the
 * staging stack rendered with backups on, its Prometheus pod run as rendered in a pod's network of its own
 * (lab/local/prometheus-pod.ts, the exact Prometheus and Traefik). From inside that network a client asks the same
 * query, one at a time, alternately of Prometheus itself on the loopback and through the proxy on the pod's address
 * (each on a kept-alive connection, as Grafana's are), then through the proxy with 8 at a time; the latency each way
 * (median, 90th and 99th percentile), and the proxy's memory (resident: its heap and the binary's mapped pages) and
 * CPU over the run, from /proc.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderStack } from "../../cli/render-stack";
import { PROXY_RESOURCES } from "../../components/kit/path-proxy";
import { formatBytes, quantityBytes } from "../../components/kit/units";
import { LocalRun } from "../processes/children";
import { POD_ADDRESS } from "../local/pod-network";
import { startPrometheusPod } from "../local/prometheus-pod";
import type { Measurement } from "./measurement";
import { cpuSeconds } from "./sampling";

/** Backups on (the admin API, so the proxy), as the backups' tests render them. */
const BACKUP_SETS = [
  "backup.enabled=true",
  "backup.bucket=monitoring-backups",
  "backup.endpoint=https://0123456789abcdef.r2.cloudflarestorage.com",
  "backupAccessKeyId=key-id-0123",
  "backupSecretAccessKey=secret-key-0123456789",
];

/** The query each request asks: what a dashboard panel asks of a few series. */
const QUERY = "/api/v1/query?query=sum%20by%20(job)%20(up)";

export interface LatencyFigures {
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

export interface AdminProxyFootprint {
  requests: number;
  direct: LatencyFigures;
  proxied: LatencyFigures;
  /** Through the proxy, 8 at a time: requests a second. */
  concurrentPerSecond: number;
  /** The proxy's resident memory at the end, its anonymous part (heap, stacks) and its binary's mapped pages; its peak. */
  proxy: { rssBytes: number; anonBytes: number; fileBytes: number; peakBytes: number; cpuSecondsPerThousand: number };
  limitBytes: number;
}

/** The client the measurement runs in the pod's network: the latencies of each way, and the concurrent rate, as JSON. */
const CLIENT = `
const http = require("http");
const [direct, proxied, n, query] = [process.argv[1], process.argv[2], Number(process.argv[3]), process.argv[4]];
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const get = (base) => new Promise((resolve, reject) => {
  const t = process.hrtime.bigint();
  http.get(base + query, { agent }, (res) => {
    res.resume();
    res.on("end", () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - t) / 1e6) : reject(new Error(base + ": " + res.statusCode))));
  }).on("error", reject);
});
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };
(async () => {
  for (let i = 0; i < 50; i++) { await get(direct); await get(proxied); }
  const d = [], p = [];
  for (let i = 0; i < n; i++) { d.push(await get(direct)); p.push(await get(proxied)); }
  const t = process.hrtime.bigint();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => { while (next++ < n) await get(proxied); }));
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const fig = (xs) => ({ p50Ms: pct(xs, 0.5), p90Ms: pct(xs, 0.9), p99Ms: pct(xs, 0.99) });
  console.log(JSON.stringify({ direct: fig(d), proxied: fig(p), concurrentPerSecond: n / seconds }));
})().catch((e) => { console.error(e.message); process.exit(1); });
`;

function procStatus(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n")) {
    const m = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (m) out[m[1]] = Number(m[2]) * 1024;
  }
  return out;
}

function proxyLimitBytes(): number {
  const bytes = quantityBytes(PROXY_RESOURCES.limits.memory);
  if (bytes === undefined) throw new Error(`the proxy's memory limit ${PROXY_RESOURCES.limits.memory} is no quantity of bytes`);
  return bytes;
}

export async function measureAdminProxy(requests = 2000): Promise<AdminProxyFootprint> {
  const rendered = await renderStack({ stack: "staging", sets: BACKUP_SETS });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-admin-proxy-"));
  const run = new LocalRun(15 * 60_000);
  try {
    const { pod, proxy } = await startPrometheusPod(run, rendered, root);
    const pid = proxy.pid;
    if (pid === undefined) throw new Error("the proxy has no pid");
    const cpuBefore = cpuSeconds(pid);
    const r = await pod.exec(process.execPath, [
      "-e",
      CLIENT,
      "http://127.0.0.1:9091",
      `http://${POD_ADDRESS}:9090`,
      String(requests),
      QUERY,
    ]);
    if (r.status !== 0) throw new Error(`the bench's client exited ${r.status}: ${r.stderr}`);
    const cpu = cpuSeconds(pid) - cpuBefore;
    const got = JSON.parse(r.stdout) as Pick<AdminProxyFootprint, "direct" | "proxied" | "concurrentPerSecond">;
    const status = procStatus(pid);
    // Each request once each way, then `requests` more through the proxy (and the warm-up's 50).
    const proxiedRequests = 2 * requests + 50;
    return {
      requests,
      ...got,
      proxy: {
        rssBytes: status.VmRSS,
        anonBytes: status.RssAnon,
        fileBytes: status.RssFile,
        peakBytes: status.VmHWM,
        cpuSecondsPerThousand: (cpu / proxiedRequests) * 1000,
      },
      limitBytes: proxyLimitBytes(),
    };
  } finally {
    await run.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** The proxy's memory against its limit, and the latency it adds to a query against the bench's bound. */
export function adminProxyMeasurements(f: AdminProxyFootprint, maxAddedMs: number): Measurement[] {
  const added = f.proxied.p50Ms - f.direct.p50Ms;
  return [
    {
      name: "Prometheus' admin-API proxy: peak memory",
      value: f.proxy.peakBytes,
      unit: "B",
      target: f.limitBytes,
      kind: "max",
      display: `${formatBytes(f.proxy.peakBytes)} (heap and stacks ${formatBytes(f.proxy.anonBytes)}, binary's pages ${formatBytes(f.proxy.fileBytes)}; limit ${formatBytes(f.limitBytes)})`,
    },
    {
      name: "Prometheus' admin-API proxy: latency added to a query (median)",
      value: added,
      unit: "ms",
      target: maxAddedMs,
      kind: "max",
      display: `${added.toFixed(2)} ms (${f.direct.p50Ms.toFixed(2)} ms direct, ${f.proxied.p50Ms.toFixed(2)} ms through it; p99 ${f.direct.p99Ms.toFixed(2)} and ${f.proxied.p99Ms.toFixed(2)} ms)`,
    },
  ];
}

/** The figures as docs/benchmark.md shows them. */
export function adminProxyTable(f: AdminProxyFootprint): string {
  const row = (way: string, l: LatencyFigures) =>
    `| ${way} | ${l.p50Ms.toFixed(2)} ms | ${l.p90Ms.toFixed(2)} ms | ${l.p99Ms.toFixed(2)} ms |`;
  return [
    `| one query (${f.requests} each way, one at a time) | median | p90 | p99 |`,
    "|---|---|---|---|",
    row("Prometheus on its loopback", f.direct),
    row("through the proxy (9090)", f.proxied),
    "",
    `Through the proxy, 8 at a time: ${f.concurrentPerSecond.toFixed(0)} queries/s. The proxy: ${formatBytes(f.proxy.rssBytes)} resident ` +
      `(${formatBytes(f.proxy.anonBytes)} heap and stacks, ${formatBytes(f.proxy.fileBytes)} its binary's mapped pages), peak ` +
      `${formatBytes(f.proxy.peakBytes)}, ${f.proxy.cpuSecondsPerThousand.toFixed(2)} CPU-seconds per 1,000 requests.`,
  ].join("\n");
}
