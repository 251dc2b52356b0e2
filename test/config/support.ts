/** What the config tests share: parsing a stack's values, and the problems it reports. */
import { ConfigError, ParsedConfig, parseStackConfig } from "../../config";

/** Given the `monitoring:*` values (plain) and secrets of a stack, parse them. */
export function parse(stack: string, plain: Record<string, unknown>, secrets: Record<string, unknown> = {}): ParsedConfig {
  const wire = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...plain, ...secrets })) values[k.includes(":") ? k : `monitoring:${k}`] = wire(v);
  return parseStackConfig({ project: "monitoring", stack, values, secretKeys: Object.keys(secrets).map((k) => `monitoring:${k}`) });
}

/** The problems reported for a config, as "key: message" lines; fails if the config is accepted. */
export function problems(stack: string, plain: Record<string, unknown>, secrets: Record<string, unknown> = {}): string[] {
  try {
    parse(stack, plain, secrets);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.key}: ${p.message}`);
  }
  throw new Error("the config was accepted");
}

export const api = { name: "api", namespace: "shop", service: "api", port: "http" };

/** Raw wire values (JSON text as Pulumi hands it, e.g. with 1e999), some of them secret. */
export function problemsOfWire(
  stack: string,
  values: Record<string, string>,
  secretKeys: string[] = [],
  plainPaths: string[] = [],
): string[] {
  try {
    parseStackConfig({ project: "monitoring", stack, values, secretKeys, plainPaths });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.key}: ${p.message}`);
  }
  throw new Error("the config was accepted");
}

export type RefusedCase = [string, string, Record<string, unknown>, Record<string, unknown>, RegExp[]];

export function expectRefused([, stack, plain, secrets, expected]: RefusedCase): void {
  const found = problems(stack, plain, secrets);
  for (const pattern of expected) expect(found).toContainEqual(expect.stringMatching(pattern));
  expect(found).toHaveLength(expected.length);
}

export const standalone = (name: string, type = "postgres") => ({ name, type, mode: "standalone", secretRef: { name: "dsn", key: "dsn" } });
