/**
 * The stack's salt (preflight/stack-salt.ts) across deployments, under the mocks: drawn on a
 * first deployment, exported as a secret, read back by the next one through the stack's
 * StackReference to itself (RunInput.previousOutputs), and what it keys: the basic-auth
 * bcrypt salts and the Grafana admin password's digest. And the offline render's stand-in.
 */
import { Rendered, renderRun } from "../../cli/render";
import { offlineStackSalt, renderStack } from "../../cli/render-stack";
import { RunResult, SecretValue, runProgram } from "../../cli/runner";
import { readStackConfig } from "../../cli/stackfile";
import { SALT_BYTES, SALT_OUTPUT, parseStackSalt, stackSaltOf } from "../../preflight/stack-salt";
import { HTPASSWD_KEY, basicAuthHash } from "../../components/traefik";
import { adminPasswordDigest } from "../../components/grafana/ini";
import { objectOf } from "../support/render";

const PASSWORDS = { admin: "salt-test-admin-password", ops: "salt-test-ops-password" };
const GRAFANA_PASSWORD = "salt-test-grafana-password";

/** Staging with two basic-auth users and every password given. */
function stagingSets(passwords: Record<string, string> = PASSWORDS): string[] {
  return [
    `traefik.basicAuthUsers=${JSON.stringify(Object.keys(passwords))}`,
    ...Object.entries(passwords).map(([user, password]) => `basicAuthPasswords.${user}=${password}`),
    `grafanaAdminPassword=${GRAFANA_PASSWORD}`,
  ];
}

/** One deployment of a stack under the mocks, after the one whose outputs are `previous` (none: its first). */
async function deploy(stack: string, previous?: Record<string, unknown>, sets = stagingSets()): Promise<RunResult> {
  const input = readStackConfig(stack, sets);
  return runProgram({
    project: input.project,
    stack: input.stack,
    config: input.config,
    secretKeys: input.secretKeys,
    ...(previous ? { previousOutputs: previous } : {}),
  });
}

/** The htpasswd lines by user. */
function htpasswdOf(rendered: Rendered): Record<string, string> {
  const text = (objectOf(rendered, "Secret", "basic-auth-users").stringData as Record<string, string>)[HTPASSWD_KEY];
  return Object.fromEntries(
    text
      .trimEnd()
      .split("\n")
      .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1)]),
  );
}

function grafanaDigestOf(rendered: Rendered): string | undefined {
  const deployment = objectOf(rendered, "Deployment", "grafana") as unknown as {
    spec: { template: { metadata: { annotations?: Record<string, string> } } };
  };
  return deployment.spec.template.metadata.annotations?.["checksum/admin-password"];
}

/** The salt a run exported: a secret stack output. */
function saltOf(run: RunResult): Buffer {
  const output = run.outputs[SALT_OUTPUT];
  expect(output).toBeInstanceOf(SecretValue);
  const salt = parseStackSalt((output as SecretValue).value);
  if (!salt) throw new Error(`the stack output ${SALT_OUTPUT} is not a salt: ${JSON.stringify(output)}`);
  return salt;
}

