/**
 * Prometheus' admin API for the backup jobs alone (components/prometheus/admin-proxy.ts), on the exact binaries: the
 * staging stack rendered with backups on, its Prometheus pod run in a network of its own (lab/local/pod-network.ts:
 * the pod's loopback and address, every container on the addresses and ports it is rendered with): Prometheus with
 * its rendered args, the proxy (Traefik, the release of its image) with its rendered args and the rendered routes
 * file, only their paths made local (the mounted files laid out under a directory; Kubernetes discovery, which needs
 * an API server, swapped for file discovery of nothing).
 *
 * Through the pod's address: a query on 9090 works, and its receivers; the admin API on 9090 gets the proxy's 404
 * however the path is spelt, and takes no snapshot; on 9092 the snapshot works and nothing else does. Prometheus
 * itself is on the loopback alone; the rendered probes answer; the rendered backup script takes its snapshot at the
 * rendered backup Service's port. docs/reachability.yml holds who reaches 9092 (the backups of Prometheus alone).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Rendered } from "../../cli/render";
import { stackBinary } from "../../lab/local/binaries";
import { POD_ADDRESS, PodNetwork, PodReply } from "../../lab/local/pod-network";
import { prometheusPodSpec, startPrometheusPod } from "../../lab/local/prometheus-pod";
import { objectOf, render } from "../support/render";
import { localRun } from "./support/local-run";
import { BACKUPS_ON } from "../support/backups";

jest.setTimeout(240_000);

const BACKUPS = BACKUPS_ON;

const status = (r: PodReply) => ("status" in r ? r.status : r.error);

describe("Prometheus' admin API behind the proxy, as rendered (the exact Prometheus and Traefik, in a pod's network)", () => {
  const run = localRun();
  let rendered: Rendered;
  let root = "";
  let pod: PodNetwork;
  let data = "";
  const dataDir = () => data;
  const snapshots = () => (fs.existsSync(path.join(dataDir(), "snapshots")) ? fs.readdirSync(path.join(dataDir(), "snapshots")) : []);
  const at = (port: number, p: string) => `http://${POD_ADDRESS}:${port}${p}`;

  beforeAll(async () => {
    rendered = await render("staging", BACKUPS);
    root = fs.mkdtempSync(path.join(os.tmpdir(), "admin-proxy-e2e-"));
    const started = await startPrometheusPod(run, rendered, root);
    pod = started.pod;
    data = started.data;
  });

  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  test("the pod listens where it is rendered to: Prometheus on the loopback alone, the proxy on 9090 and 9092", async () => {
    expect(await pod.listening()).toEqual(["*:9090", "*:9092", "127.0.0.1:9091"]);
    // The pod's address reaches the proxy, never Prometheus itself.
    expect(status(await pod.request("GET", at(9091, "/-/healthy")))).toBe("ECONNREFUSED");
    expect(status(await pod.request("GET", "http://127.0.0.1:9091/-/healthy"))).toBe(200);
  });

  test("on 9090, every client's port: queries, reads and the receivers work", async () => {
    const query = await pod.request("GET", at(9090, "/api/v1/query?query=vector(1)"));
    expect(status(query)).toBe(200);
    expect(JSON.parse((query as { body: string }).body)).toMatchObject({
      status: "success",
      data: { result: [{ value: [expect.any(Number), "1"] }] },
    });
    const posted = await pod.request("POST", at(9090, "/api/v1/query"), "query=vector(2)");
    expect(JSON.parse((posted as { body: string }).body)).toMatchObject({ status: "success" });
    for (const p of ["/api/v1/labels", "/api/v1/status/buildinfo", "/metrics", "/-/healthy"])
      expect([p, status(await pod.request("GET", at(9090, p)))]).toEqual([p, 200]);
    // The OTLP receiver (the backups push their outcome there): an empty request is Prometheus' answer, not the proxy's 404.
    expect(status(await pod.request("POST", at(9090, "/api/v1/otlp/v1/metrics"), ""))).not.toBe(404);
  });

  test.each([
    "/api/v1/admin/tsdb/snapshot",
    "//api/v1/admin/tsdb/snapshot",
    "/api//v1/admin/tsdb/snapshot",
    "/api/v1/./admin/tsdb/snapshot",
    "/api/v1/x/../admin/tsdb/snapshot",
    "/api/v1/%61dmin/tsdb/snapshot",
    "/api/v1/admin%2Ftsdb%2Fsnapshot",
    "/api/v1%2Fadmin/tsdb/snapshot",
    "/api/v1/admin/tsdb/snapshot/",
  ])("on 9090 the snapshot (%s) gets the proxy's 404, and no snapshot is taken", async (p) => {
    const before = snapshots();
    const reply = await pod.request("POST", at(9090, p));
    // Refused by the rule (404) or, for an encoded character, by the entry point (400); any other answer is shown.
    const got = status(reply);
    expect([p, got === 404 || got === 400 ? "refused" : got]).toEqual([p, "refused"]);
    expect(snapshots()).toEqual(before);
  });

  test("on 9090 the rest of the admin API is refused too", async () => {
    for (const p of ["/api/v1/admin/tsdb/delete_series?match[]=up", "/api/v1/admin/tsdb/clean_tombstones"])
      expect([p, status(await pod.request("POST", at(9090, p)))]).toEqual([p, 404]);
  });

  test("on 9092, the backups' port: the snapshot is taken, and nothing else is served", async () => {
    const before = snapshots();
    const reply = await pod.request("POST", at(9092, "/api/v1/admin/tsdb/snapshot"));
    expect(status(reply)).toBe(200);
    const name = (JSON.parse((reply as { body: string }).body) as { data: { name: string } }).data.name;
    expect(snapshots()).toEqual([...before, name].sort());
    expect(status(await pod.request("GET", at(9092, "/-/healthy")))).toBe(200);
    for (const [method, p] of [
      ["POST", "/api/v1/admin/tsdb/delete_series?match[]=up"],
      ["POST", "/api/v1/admin/tsdb/clean_tombstones"],
      ["GET", "/api/v1/admin/tsdb/snapshot"],
      ["GET", "/api/v1/query?query=up"],
      ["POST", "/api/v1/write"],
      ["GET", "/metrics"],
    ])
      expect([method, p, status(await pod.request(method, at(9092, p)))]).toEqual([method, p, 404]);
  });

  test("the rendered probes answer: the proxy's /ping, Prometheus' readiness through it and its liveness on the loopback", async () => {
    for (const c of prometheusPodSpec(rendered).containers) {
      for (const probe of [c.readinessProbe, c.livenessProbe]) {
        if (probe.httpGet) {
          const { port, path: p } = probe.httpGet;
          // The kubelet resolves a named port among the container's own.
          const number = typeof port === "number" ? port : c.ports?.find((x) => x.name === port)?.containerPort;
          expect([c.name, p, number !== undefined && status(await pod.request("GET", at(number, p)))]).toEqual([c.name, p, 200]);
        } else if (probe.exec) {
          const [binary, ...args] = probe.exec.command;
          expect(binary).toBe("/bin/promtool");
          const r = await pod.exec(stackBinary("promtool"), args);
          const said = r.status === 0 ? "" : `${r.stdout}${r.stderr}`;
          expect([c.name, probe.exec.command.join(" "), r.status, said]).toEqual([c.name, probe.exec.command.join(" "), 0, ""]);
        } else throw new Error(`${c.name}: a probe of neither kind`);
      }
    }
  });

  test("the rendered backup script takes its snapshot at the rendered backup Service's port, which is the admin port", async () => {
    const cron = objectOf(rendered, "CronJob", "backup-prometheus").spec as {
      jobTemplate: { spec: { template: { spec: { initContainers: Array<{ env: Array<{ name: string; value?: string }> }> } } } };
    };
    const env = Object.fromEntries(cron.jobTemplate.spec.template.spec.initContainers[0].env.map((e) => [e.name, e.value ?? ""]));
    const url = new URL(env.BACKUP_URL);
    const service = objectOf(rendered, "Service", "backup-prometheus-target").spec as {
      ports: Array<{ port: number; targetPort: number }>;
    };
    expect(service.ports.map((p) => [p.port, p.targetPort])).toEqual([[Number(url.port), 9092]]);
    const script = path.join(root, "backup.sh");
    fs.writeFileSync(script, rendered.files.get("backup/backup.sh") ?? "");
    const work = path.join(root, "work");
    fs.mkdirSync(work);
    const before = snapshots();
    const r = await pod.exec("sh", [script, "snapshot"], {
      ...env,
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      // The Service's address made the pod's; its port as rendered.
      BACKUP_URL: `http://${POD_ADDRESS}:${url.port}`,
      BACKUP_DATA: dataDir(),
      BACKUP_WORK: work,
      HOME: work,
    });
    expect([r.status, r.stderr]).toEqual([0, expect.any(String)]);
    // The script takes its own. The snapshots it finds left (here: the earlier tests', seconds old) it leaves: one
    // younger than a run's deadline may be another run's, still uploading (test/e2e/backup.test.ts).
    const made = snapshots().filter((s) => !before.includes(s));
    expect(made).toHaveLength(1);
    expect(snapshots()).toHaveLength(before.length + 1);
    expect(fs.readFileSync(path.join(work, "source"), "utf8").trim()).toMatch(new RegExp(`^${dataDir()}/snapshots/`));
  });
});
