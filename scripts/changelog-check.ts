/**
 * Fails when an image or a tool's pin changed without its line in CHANGELOG.md (lab/changelog.ts):
 *
 *   npm run changelog:check -- --base <ref>
 */
import { runChangelogCheck } from "../lab/changelog";
import { ROOT } from "../cli/stackfile";

process.exitCode = runChangelogCheck(process.argv.slice(2), ROOT, (line) => console.log(line));
