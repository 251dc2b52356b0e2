/**
 * Fails when an image or a tool's pin changed without its line in CHANGELOG.md (scripts/lib/changelog.ts):
 *
 *   npm run changelog:check -- --base <ref>
 */
import { runChangelogCheck } from "./lib/changelog";
import { ROOT } from "./lib/stackfile";

process.exitCode = runChangelogCheck(process.argv.slice(2), ROOT, (line) => console.log(line));
