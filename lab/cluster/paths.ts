/**
 * Where the local cluster keeps its binaries and its state, and the check that
 * everything it runs is there before anything starts.
 */
import * as fs from "fs";
import * as path from "path";
import { BIN_DIR, ROOT, TOOLS } from "../tools/tools";

/** The release of a pinned tool, as lab/tools/tools.ts pins it. */
export function toolRelease(binary: string): string {
  const tool = TOOLS.find((t) => t.binary === binary);
  if (!tool) throw new Error(`${binary} is not in lab/tools/tools.ts`);
  return tool.release;
}

/** The binaries the cluster runs, by the name of the component that runs them. */
export const BINARIES = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kubectl"] as const;
export type Binary = (typeof BINARIES)[number];

/**
 * Everything a running cluster owns lives under one directory, removed by `down`: .cluster/
 * at the root of the checkout. Not under .tools/, which several worktrees of one clone may
 * share (a symlink): each checkout has its own cluster, and one never stops another's.
 */
export class StateDir {
  constructor(public readonly root: string = path.join(ROOT, ".cluster")) {}

  get stateFile(): string {
    return path.join(this.root, "state.json");
  }
  get kubeconfig(): string {
    return path.join(this.root, "kubeconfig");
  }
  get pki(): string {
    return path.join(this.root, "pki");
  }
  get logs(): string {
    return path.join(this.root, "logs");
  }
  get pids(): string {
    return path.join(this.root, "pids");
  }
  get etcdData(): string {
    return path.join(this.root, "etcd");
  }
  get volumes(): string {
    return path.join(this.root, "volumes");
  }
  get manifests(): string {
    return path.join(this.root, "manifests");
  }
  get kwok(): string {
    return path.join(this.root, "kwok");
  }
  /** Outside the state directory, so that `down` can hold it while it removes the directory. */
  get lockFile(): string {
    return `${this.root}.lock`;
  }
  /** The API server writes its self-signed serving certificate (and the CA that signed it) here. */
  get apiserverCert(): string {
    return path.join(this.pki, "apiserver.crt");
  }
  logFile(name: string): string {
    return path.join(this.logs, `${name}.log`);
  }
  pidFile(name: string): string {
    return path.join(this.pids, `${name}.pid`);
  }
  /** The exit status of a component that has ended (written by the sh that waits for it). */
  exitFile(name: string): string {
    return path.join(this.pids, `${name}.exit`);
  }
  componentKubeconfig(name: string): string {
    return path.join(this.pki, `${name}.kubeconfig`);
  }
}

/** Thrown when something the cluster needs is not installed; the message says how to install it. */
export class MissingToolError extends Error {}

/** The absolute path of each binary, or a MissingToolError naming every missing one. */
export function locateBinaries(bin: string = BIN_DIR): Record<Binary, string> {
  const found = {} as Record<Binary, string>;
  const missing: string[] = [];
  for (const name of BINARIES) {
    const file = path.join(bin, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      found[name] = file;
    } catch {
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    throw new MissingToolError(`missing ${missing.join(", ")} in ${bin}: run \`npm run tools\` first`);
  }
  return found;
}

/** The path of a command on PATH, or undefined. */
export function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, command);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
