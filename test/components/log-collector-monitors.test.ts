/**
 * The collector's part for the operator's monitors (components/log-collector/monitors.ts): the
 * three watchers with one collector per target (clustering), the selector, what they leave to
 * Prometheus' own jobs, and the remote write; nothing of it in a stack without monitors.
 */
import { alloyConfig } from "../../components/log-collector/alloy";
import { AlloyBlock, AlloyExpr, alloySyntax, ruleBlock } from "../../components/log-collector/alloy-syntax";
import { duplicateRules, monitorBlocks, monitorJobsRegex, tenantJobRename } from "../../components/log-collector/monitors";
import { STACK_JOBS } from "../../components/kit/stack-jobs";

const args = {
  remoteWriteUrl: "http://prometheus.monitoring-staging.svc:9090/api/v1/write",
  namespaces: ["monitoring-staging", "shop"],
  selector: { "app.kubernetes.io/part-of": "shop", release: 'a"b' },
  scrapeInterval: "15s",
  scrapeTimeout: "10s",
  environment: "staging",
  scrapedServices: [
    { namespace: "shop", name: "api" },
    { namespace: "shop", name: "api.v2" },
  ],
  sampleLimit: 10_000,
};

describe("the monitors in config.alloy", () => {
  const text = alloySyntax(monitorBlocks(args));

  test("three watchers per namespace, each sharing its targets out among the collectors, with the selector and the sample limit", () => {
    for (const kind of ["servicemonitors", "podmonitors", "probes"]) {
      expect(text).toContain(`prometheus.operator.${kind} "monitors_monitoring_staging" {`);
      expect(text).toContain(`prometheus.operator.${kind} "monitors_shop" {`);
    }
    expect(text.match(/clustering \{\n\t\tenabled = true\n\t\}/g)).toHaveLength(6);
    expect(text.match(/namespaces += \["shop"\]/g)).toHaveLength(3);
    expect(text.match(/namespaces += \["monitoring-staging"\]/g)).toHaveLength(3);
    expect(text.match(/default_sample_limit += 10000/g)).toHaveLength(6);
    expect(text).toContain('match_labels = {"app.kubernetes.io/part-of" = "shop", "release" = "a\\"b"}');
    expect(text).toContain('kubernetes_role = "endpointslice"');
    expect(text).toContain('url = "http://prometheus.monitoring-staging.svc:9090/api/v1/write"');
  });

  test("each namespace's samples pass a relabel that sets the namespace, then takes any job of the stack's off, after everything the monitor does", () => {
    expect(text).toContain(
      'prometheus.relabel "monitors_shop" {\n\tforward_to = [prometheus.remote_write.monitors.receiver]\n\n\trule {\n\t\ttarget_label = "namespace"\n\t\treplacement  = "shop"\n\t\taction       = "replace"\n\t}\n\n' +
        alloySyntax([ruleBlock(tenantJobRename("shop"))])
          .replace(/^/gm, "\t")
          .trimEnd() +
        "\n}",
    );
    expect(text.match(/forward_to += \[prometheus\.relabel\.monitors_shop\.receiver\]/g)).toHaveLength(3);
    expect(text).not.toMatch(/prometheus\.operator\.\w+ "[^"]+" \{\n\tforward_to += \[prometheus\.remote_write/);
  });

  test("monitors.honorLabels: a whole namespace keeps its namespace labels; named objects get watchers of their own, the others' drop them", () => {
    const whole = alloySyntax(monitorBlocks({ ...args, honorLabels: ["shop"] }));
    expect(whole).not.toContain('prometheus.relabel "monitors_shop" {');
    expect(whole).toContain('prometheus.relabel "monitors_monitoring_staging"');
    expect(
      whole.match(
        /prometheus\.operator\.\w+ "monitors_shop" \{\n\tforward_to += \[prometheus\.relabel\.monitors_shop_honoured\.receiver\]/g,
      ),
    ).toHaveLength(3);
    expect(whole).toContain(
      'prometheus.relabel "monitors_shop_honoured" {\n\tforward_to = [prometheus.remote_write.monitors.receiver]\n\n' +
        alloySyntax([ruleBlock(tenantJobRename("shop"))])
          .replace(/^/gm, "\t")
          .trimEnd() +
        "\n}",
    );
    const named = alloySyntax(monitorBlocks({ ...args, honorLabels: ["shop/kube-state-metrics"] }));
    expect(monitorJobsRegex("shop", ["kube-state-metrics", "a.b"])).toBe(
      "(serviceMonitor|podMonitor)/shop/(kube-state-metrics|a\\.b)/[0-9]+",
    );
    const regex = JSON.stringify(monitorJobsRegex("shop", ["kube-state-metrics"]));
    expect(named.split(`regex         = ${regex}`).length - 1).toBe(4);
    expect(named).toContain('prometheus.operator.servicemonitors "monitors_shop_honoured"');
    expect(named).toContain('prometheus.operator.podmonitors "monitors_shop_honoured"');
    expect(named).not.toContain('prometheus.operator.probes "monitors_shop_honoured"');
    expect(named).toContain('prometheus.relabel "monitors_shop"');
  });

  test("every watcher's first rule keeps the targets discovered in its own namespace (a Probe's static targets, with none, too)", () => {
    const named = alloySyntax(monitorBlocks({ ...args, honorLabels: ["shop/kube-state-metrics"] }));
    const watchers = [...named.matchAll(/prometheus\.operator\.(\w+) "(\w+)" \{[^]*?\n\trule \{\n([^}]*)\}/g)];
    expect(watchers).toHaveLength(8);
    for (const [, kind, label, rule] of watchers) {
      const namespace = label.startsWith("monitors_shop") ? "shop" : "monitoring-staging";
      const regex = kind === "probes" ? `(|${namespace})` : namespace;
      expect([label, rule.replace(/\s+/g, " ").trim()]).toEqual([
        label,
        `source_labels = ["__meta_kubernetes_namespace"] regex = ${JSON.stringify(regex)} action = "keep"`,
      ]);
    }
  });

  test("whatever monitors.honorLabels says, every watcher's samples reach the writer through a relabel whose last rule takes the stack's jobs off", () => {
    for (const honorLabels of [[], ["shop"], ["shop/kube-state-metrics"], ["shop", "monitoring-staging/a"]]) {
      const blocks = monitorBlocks({ ...args, honorLabels });
      const byRef = new Map(blocks.map((b) => [`${b.name}.${b.label}.receiver`, b]));
      const forwardTo = (b: AlloyBlock) => ((b.attributes ?? []).find(([k]) => k === "forward_to")?.[1] as AlloyExpr[]).map((e) => e.text);
      const watchers = blocks.filter((b) => b.name.startsWith("prometheus.operator."));
      expect(watchers.length).toBeGreaterThanOrEqual(6);
      for (const watcher of watchers) {
        const namespace = ((watcher.attributes ?? []).find(([k]) => k === "namespaces")?.[1] as string[])[0];
        const [to] = forwardTo(watcher);
        const relabel = byRef.get(to);
        expect(relabel?.name).toBe("prometheus.relabel");
        expect(forwardTo(relabel as AlloyBlock)).toEqual(["prometheus.remote_write.monitors.receiver"]);
        expect(relabel?.blocks?.at(-1)).toEqual(ruleBlock(tenantJobRename(namespace)));
      }
    }
  });

  test("the rename: each of the stack's jobs, and it alone, becomes <namespace>/<job>, as Prometheus' relabelling reads the rule", () => {
    const rule = tenantJobRename("shop");
    expect(rule).toMatchObject({ source_labels: ["job"], target_label: "job", action: "replace", replacement: "shop/${1}" });
    // Prometheus and Alloy anchor the regex (^(?:…)$); ${1} is the whole job.
    const renamed = (job: string) => {
      const m = new RegExp(`^(?:${rule.regex})$`).exec(job);
      return m ? (rule.replacement ?? "").replace("${1}", m[1]) : job;
    };
    for (const job of STACK_JOBS) expect(renamed(job)).toBe(`shop/${job}`);
    expect(STACK_JOBS).toEqual(expect.arrayContaining(["node-exporter", "kube-state-metrics", "postgres-exporter", "backup", "blackbox"]));
    for (const job of ["api", "web", "node-exporter-2", "my-kube-state-metrics", "shop/node-exporter", "", "Node-Exporter"]) {
      expect(renamed(job)).toBe(job);
    }
  });

  test("no namespaces: refused, nothing can hold a monitor to a namespace it does not know", () => {
    expect(() => monitorBlocks({ ...args, namespaces: undefined, selector: {} })).toThrow(
      /namespaces whose monitors are read must be given/,
    );
  });

  test("the annotated pods the stack's Prometheus scrapes, and the Services of apps[] and targets[], are left to Prometheus", () => {
    expect(duplicateRules(args)).toEqual([
      {
        source_labels: [
          "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
          "__meta_kubernetes_pod_label_monitoring_stack_environment",
        ],
        regex: "true;(|staging)",
        action: "drop",
      },
      { source_labels: ["__meta_kubernetes_namespace", "__meta_kubernetes_service_name"], regex: "shop;api|shop;api\\.v2", action: "drop" },
    ]);
    expect(duplicateRules({ environment: "staging", scrapedServices: [] })).toHaveLength(1);
  });

  test("a config without monitors has none of it", () => {
    const plain = alloyConfig({ lokiPushUrl: "http://loki:3100/loki/api/v1/push" });
    expect(plain).not.toContain("prometheus.operator");
    expect(plain).not.toContain("remote_write");
    const withMonitors = alloyConfig({
      lokiPushUrl: "http://loki:3100/loki/api/v1/push",
      extra: { blocks: monitorBlocks(args), comment: "monitors" },
    });
    expect(withMonitors.startsWith(plain.split("\n\n")[0])).toBe(true);
    expect(withMonitors).toContain('prometheus.remote_write "monitors"');
  });
});
