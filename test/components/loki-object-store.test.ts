/**
 * Loki's chunks and index in a bucket (config loki.objectStore, components/loki): the section's
 * refusals by key, before any resource; the render with a bucket: a second schema period on s3 from
 * the given day after the volume's (kept), the S3 client without the key pair, the pair in a Secret
 * read from the environment (never in a ConfigMap), delete requests in the bucket, the egress to the
 * store's port; without it, none of that. test/e2e/loki-bucket.test.ts runs the render on the exact
 * Loki against `rclone serve s3`.
 */
import * as YAML from "yaml";
import { LOKI_SCHEMA_FROM, Loki } from "../../components/loki";
import { dayOf } from "../../components/loki/section";
import { PROFILE_DEFAULTS } from "../../config";
import { runProgram } from "../../cli/runner";
import type { Rendered } from "../../cli/render";
import { ALONE, objectOf, objectsOf, render } from "../support/render";
import { parse, problems } from "../config/support";

const KEY_ID = "loki-key-id-0123";
const SECRET_KEY = "loki-secret-key-0123456789";
const STORE = [
  "loki.objectStore.bucket=monitoring-logs",
  "loki.objectStore.endpoint=https://0123456789abcdef.r2.cloudflarestorage.com",
  "loki.objectStore.from=2026-12-01",
  `lokiAccessKeyId=${KEY_ID}`,
  `lokiSecretAccessKey=${SECRET_KEY}`,
];
const KEYS = { lokiAccessKeyId: KEY_ID, lokiSecretAccessKey: SECRET_KEY };
const GOOD = { bucket: "monitoring-logs", endpoint: "https://0123456789abcdef.r2.cloudflarestorage.com", from: "2026-12-01" };

