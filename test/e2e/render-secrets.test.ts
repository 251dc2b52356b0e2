/**
 * The offline render of stack files whose secrets the real Pulumi CLI encrypted (.tools/bin/pulumi,
 * a passphrase secrets provider, a local backend in a temporary directory): every secret key
 * (SECRET_KEYS, and cloudflare:apiToken) set with `pulumi config set --secret --path`, as the
 * project advises. The render cannot decrypt them: it stands in a value each key's own checks
 * take and says so. And `--secrets-file` gives a secret that `npm run render` never prints.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { SECRET_KEYS } from "../../config";
import { ROOT } from "../../cli/stackfile";
import { pulumiCli } from "./support/pulumi-cli";
import { SEALED_DATABASES, SECRET_VARIANTS, SecretVariant, plainConfig, sealedValue, topKey } from "../support/every-secret";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "render-secrets-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The Pulumi CLI in a project directory (a backend of the project's own: each variant's stack is `production`), its home and passphrase in the temporary directory. */
const pulumi = (dir: string, args: string[]) =>
  void pulumiCli(dir, args, { home: path.join(work, "pulumi-home"), passphrase: "render-secrets-test-passphrase" });

/** A value of the shape its key takes (encrypted, the render never sees it). */
const valueFor = (secretPath: string) => sealedValue(secretPath, "aRealSecretOf20Chars");

/** A project directory (Pulumi.yaml) with the variant's stack file: plain config, then each secret set by the CLI. */
function encryptedStack(variant: SecretVariant): string {
  const dir = path.join(work, variant.name);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  pulumi(dir, ["stack", "init", "production", "--secrets-provider", "passphrase"]);
  const file = path.join(dir, "Pulumi.production.yaml");
  const doc = YAML.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  fs.writeFileSync(file, YAML.stringify({ ...doc, config: plainConfig(variant) }));
  pulumi(dir, ["config", "set-all", "--path", ...variant.secrets.flatMap((p) => ["--secret", `${p}=${valueFor(p)}`])]);
  return file;
}

/** `npm run render -- <args>` as a person runs it (npm's echo of the command line included), and what it printed. */
function render(args: string[]): { status: number | null; logs: string; stdout: string; stderr: string } {
  const result = spawnSync("npm", ["run", "render", "--", ...args], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
  return { status: result.status, logs: `${result.stdout}${result.stderr}`, stdout: result.stdout, stderr: result.stderr };
}

const files = new Map<string, string>();
beforeAll(() => {
  for (const variant of SECRET_VARIANTS) files.set(variant.name, encryptedStack(variant));
}, 300_000);

test("the variants encrypt every secret key", () => {
  const given = new Set(SECRET_VARIANTS.flatMap((v) => v.secrets.map(topKey)));
  expect(SECRET_KEYS.filter((key) => !given.has(key))).toEqual([]);
  expect(given.has("cloudflare:apiToken")).toBe(true);
});

describe.each(SECRET_VARIANTS.map((v) => [v.name, v] as const))("a stack file whose every secret is encrypted (%s)", (name, variant) => {
  test("holds each secret as the CLI's ciphertext only", () => {
    const text = fs.readFileSync(files.get(name) as string, "utf8");
    expect(text).toMatch(/^encryptionsalt: v1:/m);
    expect(text).not.toContain("s3cret");
    expect(text).not.toContain("a-real-secret");
    const config = (YAML.parse(text) as { config: Record<string, unknown> }).config;
    for (const secretPath of variant.secrets) {
      const [key, ...rest] = secretPath.includes(":")
        ? [secretPath]
        : [`monitoring:${topKey(secretPath)}`, ...secretPath.split(".").slice(1)];
      const value = rest.reduce<unknown>((v, part) => (v as Record<string, unknown>)[part], config[key]);
      expect({ secretPath, value }).toEqual({ secretPath, value: { secure: expect.stringMatching(/^v1:/) as unknown } });
    }
  });

  test("renders, each secret stood in by a value its key's checks take, and says which", () => {
    const out = path.join(work, `out-${name}`);
    const result = render(["--stack", "production", "--stack-file", files.get(name) as string, "--out", out]);
    expect(result.logs).not.toMatch(/Invalid stack configuration|not a (postgres|redis|mongodb) DSN/);
    expect(result.status).toBe(0);
    const line = /^Secret values stood in \([^)]*\): (.*)$/m.exec(result.stdout);
    const named = (line?.[1] ?? "").split(", ").sort();
    expect(named).toEqual(variant.secrets.map((p) => (p.includes(":") ? p : `monitoring:${p}`)).sort());
    // The stand-ins reached the program: a DSN of each kind, naming a host that never resolves.
    const objects = fs.readFileSync(path.join(out, "kubernetes.yaml"), "utf8");
    expect(objects).toContain("kind: Secret");
    expect(fs.readFileSync(path.join(out, "SUMMARY.md"), "utf8")).toContain("Secret values stood in");
  });
});

describe("--secrets-file", () => {
  // One database's DSN from the file; another's, not given, is stood in.
  const [given, other] = SEALED_DATABASES.map(({ name }) => `databaseDsns.${name}`);
  const dsn = sealedValue(given, "Hunter2DsnQ7x");
  // npm masks a URL's password in its echo; a password on its own it prints as it is.
  const smtpPassword = "Hunter2SmtpPasswordQ7x";

  test("gives secrets that npm run render prints nowhere, and the render uses them", () => {
    const secrets = path.join(work, "secrets.yaml");
    fs.writeFileSync(secrets, `${given}: "${dsn}"\nsmtpPassword: ${smtpPassword}\n`, { mode: 0o600 });
    const out = path.join(work, "out-secrets-file");
    const file = files.get("routing") as string;
    const result = render(["--stack", "production", "--stack-file", file, "--secrets-file", secrets, "--show-secrets", "--out", out]);
    expect(result.status).toBe(0);
    // npm echoed the command line: the file's name, never what it holds.
    expect(result.logs).toContain(`--secrets-file ${secrets}`);
    expect(result.logs).not.toContain("Hunter2DsnQ7x");
    expect(result.logs).not.toContain(smtpPassword);
    // The render used them (--show-secrets writes Secrets' values), in place of their stand-ins.
    expect(fs.readFileSync(path.join(out, "kubernetes.yaml"), "utf8")).toContain(dsn);
    expect(fs.readFileSync(path.join(out, "files", "alertmanager", "alertmanager.yml"), "utf8")).toContain(smtpPassword);
    const named = (/^Secret values stood in \([^)]*\): (.*)$/m.exec(result.stdout)?.[1] ?? "").split(", ");
    expect(named).not.toContain(`monitoring:${given}`);
    expect(named).not.toContain("monitoring:smtpPassword");
    expect(named).toContain(`monitoring:${other}`);
  });

  test("where --set, which npm prints with the command line, is refused for a secret, naming the line to put in the file", () => {
    const out = path.join(work, "out-set");
    const file = files.get("routing") as string;
    const result = render(["--stack", "production", "--stack-file", file, "--set", `smtpPassword=${smtpPassword}`, "--out", out]);
    expect(result.status).toBe(1);
    // npm echoed it before the render could refuse: why it is refused.
    expect(result.logs).toContain(smtpPassword);
    expect(result.stderr).toContain("--set smtpPassword: monitoring:smtpPassword is a secret");
    expect(result.stderr).toContain("\n  smtpPassword: <value>\n");
    expect(result.stderr).not.toContain(smtpPassword);
    expect(fs.existsSync(out)).toBe(false);
  });
});
