/**
 * The reliability suite's figures (issue 46): each fault test (test/e2e/*-faults.test.ts and the
 * others it names) records what it tried and what it measured, one file per test under
 * out/live/faults/, and rewrites out/live/faults.md from them all; the live lab's report
 * (test/live/lab.test.ts, out/live/report.md and report.json) carries them in its "Faults" section.
 * A file per test: the tests run in parallel workers, and a run of one test keeps the others' rows.
 */
import * as fs from "fs";
import * as path from "path";

/** Where the live report lives (test/live/lab.test.ts writes report.md and report.json there). */
export const REPORT_DIR = path.join(__dirname, "..", "..", "out", "live");
export const FAULTS_DIR = path.join(REPORT_DIR, "faults");

/** One fault of the suite as a test tried it. */
export interface FaultRecord {
  /** The fault, as the issue numbers and names it: "2. Prometheus killed (SIGKILL) while scraping and evaluating". */
  fault: string;
  /** The test that holds it, from the repository's root. */
  test: string;
  /** When it was measured (ISO time). */
  measuredAt: string;
  /** What was lost (0 when nothing was): samples, lines, silences, duplicate notifications. */
  lost: Record<string, number>;
  /** Each figure measured, named: counts and seconds. */
  figures: Record<string, string | number>;
}

/** Records a test's fault (replacing its earlier record) and rewrites out/live/faults.md. */
export function recordFault(record: Omit<FaultRecord, "measuredAt">, dir: string = FAULTS_DIR): void {
  fs.mkdirSync(dir, { recursive: true });
  const full: FaultRecord = { ...record, measuredAt: new Date().toISOString() };
  const file = path.join(dir, `${path.basename(record.test, ".test.ts")}.json`);
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(full, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file);
  fs.writeFileSync(path.join(path.dirname(dir), "faults.md"), `${faultsMarkdown(readFaults(dir)).join("\n")}\n`);
}

/** Every fault recorded so far, in the issue's order (by the fault's number). */
export function readFaults(dir: string = FAULTS_DIR): FaultRecord[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as FaultRecord)
    .sort((a, b) => parseFloat(a.fault) - parseFloat(b.fault) || a.fault.localeCompare(b.fault));
}

const cell = (v: string | number) => String(v).replace(/\|/g, "\\|");

/** The "Faults" section of a report: one table row per fault, its losses and its figures. */
export function faultsMarkdown(faults: FaultRecord[]): string[] {
  const lines = ["## Faults", "", "| fault | lost | figures | test | measured |", "|---|---|---|---|---|"];
  if (faults.length === 0) lines.push("| (no fault test has run: `npx jest test/e2e --selectProjects e2e`) | | | | |");
  for (const f of faults) {
    const lost = Object.entries(f.lost)
      .map(([k, v]) => `${k}: ${v}`)
      .join("; ");
    const figures = Object.entries(f.figures)
      .map(([k, v]) => `${k}: ${v}`)
      .join("; ");
    lines.push(`| ${cell(f.fault)} | ${cell(lost)} | ${cell(figures)} | ${cell(f.test)} | ${f.measuredAt} |`);
  }
  return lines;
}
