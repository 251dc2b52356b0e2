/**
 * The nodes' journal in Loki (logCollector.journal), on the exact binaries: the production stack's rendered
 * config.alloy run by the pinned Alloy (built as upstream's image, with loki.source.journal) and its rendered
 * loki.yaml run by the pinned Loki, with rules/logs/ from the rendered rules ConfigMap. Made local only where the
 * render names the cluster: addresses and paths (as lab/local/logs.ts does), the journal source reading a directory
 * of this test instead of the host's journal, HOSTNAME (the DaemonSet sets it from the node's name), and the ruler
 * evaluating and polling every 5 s instead of every minute. The journal file is written by systemd's own tool
 * (systemd-journal-remote, from the export format): k3s's, containerd's, the kernel's and sshd's entries, and
 * systemd's messages about k3s restarting it three times.
 *
 * The entries of k3s, containerd and the kernel reach Loki labelled job, node, unit and priority, systemd's own
 * messages as k3s.service's; sshd's are left out; NodeServiceRestartLoop fires in Loki's ruler for the node and k3s.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { LOKI_PATHS } from "../../components/loki";
import { LOKI_TENANT } from "../../components/loki/rules";
import { JOURNAL_JOB } from "../../components/log-collector/journal";
import { stackBinary } from "../../lab/local/binaries";
import { JournalEntry, writeJournal } from "../../lab/local/journal";
import { localAlloyArgs, localLokiConfig, lokiReady } from "../../lab/local/logs";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { httpGetJson, isReady } from "../../lab/local/http";
import { objectOf, render } from "../support/render";
import { localRun } from "./support/local-run";

jest.setTimeout(240_000);

const NODE = "k3s-server";
const MACHINE = { bootId: "0123456789abcdef0123456789abcdef", machineId: "fedcba9876543210fedcba9876543210", hostname: NODE };

/** The node's journal: what k3s, containerd, the kernel, sshd and systemd (about k3s) wrote in the last minutes. */
function entries(now: number): JournalEntry[] {
  const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000);
  const unit = (name: string, pid: string, priority: string, message: string) => ({
    _SYSTEMD_UNIT: name,
    _TRANSPORT: "stdout",
    _PID: pid,
    PRIORITY: priority,
    MESSAGE: message,
  });
  // systemd (PID 1) about a unit: its own unit is init.scope, UNIT names the one it is about.
  const systemd = (message: string) => ({
    _SYSTEMD_UNIT: "init.scope",
    _TRANSPORT: "journal",
    _PID: "1",
    UNIT: "k3s.service",
    PRIORITY: "6",
    MESSAGE: message,
  });
  return [
    { at: at(240), fields: unit("k3s.service", "812", "6", 'Starting k3s v1.36.3+k3s1 (data-dir="/var/lib/rancher/k3s/data")') },
    {
      at: at(235),
      fields: unit("containerd.service", "640", "4", "failed to reload cni configuration: no network config found in /etc/cni/net.d"),
    },
    {
      at: at(230),
      fields: { _TRANSPORT: "kernel", PRIORITY: "3", MESSAGE: "Out of memory: Killed process 4242 (java) total-vm:4194304kB" },
    },
    { at: at(225), fields: unit("sshd.service", "503", "6", "Accepted publickey for root from 192.0.2.7 port 52814 ssh2") },
    { at: at(200), fields: unit("k3s.service", "812", "2", "failed to start: datastore: database is locked") },
    { at: at(199), fields: systemd("k3s.service: Main process exited, code=exited, status=1/FAILURE") },
    { at: at(194), fields: systemd("k3s.service: Scheduled restart job, restart counter is at 1.") },
    { at: at(150), fields: systemd("k3s.service: Scheduled restart job, restart counter is at 2.") },
    { at: at(100), fields: systemd("k3s.service: Scheduled restart job, restart counter is at 3.") },
  ];
}

