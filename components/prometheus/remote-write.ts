/**
 * `prometheus.remoteWrite[]`: what a real destination needs (a tenant header, the series to keep or drop,
 * the queue, TLS with a client certificate), each remote write's stack-file schema, its resolution with
 * its secrets (remoteWritePasswords, remoteWriteClientKeys), what is wrong in it, and its entry of
 * prometheus.yml. The credentials and the client key reach the pod only as files of a Kubernetes Secret.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
  bool,
  dnsLabel,
  dnsSubdomain,
  duration,
  labelName,
  matching,
  notAMap,
  pemCertificates,
  plainHttpUrl,
  positiveCount,
  userName,
} from "../kit/fields";
import { ArgsProblem } from "../kit/problems";
import { SecretStandIn } from "../kit/section";
import { durationSeconds } from "../kit/units";
import { plainHttpCredentialProblem } from "../kit/plain-http";

/**
 * Headers Prometheus sets itself or refuses to have changed (its config's reserved headers, and Authorization, which
 * username and bearerToken set): a remote write that names one is refused before anything is created.
 */
export const RESERVED_REMOTE_WRITE_HEADERS = [
  "authorization",
  "host",
  "content-encoding",
  "content-length",
  "content-type",
  "user-agent",
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "www-authenticate",
  "accept-encoding",
  "x-prometheus-remote-write-version",
  "x-prometheus-remote-read-version",
  "x-amz-date",
  "x-amz-security-token",
  "x-amz-content-sha256",
] as const;

/** An HTTP header name (RFC 9110 token characters). */
const headerName = matching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "an HTTP header name such as X-Scope-OrgID");
/** A header value on one line: no control characters (a newline would end the header). */
const headerValue = matching(/^[^\x00-\x1f\x7f]+$/, "a header value on one line, not empty");

/**
 * Why a relabel regex is not one Prometheus takes (Go's RE2, anchored at both ends), or undefined: RE2 has no
 * lookaround and no backreferences; its flag groups, (?i) and (?i:...), JavaScript writes otherwise.
 */
export function re2Problem(value: string): string | undefined {
  if (/\(\?<?[=!]|\\[1-9]/.test(value))
    return "has lookaround or a backreference, which Prometheus' regular expressions (Go RE2) do not have";
  try {
    new RegExp(`^(?:${value.replace(/\(\?[imsU]+\)/g, "").replace(/\(\?[imsU]+:/g, "(?:")})$`);
  } catch {
    return "is not a regular expression";
  }
  return undefined;
}

const re2Regex = z.string({ error: "must be a regular expression (Go RE2), such as node_.*|up" }).superRefine((value, ctx) => {
  const problem = re2Problem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem, input: value });
});

const writeRelabelSchema = z.strictObject({
  action: z
    .enum(["keep", "drop"], { error: "must be keep or drop" })
    .describe("keep: send only the series that match; drop: send all but those."),
  sourceLabels: z
    .array(labelName)
    .min(1, "must name at least one label")
    .optional()
    .describe("Labels whose values, joined by ';', the regex matches; default [__name__] (the metric name)."),
  regex: re2Regex.describe("Regular expression (Go RE2, anchored at both ends), e.g. node_.*|up."),
});

const queueSchema = z.strictObject({
  capacity: positiveCount("samples").optional().describe("Samples each shard buffers; Prometheus' default 10000."),
  minShards: positiveCount("shards").optional().describe("Shards at start; Prometheus' default 1."),
  maxShards: positiveCount("shards").optional().describe("Most parallel senders; Prometheus' default 50."),
  maxSamplesPerSend: positiveCount("samples").optional().describe("Samples per request; Prometheus' default 2000."),
  batchSendDeadline: duration.optional().describe("Longest wait before a request goes out not full; Prometheus' default 5s."),
  minBackoff: duration.optional().describe("First wait before a retry, doubled at each; Prometheus' default 30ms."),
  maxBackoff: duration.optional().describe("Longest wait between retries; Prometheus' default 5s."),
  retryOnRateLimit: bool.optional().describe("Retry requests answered 429 (Too Many Requests); Prometheus' default true."),
});

const tlsSchema = z.strictObject({
  caData: pemCertificates
    .optional()
    .describe("base64 of the PEM CA certificates that sign the destination's certificate (base64 -w0 ca.crt)."),
  serverName: dnsSubdomain("a server name").optional().describe("Name to verify the certificate against (and SNI)."),
  insecureSkipVerify: bool
    .optional()
    .describe("Skip verifying the destination's certificate (warned: anyone on the path reads the series); default false."),
  clientCertData: pemCertificates
    .optional()
    .describe("base64 of the PEM client certificate (mutual TLS); its key comes from secret remoteWriteClientKeys.<name>."),
});

