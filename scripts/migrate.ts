/**
 * Rewrites an earlier release's shapes in a stack file, in place (cli/migrate.ts):
 *
 *   npm run migrate -- --stack <name> [--stack-file <file>] [--previous <outputs.json>] [--dry-run]
 */
import * as fs from "fs";
import { runMigrate } from "../cli/migrate";
import { ROOT, readProjectName } from "../cli/stackfile";

const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined);
const io = {
  root: ROOT,
  project: readProjectName(),
  readFile: read,
  writeFile: fs.writeFileSync,
  print: console.log,
  printError: console.error,
};
process.exitCode = runMigrate(process.argv.slice(2), io);
