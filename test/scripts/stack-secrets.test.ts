/**
 * Secrets off the command line, in every command that reads a stack (render, alert:test, restore):
 * each takes `--secrets-file` (warning when others may read it) and `--oidc-discovery`, and refuses
 * a `--set` of a key marked secret with the line to put in the secrets file instead, never the
 * value. Each command's body is run as its entry runs it (test/support/command-run.ts).
 */
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import * as YAML from "yaml";
import { main as alertTest } from "../../cli/commands/alert-test";
import { main as render } from "../../cli/commands/render";
import { main as restore } from "../../cli/commands/restore";
import { parseArgs as parseAlertTestArgs } from "../../cli/alert-test";
import { parseRestoreArgs } from "../../cli/restore";
import { ROOT, readStackConfig, secretsFileHint, secretsFileLine, secretsFileWarning } from "../../cli/stackfile";
import { runCommand, withKubectl } from "../support/command-run";
import { tempDirs } from "../support/temp";

const VALUE = "Hunter2SecretQ7x";

const tempDir = tempDirs("stack-secrets");
let dir: string;
beforeAll(() => {
  dir = tempDir();
});

/** A secrets file of these lines, with this mode. */
function secretsFile(name: string, lines: Record<string, string>, mode = 0o600): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, YAML.stringify(lines));
  fs.chmodSync(file, mode);
  return file;
}

describe("--set of a key marked secret", () => {
  let root: string;
  beforeAll(() => {
    root = path.join(dir, "project");
    fs.mkdirSync(root);
    fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: monitoring\nruntime: nodejs\n");
    fs.writeFileSync(
      path.join(root, "Pulumi.demo.yaml"),
      YAML.stringify({ config: { "monitoring:profile": "staging", "monitoring:apps": [{ name: "api", token: { secure: "v1:AAAA" } }] } }),
    );
  });
  const refusal = (set: string) => {
    try {
      readStackConfig("demo", [set], root, undefined, [], { refuseSecretSets: true });
    } catch (err) {
      return (err as Error).message;
    }
    return "accepted";
  };

  test.each([
    ["smtpPassword", "monitoring:smtpPassword"],
    ["slackWebhookUrls.oncall", "monitoring:slackWebhookUrls.oncall"],
    ["monitoring:grafanaAdminPassword", "monitoring:grafanaAdminPassword"],
    ["cloudflare:apiToken", "cloudflare:apiToken"],
    // Not a secret key of the project, but secure in the stack file: secret all the same.
    ["apps[0].token", "monitoring:apps[0].token"],
  ])("%s is refused with the line of a secrets file, never its value", (key, shown) => {
    const message = refusal(`${key}=${VALUE}`);
    expect(message).toContain(`--set ${key}: ${shown} is a secret`);
    expect(message).toContain(`\n  ${key}: <value>\n`);
    expect(message).toContain("--secrets-file <file>");
    expect(message).not.toContain(VALUE);
  });

  test("a plain key is taken; a path a YAML key cannot hold bare is quoted; the lab's sets are not checked", () => {
    expect(refusal("prometheus.retention=10d")).toBe("accepted");
    expect(secretsFileLine('databaseDsns["db.eu"]')).toBe('"databaseDsns[\\"db.eu\\"]": <value>');
    expect(readStackConfig("demo", [`smtpPassword=${VALUE}`], root).secretKeys).toContain("monitoring:smtpPassword");
  });
});

describe("--secrets-file's mode", () => {
  test("a file its group or every user can read is named with chmod 600; the owner's alone is not", () => {
    const open = secretsFile("open.yaml", { smtpPassword: VALUE }, 0o644);
    expect(secretsFileWarning(open)).toBe(
      `--secrets-file ${open}: its group and every user of this machine can read it (mode 0644); make it yours alone: chmod 600 ${open}`,
    );
    expect(secretsFileWarning(secretsFile("group.yaml", { smtpPassword: VALUE }, 0o640))).toMatch(/: its group can read it \(mode 0640\)/);
    expect(secretsFileWarning(secretsFile("own.yaml", { smtpPassword: VALUE }, 0o600))).toBeUndefined();
  });
});

