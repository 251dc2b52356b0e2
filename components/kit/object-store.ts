/**
 * An S3-compatible store (Cloudflare R2, AWS S3, Backblaze B2, MinIO), as the sections that write to
 * one give it (backup, loki.objectStore): its providers, and what each refuses of a bucket's name and
 * of an endpoint.
 */
import { ArgsProblem } from "./problems";

/** The S3-compatible stores, Cloudflare R2 first: rclone's s3 backend's `provider` for each, whether it needs an endpoint. */
export const STORE_PROVIDERS = {
  r2: { rclone: "Cloudflare", needsEndpoint: true, example: "https://<account id>.r2.cloudflarestorage.com" },
  s3: { rclone: "AWS", needsEndpoint: false, example: "https://s3.eu-central-1.amazonaws.com" },
  b2: { rclone: "Other", needsEndpoint: true, example: "https://s3.eu-central-003.backblazeb2.com" },
  minio: { rclone: "Minio", needsEndpoint: true, example: "https://minio.example.com" },
} as const;
export type StoreProvider = keyof typeof STORE_PROVIDERS;

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
/**
 * The bucket's name by the store's rule, and the endpoint as an address alone: rclone puts the bucket
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
  return found;
}
