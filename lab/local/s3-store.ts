/**
 * An S3-compatible store for the tests that write to a bucket (backups, Loki's chunks): rclone's own
 * `serve s3` (the pinned rclone, the same binary the backups upload with) over a directory, one
 * folder per bucket, on 127.0.0.1, taking one key pair.
 */
import * as fs from "fs";
import * as path from "path";
import { stackBinary } from "./binaries";
import { LOOPBACK } from "../ports";
import { LocalRun, ManagedProcess } from "../processes/children";

/** Serves `root` as an S3 store at `port` with `bucket` made, taking the key pair; returns its process and URL. */
export function startS3Store(
  run: LocalRun,
  opts: { root: string; port: number; bucket: string; accessKeyId: string; secretAccessKey: string },
): { process: ManagedProcess; url: string } {
  fs.mkdirSync(path.join(opts.root, opts.bucket), { recursive: true });
  const process = run.start("rclone-s3", stackBinary("rclone"), [
    "serve",
    "s3",
    "--addr",
    `${LOOPBACK}:${opts.port}`,
    "--auth-key",
    `${opts.accessKeyId},${opts.secretAccessKey}`,
    opts.root,
  ]);
  return { process, url: `http://${LOOPBACK}:${opts.port}` };
}