describe("every command that reads a stack takes --secrets-file and --oidc-discovery", () => {
  test("their arguments", () => {
    expect(parseAlertTestArgs(["--stack", "s", "--secrets-file", "a.yaml", "--oidc-discovery", "d.json"])).toMatchObject({
      secretsFile: "a.yaml",
      oidcDiscovery: "d.json",
    });
    expect(
      parseRestoreArgs(["--stack", "s", "--component", "loki", "--list", "--secrets-file", "a.yaml", "--oidc-discovery", "d.json"]),
    ).toMatchObject({ secretsFile: "a.yaml", oidcDiscovery: "d.json" });
    expect(parseRestoreArgs(["--stack", "s", "--component", "loki", "--list", "--secrets-file"])).toMatch(/^--secrets-file needs a file/);
  });

  test.each([
    ["render", () => render(), ["--stack", "staging", "--out", "OUT"]],
    ["alert:test", () => alertTest(), ["--stack", "staging", "--url", "http://127.0.0.1:9"]],
  ])("npm run %s refuses --set smtpPassword before it reads anything else, naming the line", async (_name, body, args) => {
    const { err, code } = await runCommand(body, [
      ...args.map((a) => a.replace("OUT", path.join(dir, "never"))),
      "--set",
      `smtpPassword=${VALUE}`,
    ]);
    expect(code).not.toBe(0);
    expect(err).toContain("--set smtpPassword: monitoring:smtpPassword is a secret");
    expect(err).toContain("\n  smtpPassword: <value>\n");
    expect(err).not.toContain(VALUE);
    expect(fs.existsSync(path.join(dir, "never"))).toBe(false);
  });

  test("alert:test renders with the secrets file, warns of its mode, and names the URL it could not reach with the port-forward to run", async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const receivers = ["--set", "alertmanager.receivers=[{name: ops, webhook: {}}]", "--set", "alertmanager.defaultReceiver=ops"];
    const url = `http://127.0.0.1:${closed}`;
    // Without the webhook's URL, the stack is refused: the secrets file is what gives it.
    const without = await runCommand(() => alertTest(), ["--stack", "staging", "--url", url, ...receivers]);
    expect(without.err).toMatch(/webhookUrls/);
    const file = secretsFile("alert-test.yaml", { "webhookUrls.ops": "http://127.0.0.1:1/ops" }, 0o644);
    const { err, code } = await runCommand(() => alertTest(), ["--stack", "staging", "--url", url, "--secrets-file", file, ...receivers]);
    expect(code).not.toBe(0);
    expect(err).toContain(`alert:test: warning: --secrets-file ${file}: its group and every user of this machine can read it`);
    expect(err).toContain(
      `cannot reach Alertmanager at ${url}/metrics (ECONNREFUSED): is the port-forward running? ` +
        "kubectl -n monitoring-staging port-forward svc/alertmanager 9093, then --url http://127.0.0.1:9093",
    );
  });

  test("restore renders with the secrets file (the backup's keys), then asks kubectl for the Job", async () => {
    const job = path.join(dir, "job.json");
    const kubectl = {
      subject: '"$1 $2"',
      answers: [
        ['"config current-context"', "echo lab"],
        ['"get namespace"', "echo namespace/monitoring-staging"],
        ['"create -f"', `cat > ${job}; echo "refused by the test's kubectl" >&2; exit 1`],
      ],
    } as const;
    await withKubectl(dir, kubectl, async () => {
      const backup = [
        "backup.enabled=true",
        "backup.bucket=monitoring-backups",
        "backup.endpoint=https://0123456789abcdef.r2.cloudflarestorage.com",
      ];
      const args = ["--stack", "staging", "--component", "loki", "--list", ...backup.flatMap((s) => ["--set", s])];
      const without = await runCommand(() => restore(), args);
      expect(without.err).toMatch(/backupAccessKeyId/);
      expect(fs.existsSync(job)).toBe(false);
      const file = secretsFile("restore.yaml", { backupAccessKeyId: "backup-access-key-id", backupSecretAccessKey: VALUE });
      const { err, code } = await runCommand(() => restore(), [...args, "--secrets-file", file]);
      expect({ code, err }).toEqual({
        code: 1,
        err: expect.stringMatching(/^kubectl could not create job list-loki-\d+: refused by the test's kubectl$/),
      });
      expect(JSON.parse(fs.readFileSync(job, "utf8"))).toMatchObject({ kind: "Job", metadata: { namespace: "monitoring-staging" } });
      expect(fs.readFileSync(job, "utf8")).not.toContain(VALUE);
    });
  });
});

