/**
 * An S3-compatible store (Cloudflare R2, AWS S3, Backblaze B2, MinIO), as the sections that write to
 * one give it (backup, loki.objectStore): its providers, and what each refuses of a bucket's name and
 * of an endpoint.
 */
import { z } from "zod";
import { matching, nonEmpty } from "./fields";
import { ArgsProblem } from "./problems";

/** The S3-compatible stores, Cloudflare R2 first: rclone's s3 backend's `provider` for each, whether it needs an endpoint. */
export const STORE_PROVIDERS = {
  r2: { rclone: "Cloudflare", needsEndpoint: true, example: "https://<account id>.r2.cloudflarestorage.com" },
  s3: { rclone: "AWS", needsEndpoint: false, example: "https://s3.eu-central-1.amazonaws.com" },
  b2: { rclone: "Other", needsEndpoint: true, example: "https://s3.eu-central-003.backblazeb2.com" },
  minio: { rclone: "Minio", needsEndpoint: true, example: "https://minio.example.com" },
} as const;
export type StoreProvider = keyof typeof STORE_PROVIDERS;

/**
 * The store's fields of a section that writes to one (backup, loki.objectStore): its provider, S3 endpoint and
 * region, and the bucket, described by what goes to it.
 */
export function storeFields(bucketDescription: string) {
  return {
    /** The S3-compatible store, its `provider` for rclone's s3 backend. */
    provider: z
      .enum(Object.keys(STORE_PROVIDERS) as [StoreProvider], { error: `must be one of ${Object.keys(STORE_PROVIDERS).join(", ")}` })
      .optional()
      .describe("The S3-compatible store: r2 (Cloudflare R2, the default), s3, b2 (Backblaze B2) or minio."),
    /** The store's S3 endpoint; AWS S3 finds it from the region. No default. */
    endpoint: z
      .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
      .optional()
      .describe("The store's S3 endpoint, such as https://<account id>.r2.cloudflarestorage.com; required but for s3."),
    /** `auto` for R2. */
    region: nonEmpty("a region").optional().describe("The bucket's region; default auto (R2)."),
    /** No default. */
    bucket: nonEmpty("a bucket name").optional().describe(bucketDescription),
  };
}

const S3_RULE =
  "S3 takes 3 to 63 lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit, " +
  "no two dots in a row, not an IP address, not beginning with xn--, sthree- or amzn-s3-demo-, " +
  "not ending with -s3alias, --ol-s3, .mrap, --x-s3 or --table-s3";

/** Each store's rule for a bucket's name (what its API refuses to create or address), by provider. */
const BUCKET_RULES: Record<StoreProvider, { rule: string; refuses: (name: string) => boolean }> = {
  // Cloudflare R2: 3 to 63 of a-z, 0-9 and -, a letter or digit at each end.
  r2: {
    rule: "R2 takes 3 to 63 lowercase letters, digits and hyphens, beginning and ending with a letter or digit",
    refuses: (name) => !/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(name),
  },
  // AWS S3 (general purpose buckets), which MinIO follows.
  s3: { rule: S3_RULE, refuses: s3Refuses },
  minio: { rule: S3_RULE, refuses: s3Refuses },
  // Backblaze B2: 6 to 63 letters, digits and hyphens, not beginning with b2-.
  b2: {
    rule: "B2 takes 6 to 63 letters, digits and hyphens, not beginning with b2-",
    refuses: (name) => !/^[A-Za-z0-9-]{6,63}$/.test(name) || /^b2-/i.test(name),
  },
};

function s3Refuses(name: string): boolean {
  return (
    !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) ||
    name.includes("..") ||
    /^\d+\.\d+\.\d+\.\d+$/.test(name) ||
    /^(xn--|sthree-|amzn-s3-demo-)/.test(name) ||
    /(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)
  );
}
/** The validators of a store's key pair, each a secret key of the section's own (backupAccessKeyId, lokiAccessKeyId …). */
export const STORE_ACCESS_KEY_ID = matching(/^[\x21-\x7e]+$/, "an access key id: printable characters, no space");
export const STORE_SECRET_ACCESS_KEY = matching(/^[\x21-\x7e]+$/, "a secret access key: printable characters, no space");

/**
 * The bucket's name by the store's rule, the endpoint as an address alone, and an endpoint where the provider has none of its own: rclone puts the bucket
 * in each request's path itself, so a path in the endpoint (the bucket, as Cloudflare's dashboard
 * shows the S3 API's URL) sends every request to the wrong place.
 */
export function storeProblems(backup: { provider: StoreProvider; bucket?: string; endpoint?: string }, bucketKey: string): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  const bucket = BUCKET_RULES[backup.provider];
  if (backup.bucket && bucket.refuses(backup.bucket))
    found.push({
      key: "bucket",
      message: `must be a bucket name the store takes: ${bucket.rule}; got "${backup.bucket}"`,
      involves: ["provider"],
    });
  const url = backup.endpoint && URL.canParse(backup.endpoint) ? new URL(backup.endpoint) : undefined;
  if (url) {
    const pathPart = url.pathname.replace(/\/+$/, "");
    if (pathPart !== "" || url.search !== "" || url.hash !== "") {
      const named = pathPart.replace(/^\//, "").split("/")[0];
      const also = named && named !== backup.bucket ? ` (its path names "${named}": the bucket goes in ${bucketKey})` : "";
      found.push({
        key: "endpoint",
        message: `must be the store's address alone, without a path, query or fragment: set it to ${url.origin}${also}; got "${backup.endpoint}"`,
      });
    }
  }
  const provider = STORE_PROVIDERS[backup.provider];
  if (provider.needsEndpoint && !backup.endpoint)
    found.push({
      key: "endpoint",
      message: `is required for provider "${backup.provider}": its S3 endpoint, such as ${provider.example}`,
      involves: ["provider"],
    });
  return found;
}
