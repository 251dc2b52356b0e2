/**
 * No secret value in plain text in the state or the preview, on the real engine: two stacks
 * with every secret key the tier can set (`pulumi config set --secret`), each to a distinct
 * recognisable value, in config that uses it; then `preview --diff`, `up`, `preview --diff`
 * again and `pulumi stack export` (without --show-secrets) are searched for every value. The
 * legacy receiver keys and named receivers exclude each other: one stack has the default
 * tree, the other a team's routing with email. Both have the same basic-auth users and
 * passwords and the same Grafana password: their htpasswd hashes and Grafana digests differ
 * (each stack draws its own salt), and a second `up` changes nothing.
 *
 * Not set here: `cloudflare:apiToken`, whose provider cannot be built for this tier
 * (lab/tools/tools.ts), so the tunnel stays off; the offline sweep (test/scenarios/sealed.test.ts)
 * covers it. The `random` provider cannot be had either: every password is given.
 */
import * as bcrypt from "bcryptjs";
import { SECRET_KEYS } from "../../config";
import { SALT_OUTPUT } from "../../preflight/stack-salt";
import { deleteNamespace } from "./support/apps";
import { KubeObject, apply, get } from "./support/kube";
import { StackHandle, openStack, outputCollector } from "./support/stack";
import { SEALED_ROUTING, SEALED_ROUTING_SECRETS, sweptValue } from "../support/sealed-routing";
import { SEALED_SIGN_IN, SEALED_SIGN_IN_SECRETS } from "../support/sealed-sign-in";
import { SEALED_CLIENT_CERT, SEALED_DATABASES, sealedClientKey, sealedValue } from "../support/every-secret";

/** Letters and digits only, so that no encoding (JSON, YAML, URL) changes it. */
function mark(stack: string, key: string): string {
  return `Sealed${stack}${key}`.replace(/[^A-Za-z0-9]/g, "") + "Q7x";
}

/** The same in both stacks, on purpose: their hashes and digests must still differ. */
const BASIC_AUTH = { admin: "SealedClusterBasicAuthAdminQ7x", ops: "SealedClusterBasicAuthOpsQ7x" };
const GRAFANA_PASSWORD = "SealedClusterGrafanaAdminQ7x";

interface SealedStack {
  /** Also its namespace. */
  name: string;
  secrets: Record<string, string>;
  config: Record<string, unknown>;
}

function commonSecrets(stack: string): Record<string, string> {
  const m = (key: string) => mark(stack, key);
  return {
    grafanaAdminPassword: GRAFANA_PASSWORD,
    grafanaDatabasePassword: m("grafanaDatabasePassword"),
    ...Object.fromEntries(SEALED_SIGN_IN_SECRETS.map((secret) => [secret.path, sweptValue(secret, m(secret.path))])),
    ...Object.fromEntries(SEALED_DATABASES.map(({ name }) => `databaseDsns.${name}`).map((p) => [p, sealedValue(p, m(p))])),
    "remoteWritePasswords.mimir": m("remoteWritePasswords.mimir"),
    "remoteWriteClientKeys.mimir": sealedClientKey(m("remoteWriteClientKeys.mimir")),
    externalLokiPassword: m("externalLokiPassword"),
    "basicAuthPasswords.admin": BASIC_AUTH.admin,
    "basicAuthPasswords.ops": BASIC_AUTH.ops,
    "targetCredentials.minio": m("targetCredentials.minio"),
    "targetCredentials.billing": m("targetCredentials.billing"),
    deadMansSwitchUrl: `https://hc-ping.example.com/${m("deadMansSwitchUrl")}`,
    backupAccessKeyId: m("backupAccessKeyId"),
    backupSecretAccessKey: m("backupSecretAccessKey"),
    lokiAccessKeyId: m("lokiAccessKeyId"),
    lokiSecretAccessKey: m("lokiSecretAccessKey"),
  };
}

