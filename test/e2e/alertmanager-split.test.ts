/**
 * Fault 5 of issue 46, on the exact binary: the production stack's three clustered Alertmanager
 * peers (its rendered files and args: the cluster flags, label and peer list, made local) on
 * addresses of their own (127.0.0.11-13), their gossip through proxies the test cuts
 * (support/gossip-proxy.ts), a firing alert posted to each running peer as Prometheus posts it,
 * and a sink that answers like Discord and tells which peer sent each message (the process that
 * holds the connection).
 *
 * 1. The peer that sent the first notification is killed (SIGKILL): the others go on notifying,
 *    never twice within a repeat_interval.
 * 2. It comes back on its data and rejoins; the peers are cut from each other (it alone on one
 *    side, the other two on the other): each side notifies on its own, once per repeat_interval
 *    (two messages per interval in all, one per side: what a split costs), never twice within one
 *    on a side.
 * 3. A silence set on the lone side during the split holds only there (the split is real); once
 *    healed it holds on every peer, and nobody notifies again.
 * 4. A silence set on one peer, then another peer's power cut (SIGKILL) before it wrote its
 *    silences to disk (its file checked: the silence is not in it), started again on its data: it
 *    holds the silence again, from the others (gossip's full state exchange as it joins). The peers
 *    write every `alertmanager.maintenanceInterval`, set to 1h here so that no write of the killed
 *    peer can hold the silence: what it holds after the restart came from its peers.
 *
 * What is measured (the figures for docs/operations.md's Faults section and the report): the
 * messages by phase and side, duplicates (0), how long the others took to notify after the kill,
 * and how long the silence took to reach the other side after the heal. Times are reported, not
 * asserted.
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import type { Rendered } from "../../cli/render";
import { localAlertmanagerArgs, writeAlertmanagerFiles } from "../../lab/local/alertmanager";
import { stackBinary } from "../../lab/local/binaries";
import { httpGetJson, postJson } from "../../lab/local/http";
import { LOOPBACK, freePorts } from "../../lab/ports";
import type { ManagedProcess } from "../../lab/processes/children";
import { sleep } from "../../lab/processes/supervision";
import { containerArgs } from "../../lab/local/rendered";
import { recordFault } from "../support/fault-report";
import { objectOf, render } from "../support/render";
import { GossipMesh, socketOwner } from "./support/gossip-proxy";
import { localRun } from "./support/local-run";

const STACK = "production";
const ALERT = "LabGossipSplit";
/** The route's timing, short enough to see several repeats (set as a user would, with --set). */
const TIMING = { groupWait: "1s", groupInterval: "1s", repeatInterval: "5s" };
const REPEAT_MS = 5_000;
/**
 * Two messages of one side closer than this are a duplicate: a repeat comes a repeat_interval after
 * the last message logged (Alertmanager's notification log, written once the message is sent), the
 * sink's clock reading it a few milliseconds on.
 */
const DUPLICATE_WITHIN_MS = REPEAT_MS * 0.9;

interface Peer {
  name: string;
  host: string;
  web: number;
  meshPort: number;
  proxyPort: number;
  storage: string;
  proc?: ManagedProcess;
}
interface Message {
  at: number;
  /** The peer whose process held the connection, when found. */
  peer: string | undefined;
  channel: string;
  title: string;
}
interface AmStatus {
  cluster: { name: string; status: string; peers: Array<{ name: string; address: string }> };
}
interface Silence {
  id: string;
  status: { state: string };
}

