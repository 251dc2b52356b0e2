/** Secret keys: never in plain text, never echoed; and text without line breaks or control characters. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { SECRET_KEYS, parseStackConfig, plainEntriesOfSecretKeys } from "../../config";
import { runProgram } from "../../cli/runner";
import { problems, api, problemsOfWire, RefusedCase, expectRefused, standalone } from "./support";

describe("refused: line breaks and control characters in text", () => {
  const cases: RefusedCase[] = [
    [
      "a StorageClass with a trailing line break",
      "staging",
      { storageClass: "local-path\n" },
      {},
      [
        /^monitoring:storageClass: must be on one line, without control characters; found a line break at character 11 \(got "local-path\\n"\)$/,
      ],
    ],
    [
      "a metrics path with a line break",
      "staging",
      { apps: [{ ...api, path: "/metrics\nX-Injected: 1" }] },
      {},
      [/^monitoring:apps\[0\]\.path: must be on one line, without control characters; found a line break at character 9/],
    ],
    [
      "a tab in an entry point, a control character in a label value, a line break in a database user",
      "staging",
      {
        traefik: { entryPoints: ["web\tsecure"] },
        apps: [{ ...api, labels: { team: "core\u0007" } }],
        grafana: { replicas: 1, database: { type: "postgres", host: "pg", name: "grafana", user: "grafana\n[security]" } },
      },
      { grafanaDatabasePassword: "pw" },
      [
        /^monitoring:traefik\.entryPoints\[0\]: must be on one line, without control characters; found a tab at character 4/,
        /^monitoring:apps\[0\]\.labels\.team: must be on one line, without control characters; found the control character U\+0007 at character 5/,
        /^monitoring:grafana\.database\.user: must be on one line, without control characters; found a line break at character 8/,
      ],
    ],
    [
      "a secret with a trailing line break, without echoing it",
      "staging",
      {},
      { discordWebhookUrl: "https://discord.com/api/webhooks/1/a\n" },
      [
        /^monitoring:discordWebhookUrl: must be on one line, without control characters; found a line break at character 37 \(got a value that is hidden because it is a secret\)$/,
      ],
    ],
  ];
  test.each(cases)("%s", (...c) => expectRefused(c));
});

describe("refused: secrets, in plain text or echoed", () => {
  const MARK = "S3CR3T-MARK";
  /** Malformed values of each secret key, each carrying the mark: as secret, and the same in plain text. */
  const malformed: Record<string, unknown[]> = {
    grafanaAdminPassword: [`${MARK}`, `${MARK}-long-enough\r`],
    grafanaDatabasePassword: [`${MARK}\t`],
    grafanaGithubClientSecret: [`${MARK}\n`, ""],
    grafanaGoogleClientSecret: [`${MARK}\r`],
    grafanaOidcClientSecret: [`${MARK}\u0000`, ""],
    discordWebhookUrl: [`${MARK}-not-a-url`, `https://discord.com/${MARK}\n`],
    discordCriticalWebhookUrl: [`${MARK}-not-a-url`, `ftp://${MARK}@x`],
    slackWebhookUrls: [MARK, { ops: `${MARK}-not-a-url` }, { "Bad Name": `https://hooks.slack.com/${MARK}` }],
    discordWebhookUrls: [{ ops: `ftp://${MARK}` }],
    webhookUrls: [{ ops: `${MARK} not a url` }],
    pagerdutyRoutingKeys: [MARK, { ops: [MARK] }, { "Bad Name": MARK }],
    opsgenieApiKeys: [MARK, { ops: "" }, { "Bad Name": MARK }],
    teamsWebhookUrls: [{ ops: `${MARK}-not-a-url` }, { ops: `https://example.webhook.office.com/webhookb2/${MARK}` }],
    telegramBotTokens: [{ ops: `${MARK}` }, { ops: `123:${MARK} x` }],
    pushoverUserKeys: [{ ops: `${MARK}-with-dashes` }],
    pushoverAppTokens: [MARK, { ops: `${MARK}!` }],
    jiraApiTokens: [{ ops: [MARK] }, { "Bad Name": MARK }],
    smtpPassword: [`${MARK}\n`, ""],
    webhookUrl: [`${MARK} not a url`],
    deadMansSwitchUrl: [`${MARK}`],
    databaseDsns: [`postgresql://app:${MARK}@db:5432/app`, [MARK], { "Bad Name": MARK }, { pg: `${MARK}-not-a-dsn` }, { pg: `${MARK}\n` }],
    remoteWritePasswords: [MARK, { mimir: [MARK] }, { "Bad Name": MARK }, { mimir: `${MARK}\u0000` }],
    externalLokiPassword: [`${MARK}\n`, "", `${MARK}\u0000`],
    remoteWriteClientKeys: [
      MARK,
      { mimir: [MARK] },
      { "Bad Name": MARK },
      { mimir: MARK },
      { mimir: Buffer.from(MARK).toString("base64") },
    ],
    basicAuthPasswords: [MARK, { admin: MARK }, { admin: `${MARK}`.repeat(10) }, { "bad user": MARK }, { admin: 12345 }],
    targetCredentials: [MARK, { minio: [MARK] }, { "Bad Name": MARK }, { minio: `${MARK}\n` }, { nobody: MARK }],
    backupAccessKeyId: [`${MARK}\n`, "", `${MARK} x`],
    backupSecretAccessKey: [`${MARK}\t`, ""],
    lokiAccessKeyId: [`${MARK}\n`, "", `${MARK} x`],
    lokiSecretAccessKey: [`${MARK}\t`, ""],
  };
  const withDatabase = {
    databases: [{ name: "pg", type: "postgres", mode: "standalone" }],
    prometheus: { remoteWrite: [{ name: "mimir", url: "https://mimir.example.com/push", bearerToken: true }] },
    targets: [{ name: "minio", url: "https://minio.example.com/minio/v2/metrics/cluster", auth: { bearerToken: true } }],
  };

  test("every secret key has malformed values to try", () => {
    expect(Object.keys(malformed).sort()).toEqual([...SECRET_KEYS].sort());
  });

  test.each([...SECRET_KEYS])("%s: no message shows its value, malformed, as a secret or in plain text", (key) => {
    for (const value of malformed[key]) {
      for (const secret of [true, false]) {
        const wire = typeof value === "string" ? value : JSON.stringify(value);
        const values: Record<string, string> = { [`monitoring:${key}`]: wire };
        for (const [k, v] of Object.entries(withDatabase)) values[`monitoring:${k}`] = JSON.stringify(v);
        const found = problemsOfWire("staging", values, secret ? [`monitoring:${key}`] : []);
        expect({ value, secret, refused: found.some((f) => f.startsWith(`monitoring:${key}`)) }).toEqual({ value, secret, refused: true });
        expect({ value, secret, found }).toEqual({ value, secret, found: found.filter((f) => !f.includes(MARK)) });
      }
    }
  });

  test("a secret map given whole says how to give it, without echoing it", () => {
    expect(problems("staging", { databases: [standalone("pg")] }, { databaseDsns: "postgresql://app:hunter2@db:5432/app" })).toEqual([
      "monitoring:databaseDsns: must be a map of database name to DSN, set one entry at a time: pulumi config set --secret --path 'databaseDsns.<database-name>' <value> (got a value that is hidden because it is a secret)",
    ]);
  });

  test("the Cloudflare provider's token in plain text is refused, as a secret it is not the program's business", () => {
    expect(problemsOfWire("staging", { "cloudflare:apiToken": `cf-${MARK}` })).toEqual([
      "cloudflare:apiToken: must be a secret; set it with: pulumi config set --secret cloudflare:apiToken <value>",
    ]);
    expect(() =>
      parseStackConfig({
        project: "monitoring",
        stack: "staging",
        values: { "cloudflare:apiToken": "t" },
        secretKeys: ["cloudflare:apiToken"],
      }),
    ).not.toThrow();
  });

  test("one entry of a secret map in plain text beside secret ones is refused", () => {
    const values = {
      "monitoring:databases": JSON.stringify([standalone("orders"), standalone("users")].map(({ secretRef: _, ...db }) => db)),
      "monitoring:databaseDsns": JSON.stringify({ orders: "postgresql://a:b@orders/db", users: "postgresql://c:d@users/db" }),
    };
    expect(problemsOfWire("staging", values, ["monitoring:databaseDsns"], ["monitoring:databaseDsns.users"])).toEqual([
      "monitoring:databaseDsns.users: must be a secret like the other entries of databaseDsns; set it with: pulumi config set --secret --path 'databaseDsns.users' <value>",
    ]);
  });

  test("the program reads the stack file in its directory to find them", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plain-entry-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: monitoring\nruntime: nodejs\n");
    fs.writeFileSync(
      path.join(dir, "Pulumi.demo.yaml"),
      "config:\n  monitoring:databaseDsns:\n    orders: { secure: v1:AAAA }\n    users: postgresql://c:d@users/db\n",
    );
    const databases = [standalone("orders"), standalone("users")].map(({ secretRef: _, ...db }) => db);
    const config = {
      "monitoring:profile": "staging",
      "monitoring:databases": JSON.stringify(databases),
      "monitoring:databaseDsns": JSON.stringify({ orders: "postgresql://a:b@orders/db", users: "postgresql://c:d@users/db" }),
    };
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      await expect(runProgram({ project: "monitoring", stack: "demo", config, secretKeys: ["monitoring:databaseDsns"] })).rejects.toThrow(
        "monitoring:databaseDsns.users: must be a secret like the other entries of databaseDsns",
      );
    } finally {
      process.chdir(cwd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the stack file tells which entries of a secret map are plain", () => {
    const stackFile = YAML.parse(
      [
        "monitoring:databaseDsns:",
        "  orders: { secure: v1:AAAA }",
        "  users: postgresql://c:d@users/db",
        "monitoring:remoteWritePasswords:",
        "  mimir: { secure: v1:BBBB }",
        "monitoring:apps:",
        "  - name: api",
        "monitoring:discordWebhookUrl: https://discord.com/api/webhooks/1/a",
      ].join("\n"),
    ) as Record<string, unknown>;
    // Keys with no secure entry at all are refused whole (or are not secret keys): only mixed maps list entries.
    expect(plainEntriesOfSecretKeys(stackFile)).toEqual(["monitoring:databaseDsns.users"]);
  });
});