function commonConfig(stack: string): Record<string, unknown> {
  return {
    "monitoring:namespace": stack,
    // Not about secrets, and each holds a host port or host paths: off, so that the stack is small.
    "monitoring:nodeExporter": { enabled: false },
    // The collector runs for the one secret it reads (externalLokiPassword): kwok's nodes run no pod of its DaemonSet.
    "monitoring:logCollector": { externalLoki: { url: "https://logs.example.com/loki/api/v1/push", tenant: stack, username: "shipper" } },
    // DSNs from databaseDsns (the secrets swept), not the stack file's secretRefs to Secrets of the team's.
    "monitoring:databases": SEALED_DATABASES,
    "monitoring:targets": [
      { name: "minio", url: "https://minio.example.com:9000/minio/v2/metrics/cluster", auth: { bearerToken: true } },
      { name: "billing", namespace: "billing", service: "billing-worker", port: "metrics", auth: { username: "prometheus" } },
    ],
    "monitoring:prometheus": {
      remoteWrite: [
        { name: "mimir", url: "https://mimir.example.com/api/v1/push", username: "tenant-1", tls: { clientCertData: SEALED_CLIENT_CERT } },
      ],
    },
    // Backups to an R2 bucket: the key pair's Secret, read by the CronJobs' upload containers.
    "monitoring:backup": { enabled: true, bucket: "monitoring-backups", endpoint: "https://0123456789abcdef.r2.cloudflarestorage.com" },
    // Loki's chunks and index in an R2 bucket: the key pair's Secret, read from Loki's environment.
    "monitoring:loki": {
      objectStore: { bucket: "monitoring-logs", endpoint: "https://0123456789abcdef.r2.cloudflarestorage.com", from: "2027-01-01" },
    },
    "monitoring:grafana": {
      database: { type: "postgres", host: "db.example.com:5432", name: "grafana", user: "grafana" },
      // Every sign-in provider, so that their client secrets are swept (Grafana is published by the staging file's Traefik).
      signIn: SEALED_SIGN_IN,
    },
  };
}

const STACKS: SealedStack[] = [
  {
    name: "sealed-default-tree",
    secrets: {
      ...commonSecrets("sealed-default-tree"),
      discordWebhookUrl: `https://discord.example.com/api/webhooks/${mark("sealed-default-tree", "discordWebhookUrl")}`,
      discordCriticalWebhookUrl: `https://discord.example.com/api/webhooks/${mark("sealed-default-tree", "discordCriticalWebhookUrl")}`,
      webhookUrl: `https://alerts.example.com/${mark("sealed-default-tree", "webhookUrl")}`,
    },
    config: {},
  },
  {
    name: "sealed-routing",
    secrets: {
      ...commonSecrets("sealed-routing"),
      ...Object.fromEntries(SEALED_ROUTING_SECRETS.map((secret) => [secret.path, sweptValue(secret, mark("sealed-routing", secret.path))])),
    },
    config: {
      "monitoring:alertmanager": SEALED_ROUTING,
    },
  },
];

const topKey = (key: string) => key.split(".")[0];

interface Run {
  stack: SealedStack;
  handle: StackHandle;
  /** What each step printed or exported, by step. */
  texts: Record<string, string>;
  /** The htpasswd hash of each user, as the cluster's Secret holds it, after the first `up`. */
  hashes: Record<string, string>;
  /** The Grafana pod template's password digest after the first `up`. */
  digest: string;
  salt: string;
}

const runs: Run[] = [];

async function htpasswdOf(namespace: string): Promise<Record<string, string>> {
  const secret = (await get("secret", "basic-auth-users", namespace)) as KubeObject & { data: Record<string, string> };
  const text = Buffer.from(secret.data.users, "base64").toString("utf8");
  return Object.fromEntries(
    text
      .trimEnd()
      .split("\n")
      .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1)]),
  );
}

async function grafanaDigestOf(namespace: string): Promise<string> {
  const deployment = (await get("deployment", "grafana", namespace)) as KubeObject & {
    spec: { template: { metadata: { annotations: Record<string, string> } } };
  };
  return deployment.spec.template.metadata.annotations["checksum/admin-password"];
}

/** The namespaces both stacks watch beyond their own (the stack file's apps', the billing target's): a team's, there before the stack. */
const WATCHED = ["shop-staging", "billing"];

