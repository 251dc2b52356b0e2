/**
 * The alert rules under rules/, run by the deployed promtool: `promtool check rules` on every
 * rule file and `promtool test rules` on every unit-test file of test/rules/ (the house style,
 * runbooks and PromQL are checked without a binary in test/content/rules.test.ts).
 */
import * as path from "path";
import { promtool } from "../../lab/local/binaries";
import { ruleFilePaths, ruleTestFilePaths } from "../support/rules";

function expectSuccess(args: string[]): void {
  const { status, output } = promtool(args);
  if (status !== 0) throw new Error(`promtool ${args.join(" ")} exited with ${status}:\n${output}`);
}

describe("promtool", () => {
  test.each(ruleFilePaths().map((p) => [path.basename(p), p]))("check rules %s", (_name, file) => {
    expectSuccess(["check", "rules", file]);
  });

  test.each(ruleTestFilePaths().map((p) => [path.basename(p), p]))("test rules %s", (_name, file) => {
    expectSuccess(["test", "rules", file]);
  });
});
