/** The catalogue of redis_exporter against a Redis started here, then a replica. */
import { DATABASE_KINDS } from "../../components/database-exporters/kinds";
import { getOk } from "../local/http";
import { pinnedBinary } from "../local/binaries";
import { prepareRedis, runCommand, systemCommand } from "../local/databases";
import { LOOPBACK } from "../ports";
import { waitFor } from "../processes/supervision";
import { onLoopback } from "../local/stack";
import { scrapeTwice } from "../local/text-format";
import { CatalogError, Generated, Run, minus } from "./run";

export async function redisExporter(r: Run): Promise<Generated> {
  const version = /v=(\S+)/.exec(runCommand(systemCommand("redis-server", "redis-server"), ["--version"]))?.[1] ?? "?";
  const startRedis = async (name: string, extra: string[]) => {
    const port = await r.port();
    const redis = prepareRedis(r.dir(name), port, extra);
    const proc = r.start(name, redis.command, { cwd: r.tmp });
    await waitFor(`${name} answering`, () => (redis.cli("PING").trim() === "PONG" ? true : undefined), 30_000, 250, [proc]);
    return { port, proc, cli: redis.cli };
  };
  const primary = await startRedis("redis", []);
  primary.cli("SET", "catalog:a", "1");
  primary.cli("SET", "catalog:b", "2", "EX", "3600");
  primary.cli("GET", "catalog:a");
  primary.cli("GET", "catalog:missing");
  primary.cli("INCR", "catalog:counter");
  primary.cli("-n", "1", "SET", "catalog:other-db", "1");

  const startExporter = async (name: string, redisPort: number) => {
    const port = await r.port();
    const command = {
      env: { REDIS_ADDR: `redis://${LOOPBACK}:${redisPort}` },
      binary: pinnedBinary("redis_exporter"),
      args: onLoopback(DATABASE_KINDS.redis.args, port),
    };
    const proc = r.start(name, command);
    const url = `http://${LOOPBACK}:${port}/metrics`;
    await waitFor(`${name}'s /metrics`, () => getOk(url), 30_000, 250, [proc]);
    const names = async () => {
      const result = await scrapeTwice(url);
      if (!/^redis_up 1$/m.test(result.text)) throw new CatalogError(`${name} does not reach Redis (redis_up is not 1)\n${proc.output()}`);
      return result.names;
    };
    return { command, names };
  };
  const exporter = await startExporter("redis_exporter", primary.port);
  const plain = { command: exporter.command, names: await exporter.names() };

  const replica = await startRedis("redis-replica", ["--replicaof", LOOPBACK, String(primary.port)]);
  await waitFor(
    "the replica in sync",
    () => (/master_link_status:up/.test(replica.cli("INFO", "replication")) ? true : undefined),
    30_000,
    250,
    [replica.proc],
  );
  const withReplica = await exporter.names();
  const replicaExporter = await startExporter("redis_exporter (replica)", replica.port);
  const ofReplica = { command: replicaExporter.command, names: await replicaExporter.names() };
  return {
    notes: [
      `With the flags the stack passes (DATABASE_KINDS.redis in components/database-exporters/kinds.ts; listening on 127.0.0.1), against Redis ${version} (Debian's redis-server package) started here with a throwaway directory and a few keys in db 0 and db 1.`,
      "Target labels add `database` (the configured name); `db` is Redis' own keyspace index.",
    ],
    commands: [plain.command],
    names: plain.names,
    conditional: [
      {
        why: "the Redis has replicas (here a second redis-server with --replicaof the first; same command line)",
        commands: [],
        names: minus(withReplica, plain.names),
      },
      {
        why: "the Redis is a replica (here that second redis-server)",
        commands: [ofReplica.command],
        names: minus(ofReplica.names, plain.names),
      },
    ],
  };
}
