/**
 * Who can reach what (docs/reachability.yml) on the rendered NetworkPolicies, answered by cyclonus's policy engine
 * (github.com/mattfenwick/cyclonus's pkg/matcher, built by `npm run tools -- cyclonus-matcher` into
 * tools/cyclonus's command): every row on each stack of the matrix (staging as its file is, production with every
 * feature that opens a port), then both stacks on one cluster, their policies together, where every row holds again on
 * each and the other stack's pods are refused. The pods are the render's: each workload's pod labels in its namespace.
 * A control takes the policies away and sees every denied row fail, so the denials are the policies' doing.
 */
import { spawnSync } from "child_process";
import type { K8sObject } from "../../cli/render";
import { stackBinary } from "../../lab/local/binaries";
import { Answer, Matrix, RenderedPods, Row, connections, mismatch, readMatrix, rowStacks, trafficQuery } from "../../lab/reachability";
import { render } from "../support/render";

/** Asks the engine about each query against the policies. */
function evaluate(policies: K8sObject[], queries: Array<Record<string, unknown>>): Answer[] {
  const run = spawnSync(stackBinary("cyclonus-matcher"), [], {
    input: JSON.stringify({ policies, queries }),
    encoding: "utf8",
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`cyclonus-matcher exited ${run.status}: ${run.stderr}`);
  const answers = JSON.parse(run.stdout) as Answer[];
  if (answers.length !== queries.length) throw new Error(`cyclonus-matcher answered ${answers.length} of ${queries.length} queries`);
  return answers;
}

interface Case {
  row: Row;
  stack: string;
  from: string;
  to: string;
  query: Record<string, unknown>;
}

/** The rows that hold on a stack, as connections between its pods (with the other stack's, on one cluster). */
function casesOf(matrix: Matrix, stack: string, pods: Map<string, RenderedPods>, other?: string): Case[] {
  return matrix.rows.flatMap((row) => {
    if (!rowStacks(matrix, row).includes(stack)) return [];
    const cross = row.from.startsWith("other/") || row.to.startsWith("other/");
    if (cross !== (other !== undefined)) return [];
    const self = { name: stack, pods: pods.get(stack) as RenderedPods };
    const them = other ? { name: other, pods: pods.get(other) as RenderedPods } : undefined;
    return connections(matrix, row, self, them).map(({ from, to }) => ({
      row,
      stack,
      from: from.name,
      to: to.name,
      query: trafficQuery(from, to, row),
    }));
  });
}

/** The cases whose answer is not what their row expects, each named. */
function failures(cases: Case[], policies: K8sObject[]): string[] {
  const answers = evaluate(
    policies,
    cases.map((c) => c.query),
  );
  return cases.flatMap((c, i) => {
    const problem = mismatch(c.row, answers[i]);
    const at = `${c.row.what}: "${c.row.claim}" on ${c.stack}, ${c.from} -> ${c.to}`;
    return problem
      ? [`${at}: ${problem} (admitted by [${answers[i].ingressBy.join(", ")}], let out by [${answers[i].egressBy.join(", ")}])`]
      : [];
  });
}

const matrix = readMatrix();
const stacks = Object.keys(matrix.stacks);
const pods = new Map<string, RenderedPods>();

beforeAll(async () => {
  for (const [i, name] of stacks.entries()) {
    const { stackFile, sets } = matrix.stacks[name];
    pods.set(name, new RenderedPods(await render(stackFile, sets), name, i));
  }
});

test("the matrix has two stacks and rows for every destination the docs name", () => {
  expect(stacks).toEqual(["staging", "production"]);
  const destinations = new Set(matrix.rows.map((r) => r.what));
  for (const what of [
    "Prometheus' UI/API",
    "Prometheus' admin API",
    "Prometheus' write receiver",
    "Loki push",
    "Loki query",
    "Alertmanager API",
    "Alertmanager gossip",
    "node-exporter",
    "Alloy's OTLP",
    "Grafana",
    "Grafana's egress",
  ])
    expect([...destinations]).toContain(what);
});

test("the admin API's rows name the port the rendered backups take their snapshot on, and no other", () => {
  // A NetworkPolicy admits a port: the rows hold the admin API only if it is served on that port alone (the proxy's
  // admin port, test/e2e/prometheus-admin-proxy.test.ts); on Prometheus' own port 9090, where every client is let in,
  // a row denying Grafana the admin API would be false.
  const withBackups = stacks.filter((s) =>
    (pods.get(s) as RenderedPods).rendered.kubernetes.some((o) => o.object.metadata.name === "backup-prometheus"),
  );
  expect(withBackups).toEqual(["production"]);
  const target = (pods.get("production") as RenderedPods).rendered.kubernetes.find(
    (o) => o.object.kind === "Service" && o.object.metadata.name === "backup-prometheus-target",
  )?.object.spec as { ports: Array<{ targetPort: number }> };
  const adminPorts = [...new Set(target.ports.map((p) => p.targetPort))];
  const rows = matrix.rows.filter((r) => r.what === "Prometheus' admin API");
  expect(rows.filter((r) => r.expect === "denied").map((r) => r.from)).toEqual(expect.arrayContaining(["grafana", "traefik", "alloy"]));
  expect([...new Set(rows.map((r) => r.port))]).toEqual(adminPorts);
  expect(adminPorts).not.toContain(9090);
});

describe.each(["staging", "production"])("the %s stack alone", (stack) => {
  test("every row holds on its rendered policies", () => {
    const cases = casesOf(matrix, stack, pods);
    expect(cases.length).toBeGreaterThan(40);
    expect(failures(cases, (pods.get(stack) as RenderedPods).policies())).toEqual([]);
  });
});

describe("both stacks on one cluster, their policies together", () => {
  const union = () => stacks.flatMap((s) => (pods.get(s) as RenderedPods).policies());

  test.each([
    ["staging", "production"],
    ["production", "staging"],
  ])("every row of %s holds beside %s, and the other stack's pods are refused", (stack, other) => {
    const own = casesOf(matrix, stack, pods);
    const cross = casesOf(matrix, stack, pods, other);
    expect(cross.length).toBeGreaterThan(5);
    expect(failures([...own, ...cross], union())).toEqual([]);
  });
});

test("control: without the render's NetworkPolicies every denied row fails, so the denials are the policies'", () => {
  for (const stack of stacks) {
    const cases = casesOf(matrix, stack, pods);
    const denied = cases.filter((c) => c.row.expect === "denied");
    expect(denied.length).toBeGreaterThan(10);
    const failed = failures(cases, []);
    expect(failed.length).toBe(denied.length);
  }
});
