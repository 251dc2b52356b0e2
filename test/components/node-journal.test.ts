/**
 * The nodes' journal in Loki (logCollector.journal): the journal blocks of config.alloy (the units kept, the labels,
 * where the lines go), the DaemonSet's read-only mounts of the host's journal with the security context unchanged, and
 * what ships in each stack (the rule file, the Logs dashboard's row). The pipeline on the exact Alloy and Loki is in
 * test/e2e/node-logs.test.ts.
 */
import { alloyConfig } from "../../components/log-collector/alloy";
import { JOURNAL_JOB } from "../../components/log-collector/journal";
import { LogCollectorArgs } from "../../components/log-collector/args";
import { Rendered } from "../../cli/render";
import { objectOf, render } from "../support/render";
import { schemaProblems } from "../support/schema";
import { PUSH, block, collectorArgs, renderCollector } from "../support/log-collector";
import { exportFormat, localJournal } from "../../lab/local/journal";

const baseArgs = (over: Partial<LogCollectorArgs> = {}): LogCollectorArgs => collectorArgs("production", over);

interface PodSpec {
  securityContext: unknown;
  containers: Array<{ securityContext: unknown; volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }> }>;
  volumes: Array<{ name: string; hostPath?: { path: string; type: string } }>;
}
const podOf = (r: Rendered) => (objectOf(r, "DaemonSet", "alloy").spec as { template: { spec: PodSpec } }).template.spec;

describe("config.alloy's journal", () => {
  test("the journal's k3s, k3s-agent, containerd and kubelet units and the kernel, labelled unit, node, priority and job, to the stack's Loki", () => {
    const text = alloyConfig({ lokiPushUrl: PUSH, journal: true });
    expect(block(text, 'loki.relabel "journal"')).toBe(
      [
        'loki.relabel "journal" {',
        "\tforward_to = []",
        "",
        "\trule {",
        '\t\tsource_labels = ["__journal__systemd_unit"]',
        '\t\ttarget_label  = "unit"',
        "\t}",
        "",
        "\trule {",
        '\t\tsource_labels = ["__journal__pid", "__journal_unit"]',
        '\t\tseparator     = ";"',
        '\t\tregex         = "1;(.+)"',
        '\t\ttarget_label  = "unit"',
        '\t\treplacement   = "$1"',
        "\t}",
        "",
        "\trule {",
        '\t\tsource_labels = ["__journal__transport"]',
        '\t\tregex         = "kernel"',
        '\t\ttarget_label  = "unit"',
        '\t\treplacement   = "kernel"',
        "\t}",
        "",
        "\trule {",
        '\t\tsource_labels = ["unit"]',
        '\t\tregex         = "k3s\\\\.service|k3s-agent\\\\.service|containerd\\\\.service|kubelet\\\\.service|kernel"',
        '\t\taction        = "keep"',
        "\t}",
        "",
        "\trule {",
        '\t\tsource_labels = ["__journal_priority_keyword"]',
        '\t\ttarget_label  = "priority"',
        "\t}",
        "",
        "\trule {",
        '\t\ttarget_label = "job"',
        `\t\treplacement  = "${JOURNAL_JOB}"`,
        "\t}",
        "}",
      ].join("\n"),
    );
    expect(block(text, 'loki.source.journal "node"')).toBe(
      [
        'loki.source.journal "node" {',
        '\tmax_age       = "7h"',
        "\trelabel_rules = loki.relabel.journal.rules",
        '\tlabels        = {node = sys.env("HOSTNAME")}',
        "\tforward_to    = [loki.write.loki.receiver]",
        "}",
      ].join("\n"),
    );
    expect(alloyConfig({ lokiPushUrl: PUSH })).not.toContain("journal");
  });

  test("the node is the stack's own: to its external endpoint too (or alone), never to a served stack's Loki", () => {
    const forwardTo = (text: string) => /^\tforward_to\s+= (.*)$/m.exec(block(text, 'loki.source.journal "node"') ?? "")?.[1];
    const external = { url: "https://logs.example.com/loki/api/v1/push" };
    expect(forwardTo(alloyConfig({ lokiPushUrl: PUSH, journal: true, external }))).toBe(
      "[loki.write.loki.receiver, loki.write.external.receiver]",
    );
    expect(forwardTo(alloyConfig({ lokiPushUrl: PUSH, journal: true, external: { ...external, only: true } }))).toBe(
      "[loki.write.external.receiver]",
    );
    const shares = [
      {
        stackNamespace: "monitoring-staging",
        lokiPushUrl: "http://loki.monitoring-staging.svc:3100/loki/api/v1/push",
        namespaces: ["shop"],
      },
    ];
    expect(forwardTo(alloyConfig({ lokiPushUrl: PUSH, journal: true, shares }))).toBe("[loki.write.loki.receiver]");
  });
});

