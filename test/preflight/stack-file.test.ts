/**
 * What the program and `npm run check` read of the stack file itself (preflight/stack-file.ts,
 * cli/team-check.ts): its keys as the Pulumi CLI reads them, a key without the project prefix
 * the project's (namespacedStackConfig).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { namespacedStackConfig, plainPaths } from "../../preflight/stack-file";
import { stackTeamContent } from "../../cli/team-check";

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "stack-file-"));
  fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: monitoring\nruntime: nodejs\n");
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

test("a key without a namespace is the project's; one with a colon stays as it is; one written both ways is named", () => {
  expect(
    namespacedStackConfig("monitoring", { protectVolumes: true, "kubernetes:context": "k3s", "monitoring:domain": "a.io", domain: "b.io" }),
  ).toEqual({
    config: { "monitoring:protectVolumes": true, "kubernetes:context": "k3s", "monitoring:domain": "a.io" },
    twice: ["monitoring:domain"],
  });
});

test("a plain entry beside secret ones is found under a key written without the prefix", () => {
  fs.writeFileSync(
    path.join(root, "Pulumi.demo.yaml"),
    "config:\n  databaseDsns:\n    orders:\n      secure: v1:AAAA\n    billing: postgresql://u:p@billing:5432/b\n",
  );
  expect(plainPaths(root, "demo", "monitoring")).toEqual(["monitoring:databaseDsns.billing"]);
});

test("npm run check reads teamContent written without the prefix", () => {
  fs.writeFileSync(path.join(root, "Pulumi.demo.yaml"), "config:\n  teamContent: team/demo/\n");
  expect(stackTeamContent(root, "demo", "monitoring")).toBe("team/demo");
});
