/**
 * Grafana Alloy's configuration (components/log-collector/alloy.ts): the syntax writer, the config of
 * the log collector with the stream labelling (components/log-collector/relabelling.ts). The
 * release the stack deploys checks the rendered config.alloy in test/e2e/alloy.test.ts; the
 * run that ships logs to a real Loki is in test/e2e/logs.test.ts.
 */
import { alloyConfig } from "../../components/log-collector/alloy";
import { AlloyExpr, alloySyntax } from "../../components/log-collector/alloy-syntax";
import { podLogRelabelling } from "../../components/log-collector/relabelling";

const PUSH_URL = "http://loki.monitoring.svc:3100/loki/api/v1/push";

describe("the Alloy syntax writer", () => {
  test("quotes and escapes every string one way, and writes expressions as they are", () => {
    const text = alloySyntax([
      {
        name: "local.file_match",
        label: 'a "quoted" label',
        attributes: [
          ["path", 'C:\\logs\\"x"\n'],
          ["paths", ["a", "b"]],
          ["count", 3],
          ["enabled", true],
          ["ref", new AlloyExpr("discovery.relabel.x.output")],
        ],
      },
    ]);
    expect(text).toBe(
      [
        'local.file_match "a \\"quoted\\" label" {',
        '\tpath    = "C:\\\\logs\\\\\\"x\\"\\n"',
        '\tpaths   = ["a", "b"]',
        "\tcount   = 3",
        "\tenabled = true",
        "\tref     = discovery.relabel.x.output",
        "}",
        "",
      ].join("\n"),
    );
  });

  test("writes nested and empty blocks, a blank line before and between blocks, and a heading comment", () => {
    const text = alloySyntax(
      [{ name: "loki.process", label: "p", attributes: [["forward_to", []]], blocks: [{ name: "stage.cri" }, { name: "stage.cri" }] }],
      ["first line", "second line"],
    );
    expect(text).toBe(
      [
        "// first line",
        "// second line",
        "",
        'loki.process "p" {',
        "\tforward_to = []",
        "",
        "\tstage.cri { }",
        "",
        "\tstage.cri { }",
        "}",
        "",
      ].join("\n"),
    );
  });

  test("refuses names Alloy would not parse, and numbers it has no literal for", () => {
    expect(() => alloySyntax([{ name: "bad name" }])).toThrow(/invalid Alloy block name "bad name"/);
    expect(() => alloySyntax([{ name: "x", attributes: [["bad-key", 1]] }])).toThrow(/invalid Alloy attribute name "bad-key"/);
    expect(() => alloySyntax([{ name: "x", attributes: [["n", Number.NaN]] }])).toThrow(/Alloy has no NaN/);
  });
});

describe("alloyConfig", () => {
  const text = alloyConfig({ lokiPushUrl: PUSH_URL });

  test("relabels with every rule of the stream labelling, on the pods the node field selector finds", () => {
    const rules = podLogRelabelling();
    expect(text.match(/^\trule \{$/gm)).toHaveLength(rules.length);
    for (const rule of rules) {
      if (rule.regex) expect(text).toContain(`regex         = ${JSON.stringify(rule.regex)}`);
      if (rule.replacement) expect(text).toContain(`replacement   = ${JSON.stringify(rule.replacement)}`);
    }
    expect(text).not.toContain("__host__");
    expect(text).toContain('field = "spec.nodeName=" + sys.env("HOSTNAME")');
  });

  test("parses CRI lines, drops the file name and pushes to the given Loki with retries", () => {
    expect(text).toMatch(/loki\.process "pod_logs" \{[\s\S]*stage\.cri \{ \}[\s\S]*stage\.label_drop \{\n\s+values = \["filename"\]/);
    expect(text).toContain(`url                 = "${PUSH_URL}"`);
    expect(text).toContain("max_backoff_retries = 12");
  });
});
