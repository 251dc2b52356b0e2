/** The offline render: the command line, the stack-file reader and the output files. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../config";
import * as YAML from "yaml";
import { ALERTMANAGER_SECRET_KEYS, SUMMARY_FILE, maskSecrets, secretConfigValues, summaryMarkdown } from "../../cli/render";
import { placeholderFor, readStackConfig } from "../../cli/stackfile";
import { scaledMs } from "../support/time-scale";
import { packageScripts } from "../support/npm-script";

const ROOT = path.resolve(__dirname, "..", "..");

/** `npm run render -- <args>`, as a person types it. */
function renderCli(args: string[]) {
  return spawnSync("npm", ["run", "--silent", "render", "--", ...args], { cwd: ROOT, encoding: "utf8", timeout: scaledMs(120_000) });
}

/** The lines of a summary, printed or in SUMMARY.md, without what only sets them out (indents, Markdown marks, a title's colon). */
function summaryFacts(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.replace(/^(#+ | {2})/, "").replace(/:$/, ""))
    .filter((line) => line !== "" && !line.startsWith("```"));
}

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

describe("npm run render", () => {
  test("writes the stack's objects, Cloudflare resources, outputs and a summary", () => {
    const out = tempDir("render-cli-");
    const result = renderCli(["--stack", "staging", "--out", out]);
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Rendered stack "staging" to ${out}`);
    expect(result.stdout).toMatch(/Objects per component:\n {2}\S+ +\d+/);
    expect(result.stdout).toMatch(/Requested: \d+m CPU, [\d.]+ \S+ memory/);
    // What a reviewer checks first: the apps and their metrics, where alerts go, what is public.
    expect(result.stdout).toContain("Apps (requests, latency histogram, status label):\n  api: shop_http_requests_total, ");
    // Whether Jaeger runs, and why: none of the stack file's apps sends OTLP (test/config/tracing.test.ts: every case).
    expect(result.stdout).toContain("\nTraces: off, by default: no app sends OTLP (apps[].otlp); tracing.enabled not set\n");
    expect(result.stdout).toContain('Alert receivers:\n  none: every alert goes to the "null" receiver\n');
    expect(result.stdout).toContain(
      'Alert routes (first match wins unless it continues):\n  watchdog="true" -> null\n  anything else -> null\n',
    );
    expect(result.stdout).toContain(
      "Public hostnames:\n  grafana: https://grafana.staging.example.com\n  prometheus: https://prometheus.staging.example.com\n",
    );
    // The team's own content, here none (the repository has no team/ directory).
    if (!fs.existsSync(path.join(ROOT, "team"))) expect(result.stdout).toContain("Team content: none (no team/ directory)\n");
    // The routing tree is readable in the render, although the deployed file lives in a Secret.
    expect(fs.readFileSync(path.join(out, "files", "alertmanager", "alertmanager.yml"), "utf8")).toMatch(/^global:\n/);
    for (const file of ["kubernetes.yaml", "cloudflare.yaml", "outputs.json"]) expect(fs.existsSync(path.join(out, file))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(out, "outputs.json"), "utf8"))).toMatchObject({
      environment: "staging",
      namespace: "monitoring-staging",
    });
    // The summary ships in the render, for a reviewer of the CI artifact: what the terminal said, as Markdown.
    const markdown = fs.readFileSync(path.join(out, SUMMARY_FILE), "utf8");
    expect(markdown.slice(0, markdown.indexOf("```text\n"))).toBe(`# Rendered stack "staging" to ${out}\n\n## Objects per component\n\n`);
    expect(markdown).toContain(
      '## Alert routes (first match wins unless it continues)\n\n```text\nwatchdog="true" -> null\nanything else -> null\n```\n',
    );
    expect(summaryFacts(markdown)).toEqual(summaryFacts(result.stdout));
    fs.rmSync(out, { recursive: true, force: true });
  });

  test("its SUMMARY.md says what the terminal says, secrets as hidden, placeholders named", () => {
    const dir = tempDir("render-cli-summary-");
    const out = path.join(dir, "out");
    // A stack whose file holds a secure value the render cannot decrypt, and a secret given in a secrets file.
    const stack = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8")) as { config: Record<string, unknown> };
    stack.config["monitoring:deadMansSwitchUrl"] = { secure: "v1:ciphertext-the-render-cannot-decrypt" };
    const file = path.join(dir, "Pulumi.staging.yaml");
    fs.writeFileSync(file, YAML.stringify(stack));
    const webhook = "https://hooks.slack.com/services/T0/B0/summary-s3cret";
    const secrets = path.join(dir, "secrets.yaml");
    fs.writeFileSync(secrets, `slackWebhookUrls.team: ${webhook}\n`, { mode: 0o600 });
    const result = renderCli([
      ...["--stack", "staging", "--stack-file", file, "--out", out],
      ...["--set", "alertmanager.receivers=[{name: team, slack: {channel: '#alerts'}}]", "--set", "alertmanager.defaultReceiver=team"],
      ...["--secrets-file", secrets],
    ]);
    expect(result.status).toBe(0);
    const markdown = fs.readFileSync(path.join(out, SUMMARY_FILE), "utf8");
    expect(summaryFacts(markdown)).toEqual(summaryFacts(result.stdout));
    expect(markdown).toContain("## Alert receivers\n\n```text\nteam: slack #alerts\n");
    expect(markdown).toContain(
      "\nSecret values stood in (encrypted in the stack file, which the render cannot decrypt; give them with --secrets-file to render them): monitoring:deadMansSwitchUrl\n",
    );
    for (const text of [result.stdout, markdown]) expect(text).not.toContain("summary-s3cret");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("SUMMARY.md: the title, each titled list a section (aligned lines in a code block, sentences a list), other lines paragraphs", () => {
    const text = [
      'Rendered stack "x" to out/x',
      "",
      "Objects per component:",
      "  grafana  12",
      "  total    40 Kubernetes objects",
      "",
      "Team content: none (no team/ directory)",
      "",
      "Requested: 220m CPU, 1.22 GiB memory",
      "Files: 3 config files under out/x/files",
      "",
      "Warnings:",
      "  - No alert receiver is configured: nobody is notified.",
    ].join("\n");
    expect(summaryMarkdown(text)).toBe(
      [
        '# Rendered stack "x" to out/x',
        "",
        "## Objects per component",
        "",
        "```text",
        "grafana  12",
        "total    40 Kubernetes objects",
        "```",
        "",
        "Team content: none (no team/ directory)",
        "",
        "Requested: 220m CPU, 1.22 GiB memory",
        "",
        "Files: 3 config files under out/x/files",
        "",
        "## Warnings",
        "",
        "- No alert receiver is configured: nobody is notified.",
        "",
      ].join("\n"),
    );
  });

  test("names the team's own rules and dashboards an example's stack file ships", () => {
    const out = tempDir("render-cli-team-");
    const file = path.join("examples", "gauzian", "Pulumi.production.yaml");
    const result = renderCli([
      "--stack",
      "production",
      "--stack-file",
      file,
      "--out",
      out,
      "--secrets-file",
      path.join("examples", "gauzian", "secrets.example.yaml"),
    ]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(
      "Team content (examples/gauzian/team/):\n  rules: team.gauzian.yml\n  dashboards: gauzian/files.json\n",
    );
    const markdown = fs.readFileSync(path.join(out, SUMMARY_FILE), "utf8");
    expect(markdown).toContain(
      "## Team content (examples/gauzian/team/)\n\n```text\nrules: team.gauzian.yml\ndashboards: gauzian/files.json\n```\n",
    );
    for (const text of [result.stdout, markdown])
      for (const secret of ["minio-token-0123456789", "smtp-password-0123"]) expect(text).not.toContain(secret);
    fs.rmSync(out, { recursive: true, force: true });
  });

  test("refuses bad config with every problem and leaves a previous render alone", () => {
    const out = tempDir("render-cli-bad-");
    fs.writeFileSync(path.join(out, "kubernetes.yaml"), "previous render\n");
    const result = renderCli(["--stack", "staging", "--out", out, "--set", "prometheus.retention=15 days", "--set", "grafana.replicas=0"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Invalid stack configuration (2 problems):");
    expect(result.stderr).toContain(
      'monitoring:prometheus.retention: must be a positive Prometheus duration such as 15s, 5m, 12h, 30d or 1h30m (got "15 days")',
    );
    expect(result.stderr).toContain("monitoring:grafana.replicas: must be at least 1 (got 0)");
    expect(fs.readFileSync(path.join(out, "kubernetes.yaml"), "utf8")).toBe("previous render\n");
    fs.rmSync(out, { recursive: true, force: true });
  });

  test("a refusal for missing secrets also says how the render takes them: the lines of a secrets file, which then render", () => {
    const out = tempDir("render-cli-secrets-");
    const sets = [
      "--set",
      "alertmanager.receivers=[{name: oncall, slack: {channel: '#oncall'}}, {name: mail, email: {to: [ops@example.com]}}]",
      "--set",
      "alertmanager.defaultReceiver=mail",
      "--set",
      "alertmanager.smtp={smarthost: 'smtp.example.com:587', from: alerts@example.com, username: alerts@example.com}",
    ];
    const refused = renderCli(["--stack", "staging", "--out", out, ...sets]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("pulumi config set --secret smtpPassword <value>");
    expect(refused.stderr).toContain("pulumi config set --secret --path 'slackWebhookUrls.oncall' <url>");
    const hint =
      "Or, for the offline render alone, give them in a file only you can read (chmod 600 <file>) with --secrets-file <file>, holding the lines:\n" +
      "  smtpPassword: <value>\n  slackWebhookUrls.oncall: <value>\n";
    expect(refused.stderr.endsWith(hint)).toBe(true);
    // The lines it gives, each with a value, are what the render takes.
    const secrets = path.join(out, "secrets.yaml");
    fs.writeFileSync(secrets, "smtpPassword: a-password-of-20-chars\nslackWebhookUrls.oncall: https://hooks.slack.com/services/T0/B0/x\n", {
      mode: 0o600,
    });
    const rendered = renderCli(["--stack", "staging", "--out", path.join(out, "render"), ...sets, "--secrets-file", secrets]);
    expect({ status: rendered.status, stderr: rendered.stderr }).toEqual({ status: 0, stderr: "" });
    fs.rmSync(out, { recursive: true, force: true });
  });

  test("rejects unknown arguments with the usage", () => {
    const result = renderCli(["--stack", "staging", "--bogus"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('unknown argument "--bogus"');
    expect(result.stderr).toContain("usage: npm run render -- --stack <name>");
  });
});

describe("the fast start of npm run render (cli/fast-start.js)", () => {
  const node = (code: string) =>
    spawnSync(process.execPath, ["-r", "./cli/fast-start.js", "-e", code], { cwd: ROOT, encoding: "utf8", timeout: scaledMs(120_000) });

  test("a TypeScript file runs from the cache until it changes, then as changed", () => {
    const dir = tempDir("fast-start-");
    const file = path.join(dir, "value.ts");
    // Its entry: the path under the checkout with the separators replaced, the key (64 hex digits), then the JavaScript.
    const entry = path.join(ROOT, "node_modules", ".cache", "fast-start", path.relative(ROOT, file).replace(/[\\/]/g, "__"));
    const run = () => node(`console.log(require(${JSON.stringify(file)}).value)`);
    fs.writeFileSync(file, "export const value: number = 1;\n");
    expect(run().stdout).toBe("1\n");
    const kept = fs.readFileSync(entry, "utf8");
    expect(kept).toMatch(/^[0-9a-f]{64}[^]*exports\.value = 1;/);
    // What the next run runs is the entry's JavaScript, not the file transpiled again.
    fs.writeFileSync(entry, kept.replace("exports.value = 1;", "exports.value = 3;"));
    expect(run().stdout).toBe("3\n");
    fs.writeFileSync(file, "export const value: number = 2;\n");
    expect(run().stdout).toBe("2\n");
    expect(fs.readFileSync(entry, "utf8").slice(0, 64)).not.toBe(kept.slice(0, 64));
    fs.rmSync(entry);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("every command that runs a file of scripts/ starts through it: each file is transpiled once, not on every run", () => {
    const commands = Object.entries(packageScripts()).filter(([, line]) => /\bscripts\/[a-z-]+\.ts\b/.test(line));
    // render, bench, tools, check, migrate, restore and the others (render-matrix.sh is no npm script).
    expect(commands.length).toBeGreaterThanOrEqual(15);
    for (const [name, line] of commands)
      expect({ name, line }).toEqual({ name, line: expect.stringMatching(/^node -r \.\/cli\/fast-start\.js scripts\/[a-z-]+\.ts$/) });
  });

  test("the SDK modules it loads on first use still work when used: a closure serializes, a package's code paths resolve", () => {
    const result = node(`
      const pulumi = require("@pulumi/pulumi");
      const { computeCodePaths } = require("@pulumi/pulumi/runtime/closure/codePaths");
      (async () => {
        const closure = await pulumi.runtime.serializeFunction(() => 42);
        const paths = await computeCodePaths({ extraIncludePackages: ["yaml"] });
        console.log(closure.text.includes("42"), [...paths.keys()].some((p) => p.includes("yaml")));
      })().catch((err) => { console.error(err); process.exit(1); });
    `);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("true true\n");
  });
});

describe("masking the secret values of a file a reviewer diffs", () => {
  const secrets = secretConfigValues(
    "monitoring",
    {
      "monitoring:slackWebhookUrls": JSON.stringify({ deployment: "https://hooks.slack.com/services/T/B/deploy-token" }),
      "monitoring:smtpPassword": "hunter2-password",
      "monitoring:domain": "example.com",
    },
    ["monitoring:slackWebhookUrls", "monitoring:smtpPassword"],
  );

  test("each secret value becomes a mask naming its key, a URL where the value is one; plain values stay", () => {
    expect(secrets).toEqual([
      { key: "slackWebhookUrls.deployment", value: "https://hooks.slack.com/services/T/B/deploy-token" },
      { key: "smtpPassword", value: "hunter2-password" },
    ]);
    const file = YAML.stringify({
      global: { smtp_auth_password: "hunter2-password", smtp_from: "alerts@example.com" },
      receivers: [
        { name: "deployment", slack_configs: [{ api_url: "https://hooks.slack.com/services/T/B/deploy-token", channel: "#deployment" }] },
      ],
    });
    expect(YAML.parse(maskSecrets(file, secrets) ?? "")).toEqual({
      global: { smtp_auth_password: "<secret: smtpPassword>", smtp_from: "alerts@example.com" },
      receivers: [
        {
          name: "deployment",
          slack_configs: [{ api_url: "https://masked.invalid/secret/slackWebhookUrls.deployment", channel: "#deployment" }],
        },
      ],
    });
  });

  test("two secrets with the same value: each is masked by its own key (its receiver's, the file's own)", () => {
    const same = secretConfigValues(
      "monitoring",
      {
        "monitoring:backupAccessKeyId": "same-value-0123456789abcdef",
        "monitoring:pagerdutyRoutingKeys": JSON.stringify({ oncall: "same-value-0123456789abcdef" }),
        "monitoring:slackWebhookUrls": JSON.stringify({
          a: "https://hooks.slack.com/services/T/B/one",
          b: "https://hooks.slack.com/services/T/B/one",
        }),
        "monitoring:backupSecretAccessKey": "shared-password-0123",
        "monitoring:smtpPassword": "shared-password-0123",
      },
      [
        "monitoring:backupAccessKeyId",
        "monitoring:pagerdutyRoutingKeys",
        "monitoring:slackWebhookUrls",
        "monitoring:backupSecretAccessKey",
        "monitoring:smtpPassword",
      ],
    );
    const slack = (name: string) => ({ name, slack_configs: [{ api_url: "https://hooks.slack.com/services/T/B/one" }] });
    const file = YAML.stringify({
      global: { smtp_auth_password: "shared-password-0123" },
      receivers: [slack("b"), { name: "oncall", pagerduty_configs: [{ routing_key: "same-value-0123456789abcdef" }] }, slack("a")],
    });
    const maskedSlack = (name: string) => ({
      name,
      slack_configs: [{ api_url: `https://masked.invalid/secret/slackWebhookUrls.${name}` }],
    });
    expect(YAML.parse(maskSecrets(file, same, ALERTMANAGER_SECRET_KEYS) ?? "")).toEqual({
      global: { smtp_auth_password: "<secret: smtpPassword>" },
      receivers: [
        maskedSlack("b"),
        { name: "oncall", pagerduty_configs: [{ routing_key: "<secret: pagerdutyRoutingKeys.oncall>" }] },
        maskedSlack("a"),
      ],
    });
  });

  test("a secret inside a longer text cannot be masked alone: the file is refused, for the caller to redact it whole", () => {
    expect(maskSecrets(YAML.stringify({ note: "the password is hunter2-password" }), secrets)).toBeUndefined();
  });
});

describe("reading a stack file", () => {
  let root: string;
  beforeEach(() => {
    root = tempDir("stackfile-");
    fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: monitoring\nruntime: nodejs\n");
    fs.writeFileSync(
      path.join(root, "Pulumi.demo.yaml"),
      [
        "config:",
        "  monitoring:profile: staging",
        "  monitoring:prometheus:",
        "    retention: 7d",
        "    replicas: 1",
        "  monitoring:discordWebhookUrl:",
        "    secure: v1:AAAABBBB",
        "  monitoring:databaseDsns:",
        "    orders:",
        "      secure: v1:CCCC",
        "  cloudflare:apiToken:",
        "    secure: v1:DDDD",
        "",
      ].join("\n"),
    );
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test("passes values as the Pulumi CLI does and stands in each secure value, named", () => {
    const input = readStackConfig("demo", [], root);
    expect(input.config).toEqual({
      "monitoring:profile": "staging",
      "monitoring:prometheus": JSON.stringify({ retention: "7d", replicas: 1 }),
      "monitoring:discordWebhookUrl": "https://placeholder.invalid/secret/discordWebhookUrl",
      // Each secret key's own stand-in: a DSN (of PostgreSQL: no database names the kind of "orders").
      "monitoring:databaseDsns": JSON.stringify({ orders: "postgresql://placeholder@orders.placeholder.invalid:5432/placeholder" }),
      "cloudflare:apiToken": "PLACEHOLDER-secret-apiToken",
    });
    expect(input.secretKeys).toEqual(["cloudflare:apiToken", "monitoring:databaseDsns", "monitoring:discordWebhookUrl"]);
    expect(input.placeholders).toEqual(["monitoring:discordWebhookUrl", "monitoring:databaseDsns.orders", "cloudflare:apiToken"]);
  });

  test("--set overrides plain and secret keys, with or without the project prefix, by path, with YAML values", () => {
    const input = readStackConfig(
      "demo",
      [
        "prometheus.retention=30d",
        "monitoring:discordWebhookUrl=https://discord.com/api/webhooks/1/x",
        "apps=[{name: api, url: 'http://api:8080/metrics'}]",
        "slackWebhookUrls.deployment=https://hooks.slack.com/services/A/B/C",
      ],
      root,
    );
    expect(JSON.parse(input.config["monitoring:prometheus"])).toEqual({ retention: "30d", replicas: 1 });
    expect(input.config["monitoring:discordWebhookUrl"]).toBe("https://discord.com/api/webhooks/1/x");
    expect(JSON.parse(input.config["monitoring:apps"])).toEqual([{ name: "api", url: "http://api:8080/metrics" }]);
    expect(input.secretKeys).toEqual(expect.arrayContaining(["monitoring:discordWebhookUrl", "monitoring:slackWebhookUrls"]));
    expect(input.placeholders).not.toContain("monitoring:discordWebhookUrl");
  });

  test("a key without the project prefix is the project's, as the Pulumi CLI reads it: it takes effect, and an unknown one is refused", () => {
    const stackFile = path.join(root, "Pulumi.demo.yaml");
    // `storage` is a dedent slip of prometheus.storage; test/e2e/stack-file-keys.test.ts holds the CLI's own reading.
    fs.writeFileSync(stackFile, "config:\n  monitoring:profile: staging\n  protectVolumes: true\n");
    const input = readStackConfig("demo", [], root);
    expect(input.config["monitoring:protectVolumes"]).toBe("true");
    expect(input.config).not.toHaveProperty("protectVolumes");
    const parsed = parseStackConfig({ project: input.project, stack: "demo", values: input.config, secretKeys: input.secretKeys });
    expect(parsed.config.protectVolumes).toBe(true);

    fs.writeFileSync(stackFile, "config:\n  monitoring:profile: staging\n  storage: { size: 40Gi }\n");
    const slip = readStackConfig("demo", [], root);
    expect(() => parseStackConfig({ project: slip.project, stack: "demo", values: slip.config, secretKeys: slip.secretKeys })).toThrow(
      /^Invalid stack configuration \(1 problem\):\n {2}- monitoring:storage: unknown key \(did you mean "prometheus\.storage"/,
    );
  });

  test("a key written both with and without the project prefix is refused: the Pulumi CLI reads either", () => {
    const stackFile = path.join(root, "Pulumi.demo.yaml");
    fs.writeFileSync(stackFile, "config:\n  monitoring:profile: staging\n  profile: production\n");
    expect(() => readStackConfig("demo", [], root)).toThrow(
      `${path.relative(process.cwd(), stackFile)}: monitoring:profile is written twice, as profile and as monitoring:profile: ` +
        "the Pulumi CLI reads one or the other from run to run; keep one",
    );
  });

  test("a missing stack file and a malformed --set are reported", () => {
    expect(() => readStackConfig("nope", [], root)).toThrow(/no stack file .*Pulumi\.nope\.yaml/);
    expect(() => readStackConfig("demo", ["novalue"], root)).toThrow('--set needs key=value, got "novalue"');
  });

  test("a YAML mistake in the stack file or Pulumi.yaml names the file, the line and the column", () => {
    const stackFile = path.join(root, "Pulumi.demo.yaml");
    fs.writeFileSync(stackFile, "config:\n  monitoring:prometheus:\n    retention: 7d\n   replicas: 1\n");
    expect(() => readStackConfig("demo", [], root)).toThrow(
      `${path.relative(process.cwd(), stackFile)}: is not valid YAML at line 4, column 1: All mapping items must start at the same column`,
    );
    fs.writeFileSync(stackFile, "config:\n  monitoring:nodes: 1\n  monitoring:nodes: 2\n");
    expect(() => readStackConfig("demo", [], root)).toThrow(
      /Pulumi\.demo\.yaml: is not valid YAML at line 3, column 3: Map keys must be unique$/,
    );
    fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: monitoring\nruntime: [nodejs\n");
    expect(() => readStackConfig("demo", [], root)).toThrow(/Pulumi\.yaml: is not valid YAML at line 3, column 1: /);
  });

  test("a stack that does not exist is reported with the stacks that do", () => {
    fs.writeFileSync(path.join(root, "Pulumi.prod-eu.yaml"), "config: {}\n");
    expect(() => readStackConfig("prod", [], root)).toThrow(/no stack file .*Pulumi\.prod\.yaml; the stacks here are: demo, prod-eu$/);
  });

  test("--set takes list indices and quoted names in a path, as pulumi config set --path does", () => {
    const input = readStackConfig(
      "demo",
      [
        "apps=[{name: api, url: 'http://api:8080/metrics'}, {name: web, namespace: shop, service: web, port: http}]",
        "apps[1].port=8080",
        "apps[0].labels.team=core",
        "apps[2]={name: admin, url: 'http://admin/metrics'}",
        'databaseDsns["orders"]=postgresql://u:p@orders/db',
      ],
      root,
    );
    expect(JSON.parse(input.config["monitoring:apps"])).toEqual([
      { name: "api", url: "http://api:8080/metrics", labels: { team: "core" } },
      { name: "web", namespace: "shop", service: "web", port: 8080 },
      { name: "admin", url: "http://admin/metrics" },
    ]);
    expect(JSON.parse(input.config["monitoring:databaseDsns"])).toEqual({ orders: "postgresql://u:p@orders/db" });
    expect(input.placeholders).not.toContain("monitoring:databaseDsns.orders");
    expect(() => readStackConfig("demo", ["apps[3].port=1"], root)).toThrow(
      /--set apps\[3\]\.port: index 3 is out of range; the list has 0 entries/,
    );
    expect(() => readStackConfig("demo", ["prometheus[0]=1"], root)).toThrow(
      /--set prometheus\[0\]: \[0\] indexes a list, but there is a map/,
    );
    expect(() => readStackConfig("demo", ["apps[x].port=1"], root)).toThrow(/is not a config path such as/);
  });

  test("--set never echoes a value, and a value with no JSON form reaches the program as what it is", () => {
    expect(() => readStackConfig("demo", ["=hunter2-secret"], root)).toThrow('--set needs key=value, got "=…" without a key');
    const input = readStackConfig("demo", ["prometheus.replicas=.inf"], root);
    expect(input.config["monitoring:prometheus"]).toBe('{"retention":"7d","replicas":1e999}');
    expect(() => parseStackConfig({ project: input.project, stack: "demo", values: input.config, secretKeys: input.secretKeys })).toThrow(
      "monitoring:prometheus.replicas: must be a whole number (got Infinity)",
    );
  });

  test("placeholders are shaped like the values they stand for", () => {
    expect(placeholderFor("monitoring:webhookUrl")).toMatch(/^https:\/\/placeholder\.invalid\//);
    expect(placeholderFor("monitoring:slackWebhookUrls.deployment")).toBe("https://placeholder.invalid/secret/slackWebhookUrls.deployment");
    expect(placeholderFor("monitoring:grafanaAdminPassword").length).toBeGreaterThanOrEqual(12);
  });
});
