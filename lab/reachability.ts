/**
 * The reachability matrix (docs/reachability.yml): who can reach what, as rows a NetworkPolicy engine checks against
 * a render. This file reads and checks the matrix, turns a row into the connections it names between the pods of a
 * render (their labels and namespaces as rendered), and writes the table docs/security.md carries. Running the engine
 * is test/e2e/reachability.test.ts's (tools/cyclonus).
 */
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { z } from "zod";
import type { K8sObject, Rendered } from "../cli/render";
import { ROOT } from "../cli/stackfile";

export const MATRIX_FILE = path.join(ROOT, "docs", "reachability.yml");

const labelsSchema = z.record(z.string(), z.string());
const peerSchema = z.union([
  z.object({ namespace: z.string().min(1), labels: labelsSchema }).strict(),
  z.object({ ip: z.ipv4() }).strict(),
]);
const matrixSchema = z
  .object({
    stacks: z.record(
      z.string(),
      z.object({ stackFile: z.string().min(1), appNamespace: z.string().min(1), sets: z.array(z.string()) }).strict(),
    ),
    outside: z.record(z.string(), peerSchema),
    rows: z.record(z.string(), z.record(z.string(), z.string().min(1))),
  })
  .strict();

/** One claim: a connection, whether it is allowed and, when not, what refuses it; where it holds and why. */
export interface Row {
  /** The destination and port it is about, as docs/security.md groups them. */
  what: string;
  from: string;
  to: string;
  port: number;
  protocol: "TCP" | "UDP";
  expect: "allowed" | "denied";
  by?: "ingress" | "egress" | "both";
  /** The stacks it holds on; undefined: every stack. */
  stacks?: string[];
  why: string;
  /** The claim as the file writes it. */
  claim: string;
}

export interface Matrix {
  stacks: Record<string, { stackFile: string; appNamespace: string; sets: string[] }>;
  outside: z.infer<typeof matrixSchema>["outside"];
  rows: Row[];
}

const CLAIM = /^(.+?) -> (.+?):(\d{1,5})(?:\/(TCP|UDP))? (allowed|denied by (ingress|egress|both))(?: on ([\w-]+(?:, [\w-]+)*))?$/;

/** Reads and checks the matrix: every problem named by its place in the file, what is allowed and what was given. */
export function readMatrix(file = MATRIX_FILE): Matrix {
  const name = path.relative(ROOT, file);
  const parsed = matrixSchema.safeParse(YAML.parse(fs.readFileSync(file, "utf8")));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`);
    throw new Error(`${name}: ${problems.join("; ")}`);
  }
  const { stacks, outside } = parsed.data;
  const problems: string[] = [];
  const rows: Row[] = [];
  for (const [what, claims] of Object.entries(parsed.data.rows)) {
    for (const [claim, why] of Object.entries(claims)) {
      const m = CLAIM.exec(claim);
      if (!m) {
        problems.push(
          `rows.${what}: "${claim}" is not "<from> -> <to>:<port>[/UDP] allowed|denied by ingress|egress|both[ on <stack>, ...]"`,
        );
        continue;
      }
      const [, from, to, port, protocol, expect, by, on] = m;
      const row: Row = {
        what,
        from,
        to,
        port: Number(port),
        protocol: (protocol ?? "TCP") as Row["protocol"],
        expect: expect === "allowed" ? "allowed" : "denied",
        why,
        claim,
      };
      if (by) row.by = by as Row["by"];
      if (on) row.stacks = on.split(", ");
      if (row.port < 1 || row.port > 65535) problems.push(`rows.${what}: "${claim}": port ${port} is not 1 to 65535`);
      for (const stack of row.stacks ?? []) {
        if (!stacks[stack])
          problems.push(`rows.${what}: "${claim}": "${stack}" is not a stack of the matrix (${Object.keys(stacks).join(", ")})`);
      }
      if (from.startsWith("other/") && to.startsWith("other/"))
        problems.push(`rows.${what}: "${claim}": from and to are both the other stack's`);
      rows.push(row);
    }
  }
  if (problems.length > 0) throw new Error(`${name}: ${problems.join("; ")}`);
  return { stacks, outside, rows };
}

/** The stacks a row holds on. */
export function rowStacks(matrix: Matrix, row: Row): string[] {
  return row.stacks ?? Object.keys(matrix.stacks);
}

