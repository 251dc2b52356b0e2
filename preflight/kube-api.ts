/**
 * Reads from the cluster that the program deploys to, for the checks the engine's reads cannot
 * make: a `.get` of an object that does not exist fails the whole update, and the engine cannot
 * list. Used for the operator's kinds (preflight/operator-crds.ts, preflight/operator-rules.ts):
 * whether a CRD exists and who installed it, and the PrometheusRule objects there are.
 *
 * It follows the kubeconfig the Kubernetes provider uses: the provider's `kubernetes:kubeconfig`
 * (a path or the file's content) and `kubernetes:context`, else $KUBECONFIG (its first file), else
 * ~/.kube/config; the context's cluster (server, CA) and user (client certificate, token, token
 * file, basic auth, or an exec plugin's credential). GET only, each read bounded in time.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";

/** An answer of the API server: its status and parsed body (undefined when not JSON). */
export interface KubeAnswer {
  status: number;
  body: unknown;
}

/** GET a path of the API server (`/apis/...`). */
export type KubeGet = (apiPath: string) => Promise<KubeAnswer>;

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

interface Connection {
  server: string;
  ca?: Buffer;
  insecure: boolean;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  basic?: string;
}

/** Where the kubeconfig is: the provider's config (path or content), $KUBECONFIG's first file, ~/.kube/config. */
function kubeconfigText(providerKubeconfig: string | undefined): { text: string; dir: string } {
  if (providerKubeconfig !== undefined && providerKubeconfig.trim() !== "") {
    if (
      /^\s*(apiVersion|clusters|kind|contexts|current-context|users)\s*:/m.test(providerKubeconfig) ||
      providerKubeconfig.trim().startsWith("{")
    ) {
      return { text: providerKubeconfig, dir: process.cwd() };
    }
    return { text: fs.readFileSync(providerKubeconfig, "utf8"), dir: path.dirname(path.resolve(providerKubeconfig)) };
  }
  const file = (process.env.KUBECONFIG ?? "").split(path.delimiter).find((f) => f !== "") ?? path.join(os.homedir(), ".kube", "config");
  return { text: fs.readFileSync(file, "utf8"), dir: path.dirname(path.resolve(file)) };
}

const named = (list: unknown, name: string, what: string): Json => {
  const entry = (Array.isArray(list) ? list : []).find((e) => isMap(e) && e.name === name);
  if (!isMap(entry) || !isMap(entry[what])) throw new Error(`the kubeconfig has no ${what} named ${name}`);
  return entry[what];
};

function fileOrData(data: unknown, file: unknown, dir: string): Buffer | undefined {
  if (typeof data === "string") return Buffer.from(data, "base64");
  if (typeof file === "string") return fs.readFileSync(path.resolve(dir, file));
  return undefined;
}

/** The exec plugin's credential (client.authentication.k8s.io ExecCredential): its token or client certificate. */
function execCredential(exec: Json): Pick<Connection, "token" | "cert" | "key"> {
  const env = { ...process.env };
  for (const e of Array.isArray(exec.env) ? exec.env : []) if (isMap(e) && typeof e.name === "string") env[e.name] = String(e.value ?? "");
  const out = execFileSync(String(exec.command), (Array.isArray(exec.args) ? exec.args : []).map(String), {
    env,
    timeout: 30_000,
    encoding: "utf8",
  });
  const status = (JSON.parse(out) as Json).status;
  if (!isMap(status)) throw new Error(`the kubeconfig's exec plugin ${String(exec.command)} gave no credential`);
  return {
    ...(typeof status.token === "string" ? { token: status.token } : {}),
    ...(typeof status.clientCertificateData === "string" ? { cert: Buffer.from(status.clientCertificateData) } : {}),
    ...(typeof status.clientKeyData === "string" ? { key: Buffer.from(status.clientKeyData) } : {}),
  };
}

/** The connection a kubeconfig's context describes. */
export function kubeConnection(providerKubeconfig?: string, providerContext?: string): Connection {
  const { text, dir } = kubeconfigText(providerKubeconfig);
  const config = YAML.parse(text) as Json;
  const contextName = providerContext ?? (typeof config["current-context"] === "string" ? config["current-context"] : "");
  const context = named(config.contexts, contextName, "context");
  const cluster = named(config.clusters, String(context.cluster), "cluster");
  const user = context.user !== undefined ? named(config.users, String(context.user), "user") : {};
  const tokenFile = typeof user.tokenFile === "string" ? fs.readFileSync(path.resolve(dir, user.tokenFile), "utf8").trim() : undefined;
  return {
    server: String(cluster.server).replace(/\/+$/, ""),
    ca: fileOrData(cluster["certificate-authority-data"], cluster["certificate-authority"], dir),
    insecure: cluster["insecure-skip-tls-verify"] === true,
    cert: fileOrData(user["client-certificate-data"], user["client-certificate"], dir),
    key: fileOrData(user["client-key-data"], user["client-key"], dir),
    ...(typeof user.token === "string" ? { token: user.token } : tokenFile !== undefined ? { token: tokenFile } : {}),
    ...(typeof user.username === "string"
      ? { basic: Buffer.from(`${user.username}:${String(user.password ?? "")}`).toString("base64") }
      : {}),
    ...(isMap(user.exec) ? execCredential(user.exec) : {}),
  };
}

/** A reader of the cluster at this connection; each GET gives up after `timeoutMs`. */
export function kubeGetter(connection: Connection, timeoutMs = 15_000): KubeGet {
  return (apiPath) =>
    new Promise((resolve, reject) => {
      const url = new URL(connection.server + apiPath);
      const headers: Record<string, string> = { Accept: "application/json" };
      if (connection.token) headers.Authorization = `Bearer ${connection.token}`;
      else if (connection.basic) headers.Authorization = `Basic ${connection.basic}`;
      const options: https.RequestOptions = {
        method: "GET",
        headers,
        timeout: timeoutMs,
        ...(url.protocol === "https:"
          ? { ca: connection.ca, cert: connection.cert, key: connection.key, rejectUnauthorized: !connection.insecure }
          : {}),
      };
      const request = (url.protocol === "https:" ? https : http).request(url, options, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (c: Buffer) => chunks.push(c));
        response.on("end", () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          let body: unknown;
          try {
            body = JSON.parse(raw);
          } catch {
            body = undefined;
          }
          resolve({ status: response.statusCode ?? 0, body });
        });
      });
      request.on("timeout", () => request.destroy(new Error(`no answer from ${connection.server} within ${timeoutMs / 1000} s`)));
      request.on("error", reject);
      request.end();
    });
}