beforeAll(async () => {
  // The collector's read access to their events is bound in them.
  for (const name of WATCHED) await apply({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
  for (const stack of STACKS) {
    const handle = await openStack("staging", { secrets: stack.secrets });
    handle.editStackFile((c) => {
      for (const [key, value] of Object.entries({ ...commonConfig(stack.name), ...stack.config })) {
        const own = c[key];
        const isMap = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
        c[key] = isMap(own) && isMap(value) ? { ...(own as object), ...(value as object) } : value;
      }
      c["monitoring:traefik"] = { ...(c["monitoring:traefik"] as object), basicAuthUsers: Object.keys(BASIC_AUTH) };
    });
    runs.push({ stack, handle, texts: {}, hashes: {}, digest: "", salt: "" });
  }
});

afterAll(async () => {
  for (const run of runs) {
    try {
      await run.handle.stack.destroy();
    } finally {
      run.handle.dispose();
      await deleteNamespace(run.stack.name);
    }
  }
  for (const name of WATCHED) await deleteNamespace(name);
});

describe("every secret key the tier can set, swept on the real engine", () => {
  test("the two stacks set every secret key but the Cloudflare provider's", () => {
    const set = new Set(STACKS.flatMap((s) => Object.keys(s.secrets).map(topKey)));
    expect(SECRET_KEYS.filter((k) => !set.has(k))).toEqual([]);
  });

  test.each(STACKS.map((s) => [s.name]))("%s: preview --diff, up, preview --diff again and stack export", async (name) => {
    const run = runs.find((r) => r.stack.name === name) as Run;
    const { stack } = run.handle;
    const before = await stack.preview({ diff: true });
    run.texts["preview --diff before the first up"] = before.stdout + before.stderr;
    const out = outputCollector();
    const up = await stack.up({ diff: true, onOutput: out.onOutput });
    expect(up.summary.result).toBe("succeeded");
    run.texts["up --diff"] = out.text() + up.stderr;
    const after = await stack.preview({ diff: true });
    run.texts["preview --diff after up"] = after.stdout + after.stderr;
    run.texts["pulumi stack export"] = (await run.handle.cli(["stack", "export"])).stdout;
    run.texts["pulumi stack output --json"] = (await run.handle.cli(["stack", "output", "--json"])).stdout;
    const outputs = await stack.outputs();
    expect(outputs[SALT_OUTPUT].secret).toBe(true);
    run.salt = String(outputs[SALT_OUTPUT].value);
    expect(Buffer.from(run.salt, "base64")).toHaveLength(32);
    run.hashes = await htpasswdOf(name);
    run.digest = await grafanaDigestOf(name);
    // The values reached the cluster: the sweep below searches texts that could have held them.
    expect(Object.keys(run.hashes)).toEqual(Object.keys(BASIC_AUTH));
    for (const [user, password] of Object.entries(BASIC_AUTH)) expect(bcrypt.compareSync(password, run.hashes[user])).toBe(true);
  });

  test.each(STACKS.map((s) => [s.name]))("%s: no secret value, nor the salt, in the preview, the up or the state", (name) => {
    const run = runs.find((r) => r.stack.name === name) as Run;
    expect(Object.keys(run.texts)).toHaveLength(5);
    expect(run.texts["pulumi stack export"]).toContain(`"${SALT_OUTPUT}"`);
    const values: Array<[string, string]> = [
      ...Object.entries(run.stack.secrets),
      [SALT_OUTPUT, run.salt],
      [`${SALT_OUTPUT} (hex)`, Buffer.from(run.salt, "base64").toString("hex")],
    ];
    const leaks: string[] = [];
    for (const [key, value] of values) {
      for (const form of [value, Buffer.from(value).toString("base64"), ...(value.match(/Sealed[A-Za-z0-9]+Q7x/g) ?? [])]) {
        for (const [where, text] of Object.entries(run.texts)) if (text.includes(form)) leaks.push(`${key} in ${where}`);
      }
    }
    expect([...new Set(leaks)]).toEqual([]);
  });
});

describe("the stack's salt on the real engine", () => {
  test("two stacks with the same users and passwords: every htpasswd hash and the Grafana digest differ", () => {
    const [a, b] = runs;
    expect(a.salt).not.toBe(b.salt);
    for (const user of Object.keys(BASIC_AUTH)) expect({ user, same: a.hashes[user] === b.hashes[user] }).toEqual({ user, same: false });
    expect(a.digest).not.toBe(b.digest);
  });

  test("a second up of the same stack changes nothing: no change previewed, none made, the same hashes", async () => {
    const [run] = runs;
    await run.handle.stack.preview({ expectNoChanges: true });
    const again = await run.handle.stack.up();
    const changes = (again.summary.resourceChanges ?? {}) as Record<string, number>;
    // "read" is the program's StackReference to its own outputs, read on every update: not a change.
    expect(Object.keys(changes).filter((k) => k !== "same" && k !== "read")).toEqual([]);
    expect(await htpasswdOf(run.stack.name)).toEqual(run.hashes);
    expect(await grafanaDigestOf(run.stack.name)).toBe(run.digest);
    expect(String((await run.handle.stack.outputs())[SALT_OUTPUT].value)).toBe(run.salt);
  });
});
