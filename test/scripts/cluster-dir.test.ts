/**
 * Where the local cluster keeps its state: .cluster/ in the checkout, or LOCAL_CLUSTER_DIR, which
 * `down` removes whole and so must end in .cluster. Anything else is refused before it is read,
 * written or removed.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { down, kubeconfigPath, status } from "../../lab/cluster";
import { ROOT } from "../../lab/tools/tools";

const saved = process.env.LOCAL_CLUSTER_DIR;
afterEach(() => {
  if (saved === undefined) delete process.env.LOCAL_CLUSTER_DIR;
  else process.env.LOCAL_CLUSTER_DIR = saved;
});

test("unset, the cluster lives in the checkout's .cluster/", () => {
  delete process.env.LOCAL_CLUSTER_DIR;
  expect(kubeconfigPath()).toBe(path.join(ROOT, ".cluster", "kubeconfig"));
});

test("a directory called .cluster is used where it is, resolved from the working directory", () => {
  process.env.LOCAL_CLUSTER_DIR = path.join("some", "lab", ".cluster");
  expect(kubeconfigPath()).toBe(path.resolve("some", "lab", ".cluster", "kubeconfig"));
});

test("any other directory is refused, naming the variable and what was given, and nothing in it is touched", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "not-a-cluster-"));
  fs.writeFileSync(path.join(dir, "keep.txt"), "a user's file");
  process.env.LOCAL_CLUSTER_DIR = dir;
  const refusal = `LOCAL_CLUSTER_DIR must name a directory called .cluster (down removes it whole); given ${dir}`;
  expect(() => kubeconfigPath()).toThrow(refusal);
  await expect(status()).rejects.toThrow(refusal);
  await expect(down()).rejects.toThrow(refusal);
  expect(fs.readdirSync(dir)).toEqual(["keep.txt"]);
  fs.rmSync(dir, { recursive: true, force: true });
});
