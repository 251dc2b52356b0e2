/**
 * The offline render with `--stack-file`: the check for a plain entry beside secret ones reads the
 * file given (not Pulumi.<stack>.yaml of the project), and each rendered secret is masked by its own
 * key, even when two secrets hold the same value.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderStack } from "../../cli/render-stack";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-file-secrets-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const databases = ["orders", "users"].map((name) => `    - { name: ${name}, type: postgres, mode: standalone }`);

describe("--stack-file: plain entries beside secret ones", () => {
  test("a plain entry of a secret map in the file given is refused", async () => {
    const file = path.join(dir, "team-staging.yaml");
    fs.writeFileSync(
      file,
      [
        "config:",
        "  monitoring:profile: staging",
        "  monitoring:databases:",
        ...databases,
        "  monitoring:databaseDsns:",
        "    orders: { secure: v1:AAAA }",
        "    users: postgresql://c:d@users/db",
        "",
      ].join("\n"),
    );
    await expect(renderStack({ stack: "staging", stackFile: file })).rejects.toThrow(
      "monitoring:databaseDsns.users: must be a secret like the other entries of databaseDsns",
    );
  });
});
