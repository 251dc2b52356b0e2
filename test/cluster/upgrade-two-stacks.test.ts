/**
 * Staging and production on one cluster, as release 0.1.0 ran them (its docs/operations.md,
 * "Staging and production on one cluster": both stack files as they are, each with its own
 * namespaces, its own collector and kube-state-metrics, node-exporter on 9100 and 9101), deployed
 * by 0.1.0's own program with data on every claim, then each stack file migrated and upgraded to
 * HEAD: support/upgrade.ts says what is asserted of each. HEAD keeps that shape: one collector for
 * both (`logCollector.shareWith` / `sharedFrom`) is a choice the upgrade does not make.
 */
import { Release } from "./support/release";
import { UpgradeStack, Step, upgradeWithHead, workloadsReady } from "./support/upgrade";
import { list } from "./support/kube";

const production = new UpgradeStack({
  version: "0.1.0",
  stackName: "production",
  stackFile: "git:Pulumi.production.yaml",
  team: "shop",
  secrets: {
    grafanaAdminPassword: "upgrade-pair-production-grafana-admin-password",
    discordWebhookUrl: "https://discord.com/api/webhooks/0/production",
    "basicAuthPasswords.admin": "upgrade-pair-production-basic-auth-password",
  },
  protectedVolumes: true,
});
const staging = new UpgradeStack({
  version: "0.1.0",
  stackName: "staging",
  stackFile: "git:Pulumi.staging.yaml",
  team: "shop-staging",
  secrets: {
    grafanaAdminPassword: "upgrade-pair-staging-grafana-admin-password",
    discordWebhookUrl: "https://discord.com/api/webhooks/1/staging-warnings",
    discordCriticalWebhookUrl: "https://discord.com/api/webhooks/2/staging-critical",
    "basicAuthPasswords.admin": "upgrade-pair-staging-basic-auth-password",
  },
  protectedVolumes: false,
});
/** Production first, as both releases' docs deploy them. */
const PAIR = [production, staging];
const ALL_NAMESPACES = PAIR.flatMap((s) => s.namespaces);
let release: Release;
const steps: Record<string, Step[]> = {};

/** The collectors and node-exporters on the node, as `namespace/name`. */
async function agents(): Promise<string[]> {
  return (await list("daemonsets", undefined, "app.kubernetes.io/part-of=monitoring-stack"))
    .map((d) => `${d.metadata.namespace}/${d.metadata.name}`)
    .sort();
}

beforeAll(async () => {
  // One checkout of the release serves both stacks (each stack file is copied in under its own name).
  release = await production.open();
  await staging.open(release);
});

afterAll(async () => {
  for (const s of [...PAIR].reverse()) await s.close();
});

describe("staging and production on one cluster: release 0.1.0 upgraded to HEAD, one stack after the other", () => {
  test("release 0.1.0's own program deploys both stack files as they are on the one cluster, and data is written on every claim of both", async () => {
    for (const s of PAIR) await s.deployWithRelease(release);
    await workloadsReady(ALL_NAMESPACES);
    for (const s of PAIR) await s.writeMarkers();
    // 0.1.0's shape: each stack its own collector and node-exporter (9100 and 9101 on the node).
    expect(await agents()).toEqual([
      "monitoring-production-agents/alloy",
      "monitoring-production-agents/node-exporter",
      "monitoring-staging-agents/alloy",
      "monitoring-staging-agents/node-exporter",
    ]);
  });

  test("npm run migrate --previous on each stack file, and a second run finds nothing to do", async () => {
    for (const s of PAIR) await s.migrate();
  });

  test("pulumi up with HEAD's program, production then staging, replaces or deletes no claim, StatefulSet, namespace or Secret of either, by the engine's own steps", async () => {
    for (const s of PAIR) steps[s.c.stackName] = await upgradeWithHead(s.handle, `${s.c.stackName} (of two) upgrade 0.1.0`);
    // The cluster agrees, for both stacks once both are up: every kept object 0.1.0 made is the same object.
    expect({ production: await production.lost(), staging: await staging.lost() }).toEqual({ production: [], staging: [] });
  });

  test("both keep their own collector; staging's node-exporter goes, as HEAD's watch.cluster gives the node to production", async () => {
    expect(await agents()).toEqual([
      "monitoring-production-agents/alloy",
      "monitoring-production-agents/node-exporter",
      "monitoring-staging-agents/alloy",
    ]);
    const deleted = steps.staging.filter((s) => s.op === "delete").map((s) => `${s.type} ${s.name}`);
    process.stderr.write(`staging (of two) deleted: ${deleted.join(", ")}\n`);
    expect(deleted.filter((d) => /^kubernetes:apps\/v1:DaemonSet .*node-exporter/.test(d))).toHaveLength(1);
    expect(steps.production.filter((s) => s.op === "delete")).toEqual([]);
  });

  test("every workload of both is Ready and what was written on every claim is still there", async () => {
    await workloadsReady(ALL_NAMESPACES);
    for (const s of PAIR) await s.expectMarkers();
  });

  test("the next preview of each changes nothing", async () => {
    for (const s of PAIR) await s.handle.stack.preview({ expectNoChanges: true });
  });

  test("after the documented unprotect, destroy removes both, staging first", async () => {
    await production.handle.cli(["state", "unprotect", "--all", "--yes"]);
    for (const s of [...PAIR].reverse()) {
      const result = await s.handle.stack.destroy();
      s.destroyed = true;
      expect(result.summary.result).toBe("succeeded");
    }
  });
});
