/** Temporary directories a test file makes, removed after its tests. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** A maker of directories named `<prefix>-…` under the system's temporary directory, each removed after the file's tests. */
export function tempDirs(prefix: string): () => string {
  const made: string[] = [];
  afterAll(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
  return () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    made.push(dir);
    return dir;
  };
}