/** One end of a connection: a pod (its address in k3s's pod network) or an address outside the pods. */
export interface Peer {
  name: string;
  ip: string;
  pod?: { namespace: string; namespaceLabels: Record<string, string>; labels: Record<string, string> };
}

/** The nodes' addresses: a pod on the host's network (node-exporter) has its node's. */
export const NODE_ADDRESSES = ["192.168.1.10", "192.168.1.11"];

type Template = { metadata: { labels?: Record<string, string> }; spec: { hostNetwork?: boolean } };
type Workload = K8sObject & { spec: { replicas?: number; template?: Template; jobTemplate?: { spec: { template: Template } } } };

/**
 * The pods of a render, as the cluster would run them: each workload's pod template labels in its namespace (with the
 * namespace's rendered labels; the API server sets kubernetes.io/metadata.name on every namespace), each replica of a
 * StatefulSet with the labels its controller adds (statefulset.kubernetes.io/pod-name, apps.kubernetes.io/pod-index),
 * a DaemonSet's pod on each of two nodes (so that its pods meet each other), one pod for a Deployment or CronJob (their
 * replicas are alike). A pod on the host's network is its node's address, where no NetworkPolicy applies. Addresses
 * are handed out in k3s's pod network, 10.42.0.0/16.
 */
export class RenderedPods {
  private readonly pods = new Map<string, Peer[]>();
  private next = 1;

  /** `subnet`: the third byte of the render's pod addresses, so that two stacks' pods on one cluster never share one. */
  constructor(
    readonly rendered: Rendered,
    readonly title: string,
    private readonly subnet = 0,
  ) {
    const namespaces = new Map(
      rendered.kubernetes
        .filter((o) => o.object.kind === "Namespace")
        .map((o) => [o.object.metadata.name ?? "", o.object.metadata.labels ?? {}]),
    );
    for (const { object, patch } of rendered.kubernetes) {
      if (patch || !["Deployment", "StatefulSet", "DaemonSet", "CronJob"].includes(object.kind)) continue;
      const workload = object as Workload;
      const name = workload.metadata.name ?? "";
      const namespace = workload.metadata.namespace ?? "";
      const template = workload.spec.jobTemplate?.spec.template ?? (workload.spec.template as Template);
      const namespaceLabels = { ...(namespaces.get(namespace) ?? {}), "kubernetes.io/metadata.name": namespace };
      const labels = template.metadata.labels ?? {};
      const daemons = object.kind === "DaemonSet";
      const replicas = object.kind === "StatefulSet" ? (workload.spec.replicas ?? 1) : daemons ? NODE_ADDRESSES.length : 1;
      const peers: Peer[] = [];
      for (let i = 0; i < replicas; i++) {
        const pod = object.kind === "StatefulSet" ? `${name}-${i}` : daemons ? `${name} on node ${i + 1}` : name;
        const podName = `${namespace}/${pod}`;
        if (template.spec.hostNetwork) {
          peers.push({ name: `${podName} (its node's address)`, ip: NODE_ADDRESSES[i] });
          continue;
        }
        const own: Record<string, string> =
          object.kind === "StatefulSet"
            ? { "statefulset.kubernetes.io/pod-name": `${name}-${i}`, "apps.kubernetes.io/pod-index": `${i}` }
            : {};
        peers.push({ name: podName, ip: this.address(), pod: { namespace, namespaceLabels, labels: { ...labels, ...own } } });
      }
      if (this.pods.has(name)) throw new Error(`${title}: two workloads named ${name}`);
      this.pods.set(name, peers);
    }
  }

  private address(): string {
    const n = this.next++;
    if (n > 250) throw new Error(`${this.title}: more than 250 pods`);
    return `10.42.${this.subnet}.${n}`;
  }

  /** Every NetworkPolicy of the render. */
  policies(): K8sObject[] {
    return this.rendered.kubernetes.filter((o) => o.object.kind === "NetworkPolicy").map((o) => o.object);
  }

  /** The pods of a workload (`prometheus`), or one replica of a StatefulSet (`prometheus-0`). */
  workload(name: string): Peer[] {
    const all = this.pods.get(name);
    if (all) return all;
    const replica = /^(.+)-(\d+)$/.exec(name);
    const one = replica ? this.pods.get(replica[1])?.find((p) => p.name.endsWith(`/${name}`)) : undefined;
    if (one) return [one];
    throw new Error(`${this.title}: no workload or StatefulSet replica "${name}" in the render (${[...this.pods.keys()].join(", ")})`);
  }
}