/** One `prometheus.remoteWrite[]` entry as the stack file gives it. */
export const remoteWriteSchema = z.strictObject({
  name: dnsLabel,
  url: plainHttpUrl,
  username: userName().optional().describe("Basic-auth user; the password comes from secret remoteWritePasswords.<name>."),
  bearerToken: bool.optional().describe("Send remoteWritePasswords.<name> as a bearer token instead."),
  headers: z
    .record(headerName, headerValue)
    .optional()
    .describe("Extra HTTP headers of every request, e.g. the tenant: {X-Scope-OrgID: staging} (Mimir, Cortex); never Authorization."),
  writeRelabel: z
    .array(writeRelabelSchema)
    .optional()
    .describe("Which series go to this destination, in order (Prometheus' write_relabel_configs); default all."),
  queue: queueSchema.optional().describe("The sending queue (Prometheus' queue_config); each field defaults to Prometheus' own."),
  tls: tlsSchema.optional().describe("TLS to an https:// destination."),
  allowPlainHttp: bool
    .optional()
    .describe(
      "Send username's password or the bearer token over an http:// url outside the cluster (*.svc, *.svc.cluster.local and loopback need not); default false: refused.",
    ),
});

type RemoteWriteGiven = z.infer<typeof remoteWriteSchema>;

/** How remoteWriteClientKeys is given when it is not a map (config/secrets.ts SECRET_MAP_MESSAGES). */
export const REMOTE_WRITE_CLIENT_KEYS_MESSAGE =
  "must be a map of remote-write name to the base64 of its client key, set one entry at a time: pulumi config set --secret --path 'remoteWriteClientKeys.<remote-write-name>' \"$(base64 -w0 client.key)\"";

/** base64 of a PEM private key, one line, as remoteWriteClientKeys takes it. */
const pemPrivateKey = z
  .string({ error: "must be base64 of a PEM private key (base64 -w0 client.key)" })
  .refine(
    (v) =>
      /^[A-Za-z0-9+/]+=*$/.test(v) &&
      /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----[\s\S]+-----END ([A-Z]+ )?PRIVATE KEY-----/.test(Buffer.from(v, "base64").toString("utf8")),
    { message: "must be base64 of a PEM private key (-----BEGIN PRIVATE KEY----- ...), one line: base64 -w0 client.key" },
  );

export const REMOTE_WRITE_CLIENT_KEYS = z.record(dnsLabel, pemPrivateKey, notAMap(REMOTE_WRITE_CLIENT_KEYS_MESSAGE));

/** What the offline render stands in for an encrypted client key: base64 of a PEM-shaped key that is no key. */
export const clientKeyStandIn: SecretStandIn = ({ key }) =>
  Buffer.from(`-----BEGIN PRIVATE KEY-----\nPLACEHOLDER-secret-${key.replace(/[^a-zA-Z0-9]/g, "-")}\n-----END PRIVATE KEY-----\n`).toString(
    "base64",
  );

/** A write relabelling, resolved: the labels it reads (default the metric name). */
export interface WriteRelabel {
  action: "keep" | "drop";
  sourceLabels: string[];
  regex: string;
}

/** The queue's settings, as given: each absent one is Prometheus' default. */
export type RemoteWriteQueue = z.infer<typeof queueSchema>;

/** A remote write's TLS, resolved: the PEM texts (caData and clientCertData decoded), the key from its secret. */
export interface RemoteWriteTls<Secret = string> {
  caPem?: string;
  serverName?: string;
  insecureSkipVerify?: boolean;
  clientCertPem?: string;
  clientKeyPem?: Secret;
}

/** What a remote write carries besides its name, URL and credential (the section's and the component's alike). */
export interface RemoteWriteOptions<Secret = string> {
  headers?: Record<string, string>;
  writeRelabel?: WriteRelabel[];
  queue?: RemoteWriteQueue;
  tls?: RemoteWriteTls<Secret>;
}

/** A remote write as the section resolves it: its credential and client key in plain text (the stack's args make them secrets). */
export interface RemoteWriteTarget extends RemoteWriteOptions {
  name: string;
  url: string;
  auth?: { username: string; password: string } | { bearerToken: string };
}

