/**
 * The faults' figures in the report the project keeps (out/live/, beside the live lab's report): each
 * fault test writes what it measured to out/live/faults/<test>.json, and rewrites out/live/faults.md,
 * the "Faults" section of every such file; test/live/lab.test.ts adds the same section to
 * out/live/report.md and report.json. Times are reported here, never asserted.
 */
import * as fs from "fs";
import * as path from "path";

export const FAULTS_DIR = path.join(__dirname, "..", "out", "live", "faults");

/** One fault tried: what was done, what it lost, and what it measured. */
export interface FaultFigure {
  /** The fault, as the issue names it. */
  fault: string;
  /** What was done. */
  tried: string;
  /** What was lost (the figure asserted: 0 unless said). */
  lost: string;
  /** The rest of what was measured: duplicates, recovery times, counts. */
  measured: string;
}

export interface FaultFile {
  /** The test file, from the repository's root. */
  test: string;
  at: string;
  faults: FaultFigure[];
}

/** Writes a test file's figures (replacing its earlier ones) and rewrites out/live/faults.md. */
export function writeFaultFigures(testFile: string, faults: FaultFigure[]): void {
  if (faults.length === 0) return;
  fs.mkdirSync(FAULTS_DIR, { recursive: true });
  const test = path.relative(path.join(__dirname, ".."), testFile);
  const file: FaultFile = { test, at: new Date().toISOString(), faults };
  fs.writeFileSync(path.join(FAULTS_DIR, `${path.basename(testFile, ".test.ts")}.json`), `${JSON.stringify(file, null, 2)}\n`);
  fs.writeFileSync(path.join(FAULTS_DIR, "..", "faults.md"), `# Faults\n\n${faultsSection(readFaultFiles()).join("\n")}\n`);
}

/** Every fault test's figures found under out/live/faults/. */
export function readFaultFiles(dir = FAULTS_DIR): FaultFile[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as FaultFile);
}

/** The Faults section's table (without its heading): one row per fault, naming its test. */
export function faultsSection(files: readonly FaultFile[]): string[] {
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const lines = ["| fault | tried | lost | measured | test | when |", "|---|---|---|---|---|---|"];
  for (const f of files)
    for (const x of f.faults)
      lines.push(`| ${cell(x.fault)} | ${cell(x.tried)} | ${cell(x.lost)} | ${cell(x.measured)} | ${f.test} | ${f.at} |`);
  return lines;
}