describe("Alertmanager peers: one killed, then split and healed (fault 5)", () => {
  const run = localRun();
  let tmp = "";
  let rendered: Rendered;
  let config = "";
  let mesh: GossipMesh;
  const peers: Peer[] = [];
  const messages: Message[] = [];
  const rejected: string[] = [];
  let poster: NodeJS.Timeout | undefined;

  const url = (p: Peer) => `http://${LOOPBACK}:${p.web}`;
  const status = (p: Peer) => httpGetJson<AmStatus>(`${url(p)}/api/v2/status`);
  const running = () => peers.filter((p) => p.proc?.alive);
  const firing = (since = 0, of?: string[]) =>
    messages.filter((m) => m.at >= since && m.title.startsWith("[FIRING") && (of === undefined || of.includes(m.peer ?? "")));
  const state = () =>
    `messages: ${JSON.stringify(messages.map((m) => ({ ...m, at: new Date(m.at).toISOString() })))}\nrejected: ${JSON.stringify(rejected)}\n` +
    `gossip: ${JSON.stringify(mesh?.counts)}`;
  /** Messages of one side closer together than a repeat_interval. */
  const duplicates = (list: Message[]) => list.filter((m, i) => i > 0 && m.at - list[i - 1].at < DUPLICATE_WITHIN_MS).length;

  function startPeer(p: Peer): void {
    const args = localAlertmanagerArgs(containerArgs(rendered, "StatefulSet", "alertmanager"), {
      config,
      storage: p.storage,
      web: p.web,
      mesh: p.meshPort,
      peers: [],
      gossip: {
        listen: `${p.host}:${p.meshPort}`,
        advertise: `${LOOPBACK}:${p.proxyPort}`,
        peers: peers.map((q) => `${LOOPBACK}:${q.proxyPort}`),
      },
    });
    p.proc = run.start(p.name, stackBinary("alertmanager"), args);
  }
  /** Waits until each running peer sees the members `expected` gives it (by peer name). */
  async function members(what: string, expected: (p: Peer) => string[], timeoutMs = 60_000): Promise<void> {
    const seen = new Map<string, unknown>();
    await run.waitFor(
      what,
      async () => {
        const statuses = await Promise.all(running().map(async (p) => [p, await status(p).catch(() => undefined)] as const));
        const names = new Map(statuses.map(([p, s]) => [s?.cluster.name ?? "", p.name]));
        let ok = true;
        for (const [p, s] of statuses) {
          const members = (s?.cluster.peers ?? []).map((q) => names.get(q.name) ?? q.name).sort();
          seen.set(p.name, { status: s?.cluster.status, members });
          if (s?.cluster.status !== "ready" || JSON.stringify(members) !== JSON.stringify([...expected(p)].sort())) ok = false;
        }
        return ok ? true : undefined;
      },
      timeoutMs,
      500,
      () => `${state()}\nmembers seen: ${JSON.stringify(Object.fromEntries(seen))}`,
    );
  }
  /** The alert as Prometheus posts it to every Alertmanager it knows, every evaluation while it fires. */
  function postAlert(): void {
    const now = Date.now();
    const alert = {
      labels: { alertname: ALERT, severity: "critical", namespace: `monitoring-${STACK}`, job: "lab" },
      annotations: { summary: "An alert that fires through the split." },
      startsAt: new Date(now - 60_000).toISOString(),
      endsAt: new Date(now + 3 * 60_000).toISOString(),
      generatorURL: "http://prometheus.lab/graph",
    };
    for (const p of running()) void postJson(`${url(p)}/api/v2/alerts`, [alert]).catch(() => undefined);
  }

  beforeAll(async () => {
    const [sink, ...ports] = await freePorts(1 + 3 * 3);
    const sinkUrl = (channel: string) => `http://${LOOPBACK}:${sink}/${channel}`;
    rendered = await render(STACK, [
      // Three nodes: the production profile's three clustered peers, one per node.
      "nodes=3",
      `alertmanager.groupWait=${TIMING.groupWait}`,
      `alertmanager.groupInterval=${TIMING.groupInterval}`,
      `alertmanager.repeatInterval=${TIMING.repeatInterval}`,
      `discordWebhookUrl=${sinkUrl("monitoring")}`,
      `discordCriticalWebhookUrl=${sinkUrl("critical")}`,
      `deadMansSwitchUrl=${sinkUrl("deadmans-switch")}`,
      // No write of a peer's silences within the test (the default is 1m): step 4's silence can only come back by gossip.
      "alertmanager.maintenanceInterval=1h",
    ]);
    const sts = objectOf(rendered, "StatefulSet", "alertmanager").spec as { replicas: number };
    expect(sts.replicas).toBe(3);
    expect(containerArgs(rendered, "StatefulSet", "alertmanager").filter((a) => a.startsWith("--cluster.peer="))).toHaveLength(3);
    const files = writeAlertmanagerFiles(rendered, "am-split-");
    tmp = files.dir;
    config = files.config;
    for (let i = 0; i < 3; i++) {
      const storage = path.join(tmp, `data-${i}`);
      fs.mkdirSync(storage);
      peers.push({
        name: `alertmanager-${i}`,
        host: `127.0.0.${11 + i}`,
        web: ports[i],
        meshPort: ports[3 + i],
        proxyPort: ports[6 + i],
        storage,
      });
    }
    mesh = await run.own(
      new GossipMesh(
        peers.map((p) => ({ name: p.name, listen: { host: p.host, port: p.meshPort }, proxyPort: p.proxyPort, pid: () => p.proc?.pid })),
      ),
    );
    await run.serve(sink, (req: http.IncomingMessage, res: http.ServerResponse) => {
      const pids = new Map(peers.filter((p) => p.proc?.pid !== undefined).map((p) => [p.proc?.pid ?? 0, p.name] as const));
      const owner = socketOwner({ host: LOOPBACK, port: req.socket.remotePort ?? 0 }, { host: LOOPBACK, port: sink }, [...pids.keys()]);
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const channel = (req.url ?? "/").slice(1);
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { embeds?: Array<{ title?: string }> };
          const title = body.embeds?.[0]?.title ?? "";
          if (title.includes(ALERT))
            messages.push({ at: Date.now(), peer: owner === undefined ? undefined : pids.get(owner), channel, title });
          res.writeHead(204).end();
        } catch {
          rejected.push(`${channel}: not JSON`);
          res.writeHead(400).end();
        }
      });
    });
    peers.forEach(startPeer);
    await members("the three peers to settle into one cluster", () => peers.map((p) => p.name));
  });

  afterAll(() => {
    if (poster) clearInterval(poster);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("one peer killed, then the peers split and healed: once per repeat_interval on each side, the silence holds on both; a silence outlives a peer's power cut", async () => {
    const started = Date.now();
    postAlert();
    poster = setInterval(postAlert, 1_000);

    // 1. The peer that sent the first message is killed: the two others take over, never twice in an interval.
    const first = await run.waitFor("the first message", () => firing()[0], 60_000, 200, state);
    expect(first.peer).toBeDefined();
    const killed = peers.find((p) => p.name === first.peer) as Peer;
    const survivors = peers.filter((p) => p !== killed).map((p) => p.name);
    const killedAt = Date.now();
    await killed.proc?.kill();
    const afterKill = await run.waitFor(
      "two messages from the survivors",
      () => (firing(killedAt, survivors).length >= 2 ? firing(killedAt, survivors) : undefined),
      90_000,
      200,
      state,
    );
    const phase1 = firing(started);
    const phase1Duplicates = duplicates(phase1);
    expect({ phase1: phase1Duplicates }).toEqual({ phase1: 0 });
    const takeover = (afterKill[0].at - killedAt) / 1000;

    // 2. It comes back on its data and rejoins; then it is cut from the two others.
    const restartAt = Date.now();
    startPeer(killed);
    await members("the killed peer to rejoin", () => peers.map((p) => p.name));
    const rejoin = (Date.now() - restartAt) / 1000;
    const lone = [killed.name];
    mesh.split([lone, survivors]);
    const splitAt = Date.now();
    await members("each side to see only its own", (p) => (lone.includes(p.name) ? lone : survivors));
    const detected = (Date.now() - splitAt) / 1000;
    const sideMessages = (side: string[]) => firing(splitAt, side);
    await run.waitFor(
      "two messages from each side",
      () => (sideMessages(lone).length >= 2 && sideMessages(survivors).length >= 2 ? true : undefined),
      90_000,
      200,
      state,
    );
    const split = { lone: sideMessages(lone), others: sideMessages(survivors), seconds: (Date.now() - splitAt) / 1000 };
    expect({ lone: duplicates(split.lone), others: duplicates(split.others) }).toEqual({ lone: 0, others: 0 });

    // 3. A silence on the lone side: it holds there only while split, then everywhere once healed.
    const silenced = await postJson(`${url(killed)}/api/v2/silences`, {
      matchers: [{ name: "alertname", value: ALERT, isRegex: false, isEqual: true }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 60 * 60_000).toISOString(),
      createdBy: "lab",
      comment: "set on one side of the split",
    });
    expect(silenced.status).toBe(200);
    const silenceId = (JSON.parse(silenced.body) as { silenceID: string }).silenceID;
    const holds = async (p: Peer) =>
      (await httpGetJson<Silence[]>(`${url(p)}/api/v2/silences`)).some((s) => s.id === silenceId && s.status.state === "active");
    await sleep(2_000);
    const heldAcross = await Promise.all(peers.filter((p) => p !== killed).map(holds));
    expect(heldAcross).toEqual([false, false]);
    const silencedAt = Date.now();
    mesh.heal();
    const healAt = Date.now();
    await run.waitFor(
      "the silence on every peer",
      async () => ((await Promise.all(peers.map(holds))).every(Boolean) ? true : undefined),
      60_000,
      250,
      state,
    );
    const everywhere = Date.now();
    const withoutSilence = (await Promise.all(peers.map(holds))).filter((held) => !held).length;
    const propagated = (everywhere - healAt) / 1000;
    await members("the healed cluster", () => peers.map((p) => p.name));
    // Nobody notifies once the silence holds everywhere: two repeat_intervals and a group_interval watched.
    await sleep(2 * REPEAT_MS + 1_000);
    const afterSilence = firing(everywhere);
    const loneAfterSilence = firing(silencedAt, lone);

    // 4. A silence set on one peer; another peer's power cut before it wrote it; back on its data, it holds it again.
    const [setOn, cut] = peers.filter((p) => p !== killed);
    const second = await postJson(`${url(setOn)}/api/v2/silences`, {
      matchers: [{ name: "alertname", value: `${ALERT}PowerCut`, isRegex: false, isEqual: true }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 60 * 60_000).toISOString(),
      createdBy: "lab",
      comment: "set before another peer's power cut",
    });
    expect(second.status).toBe(200);
    const secondId = (JSON.parse(second.body) as { silenceID: string }).silenceID;
    const holdsSecond = async (p: Peer) =>
      (await httpGetJson<Silence[]>(`${url(p)}/api/v2/silences`)).some((s) => s.id === secondId && s.status.state === "active");
    await run.waitFor(
      "the second silence on every peer",
      async () => ((await Promise.all(peers.map(holdsSecond))).every(Boolean) ? true : undefined),
      30_000,
      250,
      state,
    );
    await cut.proc?.kill();
    const silencesFile = path.join(cut.storage, "silences");
    const onDisk = fs.existsSync(silencesFile) && fs.readFileSync(silencesFile).includes(secondId);
    const cutRestartAt = Date.now();
    startPeer(cut);
    await members("the peer cut off to rejoin", () => peers.map((p) => p.name));
    const cutHolds = await run
      .waitFor(
        "the second silence on the restarted peer",
        async () => ((await holdsSecond(cut).catch(() => false)) ? true : undefined),
        30_000,
        250,
        state,
      )
      .catch(() => false);
    const cutBack = (Date.now() - cutRestartAt) / 1000;

    const counts = {
      phase1: phase1.length,
      phase1Duplicates,
      loneSide: split.lone.length,
      otherSide: split.others.length,
      loneDuplicates: duplicates(split.lone),
      otherDuplicates: duplicates(split.others),
      loneAfterSilence: loneAfterSilence.length,
      afterSilenceEverywhere: afterSilence.length,
    };
    recordFault({
      fault: "5. Alertmanager peers: one killed, then split and healed",
      test: "test/e2e/alertmanager-split.test.ts",
      lost: {
        "duplicate notifications": phase1Duplicates + counts.loneDuplicates + counts.otherDuplicates,
        "peers without the silence after the heal": withoutSilence,
        "silences lost by a peer's power cut": cutHolds ? 0 : 1,
      },
      figures: {
        peers: 3,
        repeat_interval: TIMING.repeatInterval,
        "messages before and after the sender was killed": `${phase1.length} (the first, then ${afterKill.length} from the survivors; the first of them ${takeover.toFixed(1)} s after the kill)`,
        "killed peer back and rejoined": `${rejoin.toFixed(1)} s`,
        "split seen by both sides": `${detected.toFixed(1)} s`,
        "messages while split": `${split.lone.length} from the lone peer, ${split.others.length} from the other two, in ${split.seconds.toFixed(1)} s`,
        "silence on the other side after the heal": `${propagated.toFixed(1)} s`,
        "messages once the silence held everywhere": afterSilence.length,
        "a peer's power cut": `a silence set on ${setOn.name}, ${cut.name} killed (the silence ${onDisk ? "in" : "not in"} its file), started again on its data: the silence ${cutHolds ? "held again" : "lost"}, ${cutBack.toFixed(1)} s from its start`,
        "gossip through the proxies": `${mesh.counts.udpForwarded} packets and ${mesh.counts.tcpForwarded} streams forwarded, ${mesh.counts.udpDropped} packets and ${mesh.counts.tcpRefused + mesh.counts.tcpCut} streams cut`,
      },
    });

    // The killed peer's disk did not hold the silence (no write within 1h): it came back from its peers.
    expect({ onDisk, cutHolds }).toEqual({ onDisk: false, cutHolds: true });
    // Every message on the route's channel, each from a peer the sink could name.
    expect({ channels: [...new Set(messages.map((m) => m.channel))], unnamed: messages.filter((m) => !m.peer).length, rejected }).toEqual({
      channels: ["critical"],
      unnamed: 0,
      rejected: [],
    });
    expect(counts).toEqual({
      ...counts,
      phase1Duplicates: 0,
      loneDuplicates: 0,
      otherDuplicates: 0,
      loneAfterSilence: 0,
      afterSilenceEverywhere: 0,
    });
  });
});
