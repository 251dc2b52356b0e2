/**
 * The Cloudflare provider's credentials. With `cloudflare.enabled` the tunnel, its DNS records
 * and its Access application are Cloudflare resources, which the provider makes with the
 * credentials of its own config or environment: an API token (`cloudflare:apiToken`,
 * CLOUDFLARE_API_TOKEN), a legacy API key with its account's email (`cloudflare:apiKey` and
 * `cloudflare:email`, CLOUDFLARE_API_KEY and CLOUDFLARE_EMAIL) or a user service key
 * (`cloudflare:apiUserServiceKey`, CLOUDFLARE_API_USER_SERVICE_KEY). Without any, the provider
 * fails at its first resource, in the middle of the preview or the update. So `pulumi preview`
 * and `up` are refused before any resource exists (index.ts); the offline render, which makes no
 * Cloudflare resource, warns instead.
 */
import { ConfigError, ConfigProblem, RawConfig } from "../config";

/** The key a stack sets: an API token, as the docs and the stack files say. */
export const CLOUDFLARE_TOKEN_KEY = "cloudflare:apiToken";

/** Each way the provider takes credentials: its config keys, or its environment variables. */
const CREDENTIALS: ReadonlyArray<{ keys: string[]; env: string[] }> = [
  { keys: [CLOUDFLARE_TOKEN_KEY], env: ["CLOUDFLARE_API_TOKEN"] },
  { keys: ["cloudflare:apiKey", "cloudflare:email"], env: ["CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL"] },
  { keys: ["cloudflare:apiUserServiceKey"], env: ["CLOUDFLARE_API_USER_SERVICE_KEY"] },
];

/** Whether the stack's config or the environment gives the provider credentials. */
export function hasCloudflareCredentials(values: RawConfig["values"], env: NodeJS.ProcessEnv): boolean {
  const given = (v: string | undefined) => v !== undefined && v.trim() !== "";
  return CREDENTIALS.some(({ keys, env: names }) => keys.every((k) => given(values[k])) || names.every((n) => given(env[n])));
}

/** The problem of a tunnel without credentials (undefined when it has them, or when the tunnel is off). */
export function cloudflareCredentialProblem(raw: RawConfig, enabled: boolean, env: NodeJS.ProcessEnv): ConfigProblem | undefined {
  if (!enabled || hasCloudflareCredentials(raw.values, env)) return undefined;
  return {
    key: `${raw.project}:cloudflare.enabled`,
    message:
      `is true, but the Cloudflare provider has no credentials: ${CLOUDFLARE_TOKEN_KEY} is not set (nor CLOUDFLARE_API_TOKEN in the ` +
      `environment), so it could not make the tunnel, its DNS records or its Access application. Set a token that may edit them: ` +
      `pulumi config set --secret ${CLOUDFLARE_TOKEN_KEY} <token> (docs/configuration.md, "Secrets"), or set ` +
      `${raw.project}:cloudflare.enabled to false`,
  };
}

/**
 * Before any resource: a tunnel without credentials is refused (ConfigError), but where nothing
 * reaches Cloudflare (`offline`: the render under mocks), where it is only a warning, returned.
 */
export function checkCloudflareCredentials(raw: RawConfig, enabled: boolean, env: NodeJS.ProcessEnv, offline: boolean): string | undefined {
  const problem = cloudflareCredentialProblem(raw, enabled, env);
  if (!problem) return undefined;
  if (!offline) throw new ConfigError([problem]);
  return `${problem.key}: ${problem.message}. pulumi preview and pulumi up refuse the stack until then.`;
}