describe("the nodes' journal: the rendered Alloy reads a journal file into the rendered Loki, whose ruler alerts on it", () => {
  const run = localRun();
  let tmp = "";
  let lokiUrl = "";
  const now = Date.now();

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "node-logs-"));
    const rendered = await render("production");
    const [lokiHttp, lokiGrpc, alloyPort, noAlertmanager] = await freePorts(4);

    // Loki: the rendered config with local addresses and paths; the rules ConfigMap's files in the tenant's directory.
    lokiUrl = `http://${LOOPBACK}:${lokiHttp}`;
    const root = path.join(tmp, "loki");
    const config = localLokiConfig(rendered.files.get("loki/loki.yaml") ?? "", root, { http: lokiHttp, grpc: lokiGrpc });
    // Nothing listens there: the alerts are read from the ruler itself.
    Object.assign(config.ruler as Record<string, unknown>, {
      alertmanager_url: `http://${LOOPBACK}:${noAlertmanager}`,
      evaluation_interval: "5s",
      poll_interval: "5s",
    });
    fs.writeFileSync(path.join(tmp, "loki.yaml"), YAML.stringify(config));
    const rules = (objectOf(rendered, "ConfigMap", "loki-rules").data ?? {}) as Record<string, string>;
    expect(Object.keys(rules)).toContain("node-journal.yml");
    const tenantDir = path.join(root, LOKI_PATHS.rules, LOKI_TENANT);
    fs.mkdirSync(tenantDir, { recursive: true });
    for (const [key, text] of Object.entries(rules)) fs.writeFileSync(path.join(tenantDir, key), text);
    const loki = run.start("loki", stackBinary("loki"), [`-config.file=${path.join(tmp, "loki.yaml")}`, "-target=all"]);

    // The journal, written by systemd-journal-remote.
    const journalDir = path.join(tmp, "journal");
    fs.mkdirSync(journalDir);
    writeJournal(journalDir, "system", entries(now), MACHINE);

    // Alloy: the rendered config.alloy made local (lab/local/logs.ts: no pods here), its journal source reading that directory.
    const alloyDir = path.join(tmp, "alloy");
    fs.mkdirSync(path.join(alloyDir, "pods"), { recursive: true });
    const targetsFile = path.join(alloyDir, "targets.json");
    fs.writeFileSync(targetsFile, "[]");
    const text = rendered.files.get("log-collector/config.alloy") ?? "";
    expect(text).toMatch(/^loki\.source\.journal "node" \{$/m);
    await lokiReady(loki, lokiUrl);
    run.start(
      "alloy",
      stackBinary("alloy"),
      localAlloyArgs(text, alloyDir, {
        targetsFile,
        podLogs: path.join(alloyDir, "pods"),
        pushUrl: `${lokiUrl}/loki/api/v1/push`,
        port: alloyPort,
        journal: journalDir,
      }),
      { env: { HOSTNAME: NODE } },
    );
    await run.waitFor("Alloy ready", () => isReady(`http://${LOOPBACK}:${alloyPort}`), 60_000, 500);
  }, 200_000);
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test("k3s's, containerd's and the kernel's entries arrive labelled job, node, unit and priority, sshd's do not; NodeServiceRestartLoop fires", async () => {
    const range = `start=${now - 3_600_000}000000&end=${now + 600_000}000000`;
    const wanted = 4;
    const series = await run.waitFor(
      "the journal's streams in Loki",
      async () => {
        const reply = await httpGetJson<{ data: Array<Record<string, string>> }>(
          `${lokiUrl}/loki/api/v1/series?match[]=${encodeURIComponent(`{job="${JOURNAL_JOB}"}`)}&${range}`,
        ).catch(() => undefined);
        const got = reply?.data ?? [];
        return got.length >= wanted ? got : undefined;
      },
      60_000,
      500,
    );
    const stream = (unit: string, priority: string) => ({ job: JOURNAL_JOB, node: NODE, unit, priority });
    const key = (s: Record<string, string>) => `${s.unit} ${s.priority}`;
    // Sorted by unit, then priority: systemd's messages about k3s (PID 1, priority info) join k3s's own info stream.
    expect([...series].sort((a, b) => key(a).localeCompare(key(b)))).toEqual([
      stream("containerd.service", "warning"),
      stream("k3s.service", "crit"),
      stream("k3s.service", "info"),
      stream("kernel", "error"),
    ]);

    const lines = await httpGetJson<{ data: { result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> } }>(
      `${lokiUrl}/loki/api/v1/query_range?query=${encodeURIComponent(`{job="${JOURNAL_JOB}"}`)}&${range}&limit=100&direction=forward`,
    );
    const got = lines.data.result
      .flatMap((r) => r.values.map(([ts, line]) => ({ ts, unit: r.stream.unit, line })))
      .sort((a, b) => a.ts.localeCompare(b.ts));
    const expected = entries(now).filter((e) => e.fields._SYSTEMD_UNIT !== "sshd.service");
    expect(got).toEqual(
      expected.map((e) => ({
        ts: `${e.at.getTime() * 1_000_000}`,
        unit: e.fields._TRANSPORT === "kernel" ? "kernel" : (e.fields.UNIT ?? e.fields._SYSTEMD_UNIT),
        line: e.fields.MESSAGE,
      })),
    );

    const alert = await run.waitFor(
      "NodeServiceRestartLoop firing in Loki's ruler",
      async () => {
        const reply = await httpGetJson<{ data: { alerts: Array<{ labels: Record<string, string>; state: string; value: string }> } }>(
          `${lokiUrl}/prometheus/api/v1/alerts`,
        ).catch(() => undefined);
        return reply?.data.alerts.find((a) => a.labels.alertname === "NodeServiceRestartLoop" && a.state === "firing");
      },
      60_000,
      1000,
    );
    // The ruler's own view: the stack's environment label is added to what it sends to Alertmanager (test/e2e/log-alerts.test.ts).
    expect(alert.labels).toEqual({ alertname: "NodeServiceRestartLoop", node: NODE, unit: "k3s.service", severity: "critical" });
    expect(Number(alert.value)).toBe(3);
  });
});
