import * as fs from "fs";
import * as path from "path";

/**
 * The metric catalogue: one file per source under test/catalog/ (an exporter at the
 * version pinned in components/images.ts, a stack component, or the app contract),
 * one metric name per line, `#` for comments. Rules and dashboards may only use
 * metrics listed here or produced by a recording rule.
 */
export const CATALOG_DIR = path.join(__dirname, "..", "catalog");

export function loadCatalog(dir: string = CATALOG_DIR): Map<string, string> {
  const bySource = new Map<string, string>();
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .sort()) {
    const source = file.replace(/\.txt$/, "");
    for (const raw of fs.readFileSync(path.join(dir, file), "utf8").split("\n")) {
      const name = raw.replace(/#.*/, "").trim();
      if (name) bySource.set(name, source);
    }
  }
  return bySource;
}
