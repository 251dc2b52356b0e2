import * as fs from "fs";
import * as path from "path";

/**
 * The metric catalogue: one file per source under catalog/ (an exporter at the
 * version pinned in components/images.ts, a stack component, or the app contract),
 * one metric name per line, `#` for comments. Rules and dashboards may only use
 * metrics listed here or produced by a recording rule.
 */
export const CATALOG_DIR = path.join(__dirname, "..", "catalog");

/** The catalogue file of a source (`catalog/<source>.txt`). */
export const catalogFile = (source: string) => path.join(CATALOG_DIR, `${source}.txt`);

/** The metric names a catalogue file lists, in order (comments and blank lines left out). */
export function listedNames(file: string): string[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .map((raw) => raw.replace(/#.*/, "").trim())
    .filter(Boolean);
}

export function loadCatalog(dir: string = CATALOG_DIR): Map<string, string> {
  const bySource = new Map<string, string>();
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .sort()) {
    const source = file.replace(/\.txt$/, "");
    for (const name of listedNames(path.join(dir, file))) bySource.set(name, source);
  }
  return bySource;
}

/**
 * The metrics a catalogue lists under a `# conditional: <why>` heading (they appear only in
 * the setup it names: remote write, clustered peers...), with that reason; every name after
 * such a heading belongs to it, until the next one.
 */
export function conditionalMetrics(dir: string = CATALOG_DIR): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".txt"))) {
    let why: string | undefined;
    for (const raw of fs.readFileSync(path.join(dir, file), "utf8").split("\n")) {
      const heading = /^#\s*conditional:\s*(.*)$/.exec(raw);
      if (heading) {
        why = heading[1].replace(/,? here .*$/, "").trim();
        continue;
      }
      const name = raw.replace(/#.*/, "").trim();
      if (name && why) out.set(name, why);
    }
  }
  return out;
}