/** A peer of the matrix's `outside` list, in a stack (its app namespace). */
export function outsidePeer(matrix: Matrix, stack: string, name: string): Peer | undefined {
  const peer = matrix.outside[name];
  if (!peer) return undefined;
  if ("ip" in peer) return { name, ip: peer.ip };
  const namespace = peer.namespace === "$appNamespace" ? matrix.stacks[stack].appNamespace : peer.namespace;
  // Pods outside the stack: addresses of their own, apart from the stacks' (10.42.200.0/24).
  const ip = `10.42.200.${Object.keys(matrix.outside).indexOf(name) + 1}`;
  return {
    name: `${namespace}/${name}`,
    ip,
    pod: { namespace, namespaceLabels: { "kubernetes.io/metadata.name": namespace }, labels: peer.labels },
  };
}

/** The connections a row names, with its source and destination as rendered: each pair but a pod with itself. */
export function connections(
  matrix: Matrix,
  row: Row,
  stack: { name: string; pods: RenderedPods },
  other?: { name: string; pods: RenderedPods },
): Array<{ from: Peer; to: Peer }> {
  const resolve = (name: string): Peer[] => {
    if (name.startsWith("other/")) {
      if (!other) throw new Error(`${name} is another stack's: only with two stacks`);
      return other.pods.workload(name.slice("other/".length));
    }
    const outside = outsidePeer(matrix, stack.name, name);
    return outside ? [outside] : stack.pods.workload(name);
  };
  const froms = resolve(row.from);
  const tos = resolve(row.to);
  const same = (a: Peer, b: Peer) => a.ip === b.ip && a.name === b.name;
  const pairs = froms.flatMap((from) => tos.filter((to) => !same(from, to)).map((to) => ({ from, to })));
  if (pairs.length === 0) throw new Error(`${stack.pods.title}: ${row.from} -> ${row.to} names no pair of pods but a pod with itself`);
  return pairs;
}

/** A connection as the engine's query (cyclonus's matcher.Traffic). */
export function trafficQuery(from: Peer, to: Peer, row: Row): Record<string, unknown> {
  const peer = (p: Peer) => ({
    IP: p.ip,
    ...(p.pod ? { Internal: { Namespace: p.pod.namespace, NamespaceLabels: p.pod.namespaceLabels, PodLabels: p.pod.labels } } : {}),
  });
  return { Source: peer(from), Destination: peer(to), ResolvedPort: row.port, ResolvedPortName: "", Protocol: row.protocol };
}

/** The engine's answer to a query. */
export interface Answer {
  ingress: boolean;
  egress: boolean;
  allowed: boolean;
  ingressBy: string[];
  egressBy: string[];
}

/**
 * Whether an answer is what the row expects; undefined when it is, else what differs. A denied row's `by` names what
 * must refuse the connection: the destination's ingress policies (whatever the source's egress does), the source's
 * egress policies (whatever the destination's ingress does), or both of them.
 */
export function mismatch(row: Row, answer: Answer): string | undefined {
  const got = answer.allowed
    ? "allowed"
    : `denied by ${!answer.ingress && !answer.egress ? "both" : !answer.ingress ? "ingress" : "egress"}`;
  if (row.expect === "allowed") return answer.allowed ? undefined : `expected allowed, got ${got}`;
  const held = row.by === "both" ? !answer.ingress && !answer.egress : row.by === "ingress" ? !answer.ingress : !answer.egress;
  return held ? undefined : `expected denied by ${row.by}, got ${got}`;
}

/** docs/security.md's table of the matrix, one line per row. */
export function reachabilityTable(matrix: Matrix): string {
  const all = Object.keys(matrix.stacks);
  const lines = [
    "| about | from | to | port | expected | on | why |",
    "|---|---|---|---|---|---|---|",
    ...matrix.rows.map((row) => {
      const expected = row.expect === "allowed" ? "allowed" : `denied (${row.by === "both" ? "egress and ingress" : row.by})`;
      const stacks = rowStacks(matrix, row);
      const on = stacks.length === all.length ? "every stack" : stacks.join(", ");
      const port = row.protocol === "TCP" ? `${row.port}` : `${row.port}/${row.protocol}`;
      return `| ${row.what} | ${row.from} | ${row.to} | ${port} | ${expected} | ${on} | ${row.why} |`;
    }),
  ];
  return `${lines.join("\n")}\n`;
}
