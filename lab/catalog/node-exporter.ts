/** The catalogue of node-exporter: its default collectors on this machine, with the flags the stack passes. */
import * as os from "os";
import { HOST_ROOT, nodeExporterFlags } from "../../components/exporters/node-exporter";
import { getOk } from "../local/http";
import { pinnedBinary } from "../local/binaries";
import { LOOPBACK } from "../ports";
import { waitFor } from "../processes/supervision";
import { scrapeTwice } from "../local/text-format";
import { Generated, Run } from "./run";

export async function nodeExporter(r: Run): Promise<Generated> {
  const port = await r.port();
  // Without the web config (TLS and basic auth): what is served does not change with it.
  const args = nodeExporterFlags()
    .filter((flag) => !flag.startsWith("--web.config.file="))
    .map((flag) =>
      flag.startsWith("--web.listen-address=")
        ? `--web.listen-address=${LOOPBACK}:${port}`
        : flag.replace(new RegExp(`=${HOST_ROOT}(?=/|$)`), "=").replace(/=$/, "=/"),
    );
  const command = { binary: pinnedBinary("node_exporter"), args };
  const proc = r.start("node_exporter", command);
  const url = `http://${LOOPBACK}:${port}/metrics`;
  await waitFor("node_exporter's /metrics", () => getOk(url), 30_000, 250, [proc]);
  const { text, names } = await scrapeTwice(url);
  const idle = [...text.matchAll(/^node_scrape_collector_success\{collector="([^"]+)"\} 0$/gm)].map((m) => m[1]).sort();
  return {
    notes: [
      `Its default collectors with the flags the stack passes (nodeExporterFlags() in components/exporters/node-exporter.ts), run on the machine that generated this file (${os.type()} ${os.release()}), except that --path.rootfs and --path.udev.data name / instead of the container's mount of the host (${HOST_ROOT}) and it listens on 127.0.0.1 instead of the node's address.`,
      idle.length
        ? `Collectors that found nothing to read there, whose metrics are missing below but appear on nodes with that hardware or kernel feature: ${idle.join(", ")}.`
        : "Every collector found something to read there.",
    ],
    commands: [command],
    names,
  };
}
