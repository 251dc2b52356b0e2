/**
 * The tunnel without the provider's credentials (preflight/cloudflare-credentials.ts): refused
 * before `pulumi preview` and `up` create anything, a warning in the offline render.
 */
import { ConfigError, RawConfig } from "../../config";
import { checkCloudflareCredentials, cloudflareCredentialProblem, hasCloudflareCredentials } from "../../preflight/cloudflare-credentials";
import { runProgram } from "../../cli/runner";
import { readStackConfig } from "../../cli/stackfile";

const raw = (values: Record<string, string> = {}): RawConfig => ({ project: "monitoring", stack: "production", values, secretKeys: [] });

describe("the Cloudflare provider's credentials", () => {
  test.each([
    ["the token in config", { "cloudflare:apiToken": "t" }, {}, true],
    ["the token in the environment", {}, { CLOUDFLARE_API_TOKEN: "t" }, true],
    ["a legacy key with its email", { "cloudflare:apiKey": "k", "cloudflare:email": "ops@example.com" }, {}, true],
    ["a legacy key and email in the environment", {}, { CLOUDFLARE_API_KEY: "k", CLOUDFLARE_EMAIL: "ops@example.com" }, true],
    ["a user service key", { "cloudflare:apiUserServiceKey": "s" }, {}, true],
    ["nothing", {}, {}, false],
    ["a legacy key without its email", { "cloudflare:apiKey": "k" }, {}, false],
    ["an empty token", { "cloudflare:apiToken": " " }, { CLOUDFLARE_API_TOKEN: "" }, false],
    ["another provider's key", { "cloudflare:accountId": "a" }, {}, false],
  ])("%s", (_, values, env, found) => {
    expect(hasCloudflareCredentials(values, env)).toBe(found);
  });

  test("only a tunnel that runs needs them", () => {
    expect(cloudflareCredentialProblem(raw(), false, {})).toBeUndefined();
    expect(cloudflareCredentialProblem(raw({ "cloudflare:apiToken": "t" }), true, {})).toBeUndefined();
    expect(cloudflareCredentialProblem(raw(), true, {})).toEqual({
      key: "monitoring:cloudflare.enabled",
      message: expect.stringMatching(
        /^is true, but the Cloudflare provider has no credentials: cloudflare:apiToken is not set .*pulumi config set --secret cloudflare:apiToken <token> \(docs\/configuration\.md, "Secrets"\), or set monitoring:cloudflare\.enabled to false$/,
      ),
    });
  });

  test("refused where the engine runs, before any resource; a warning offline", () => {
    expect(() => checkCloudflareCredentials(raw(), true, {}, false)).toThrow(ConfigError);
    expect(() => checkCloudflareCredentials(raw(), true, {}, false)).toThrow(
      /^Invalid stack configuration \(1 problem\):\n {2}- monitoring:cloudflare\.enabled: is true, but the Cloudflare provider has no credentials/,
    );
    expect(checkCloudflareCredentials(raw(), true, {}, true)).toMatch(
      /^monitoring:cloudflare\.enabled: is true, but .*\. pulumi preview and pulumi up refuse the stack until then\.$/,
    );
    expect(checkCloudflareCredentials(raw({ "cloudflare:apiToken": "t" }), true, {}, false)).toBeUndefined();
  });

  describe("the offline render of production (the tunnel on)", () => {
    const saved = process.env.CLOUDFLARE_API_TOKEN;
    beforeAll(() => delete process.env.CLOUDFLARE_API_TOKEN);
    afterAll(() => {
      if (saved !== undefined) process.env.CLOUDFLARE_API_TOKEN = saved;
    });

    /** Production as its stack file says, with the secrets given (the token as the CLI hands it: a secret). */
    async function production(token?: string) {
      const input = readStackConfig("production");
      return runProgram({
        project: input.project,
        stack: input.stack,
        config: { ...input.config, ...(token ? { "cloudflare:apiToken": token } : {}) },
        secretKeys: [...input.secretKeys, ...(token ? ["cloudflare:apiToken"] : [])],
      });
    }

    test("warns without the token, and registers the same resources all the same", async () => {
      const without = await production();
      const withToken = await production("token-0123456789");
      const warning = (warnings: string[]) => warnings.filter((w) => w.startsWith("monitoring:cloudflare.enabled: is true"));
      expect(warning(without.warnings)).toHaveLength(1);
      expect(warning(withToken.warnings)).toEqual([]);
      // The same set: the order of registration follows outputs resolving, which a loaded machine reorders (CI saw the
      // tunnel's Deployment registered before Grafana's in one render and after it in the other).
      const urns = (resources: Array<{ urn: string }>) => resources.map((r) => r.urn).sort();
      expect(urns(without.resources)).toEqual(urns(withToken.resources));
      expect(without.resources.some((r) => r.type.startsWith("cloudflare:"))).toBe(true);
    });
  });
});
