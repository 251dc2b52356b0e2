/**
 * A minimal Kubernetes API client over https with a bearer token: enough to check
 * health, create the bootstrap objects and watch them become ready, without a client
 * library (the tests use kubectl for everything else).
 */
import * as fs from "fs";
import * as https from "https";

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface HttpResult {
  status: number;
  body: string;
}

/** One https request. `ca` undefined skips verification: only for loopback health checks of self-signed endpoints. */
export function httpsRequest(
  url: string,
  opts: { method?: string; token?: string; ca?: Buffer; body?: string; contentType?: string; timeoutMs?: number; agent?: https.Agent } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) {
      headers["Content-Type"] = opts.contentType ?? "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(opts.body));
    }
    const req = https.request(
      url,
      {
        method: opts.method ?? "GET",
        headers,
        ca: opts.ca,
        agent: opts.agent,
        rejectUnauthorized: opts.ca !== undefined,
        timeout: opts.timeoutMs ?? 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${opts.method ?? "GET"} ${url} timed out`)));
    req.on("error", reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** The REST collection of the kinds the bootstrap and the provisioner create. */
const COLLECTIONS: Record<string, string> = {
  "v1/Node": "/api/v1/nodes",
  "v1/PersistentVolume": "/api/v1/persistentvolumes",
  "v1/Namespace": "/api/v1/namespaces",
  "storage.k8s.io/v1/StorageClass": "/apis/storage.k8s.io/v1/storageclasses",
  "apiextensions.k8s.io/v1/CustomResourceDefinition": "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
};

export class KubeClient {
  private ca: Buffer | undefined;

  constructor(
    public readonly server: string,
    private readonly token: string,
    private readonly caFile: string,
    /** A keep-alive agent for a client that polls (the provisioner); default: a connection per request. */
    private readonly agent?: https.Agent,
  ) {}

  /** The CA is read lazily: the API server writes its self-signed certificate when it starts. */
  private caBytes(): Buffer {
    this.ca ??= fs.readFileSync(this.caFile);
    return this.ca;
  }

  async request(method: string, path: string, body?: unknown, contentType?: string): Promise<HttpResult> {
    try {
      return await httpsRequest(`${this.server}${path}`, {
        method,
        token: this.token,
        ca: this.caBytes(),
        body: body === undefined ? undefined : JSON.stringify(body),
        contentType,
        agent: this.agent,
      });
    } catch (err) {
      // Read the CA again next time: it may have been caught half-written.
      this.ca = undefined;
      throw err;
    }
  }

  async get<T>(path: string): Promise<T> {
    const res = await this.request("GET", path);
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
    return JSON.parse(res.body) as T;
  }

  /** GET that returns undefined on 404. */
  async find<T>(path: string): Promise<T | undefined> {
    const res = await this.request("GET", path);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
    return JSON.parse(res.body) as T;
  }

  /** Whether /readyz answers ok (every API server check passes). */
  async ready(): Promise<boolean> {
    try {
      const res = await this.request("GET", "/readyz");
      return res.status === 200 && res.body.trim() === "ok";
    } catch {
      return false;
    }
  }

  /** Creates an object; an object that already exists is left as it is. */
  async create(obj: KubeObject): Promise<"created" | "exists"> {
    const collection = COLLECTIONS[`${obj.apiVersion}/${obj.kind}`];
    if (!collection) throw new Error(`no collection known for ${obj.apiVersion} ${obj.kind}`);
    const res = await this.request("POST", collection, obj);
    if (res.status === 201 || res.status === 200) return "created";
    if (res.status === 409) return "exists";
    throw new Error(`create ${obj.kind} ${obj.metadata.name}: HTTP ${res.status} ${res.body.slice(0, 500)}`);
  }
}
