/**
 * Loki bounded by its volume, on the exact Loki release: with the rendered limits, a push
 * within the burst is taken and one over the rendered burst is refused whole (the limits
 * themselves are derived and checked without a binary in test/components/loki-limits.test.ts).
 */
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { stackBinary } from "../../lab/local/binaries";
import { localLokiArgs, lokiReady } from "../../lab/local/logs";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { httpGet } from "../../lab/local/http";
import { render } from "../support/render";
import { localRun } from "./support/local-run";

jest.setTimeout(180_000);

describe("the exact Loki release with the rendered limits", () => {
  const run = localRun(120_000);
  let url = "";
  let dir = "";
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "loki-limits-"));
    const rendered = await render("staging", ["loki.ingestion.rate=64Ki", "loki.ingestion.burst=1Mi"]);
    const [http_, grpc] = await freePorts(2);
    url = `http://${LOOPBACK}:${http_}`;
    const args = localLokiArgs(rendered.files.get("loki/loki.yaml") ?? "", dir, { http: http_, grpc });
    await lokiReady(run.start("loki", stackBinary("loki"), args), url);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Pushes `lines` lines of 1,000 bytes in one request; returns Loki's status. */
  function push(lines: number): Promise<number> {
    const now = BigInt(Date.now()) * 1_000_000n;
    const line = "x".repeat(1000);
    const values = Array.from({ length: lines }, (_, i) => [String(now + BigInt(i)), line]);
    const body = JSON.stringify({ streams: [{ stream: { namespace: "lab", app: `limits-${lines}` }, values }] });
    return new Promise((resolve, reject) => {
      const req = http.request(
        `${url}/loki/api/v1/push`,
        { method: "POST", headers: { "Content-Type": "application/json" }, timeout: 10_000 },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  test("a push within the burst is taken; one larger than the rendered 1 MiB burst is refused whole, as rate_limited", async () => {
    // 200 kB, then 1.2 MB: more than the 1 MiB bucket holds however idle it was.
    expect(await push(200)).toBe(204);
    expect(await push(1200)).toBe(429);
    const metrics = (await httpGet(`${url}/metrics`)).body;
    expect(metrics).toMatch(/^loki_discarded_samples_total\{[^}]*reason="rate_limited"[^}]*\} 1200$/m);
    // The filesystem under the WAL, as the LokiVolume alerts read it: this machine's, a share of it.
    const usage = Number(/^loki_ingester_wal_disk_usage_percent (\S+)$/m.exec(metrics)?.[1]);
    expect(usage).toBeGreaterThanOrEqual(0);
    expect(usage).toBeLessThan(1);
  });
});
