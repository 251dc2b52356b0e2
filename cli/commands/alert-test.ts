/**
 * A test message through a stack's own Alertmanager: a clearly marked alert (StackTestAlert,
 * `alert_test="true"`, annotations saying who sent it and when) for each receiver of the stack,
 * or one, with the labels that the rendered routing sends there; then, from Alertmanager's own
 * notification counters before and after, what became of it per receiver and integration:
 * delivered, failed (with Alertmanager's reason, and the last error of its log when it can be
 * read) or not reached. The alerts are resolved at the end. Exits 1 unless every targeted
 * integration delivered.
 *
 *   npm run alert:test -- --stack <name> [--receiver <name>] [--url <alertmanager base URL>] [--user <user>] [--margin <s>] [--logs kubectl|<file>]
 *                         [--set <key>=<value>]... [--secrets-file <file>] [--oidc-discovery <file>]
 *
 * Without --url it goes to the stack's public Alertmanager route (https://<hostnames.alertmanager>)
 * with basic auth: the user is the first of traefik.basicAuthUsers (or --user), the password is
 * read from ALERT_TEST_PASSWORD or asked for on the terminal, never printed. The stack's Traefik
 * route does not take POST /api/v2/alerts (docs/security.md, "Published routes"): then reach the
 * Service with `kubectl -n <namespace> port-forward svc/alertmanager 9093` and
 * `--url http://127.0.0.1:9093`. docs/alerts.md ("A test message") says more. The logic is
 * cli/alert-test.ts and cli/alert-routing.ts.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import { publicHostname } from "../../config";
import { renderStack } from "../render-stack";
import { readSecretsFile, secretsFileWarning } from "../stackfile";
import { AlertmanagerClient, PASSWORD_ENV, formatReport, parseArgs, runAlertTest, USAGE } from "../alert-test";
import { readRouting, targetsOf } from "../alert-routing";
import { helpAsked } from "./help";

/** Reads a line from the terminal without echoing it. */
function askPassword(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    if (!stdin.isTTY) {
      reject(new Error(`no password: set ${PASSWORD_ENV} (the basic-auth password of the public route), or give --url to a port-forward`));
      return;
    }
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let text = "";
    const onData = (b: Buffer) => {
      for (const ch of b.toString("utf8")) {
        if (ch === "\r" || ch === "\n") {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off("data", onData);
          process.stderr.write("\n");
          resolve(text);
          return;
        }
        if (ch === "\u0003") {
          stdin.setRawMode(false);
          reject(new Error("interrupted"));
          return;
        }
        if (ch === "\u007f") text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on("data", onData);
  });
}

/** The port-forward that reaches the stack's Alertmanager from here, and the --url it gives. */
export const portForwardHint = (namespace: string): string =>
  `kubectl -n ${namespace} port-forward svc/alertmanager 9093, then --url http://127.0.0.1:9093`;

/**
 * Why a request to Alertmanager got no answer, naming the URL tried and what to run: fetch's own
 * error says only "fetch failed" (its cause holds the system's code: ECONNREFUSED, ENOTFOUND, ...).
 */
export function unreachable(url: string, err: unknown, namespace: string, viaUrl: boolean): Error {
  // Read by shape: an error of another realm (fetch's own, under a test runner) is not an instanceof Error here.
  const e = (typeof err === "object" && err !== null ? err : {}) as {
    name?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  const timedOut = e.name === "TimeoutError" || e.name === "AbortError";
  const why = timedOut ? "no answer within 15 s" : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(err));
  const fix = viaUrl
    ? `is the port-forward running? ${portForwardHint(namespace)}`
    : `reach the Service instead: ${portForwardHint(namespace)}`;
  return new Error(`cannot reach Alertmanager at ${url} (${why}): ${fix}`);
}

function client(base: string, namespace: string, viaUrl: boolean, auth?: { user: string; password: string }): AlertmanagerClient {
  const headers: Record<string, string> = auth
    ? { Authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}` }
    : {};
  const call = async (method: string, path: string, body?: unknown) => {
    try {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { ...headers, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(15_000),
      });
      return { status: res.status, body: await res.text() };
    } catch (err) {
      throw unreachable(`${base}${path}`, err, namespace, viaUrl);
    }
  };
  return { get: (path) => call("GET", path), post: (path, body) => call("POST", path, body) };
}

export async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (helpAsked(argv, USAGE)) return;
  const args = parseArgs(argv);
  const warning = args.secretsFile !== undefined ? secretsFileWarning(args.secretsFile) : undefined;
  if (warning) process.stderr.write(`alert:test: warning: ${warning}\n`);
  const rendered = await renderStack({
    stack: args.stack,
    sets: args.sets,
    ...(args.secretsFile !== undefined ? { secrets: readSecretsFile(args.secretsFile) } : {}),
    ...(args.oidcDiscovery !== undefined ? { oidcDiscovery: args.oidcDiscovery } : {}),
    refuseSecretSets: true,
    showSecrets: true,
  });
  const file = rendered.files.get("alertmanager/alertmanager.yml");
  if (file === undefined) throw new Error(`stack ${args.stack} renders no Alertmanager`);
  const routing = readRouting(file);
  const targets = targetsOf(routing, args.stack, args.receiver);
  const namespace = rendered.config.namespace;

  let base = args.url;
  let auth: { user: string; password: string } | undefined;
  if (!base) {
    const host = publicHostname(rendered.config, "alertmanager");
    if (!host)
      throw new Error(
        `stack ${args.stack} does not publish Alertmanager (monitoring:hostnames.alertmanager or monitoring:domain, and traefik.expose or the tunnel): ` +
          portForwardHint(namespace),
      );
    base = `https://${host}`;
    const user = args.user ?? rendered.config.traefik.basicAuthUsers[0];
    if (!user) throw new Error("no basic-auth user: monitoring:traefik.basicAuthUsers is empty; give --user");
    const password = process.env[PASSWORD_ENV] ?? (await askPassword(`basic-auth password of ${user} at ${host}: `));
    auth = { user, password };
  }
  const started = Date.now();
  const readLog =
    args.logs === undefined
      ? undefined
      : async (): Promise<string | undefined> => {
          if (args.logs !== "kubectl") return fs.readFileSync(args.logs ?? "", "utf8");
          const since = `${Math.ceil((Date.now() - started) / 1000) + 60}s`;
          const r = spawnSync("kubectl", ["-n", namespace, "logs", "statefulset/alertmanager", "-c", "alertmanager", `--since=${since}`], {
            encoding: "utf8",
            timeout: 30_000,
          });
          if (r.status !== 0) {
            process.stderr.write(`alert:test: could not read Alertmanager's log with kubectl: ${(r.stderr || String(r.error)).trim()}\n`);
            return undefined;
          }
          return r.stdout;
        };
  const { results, waitedSeconds } = await runAlertTest({
    stack: args.stack,
    routing,
    targets,
    client: client(base, namespace, args.url !== undefined, auth),
    marginSeconds: args.marginSeconds,
    where: base,
    namespace,
    ...(readLog ? { readLog } : {}),
    log: (line) => process.stderr.write(`alert:test: ${line}\n`),
  });
  const report = formatReport(results, `alert:test, stack ${args.stack}, Alertmanager ${base} (${waitedSeconds.toFixed(1)} s):`);
  process.stdout.write(report.text);
  process.exitCode = report.ok ? 0 : 1;
}
