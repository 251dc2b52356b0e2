/**
 * What the offline render stands in for a secret it cannot decrypt (config's SECRET_STAND_INS,
 * each declared beside its key's schema): a value that key's own checks take, for every secret
 * key, so that an encrypted secret never makes the render refuse the stack. A secret key added
 * without a stand-in does not compile; one whose stand-in its checks refuse fails here.
 */
import { z } from "zod";
import { SECRET_KEYS, SECRET_STAND_INS } from "../../config";
import { secretKeySchemas } from "../../config/secrets";
import { DATABASE_TYPES } from "../../components/kit/database-exporters";
import { DATABASE_KINDS } from "../../components/database-exporters/kinds";
import { standInFor } from "../../cli/stackfile";
import { parse } from "./support";

const ENTRY = "some-entry";

test.each([...SECRET_KEYS])("%s: its stand-in is a value its schema takes", (key) => {
  const schema: z.ZodType = secretKeySchemas[key];
  const map = schema instanceof z.ZodRecord;
  const value = SECRET_STAND_INS[key]({ key: map ? `${key}.${ENTRY}` : key, ...(map ? { entry: ENTRY } : {}), stack: {} });
  const result = schema.safeParse(map ? { [ENTRY]: value } : value);
  expect({ key, value, issues: result.error?.issues ?? [] }).toEqual({ key, value, issues: [] });
});

test.each([...SECRET_KEYS])("%s: the render's stand-in is the key's own, not a generic placeholder", (key) => {
  const schema: z.ZodType = secretKeySchemas[key];
  const parts = schema instanceof z.ZodRecord ? [`monitoring:${key}`, ENTRY] : [`monitoring:${key}`];
  const stack = { "monitoring:databases": [{ name: ENTRY, type: "redis", mode: "standalone" }] };
  expect(standInFor("monitoring", parts, stack)).toBe(
    SECRET_STAND_INS[key]({
      key: parts.join(".").slice("monitoring:".length),
      ...(parts[1] ? { entry: ENTRY } : {}),
      stack: { databases: stack["monitoring:databases"] },
    }),
  );
});

describe.each([...DATABASE_TYPES])("the stand-in DSN of a %s database", (type) => {
  const stack = { databases: [{ name: "orders", type, mode: "standalone" }] };
  const dsn = SECRET_STAND_INS.databaseDsns({ key: "databaseDsns.orders", entry: "orders", stack });

  test("is one of its kind, naming a host that is neither the exporter's pod nor resolvable", () => {
    expect(dsn).toMatch(DATABASE_KINDS[type].dsnPattern);
    expect(dsn).toContain("orders.placeholder.invalid");
  });

  test("passes every check of the stack's config", () => {
    const parsed = parse("staging", stack, { databaseDsns: { orders: dsn } });
    expect(parsed.config.databases.map((db) => [db.name, db.dsn])).toEqual([["orders", { value: dsn }]]);
  });
});
