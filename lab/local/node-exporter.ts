/**
 * node-exporter as the stack runs it, made local: the rendered container's flags as rendered (only
 * the listen address, the host paths and the files' root made local), and its rendered Secret (web
 * config, certificate, key) laid out under a directory of the run as the container mounts it,
 * listening on 127.0.0.1. The render must show its secrets (render with
 * showSecrets): the Secret's values are what the exporter reads.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import * as YAML from "yaml";
import { NODE_EXPORTER_USER, NODE_EXPORTER_WEB } from "../../components/exporters/node-exporter";
import type { Rendered } from "../../cli/render";
import { LOOPBACK } from "../ports";
import { containerArgs, objectOf } from "./rendered";

/** The files of node-exporter's rendered Secret (`node-exporter-web`): its web config, certificate and key. */
export function renderedNodeExporterWeb(rendered: Rendered): Record<string, string> {
  const data = (objectOf(rendered, "Secret", "node-exporter-web").stringData ?? {}) as Record<string, string>;
  for (const key of [NODE_EXPORTER_WEB.config, NODE_EXPORTER_WEB.cert, NODE_EXPORTER_WEB.key]) {
    if (!data[key] || data[key].startsWith("[secret]"))
      throw new Error(`node-exporter-web/${key} is not in the render: render with showSecrets`);
  }
  return data;
}

/**
 * The rendered node-exporter container's Secret mounts laid out under `root` as the container sees
 * them (`<root><mountPath>/<key>`, the key file readable by its owner only), the web config's
 * cert_file and key_file rerooted the same way. Returns nothing: the args below point at `root`.
 */
export function layOutNodeExporter(rendered: Rendered, root: string): void {
  const pod = (objectOf(rendered, "DaemonSet", "node-exporter").spec as { template: { spec: NodeExporterPod } }).template.spec;
  const container = pod.containers.find((c) => c.name === "node-exporter");
  if (!container) throw new Error("the rendered node-exporter DaemonSet has no node-exporter container");
  for (const mount of container.volumeMounts ?? []) {
    const secretName = pod.volumes?.find((v) => v.name === mount.name)?.secret?.secretName;
    if (!secretName) continue;
    const data = secretName === "node-exporter-web" ? renderedNodeExporterWeb(rendered) : {};
    const dir = path.join(root, mount.mountPath);
    fs.mkdirSync(dir, { recursive: true });
    for (const [key, content] of Object.entries(data)) {
      const text = key === NODE_EXPORTER_WEB.config ? rerootedWebConfig(content, root) : content;
      fs.writeFileSync(path.join(dir, key), text, { mode: 0o600 });
    }
  }
}

interface NodeExporterPod {
  containers: Array<{ name: string; args?: string[]; volumeMounts?: Array<{ name: string; mountPath: string }> }>;
  volumes?: Array<{ name: string; secret?: { secretName: string } }>;
}

/** A web config with its absolute `*_file` paths under `root`. */
function rerootedWebConfig(text: string, root: string): string {
  const web = YAML.parse(text) as Record<string, unknown>;
  const walk = (node: unknown): void => {
    if (typeof node !== "object" || node === null) return;
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      if (k.endsWith("_file") && typeof v === "string" && path.isAbsolute(v)) (node as Record<string, unknown>)[k] = path.join(root, v);
      else walk(v);
    }
  };
  walk(web);
  return YAML.stringify(web);
}

/**
 * The rendered node-exporter container's args as rendered, made local and nothing added: its
 * listen address on 127.0.0.1:`port`, the paths of its files (the web config) under `root`, where
 * layOutNodeExporter wrote the rendered Secret, and the host paths (--path.rootfs, --path.udev.data)
 * left out, for this machine's own. A flag the render lacks stays absent: without its
 * --web.config.file the exporter serves plain HTTP without a password, and the tests see it.
 */
export function localNodeExporterArgs(rendered: Rendered, root: string, port: number): string[] {
  const args = containerArgs(rendered, "DaemonSet", "node-exporter");
  if (!args.some((f) => f.startsWith("--web.listen-address=")))
    throw new Error("the rendered node-exporter has no --web.listen-address: it would listen on every interface");
  layOutNodeExporter(rendered, root);
  return args
    .filter((f) => !/^--(path\.rootfs|path\.udev\.data)=/.test(f))
    .map((f) => {
      if (f.startsWith("--web.listen-address=")) return `--web.listen-address=${LOOPBACK}:${port}`;
      const file = /^(--web\.config\.file=)(\/.*)$/.exec(f);
      return file ? `${file[1]}${path.join(root, file[2])}` : f;
    });
}

/**
 * GET a path of the local node-exporter as the stack's Prometheus does: over TLS, trusting the
 * rendered certificate alone and checking its name, with the password of Prometheus' rendered
 * scrape credentials (`password`; default: the rendered one). Resolves with the status and body.
 */
export function nodeExporterGet(
  rendered: Rendered,
  port: number,
  urlPath = "/metrics",
  password?: string,
  timeoutMs = 5000,
): Promise<{ status: number; body: string }> {
  const ca = renderedNodeExporterWeb(rendered)[NODE_EXPORTER_WEB.cert];
  const servername = (new crypto.X509Certificate(ca).subjectAltName ?? "").replace(/^DNS:/, "");
  const secret = password ?? renderedScrapePassword(rendered);
  return new Promise((resolve, reject) => {
    const req = https.get(
      `https://${LOOPBACK}:${port}${urlPath}`,
      { ca, servername, auth: `${NODE_EXPORTER_USER}:${secret}`, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${urlPath} of node-exporter timed out`)));
    req.on("error", reject);
  });
}

/** node-exporter's password as Prometheus' rendered scrape credentials Secret holds it. */
export function renderedScrapePassword(rendered: Rendered): string {
  const data = (objectOf(rendered, "Secret", "prometheus-scrape-credentials").stringData ?? {}) as Record<string, string>;
  const password = data["node-exporter-password"];
  if (!password || password.startsWith("[secret]"))
    throw new Error("prometheus-scrape-credentials is not in the render: render with showSecrets");
  return password;
}