describe("loki.objectStore: what it refuses, by key", () => {
  test("an empty objectStore: the bucket, the endpoint R2 needs, the first day and both keys", () => {
    expect(problems("staging", { loki: { objectStore: {} } })).toEqual([
      "monitoring:loki.objectStore.bucket: is required with loki.objectStore: the bucket Loki's chunks and index go to",
      'monitoring:loki.objectStore.endpoint: is required for provider "r2": its S3 endpoint, such as https://<account id>.r2.cloudflarestorage.com',
      "monitoring:loki.objectStore.from: is required with loki.objectStore: the first day (UTC, YYYY-MM-DD) whose logs go to the bucket; a stack that holds logs names a day to come",
      "monitoring:lokiAccessKeyId: is needed with loki.objectStore: pulumi config set --secret lokiAccessKeyId <key id>",
      "monitoring:lokiSecretAccessKey: is needed with loki.objectStore: pulumi config set --secret lokiSecretAccessKey <secret key>",
    ]);
  });

  test.each([
    [
      { bucket: "Logs_Bucket" },
      /^monitoring:loki\.objectStore\.bucket: must be a bucket name the store takes: R2 takes .*; got "Logs_Bucket"$/,
    ],
    [
      { endpoint: "https://0123456789abcdef.r2.cloudflarestorage.com/monitoring-logs" },
      /^monitoring:loki\.objectStore\.endpoint: must be the store's address alone, without a path, query or fragment: set it to https:\/\/0123456789abcdef\.r2\.cloudflarestorage\.com; got /,
    ],
    [
      { from: "2026-02-30" },
      /^monitoring:loki\.objectStore\.from: must be a day \(YYYY-MM-DD\) after 2024-04-01, the volume's schema period; got "2026-02-30"$/,
    ],
    [{ from: LOKI_SCHEMA_FROM }, /^monitoring:loki\.objectStore\.from: must be a day .*; got "2024-04-01"$/],
    [{ provider: "gcs" }, /^monitoring:loki\.objectStore\.provider: must be one of r2, s3, b2, minio/],
    [{ endpoint: "ftp://store.example.com" }, /^monitoring:loki\.objectStore\.endpoint: must be an http:\/\/ or https:\/\/ URL/],
    [{ region: "" }, /^monitoring:loki\.objectStore\.region: must be a region, not empty/],
    [{ prefix: "logs" }, /^monitoring:loki\.objectStore/],
  ])("%j refused, the key named", (change, message) => {
    const found = problems("staging", { loki: { objectStore: { ...GOOD, ...change } } }, KEYS);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  test("`from: 2026-12-01` unquoted, as the Pulumi CLI passes a YAML timestamp on (Go's form of midnight UTC), is that day; another time is refused", () => {
    const parsed = parse("staging", { loki: { objectStore: { ...GOOD, from: "2026-12-01 00:00:00 +0000 UTC" } } }, KEYS);
    expect(parsed.config.loki.objectStore?.from).toBe("2026-12-01");
    expect(dayOf("2026-12-01 00:00:00 +0000 UTC")).toBe("2026-12-01");
    expect(dayOf("2026-12-01T00:00:00Z")).toBe("2026-12-01");
    expect(problems("staging", { loki: { objectStore: { ...GOOD, from: "2026-12-01 13:00:00 +0000 UTC" } } }, KEYS)).toEqual([
      `monitoring:loki.objectStore.from: must be a day (YYYY-MM-DD) after 2024-04-01, the volume's schema period; got "2026-12-01 13:00:00 +0000 UTC"`,
    ]);
  });

  test("s3 needs no endpoint (AWS finds it from the region); a key pair with a space is refused", () => {
    expect(
      problems(
        "staging",
        { loki: { objectStore: { provider: "s3", bucket: "monitoring-logs", from: "2026-12-01" } } },
        { ...KEYS, lokiSecretAccessKey: "a b" },
      ),
    ).toEqual([
      "monitoring:lokiSecretAccessKey: must be a secret access key: printable characters, no space (got a value that is hidden because it is a secret)",
    ]);
  });
});

describe("the component alone (components/loki)", () => {
  test("a bucket without its name or key pair is refused, naming the keys, before any resource", async () => {
    let made = 0;
    const run = runProgram({
      ...ALONE,
      program: async () => {
        made++;
        new Loki("loki", {
          namespace: "monitoring",
          environment: "staging",
          retention: "3d",
          storage: { size: "10Gi" },
          resources: PROFILE_DEFAULTS.staging.loki.resources,
          ingestion: {},
          objectStore: { provider: "r2", region: "auto", endpoint: GOOD.endpoint, from: GOOD.from },
        });
        return {};
      },
    });
    await expect(run).rejects.toThrow(
      /Loki "loki": objectStore\.bucket: is required with loki\.objectStore.*; lokiAccessKeyId: is needed .*; lokiSecretAccessKey: is needed/,
    );
    expect(made).toBe(1);
  });
});

type Env = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
const lokiYaml = (r: Rendered) => YAML.parse(r.files.get("loki/loki.yaml") ?? "") as Record<string, Record<string, unknown>>;
const lokiEnv = (r: Rendered) =>
  (
    objectOf(r, "StatefulSet", "loki").spec as { template: { spec: { containers: Array<{ name: string; env: Env[] }> } } }
  ).template.spec.containers.find((c) => c.name === "loki")?.env ?? [];
const egressOf = (r: Rendered) =>
  (
    objectOf(r, "NetworkPolicy", "loki-egress").spec as {
      egress: Array<{ ports?: Array<{ port: number }>; to?: Array<Record<string, unknown>> }>;
    }
  ).egress;

describe("Loki's render with a bucket, and without", () => {
  let withStore: Rendered;
  let without: Rendered;
  beforeAll(async () => {
    withStore = await render("staging", STORE);
    without = await render("staging");
  });

  test("the volume's period kept, the bucket's from its day; the S3 client; delete requests in the bucket", () => {
    const config = lokiYaml(withStore);
    expect((config.schema_config as { configs: unknown[] }).configs).toEqual([
      { from: LOKI_SCHEMA_FROM, store: "tsdb", object_store: "filesystem", schema: "v13", index: { prefix: "index_", period: "24h" } },
      { from: "2026-12-01", store: "tsdb", object_store: "s3", schema: "v13", index: { prefix: "index_", period: "24h" } },
    ]);
    expect(config.storage_config.aws).toEqual({
      bucketnames: "monitoring-logs",
      endpoint: "https://0123456789abcdef.r2.cloudflarestorage.com",
      region: "auto",
      s3forcepathstyle: true,
    });
    // The WAL and the index being written stay on the claim.
    expect((config.ingester as { wal: { dir: string } }).wal.dir).toBe("/var/loki/wal");
    expect((config.storage_config.tsdb_shipper as Record<string, string>).active_index_directory).toBe("/var/loki/tsdb-index");
    expect(config.compactor).toMatchObject({ retention_enabled: true, delete_request_store: "s3" });
  });

  test("the key pair in a Secret, read from Loki's environment; in no ConfigMap", () => {
    const secret = objectOf(withStore, "Secret", "loki-object-store") as unknown as { stringData: Record<string, string> };
    expect(secret.stringData).toEqual({ "access-key-id": KEY_ID, "secret-access-key": SECRET_KEY });
    expect(lokiEnv(withStore).filter((e) => e.name.startsWith("AWS_"))).toEqual([
      { name: "AWS_ACCESS_KEY_ID", valueFrom: { secretKeyRef: { name: "loki-object-store", key: "access-key-id" } } },
      { name: "AWS_SECRET_ACCESS_KEY", valueFrom: { secretKeyRef: { name: "loki-object-store", key: "secret-access-key" } } },
    ]);
    for (const map of objectsOf(withStore, "ConfigMap")) {
      const text = JSON.stringify(map);
      expect({ name: map.metadata.name, holdsKey: text.includes(KEY_ID) || text.includes(SECRET_KEY) }).toEqual({
        name: map.metadata.name,
        holdsKey: false,
      });
    }
  });

  test("Loki's egress reaches the store's port at any address", () => {
    const toStore = egressOf(withStore).filter(
      (rule) => rule.ports?.some((p) => p.port === 443) && rule.to?.some((peer) => "ipBlock" in peer),
    );
    expect(toStore).toHaveLength(1);
    expect(egressOf(without).filter((rule) => rule.ports?.some((p) => p.port === 443))).toEqual([]);
  });

  test("without a bucket: one period on the volume, no S3 client, no Secret, no AWS variables", () => {
    const config = lokiYaml(without);
    expect((config.schema_config as { configs: Array<{ object_store: string }> }).configs.map((c) => c.object_store)).toEqual([
      "filesystem",
    ]);
    expect(config.storage_config.aws).toBeUndefined();
    expect(config.compactor).toMatchObject({ delete_request_store: "filesystem" });
    expect(objectsOf(without, "Secret", "loki-object-store")).toEqual([]);
    expect(lokiEnv(without).map((e) => e.name)).toEqual(["GOMEMLIMIT"]);
  });
});