describe("the collector with the journal", () => {
  let withJournal: PodSpec;
  let without: PodSpec;
  beforeAll(async () => {
    withJournal = podOf(await renderCollector(baseArgs({ journal: true })));
    without = podOf(await renderCollector(baseArgs()));
  });

  test("mounts the host's journal directories and machine ID read-only, and nothing more", () => {
    const mounts = withJournal.containers[0].volumeMounts;
    expect(mounts.filter((m) => !without.containers[0].volumeMounts.some((w) => w.name === m.name))).toEqual([
      { name: "journal", mountPath: "/var/log/journal", readOnly: true },
      { name: "journal-runtime", mountPath: "/run/log/journal", readOnly: true },
      { name: "machine-id", mountPath: "/etc/machine-id", readOnly: true },
    ]);
    expect(withJournal.volumes.filter((v) => !without.volumes.some((w) => w.name === v.name))).toEqual([
      { name: "journal", hostPath: { path: "/var/log/journal", type: "DirectoryOrCreate" } },
      { name: "journal-runtime", hostPath: { path: "/run/log/journal", type: "DirectoryOrCreate" } },
      { name: "machine-id", hostPath: { path: "/etc/machine-id", type: "File" } },
    ]);
  });

  test("its pod's and container's security contexts are those without the journal (root without any capability, read-only root)", () => {
    expect(withJournal.securityContext).toEqual(without.securityContext);
    expect(withJournal.containers[0].securityContext).toEqual(without.containers[0].securityContext);
    expect(withJournal.containers[0].securityContext).toMatchObject({
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
  });
});

describe("in the stacks", () => {
  const titles = (r: Rendered) =>
    (JSON.parse(r.files.get("grafana/logs__logs.json") ?? "{}") as { panels: Array<{ title: string }> }).panels.map((p) => p.title);
  const ruleFiles = (r: Rendered) => Object.keys((objectOf(r, "ConfigMap", "loki-rules").data ?? {}) as object);

  test("production (it watches the cluster) reads the journal, ships its rule file and the Logs dashboard's Node journal row; staging none of them", async () => {
    const production = await render("production");
    expect(production.files.get("log-collector/config.alloy")).toContain('loki.source.journal "node" {');
    expect(ruleFiles(production)).toEqual(["events.yml", "node-journal.yml"]);
    expect(titles(production)).toEqual(expect.arrayContaining(["Node journal", "Journal lines by unit", "Journal"]));
    expect(schemaProblems(objectOf(production, "DaemonSet", "alloy"))).toEqual([]);

    const staging = await render("staging");
    expect(staging.files.get("log-collector/config.alloy")).not.toContain("loki.source.journal");
    expect(ruleFiles(staging)).toEqual(["events.yml"]);
    expect(titles(staging)).not.toContain("Node journal");
    expect(titles(staging)).not.toContain("Journal");
    expect(JSON.stringify(podOf(staging).volumes)).not.toContain("journal");
  });

  test("logCollector.journal false in production: no source, no mounts, no rule file, no row", async () => {
    const off = await render("production", ["logCollector.journal=false"]);
    expect(off.files.get("log-collector/config.alloy")).not.toContain("journal");
    expect(ruleFiles(off)).toEqual(["events.yml"]);
    expect(titles(off)).not.toContain("Node journal");
    expect(JSON.stringify(podOf(off))).not.toContain("journal");
  });
});

test("made local, the journal source reads a test's directory, or is left out without one (the machine's own journal is never read)", () => {
  const text = alloyConfig({ lokiPushUrl: PUSH, journal: true });
  const withDir = localJournal(text, "/tmp/journal-dir");
  expect(block(withDir, 'loki.source.journal "node"')).toBe(
    (block(text, 'loki.source.journal "node"') ?? "").replace(
      'loki.source.journal "node" {\n',
      'loki.source.journal "node" {\n\tpath = "/tmp/journal-dir"\n',
    ),
  );
  expect(withDir.replace('\tpath = "/tmp/journal-dir"\n', "")).toBe(text);
  const without = localJournal(text, undefined);
  // The heading comment (what the render says it does) stays; every block is the config's without the journal.
  expect(without.replace(/^\/\/ The node's journal: .*\n/m, "")).toBe(alloyConfig({ lokiPushUrl: PUSH }));
  expect(() => localJournal(alloyConfig({ lokiPushUrl: PUSH }), "/tmp/journal-dir")).toThrow(/no loki\.source\.journal "node" block/);
});

test("a journal written in several rounds (a machine with its boot time): each entry's monotonic time is the time since the boot, so later rounds go on from earlier ones", () => {
  const machine = { bootId: "0".repeat(32), machineId: "1".repeat(32), hostname: "node" };
  const entry = (at: number) => ({ at: new Date(at), fields: { MESSAGE: "m" } });
  const monotonic = (text: string) => [...text.matchAll(/^__MONOTONIC_TIMESTAMP=(\d+)$/gm)].map((m) => Number(m[1]));
  // Without a boot time, each write counts from 1 s: a second write would go back.
  expect(monotonic(exportFormat([entry(5_000), entry(9_000)], machine))).toEqual([1_000_000, 2_000_000]);
  const booted = { ...machine, bootedAt: 1_000 };
  expect(monotonic(exportFormat([entry(5_000), entry(9_000)], booted))).toEqual([4_000_000, 8_000_000]);
  expect(monotonic(exportFormat([entry(12_000)], booted))).toEqual([11_000_000]);
  expect(() => exportFormat([entry(1_000)], booted)).toThrow(/before the machine's boot/);
});