describe("--oidc-discovery: the issuer's discovery document from a file, offline", () => {
  const issuer = "https://id.acme.com/realms/acme";
  const document = {
    issuer,
    authorization_endpoint: `${issuer}/protocol/openid-connect/auth`,
    token_endpoint: `${issuer}/protocol/openid-connect/token`,
    userinfo_endpoint: `${issuer}/protocol/openid-connect/userinfo`,
  };
  let stackFile: string;
  let secrets: string;
  beforeAll(() => {
    const stack = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8")) as { config: Record<string, unknown> };
    stack.config["monitoring:domain"] = "example.com";
    stack.config["monitoring:grafana"] = {
      ...(stack.config["monitoring:grafana"] as object),
      signIn: { oidc: { name: "Keycloak", clientId: "grafana", issuer, groups: ["monitoring"] } },
    };
    stackFile = path.join(dir, "Pulumi.staging.yaml");
    fs.writeFileSync(stackFile, YAML.stringify(stack));
    secrets = secretsFile("oidc.yaml", { grafanaOidcClientSecret: VALUE });
  });
  const renderWith = (out: string, extra: string[]) =>
    runCommand(
      () => render(),
      ["--stack", "staging", "--stack-file", stackFile, "--secrets-file", secrets, "--out", path.join(dir, out), ...extra],
    );

  test("the endpoints the stack does not give are read from the file, as preview reads them from the issuer", async () => {
    const discovery = path.join(dir, "discovery.json");
    fs.writeFileSync(discovery, JSON.stringify(document));
    const { err, code } = await renderWith("oidc", ["--oidc-discovery", discovery]);
    expect({ err, code }).toEqual({ err: "", code: 0 });
    const ini = fs.readFileSync(path.join(dir, "oidc", "files", "grafana", "grafana.ini"), "utf8");
    expect(ini).toContain(`auth_url = ${document.authorization_endpoint}`);
    expect(ini).toContain(`token_url = ${document.token_endpoint}`);
    expect(ini).toContain(`api_url = ${document.userinfo_endpoint}`);
  });

  test("without it, each endpoint is asked for, with the curl line and the option; a document of another issuer is refused", async () => {
    const without = await renderWith("no-oidc", []);
    expect(without.code).toBe(1);
    expect(without.err).toContain(
      `monitoring:grafana.signIn.oidc.authUrl: is needed by the offline commands, which read no network: give the provider's authorization_endpoint, or its discovery document saved to a file (curl -fsS ${issuer}/.well-known/openid-configuration -o discovery.json, then --oidc-discovery discovery.json)`,
    );
    const other = path.join(dir, "other.json");
    fs.writeFileSync(other, JSON.stringify({ ...document, issuer: "https://evil.example.com" }));
    const refused = await renderWith("other-oidc", ["--oidc-discovery", other]);
    expect(refused.err).toMatch(
      /monitoring:grafana\.signIn\.oidc\.issuer: its discovery document --oidc-discovery \S*other\.json \(.*\) names another issuer/,
    );
  });
});

test("a refusal's secrets, as the lines of a secrets file: each asked-for secret once, none for a value refused for being in plain text", () => {
  const refusal = [
    "Invalid stack configuration (3 problems):",
    "  - monitoring:alertmanager.smtp.username: is set, so the password is needed: pulumi config set --secret smtpPassword <value>",
    "  - monitoring:databases[0]: needs its DSN: pulumi config set --secret --path 'databaseDsns.orders' <dsn>",
    "  - monitoring:grafanaAdminPassword: must be a secret; set it with: pulumi config set --secret grafanaAdminPassword <value>",
  ].join("\n");
  expect(secretsFileHint(refusal)?.split("\n").slice(1)).toEqual(["  smtpPassword: <value>", "  databaseDsns.orders: <value>"]);
  expect(secretsFileHint("Invalid stack configuration (1 problem):\n  - monitoring:nodes: must be at least 1 (got 0)")).toBeUndefined();
});