/** The options of a remote write as the stack gives them, the TLS texts decoded, the client key from its secret. */
export function resolveRemoteWriteOptions(rw: RemoteWriteGiven, clientKey: string | undefined): RemoteWriteOptions {
  const decode = (base64: string) => Buffer.from(base64, "base64").toString("utf8");
  const tls = rw.tls;
  return {
    ...(rw.headers && Object.keys(rw.headers).length > 0 ? { headers: { ...rw.headers } } : {}),
    ...(rw.writeRelabel && rw.writeRelabel.length > 0
      ? {
          writeRelabel: rw.writeRelabel.map((r) => ({
            action: r.action,
            sourceLabels: [...(r.sourceLabels ?? ["__name__"])],
            regex: r.regex,
          })),
        }
      : {}),
    ...(rw.queue && Object.keys(rw.queue).length > 0 ? { queue: { ...rw.queue } } : {}),
    ...(tls
      ? {
          tls: {
            ...(tls.caData ? { caPem: decode(tls.caData) } : {}),
            ...(tls.serverName ? { serverName: tls.serverName } : {}),
            ...(tls.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
            ...(tls.clientCertData ? { clientCertPem: decode(tls.clientCertData) } : {}),
            ...(tls.clientCertData && clientKey ? { clientKeyPem: decode(clientKey) } : {}),
          },
        }
      : {}),
  };
}

/**
 * What is wrong in one remote write's options, keyed inside the entry (`headers.Authorization`, `tls`, `queue.minShards`):
 * what Prometheus would refuse at load (a reserved header, TLS on plain HTTP) or never use.
 */
export function remoteWriteOptionProblems(rw: RemoteWriteGiven): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  for (const header of Object.keys(rw.headers ?? {})) {
    const lower = header.toLowerCase();
    if (lower === "authorization")
      found.push({
        key: `headers.${header}`,
        message: "is set by username (basic auth) or bearerToken, with the credential in remoteWritePasswords.<name>: use those",
      });
    else if ((RESERVED_REMOTE_WRITE_HEADERS as readonly string[]).includes(lower))
      found.push({ key: `headers.${header}`, message: "is a header Prometheus sets itself and refuses to have changed; remove it" });
  }
  const credential = rw.username !== undefined ? "username's password (basic auth)" : rw.bearerToken ? "the bearer token" : undefined;
  found.push(...plainHttpCredentialProblem(rw.url, credential, rw.allowPlainHttp));
  if (rw.tls && !/^https:\/\//i.test(rw.url))
    found.push({ key: "tls", message: `applies to https:// destinations; url is ${rw.url}`, involves: ["url"] });
  if (rw.tls?.insecureSkipVerify && (rw.tls.caData !== undefined || rw.tls.serverName !== undefined))
    found.push({
      key: "tls.insecureSkipVerify",
      message: "skips verification, so caData and serverName would be ignored; keep one or the other",
      involves: ["tls.caData", "tls.serverName"],
    });
  const q = rw.queue;
  if (q?.minShards !== undefined && q.maxShards !== undefined && q.minShards > q.maxShards)
    found.push({
      key: "queue.minShards",
      message: `must not exceed queue.maxShards (${q.maxShards}); got ${q.minShards}`,
      involves: ["queue.maxShards"],
    });
  const seconds = (d: string) => durationSeconds(d) ?? 0;
  if (q?.minBackoff !== undefined && q.maxBackoff !== undefined && seconds(q.minBackoff) > seconds(q.maxBackoff))
    found.push({
      key: "queue.minBackoff",
      message: `must not exceed queue.maxBackoff (${q.maxBackoff}); got ${q.minBackoff}`,
      involves: ["queue.maxBackoff"],
    });
  return found;
}

/**
 * What is wrong between the remote writes' client certificates and remoteWriteClientKeys, keyed by the stack's keys:
 * a certificate needs its key, a key its certificate, and no key without its remote write.
 */
export function clientKeyProblems(given: readonly RemoteWriteGiven[], keys: Record<string, string>): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  given.forEach((rw, i) => {
    const key = keys[rw.name];
    if (rw.tls?.clientCertData !== undefined && key === undefined)
      found.push({
        key: `prometheus.remoteWrite[${i}].tls.clientCertData`,
        message: `needs its key: pulumi config set --secret --path 'remoteWriteClientKeys.${rw.name}' "$(base64 -w0 client.key)"`,
        involves: [`remoteWriteClientKeys.${rw.name}`],
      });
    if (rw.tls?.clientCertData === undefined && key !== undefined)
      found.push({
        key: `remoteWriteClientKeys.${rw.name}`,
        message: `is a client key, but prometheus.remoteWrite[${i}] has no tls.clientCertData: add the certificate, or remove the key with: pulumi config rm --path 'remoteWriteClientKeys.${rw.name}'`,
        involves: [`prometheus.remoteWrite[${i}].tls.clientCertData`],
      });
  });
  for (const name of Object.keys(keys)) {
    if (!given.some((rw) => rw.name === name))
      found.push({
        key: `remoteWriteClientKeys.${name}`,
        message: `no remote write named "${name}" in prometheus.remoteWrite: add it there, or remove the key with: pulumi config rm --path 'remoteWriteClientKeys.${name}'`,
        involves: ["prometheus.remoteWrite"],
      });
  }
  return found;
}

