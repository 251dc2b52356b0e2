/** The catalogue of mongodb_exporter: no server to be had; what it emits without one. */
import { DATABASE_KINDS } from "../../components/database-exporters/kinds";
import { getOk } from "../local/http";
import { pinnedBinary } from "../local/binaries";
import { LOOPBACK } from "../ports";
import { waitFor } from "../processes/supervision";
import { onLoopback } from "../local/stack";
import { scrapeTwice } from "../local/text-format";
import { Generated, Run } from "./run";

export async function mongodbExporter(r: Run): Promise<Generated> {
  const port = await r.port();
  // Nothing listens there: the exporter reports the server down.
  const nowhere = await r.port();
  const command = {
    env: { MONGODB_URI: `mongodb://${LOOPBACK}:${nowhere}/admin` },
    binary: pinnedBinary("mongodb_exporter"),
    args: onLoopback(DATABASE_KINDS.mongodb.args, port),
  };
  const proc = r.start("mongodb_exporter", command);
  const url = `http://${LOOPBACK}:${port}/metrics`;
  await waitFor("mongodb_exporter's /metrics", () => getOk(url, 60_000), 60_000, 250, [proc]);
  const { names } = await scrapeTwice(url);
  return {
    notes: [
      "What the exporter emits with no server to reach (mongodb_up 0, its own and the Go metrics), with the flags the stack passes (DATABASE_KINDS.mongodb in components/database-exporters/kinds.ts; listening on 127.0.0.1) and a URI where nothing listens. Names the hand-written part lists are not repeated.",
    ],
    commands: [command],
    names,
  };
}
