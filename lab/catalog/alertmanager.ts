/** The catalogue of alertmanager: a single replica, then two peers gossiping. */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { getOk, postJson } from "../local/http";
import { pinnedBinary } from "../local/binaries";
import { LOOPBACK } from "../ports";
import { ManagedProcess } from "../processes/children";
import { waitFor } from "../processes/supervision";
import { scrapeTwice } from "../local/text-format";
import { CatalogError, Generated, Run, minus } from "./run";

export async function alertmanager(r: Run): Promise<Generated> {
  const sink = await r.sink();
  const binary = pinnedBinary("alertmanager");
  const config = path.join(r.tmp, "alertmanager.yml");
  fs.writeFileSync(
    config,
    YAML.stringify({
      route: { receiver: "sink", group_by: ["alertname"], group_wait: "0s", group_interval: "1s", repeat_interval: "1h" },
      receivers: [{ name: "sink", webhook_configs: [{ url: sink.url("/hook"), send_resolved: true }] }],
    }),
  );
  const startPeer = async (name: string, clusterFlags: (self: number) => string[], mesh: number) => {
    const port = await r.port();
    const command = {
      binary,
      args: [
        `--config.file=${config}`,
        `--storage.path=${r.dir(name)}`,
        `--web.listen-address=${LOOPBACK}:${port}`,
        `--web.external-url=http://${LOOPBACK}:${port}`,
        ...clusterFlags(mesh),
      ],
    };
    return { command, proc: r.start(name, command), base: `http://${LOOPBACK}:${port}` };
  };
  const exercise = async (peer: { base: string; proc: ManagedProcess }) => {
    await waitFor("Alertmanager ready", () => getOk(`${peer.base}/-/ready`), 60_000, 250, [peer.proc]);
    const now = new Date();
    const before = sink.requests;
    const alert = await postJson(`${peer.base}/api/v2/alerts`, [
      { labels: { alertname: "CatalogTest", severity: "warning" }, startsAt: now.toISOString() },
    ]);
    if (alert.status !== 200) throw new CatalogError(`posting an alert: HTTP ${alert.status} ${alert.body}`);
    const silence = await postJson(`${peer.base}/api/v2/silences`, {
      matchers: [{ name: "alertname", value: "CatalogSilenced", isRegex: false }],
      startsAt: now.toISOString(),
      endsAt: new Date(now.getTime() + 3600_000).toISOString(),
      createdBy: "npm run catalog",
      comment: "catalogue generator",
    });
    if (silence.status !== 200) throw new CatalogError(`posting a silence: HTTP ${silence.status} ${silence.body}`);
    await waitFor("a notification at the sink", () => (sink.requests > before ? true : undefined), 60_000, 250, [peer.proc]);
    return scrapeTwice(`${peer.base}/metrics`);
  };

  // As the staging stack runs it: one replica, clustering off.
  const single = await startPeer("alertmanager", () => ["--cluster.listen-address="], 0);
  const plain = await exercise(single);
  await single.proc.stop();

  // As production runs it: peers gossiping (here two, on the loopback).
  const [meshA, meshB] = [await r.port(), await r.port()];
  const peerFlags = (self: number) => [
    `--cluster.listen-address=${LOOPBACK}:${self}`,
    `--cluster.advertise-address=${LOOPBACK}:${self}`,
    `--cluster.peer=${LOOPBACK}:${meshA}`,
    `--cluster.peer=${LOOPBACK}:${meshB}`,
  ];
  const a = await startPeer("alertmanager-a", peerFlags, meshA);
  const b = await startPeer("alertmanager-b", peerFlags, meshB);
  await waitFor(
    "the two peers to see each other",
    async () => {
      const status = JSON.parse(await getOk(`${a.base}/api/v2/status`)) as { cluster?: { peers?: unknown[]; status?: string } };
      return status.cluster?.peers?.length === 2 && status.cluster.status === "ready" ? true : undefined;
    },
    60_000,
    250,
    [a.proc, b.proc],
  );
  const clustered = await exercise(a);
  return {
    notes: [
      "Its own /metrics, started with the flags of components/alertmanager/ (local paths, 127.0.0.1; clustering off, as a single replica runs) and a config that routes everything to a local sink through a webhook receiver; an alert and a silence were posted and the notification delivered.",
    ],
    commands: [single.command],
    names: plain.names,
    conditional: [
      {
        why: "peers gossiping (alertmanager.replicas > 1: production's 3-peer cluster), here two peers on the loopback",
        commands: [a.command, b.command],
        names: minus(clustered.names, plain.names),
      },
    ],
  };
}
