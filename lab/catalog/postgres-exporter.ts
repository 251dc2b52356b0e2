/** The catalogue of postgres-exporter against a PostgreSQL started here. */
import * as path from "path";
import { DATABASE_KINDS } from "../../components/database-exporters/kinds";
import { getOk } from "../local/http";
import { pinnedBinary } from "../local/binaries";
import { preparePostgres } from "../local/databases";
import { LOOPBACK } from "../ports";
import { waitFor } from "../processes/supervision";
import { onLoopback } from "../local/stack";
import { scrapeTwice } from "../local/text-format";
import { CatalogError, Generated, Run } from "./run";

export async function postgresExporter(r: Run): Promise<Generated> {
  const pgPort = await r.port();
  const pg = preparePostgres(path.join(r.tmp, "postgres"), pgPort);
  const server = r.start("postgres", pg.command, { user: pg.command.user });
  const psql = pg.psql;
  await waitFor("PostgreSQL accepting connections", () => psql("SELECT 1"), 60_000, 250, [server]);
  const version = psql("SHOW server_version").trim().split(" ")[0];
  psql("CREATE DATABASE app");
  psql(
    "CREATE TABLE items (id serial PRIMARY KEY, name text); INSERT INTO items (name) SELECT 'item ' || g FROM generate_series(1, 1000) g;",
    "app",
  );
  psql("UPDATE items SET name = name || '!' WHERE id % 10 = 0; DELETE FROM items WHERE id % 100 = 0; SELECT count(*) FROM items;", "app");
  psql("ANALYZE items; SELECT pg_stat_force_next_flush();", "app");

  const port = await r.port();
  const command = {
    env: { DATA_SOURCE_NAME: pg.dsn("app") },
    binary: pinnedBinary("postgres_exporter"),
    args: onLoopback(DATABASE_KINDS.postgres.args, port),
  };
  const exporter = r.start("postgres_exporter", command);
  const url = `http://${LOOPBACK}:${port}/metrics`;
  await waitFor("postgres_exporter's /metrics", () => getOk(url), 30_000, 250, [exporter, server]);
  const { text, names } = await scrapeTwice(url);
  if (!/^pg_up 1$/m.test(text))
    throw new CatalogError(`postgres_exporter does not reach PostgreSQL (pg_up is not 1)\n${exporter.output()}`);
  return {
    notes: [
      `With the flags the stack passes (DATABASE_KINDS.postgres in components/database-exporters/kinds.ts; listening on 127.0.0.1), against PostgreSQL ${version} (Debian's postgresql package) started here with a throwaway data directory, connected as its superuser, with a database "app" that has a table written to.`,
      "Target labels add `database` (the configured name); the exporter's own `datname` label names the PostgreSQL database inside the server.",
    ],
    commands: [command],
    names,
  };
}
