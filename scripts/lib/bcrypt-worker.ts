/**
 * bcrypt in a worker thread, for the offline render's stand-in of the random provider: a hash
 * at cost 10 takes about 70 ms of CPU, which the render's main thread would otherwise spend
 * instead of running the program (two per stack: the basic-auth users' generated passwords).
 * The worker starts on the first hash and never keeps the process alive while it is idle.
 */
import { Worker } from "worker_threads";

const WORKER_SOURCE = `
const { parentPort, workerData } = require("worker_threads");
const bcrypt = require(workerData.bcryptjs);
parentPort.on("message", ({ id, password, salt }) => parentPort.postMessage({ id, hash: bcrypt.hashSync(password, salt) }));
`;

interface Hasher {
  worker: Worker;
  pending: Map<number, { resolve(hash: string): void; reject(err: Error): void }>;
  next: number;
}
let hasher: Hasher | undefined;

function start(): Hasher {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptjs: require.resolve("bcryptjs") } });
  const started: Hasher = { worker, pending: new Map(), next: 0 };
  worker.on("message", ({ id, hash }: { id: number; hash: string }) => {
    started.pending.get(id)?.resolve(hash);
    started.pending.delete(id);
    if (started.pending.size === 0) worker.unref();
  });
  const fail = (err: Error) => {
    for (const { reject } of started.pending.values()) reject(err);
    if (hasher === started) hasher = undefined;
  };
  worker.on("error", fail);
  worker.on("exit", (code) => fail(new Error(`the bcrypt worker exited with code ${code}`)));
  worker.unref();
  return started;
}

/** bcryptjs' hashSync(password, salt), computed on another thread. */
export function bcryptHash(password: string, salt: string): Promise<string> {
  hasher ??= start();
  const { worker, pending } = hasher;
  const id = hasher.next++;
  return new Promise<string>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    // Referenced while a hash is under way, so that the process waits for it.
    worker.ref();
    worker.postMessage({ id, password, salt });
  });
}
