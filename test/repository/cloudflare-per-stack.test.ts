/**
 * One Cloudflare account and zone per stack in the sample stack files, so that each stack's
 * `cloudflare:apiToken` can be limited to its own (docs/deployment.md, "Cloudflare: one API token
 * per stack"): the tunnel and Access objects are account-wide, and a token for an account both
 * stacks share edits the other stack's.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { ROOT } from "../../cli/stackfile";

type Ids = { accountId?: string; zoneId?: string };
const idsOf = (text: string): Ids => {
  const doc = YAML.parse(text) as { config: Record<string, Ids | undefined> };
  const cf = doc.config["monitoring:cloudflare"] ?? {};
  return { accountId: cf.accountId, zoneId: cf.zoneId };
};
const sample = (stack: string) => fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8");

/** The ids two stack files share, by key. */
function shared(a: Ids, b: Ids): string[] {
  return (["accountId", "zoneId"] as const).filter((k) => a[k] !== undefined && a[k] === b[k]);
}

test("staging and production name accounts and zones of their own, and the docs say which token each gets", () => {
  const [staging, production] = [idsOf(sample("staging")), idsOf(sample("production"))];
  expect(staging.accountId).toMatch(/^[0-9a-f]{32}$/);
  expect(production.zoneId).toMatch(/^[0-9a-f]{32}$/);
  expect(shared(staging, production)).toEqual([]);
  const docs = fs.readFileSync(path.join(ROOT, "docs", "deployment.md"), "utf8");
  for (const row of [
    "| Account · Cloudflare Tunnel · Edit | this stack's account only |",
    "| Account · Access: Apps and Policies · Edit | this stack's account only |",
    "| Zone · DNS · Edit | this stack's zone only |",
  ])
    expect(docs).toContain(row);
});

test("staging on production's account and zone, as the samples had it, is refused", () => {
  const production = idsOf(sample("production"));
  const before = sample("staging")
    .replace(/accountId: \w+/, `accountId: ${production.accountId}`)
    .replace(/zoneId: \w+/, `zoneId: ${production.zoneId}`);
  expect(shared(idsOf(before), production)).toEqual(["accountId", "zoneId"]);
});
