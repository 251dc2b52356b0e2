/**
 * node-exporter as the stack runs it, made local: the rendered container's flags, and its web
 * config (TLS and basic auth) with the certificate and key of its rendered Secret written into a
 * directory of the run, listening on 127.0.0.1. The render must show its secrets (render with
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
 * The Secret's files written into `dir` (the key readable by its owner only), the web config's
 * cert_file and key_file pointed at them. Returns the web config's path.
 */
export function writeNodeExporterWeb(rendered: Rendered, dir: string): string {
  const data = renderedNodeExporterWeb(rendered);
  fs.mkdirSync(dir, { recursive: true });
  const web = YAML.parse(data[NODE_EXPORTER_WEB.config]) as { tls_server_config: { cert_file: string; key_file: string } };
  for (const field of ["cert_file", "key_file"] as const) {
    const name = path.basename(web.tls_server_config[field]);
    fs.writeFileSync(path.join(dir, name), data[name], { mode: 0o600 });
    web.tls_server_config[field] = path.join(dir, name);
  }
  const file = path.join(dir, NODE_EXPORTER_WEB.config);
  fs.writeFileSync(file, YAML.stringify(web), { mode: 0o600 });
  return file;
}

/**
 * The rendered node-exporter container's args, made local: on 127.0.0.1:`port`, with its web config
 * written under `dir`, and this machine's own host paths (no /host/root mount here).
 */
export function localNodeExporterArgs(rendered: Rendered, dir: string, port: number): string[] {
  const kept = containerArgs(rendered, "DaemonSet", "node-exporter").filter(
    (f) => !/^--(path\.rootfs|path\.udev\.data|web\.listen-address|web\.config\.file)=/.test(f),
  );
  return [...kept, `--web.listen-address=${LOOPBACK}:${port}`, `--web.config.file=${writeNodeExporterWeb(rendered, dir)}`];
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
