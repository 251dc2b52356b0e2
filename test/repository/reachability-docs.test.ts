/**
 * The reachability matrix (docs/reachability.yml) and the table docs/security.md shows of it: the table is the matrix,
 * row for row (test/e2e/reachability.test.ts runs the rows on the rendered policies); a matrix with a mistake is
 * refused, naming the row, what is allowed and what was given.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MATRIX_FILE, readMatrix, reachabilityTable } from "../../lab/reachability";
import { ROOT } from "../../cli/stackfile";

const BEGIN = "<!-- reachability table: made from docs/reachability.yml -->\n\n";
const END = "\n<!-- end of the reachability table -->";

test("docs/security.md's reachability table is docs/reachability.yml's rows", () => {
  const security = fs.readFileSync(path.join(ROOT, "docs", "security.md"), "utf8");
  const start = security.indexOf(BEGIN);
  const end = security.indexOf(END);
  expect(start).toBeGreaterThan(0);
  expect(end).toBeGreaterThan(start);
  const matrix = readMatrix();
  expect(security.slice(start + BEGIN.length, end)).toBe(reachabilityTable(matrix));
  expect(matrix.rows.length).toBeGreaterThan(50);
});

describe("a matrix with a mistake is refused, naming it", () => {
  const text = fs.readFileSync(MATRIX_FILE, "utf8");
  /** What readMatrix says of the file with one edit: its error, or "accepted". */
  const refusal = (from: string, to: string): string => {
    expect(text).toContain(from);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reachability-"));
    const file = path.join(dir, "reachability.yml");
    fs.writeFileSync(file, text.replace(from, to));
    try {
      readMatrix(file);
      return "accepted";
    } catch (e) {
      return (e as Error).message;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  test.each([
    [
      "a claim that is not one",
      "grafana -> prometheus:9090 allowed:",
      "grafana to prometheus:9090 allowed:",
      /"grafana to prometheus:9090 allowed" is not "<from> -> <to>:<port>/,
    ],
    [
      "a denial without what denies it",
      "app pod -> prometheus:9090 denied by ingress:",
      "app pod -> prometheus:9090 denied:",
      /is not "<from> -> <to>/,
    ],
    [
      "a stack the matrix does not have",
      "traefik -> grafana:3000 allowed on staging:",
      "traefik -> grafana:3000 allowed on preview:",
      /"preview" is not a stack of the matrix \(staging, production\)/,
    ],
    ["a port out of range", "grafana -> prometheus:9090 allowed:", "grafana -> prometheus:99999 allowed:", /port 99999 is not 1 to 65535/],
    [
      "an outside peer that is neither a pod nor an address",
      "the Internet: { ip: 203.0.113.10 }",
      "the Internet: { host: example.com }",
      /outside\.the Internet/,
    ],
  ])("%s", (_title, from, to, message) => {
    expect(refusal(from, to)).toMatch(message);
  });
});
