/**
 * The alerts of kube-prometheus (catalog/anchor-alerts.yaml) against this stack's: every one
 * that could work here (it reads only metrics of the catalogue) is either covered by an alert of
 * rules/ or listed with the reason it is not shipped, in docs/alerts.md, whose tables and figures
 * must agree with the data file.
 */
import * as fs from "fs";
import * as path from "path";
import { loadCatalog } from "../../cli/catalog";
import { AnchorAlert, anchorApplies, loadAnchorAlerts } from "../../lab/catalog/anchor-alerts";
import { alertRules } from "../support/rules";

const ALERTS_DOC = path.join(__dirname, "..", "..", "docs", "alerts.md");
const SECTION = "### Against kube-prometheus' alerts";
const COVERED_HEADER = "| kube-prometheus | here |";
const NOT_SHIPPED_HEADER = "| kube-prometheus | not shipped, because |";

const anchor = loadAnchorAlerts();
const catalog = loadCatalog();
const doc = fs.readFileSync(ALERTS_DOC, "utf8");
const ours = new Set(alertRules().map((a) => a.alert));

const names = (alerts: AnchorAlert[]) => [...new Set(alerts.map((a) => a.name))];
/** A name applies when every rule of that name reads only catalogued metrics. */
const applicable = names(anchor.alerts).filter((n) => anchor.alerts.filter((a) => a.name === n).every((a) => anchorApplies(a, catalog)));

/** The section of docs/alerts.md weighing kube-prometheus' alerts, up to the next heading of its level or above. */
function section(): string {
  const start = doc.indexOf(`\n${SECTION}\n`);
  if (start < 0) throw new Error(`docs/alerts.md has no "${SECTION}" section`);
  const rest = doc.slice(start + SECTION.length + 2);
  const end = rest.search(/^#{1,3} /m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** The rows of the table under `header`: first cell's name, second cell as written. */
function table(header: string): Array<{ name: string; cell: string }> {
  const text = section();
  const at = text.indexOf(`${header}\n`);
  if (at < 0) throw new Error(`docs/alerts.md, ${SECTION}: no table headed ${header}`);
  const rows: Array<{ name: string; cell: string }> = [];
  for (const line of text.slice(at).split("\n").slice(2)) {
    if (!line.startsWith("|")) break;
    const [, first, second] = line.split(/ *\| */);
    rows.push({ name: first.replace(/`/g, ""), cell: second ?? "" });
  }
  return rows;
}

const covered = table(COVERED_HEADER);
const notShipped = table(NOT_SHIPPED_HEADER);

describe("kube-prometheus' alerts (catalog/anchor-alerts.yaml)", () => {
  test("the data file holds facts of one revision (a tag or branch, and its commit): names, manifests, groups, metrics read, for and severity", () => {
    expect(anchor.project).toBe("prometheus-operator/kube-prometheus");
    expect(anchor.ref).toMatch(/^(v\d+\.\d+\.\d+|main)$/);
    expect(anchor.commit).toMatch(/^[0-9a-f]{40}$/);
    const problems = anchor.alerts.flatMap((a) => {
      const p: string[] = [];
      if (!/^[A-Za-z][A-Za-z0-9]*$/.test(a.name)) p.push(`${JSON.stringify(a.name)}: not an alert name`);
      if (!/prometheusRule\.yaml$/.test(a.source) || !a.group) p.push(`${a.name}: no manifest or group`);
      if (!Array.isArray(a.reads) || a.reads.some((m) => !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(m)))
        p.push(`${a.name}: reads must be metric names`);
      if (!a.severity) p.push(`${a.name}: no severity`);
      return p;
    });
    expect(problems).toEqual([]);
  });

  test("every applicable alert is weighed once: covered by an alert of rules/, or not shipped with a reason", () => {
    const listed = [...covered, ...notShipped].map((r) => r.name);
    const twice = listed.filter((n, i) => listed.indexOf(n) !== i);
    const unweighed = applicable.filter((n) => !listed.includes(n));
    const notApplicable = listed.filter((n) => !applicable.includes(n));
    expect({ unweighed, twice, notApplicable }).toEqual({ unweighed: [], twice: [], notApplicable: [] });
  });

  test("what covers an anchor alert is an alert of rules/, and every reason is given", () => {
    const unknown = covered.flatMap(({ name, cell }) => {
      const here = [...cell.matchAll(/`([A-Za-z0-9]+)`/g)].map((m) => m[1]);
      if (here.length === 0) return [`${name}: names no alert of ours`];
      return here.filter((h) => !ours.has(h)).map((h) => `${name}: ${h} is not an alert of rules/`);
    });
    const unexplained = notShipped.filter(({ cell }) => cell.trim().length < 20).map(({ name }) => name);
    expect({ unknown, unexplained }).toEqual({ unknown: [], unexplained: [] });
  });

  test("the docs' figures are the data file's", () => {
    const text = section().replace(/\s+/g, " ");
    const all = names(anchor.alerts);
    // The revision as the file has it: a release, or the branch and the commit.
    const revision = anchor.ref === "main" ? `kube-prometheus main at commit \`${anchor.commit}\`` : `kube-prometheus ${anchor.ref}`;
    expect(text).toContain(revision);
    expect(text).toContain(`: ${anchor.alerts.length} alert rules under ${all.length} names`);
    expect(text).toContain(`${applicable.length} of those names read only metrics of this stack's`);
    expect(text).toContain(`The other ${all.length - applicable.length} read metrics`);
  });
});

describe("the built-in alerts by area (docs/alerts.md)", () => {
  test("the table lists exactly the alerts of rules/, and the count is theirs", () => {
    const rows = [...doc.matchAll(/^\| (\w+) \((\d+)\) \| (.*) \|$/gm)];
    const listed = rows.flatMap((r) => [...r[3].matchAll(/^`(\w+)`|, `(\w+)`/g)].map((m) => m[1] ?? m[2]));
    const miscounted = rows.filter((r) => [...r[3].matchAll(/^`(\w+)`|, `(\w+)`/g)].length !== Number(r[2])).map((r) => r[1]);
    const generated = ["DatabaseExporterMissing"];
    expect({
      missing: [...ours].filter((n) => !listed.includes(n)).sort(),
      unknown: listed.filter((n) => !ours.has(n) && !generated.includes(n)),
      miscounted,
    }).toEqual({ missing: [], unknown: [], miscounted: [] });
    expect(doc).toContain(`${listed.length} alerts, by area`);
  });
});