describe("the stack's salt across deployments", () => {
  let first: RunResult;
  let firstAgain: RunResult;
  let second: RunResult;
  beforeAll(async () => {
    first = await deploy("staging");
    firstAgain = await deploy("staging");
    // The next deployment gets the outputs the first exported, secret ones as secrets, as the engine keeps them.
    second = await deploy("staging", first.outputs);
  });

  test("a first deployment draws a fresh random salt of 32 bytes and exports it as a secret: two first runs differ", () => {
    const [a, b] = [saltOf(first), saltOf(firstAgain)];
    expect(a.length).toBe(SALT_BYTES);
    expect(a.equals(b)).toBe(false);
    const [hashesA, hashesB] = [htpasswdOf(renderRun(first, true)), htpasswdOf(renderRun(firstAgain, true))];
    expect(hashesA.admin).toBe(basicAuthHash("admin", PASSWORDS.admin, a));
    expect(hashesB.admin).toBe(basicAuthHash("admin", PASSWORDS.admin, b));
    // Two stacks with the same users and passwords: every hash and the Grafana digest differ.
    for (const user of Object.keys(PASSWORDS)) expect(hashesA[user]).not.toBe(hashesB[user]);
    expect(grafanaDigestOf(renderRun(first, true))).not.toBe(grafanaDigestOf(renderRun(firstAgain, true)));
  });

  test("the next deployment reads the salt back and keeps it: identical hashes, identical Grafana digest, nothing to update", async () => {
    expect(saltOf(second).equals(saltOf(first))).toBe(true);
    const [before, after] = [renderRun(first, true), renderRun(second, true)];
    expect(htpasswdOf(after)).toEqual(htpasswdOf(before));
    expect(grafanaDigestOf(after)).toBe(grafanaDigestOf(before));
    expect(grafanaDigestOf(after)).toBe(await adminPasswordDigest(GRAFANA_PASSWORD, saltOf(first)));
    // Every Kubernetes object is the same: no perpetual diff.
    expect(after.kubernetes).toEqual(before.kubernetes);
    expect(second.warnings.filter((w) => w.includes(SALT_OUTPUT))).toEqual([]);
  });

  test("a changed password rehashes that user only, under the same salt", async () => {
    const changed = await deploy("staging", second.outputs, stagingSets({ ...PASSWORDS, ops: "salt-test-ops-password-2" }));
    const [before, after] = [htpasswdOf(renderRun(second, true)), htpasswdOf(renderRun(changed, true))];
    expect(after.admin).toBe(before.admin);
    expect(after.ops).not.toBe(before.ops);
    expect(after.ops).toBe(basicAuthHash("ops", "salt-test-ops-password-2", saltOf(first)));
    expect(grafanaDigestOf(renderRun(changed, true))).toBe(grafanaDigestOf(renderRun(second, true)));
  });

  test("a kept output that is not a salt: a warning naming it, and a fresh salt", async () => {
    const run = await deploy("staging", { [SALT_OUTPUT]: new SecretValue("[secret]") });
    expect(run.warnings.filter((w) => w.includes(`"${SALT_OUTPUT}"`))).toHaveLength(1);
    expect(saltOf(run).equals(saltOf(first))).toBe(false);
    expect(stackSaltOf(Buffer.alloc(16).toString("base64")).warning).toContain(SALT_OUTPUT);
    expect(stackSaltOf(undefined).warning).toBeUndefined();
  });
});

describe("the offline render stands in a salt of its own per stack", () => {
  test("derived from the project and the stack: two renders are the same, two stacks differ, a redacted outputs.json keeps it", async () => {
    const sets = stagingSets();
    const [a, b] = [
      await renderStack({ stack: "staging", sets, showSecrets: true }),
      await renderStack({ stack: "staging", sets, showSecrets: true }),
    ];
    const salt = offlineStackSalt("monitoring", "staging");
    expect(htpasswdOf(a)).toEqual(htpasswdOf(b));
    expect(htpasswdOf(a).admin).toBe(basicAuthHash("admin", PASSWORDS.admin, salt));
    expect(grafanaDigestOf(a)).toBe(await adminPasswordDigest(GRAFANA_PASSWORD, salt));
    expect(a.outputs[SALT_OUTPUT]).toBe(salt.toString("base64"));
    expect(offlineStackSalt("monitoring", "production").equals(salt)).toBe(false);
    // The outputs.json of a render without --show-secrets, as --previous: the salt there is redacted.
    const redacted = await renderStack({ stack: "staging", sets, showSecrets: false });
    expect(redacted.outputs[SALT_OUTPUT]).toBe("[secret]");
    const next = await renderStack({ stack: "staging", sets, showSecrets: true, previousOutputs: redacted.outputs });
    expect(htpasswdOf(next)).toEqual(htpasswdOf(a));
  });
});