/** The file names of a remote write's Secret entries under PROMETHEUS_PATHS.remoteWriteDir: its credential, CA, certificate and key. */
export function remoteWriteFile(name: string, what: "credential" | "ca.crt" | "client.crt" | "client.key"): string {
  // The credential keeps the name it had before TLS came (a rename would rewrite every stack's Secret).
  return what === "credential" ? `remote-write-${name}` : `remote-write-${name}-${what}`;
}

/** The Secret entries of a remote write's TLS (CA, client certificate and key), by file name. */
export function remoteWriteTlsFiles<S>(name: string, tls: RemoteWriteTls<S> | undefined): Record<string, string | S> {
  const files: Record<string, string | S> = {};
  if (tls?.caPem) files[remoteWriteFile(name, "ca.crt")] = tls.caPem;
  if (tls?.clientCertPem) files[remoteWriteFile(name, "client.crt")] = tls.clientCertPem;
  if (tls?.clientKeyPem !== undefined) files[remoteWriteFile(name, "client.key")] = tls.clientKeyPem;
  return files;
}

/** The entry of prometheus.yml's remote_write that the options add (auth apart), in Prometheus' field names. */
export interface RemoteWriteConfigOptions {
  headers?: Record<string, string>;
  tls_config?: { ca_file?: string; cert_file?: string; key_file?: string; server_name?: string; insecure_skip_verify?: boolean };
  write_relabel_configs?: Array<{ source_labels: string[]; regex: string; action: "keep" | "drop" }>;
  queue_config?: {
    capacity?: number;
    min_shards?: number;
    max_shards?: number;
    max_samples_per_send?: number;
    batch_send_deadline?: string;
    min_backoff?: string;
    max_backoff?: string;
    retry_on_http_429?: boolean;
  };
}

/**
 * prometheus.yml's fields of a remote write's options, its files under `dir` (where the Secret is mounted); none when it
 * has none (a plain remote write renders as before).
 */
export function remoteWriteConfigOptions(name: string, options: RemoteWriteOptions<unknown>, dir: string): RemoteWriteConfigOptions {
  const file = (what: Parameters<typeof remoteWriteFile>[1]) => `${dir}/${remoteWriteFile(name, what)}`;
  const { headers, writeRelabel, queue, tls } = options;
  const q = queue ?? {};
  const queueConfig: NonNullable<RemoteWriteConfigOptions["queue_config"]> = {
    ...(q.capacity !== undefined ? { capacity: q.capacity } : {}),
    ...(q.minShards !== undefined ? { min_shards: q.minShards } : {}),
    ...(q.maxShards !== undefined ? { max_shards: q.maxShards } : {}),
    ...(q.maxSamplesPerSend !== undefined ? { max_samples_per_send: q.maxSamplesPerSend } : {}),
    ...(q.batchSendDeadline !== undefined ? { batch_send_deadline: q.batchSendDeadline } : {}),
    ...(q.minBackoff !== undefined ? { min_backoff: q.minBackoff } : {}),
    ...(q.maxBackoff !== undefined ? { max_backoff: q.maxBackoff } : {}),
    ...(q.retryOnRateLimit !== undefined ? { retry_on_http_429: q.retryOnRateLimit } : {}),
  };
  return {
    ...(headers ? { headers } : {}),
    ...(tls
      ? {
          tls_config: {
            ...(tls.caPem ? { ca_file: file("ca.crt") } : {}),
            ...(tls.clientCertPem ? { cert_file: file("client.crt"), key_file: file("client.key") } : {}),
            ...(tls.serverName ? { server_name: tls.serverName } : {}),
            ...(tls.insecureSkipVerify ? { insecure_skip_verify: true } : {}),
          },
        }
      : {}),
    ...(writeRelabel
      ? { write_relabel_configs: writeRelabel.map((r) => ({ source_labels: r.sourceLabels, regex: r.regex, action: r.action })) }
      : {}),
    ...(Object.keys(queueConfig).length > 0 ? { queue_config: queueConfig } : {}),
  };
}

/** The component's options: the client key as a secret. */
export type RemoteWriteArgsOptions = RemoteWriteOptions<pulumi.Input<string>>;

/** The component's options of a resolved remote write: the client key made a Pulumi secret, the rest as it is. */
export function remoteWriteArgsOptions(options: RemoteWriteOptions): RemoteWriteArgsOptions {
  const { tls, ...rest } = options;
  if (!tls) return rest;
  const { clientKeyPem, ...plain } = tls;
  return { ...rest, tls: { ...plain, ...(clientKeyPem !== undefined ? { clientKeyPem: pulumi.secret(clientKeyPem) } : {}) } };
}
