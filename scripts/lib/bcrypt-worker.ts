/**
 * bcrypt in worker threads, for the offline render's stand-in of the random provider: a hash
 * at cost 10 takes about 70 ms of CPU, which the render's main thread would otherwise spend
 * instead of running the program (one per generated password). The last hashes are what the
 * render waits for at its end, so they are spread over up to WORKERS threads, one per core: a
 * hash goes to the worker with the fewest under way. A worker starts on its first hash and
 * never keeps the process alive while it is idle.
 *
 * The stand-in's passwords and salts come from the resources' URNs, so a render of an unchanged
 * stack asks for the same hashes every time: `standInBcryptHash` keeps them in
 * node_modules/.cache/stand-in-bcrypt/ (cache-file.js, which keeps fast-start.js' files too), and the
 * edit–render loop computes only those of new passwords. Only the stand-in's generated passwords
 * go there, never a password a user gives (components/traefik hashes those itself).
 */
import * as crypto from "crypto";
import * as os from "os";
import { Worker } from "worker_threads";
import { readCacheEntry, writeCacheEntry } from "./cache-file";

const WORKER_SOURCE = `
const { parentPort, workerData } = require("worker_threads");
const bcrypt = require(workerData.bcryptjs);
parentPort.on("message", ({ id, password, salt }) => parentPort.postMessage({ id, hash: bcrypt.hashSync(password, salt) }));
`;

/** One worker per core, two at most: a stack has a handful of generated passwords. */
const WORKERS = Math.max(1, Math.min(2, os.availableParallelism()));

interface Hasher {
  worker: Worker;
  pending: Map<number, { resolve(hash: string): void; reject(err: Error): void }>;
}
const hashers: Hasher[] = [];
let next = 0;

function start(): Hasher {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptjs: require.resolve("bcryptjs") } });
  const started: Hasher = { worker, pending: new Map() };
  worker.on("message", ({ id, hash }: { id: number; hash: string }) => {
    started.pending.get(id)?.resolve(hash);
    started.pending.delete(id);
    if (started.pending.size === 0) worker.unref();
  });
  const fail = (err: Error) => {
    for (const { reject } of started.pending.values()) reject(err);
    started.pending.clear();
    const at = hashers.indexOf(started);
    if (at >= 0) hashers.splice(at, 1);
  };
  worker.on("error", fail);
  worker.on("exit", (code) => fail(new Error(`the bcrypt worker exited with code ${code}`)));
  worker.unref();
  hashers.push(started);
  return started;
}

/** The worker for the next hash: an idle one, a new one while fewer than WORKERS run, else the least busy. */
function hasher(): Hasher {
  const idle = hashers.find((h) => h.pending.size === 0);
  if (idle) return idle;
  if (hashers.length < WORKERS) return start();
  return hashers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
}

/** bcryptjs' hashSync(password, salt), computed on another thread. */
function bcryptHash(password: string, salt: string): Promise<string> {
  const { worker, pending } = hasher();
  const id = next++;
  return new Promise<string>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    // Referenced while a hash is under way, so that the process waits for it.
    worker.ref();
    worker.postMessage({ id, password, salt });
  });
}

const CACHE = "stand-in-bcrypt";

/**
 * bcryptHash of one of the random provider stand-in's generated passwords, from the cache when
 * computed before (cache-file.js). An entry is named by the SHA-256 of the salt and password and
 * holds the hash.
 */
export async function standInBcryptHash(password: string, salt: string): Promise<string> {
  const entry = crypto.createHash("sha256").update(`${salt}\n${password}`).digest("hex");
  const cached = readCacheEntry(CACHE, entry);
  // A bcrypt hash carries its salt (the last of its 22 characters normalized): an entry that does not is not used.
  if (cached?.length === 60 && cached.slice(0, 28) === salt.slice(0, 28)) return cached;
  const hash = await bcryptHash(password, salt);
  writeCacheEntry(CACHE, entry, hash);
  return hash;
}
