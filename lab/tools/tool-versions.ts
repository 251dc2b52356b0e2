/**
 * The versions the tools must have (lab/tools/tools.ts has the table): whether a binary's version output names
 * its release, the Go that builds every tool module, and the npm packages' releases that the Pulumi CLI and
 * plugins must equal, as installed and as package.json pins them.
 */
import * as fs from "fs";
import * as path from "path";
import { GO_TOOLS, ROOT, TOOLS_DIR } from "./tools";

/**
 * Whether a binary's version output names a release as a whole version (3.13.5 must not pass
 * for 3.13.50), with or without its "v".
 */
export function reportsRelease(output: string, release: string): boolean {
  const version = release.replace(/^v/, "").replace(/\./g, "\\.");
  return new RegExp(`(^|[^0-9.])v?${version}([^0-9.]|$)`, "m").test(output);
}

/**
 * The Go that builds every tool: the highest `go` line of the tool modules (each go.mod says
 * the least Go it builds with, and GOTOOLCHAIN=local fetches no newer one). CI's setup-go reads
 * the go.mod that has it (test/repository/workflows.test.ts checks which).
 */
export function goVersion(): { version: string; module: string } {
  const key = (v: string) =>
    v
      .split(".")
      .map((n) => n.padStart(4, "0"))
      .join(".");
  const lines = [...new Set(GO_TOOLS.map((t) => t.module))].sort().map((module) => {
    const gomod = fs.readFileSync(path.join(TOOLS_DIR, module, "go.mod"), "utf8");
    return { version: /^go\s+(\S+)/m.exec(gomod)?.[1] ?? "0", module };
  });
  return lines.reduce((a, b) => (key(b.version) > key(a.version) ? b : a));
}

/** The version of an npm package as installed (node_modules), from its package.json. */
export function npmVersion(pkg: string): string {
  const file = path.join(ROOT, "node_modules", ...pkg.split("/"), "package.json");
  return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
}

/** The version of an npm package as package.json pins it (exact pins only). */
export function pinnedNpmVersion(pkg: string): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  return manifest.dependencies[pkg];
}
