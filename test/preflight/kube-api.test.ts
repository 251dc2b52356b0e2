/**
 * The reader of the cluster the operator's objects are read from (preflight/kube-api.ts) follows the
 * kubeconfig the Kubernetes provider uses: the provider's own (a path or the content), else
 * $KUBECONFIG's first file; the context given or the current one; the CA and the user's credential.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { kubeConnection } from "../../preflight/kube-api";

const config = (server: string) => ({
  apiVersion: "v1",
  kind: "Config",
  "current-context": "k3s",
  clusters: [
    { name: "k3s", cluster: { server, "certificate-authority-data": Buffer.from("CA").toString("base64") } },
    { name: "other", cluster: { server: "https://other:6443", "insecure-skip-tls-verify": true } },
  ],
  users: [
    {
      name: "admin",
      user: { "client-certificate-data": Buffer.from("CERT").toString("base64"), "client-key-data": Buffer.from("KEY").toString("base64") },
    },
    { name: "robot", user: { tokenFile: "token" } },
  ],
  contexts: [
    { name: "k3s", context: { cluster: "k3s", user: "admin" } },
    { name: "ci", context: { cluster: "other", user: "robot" } },
  ],
});

let dir: string;
let file: string;
const saved = process.env.KUBECONFIG;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kube-api-"));
  file = path.join(dir, "config");
  fs.writeFileSync(file, YAML.stringify(config("https://127.0.0.1:6443/")));
  fs.writeFileSync(path.join(dir, "token"), "robot-token\n");
});
afterAll(() => {
  if (saved === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = saved;
  fs.rmSync(dir, { recursive: true, force: true });
});

test("$KUBECONFIG's current context: its server, CA and client certificate", () => {
  process.env.KUBECONFIG = `${file}${path.delimiter}/nowhere`;
  const c = kubeConnection();
  expect(c.server).toBe("https://127.0.0.1:6443");
  expect(c.ca?.toString()).toBe("CA");
  expect(c.cert?.toString()).toBe("CERT");
  expect(c.key?.toString()).toBe("KEY");
  expect(c.insecure).toBe(false);
});

test("the provider's kubeconfig (a path) and context: a token file beside it, an insecure cluster", () => {
  process.env.KUBECONFIG = "/nowhere";
  const c = kubeConnection(file, "ci");
  expect(c).toMatchObject({ server: "https://other:6443", insecure: true, token: "robot-token" });
});

test("the provider's kubeconfig given as its content", () => {
  const c = kubeConnection(YAML.stringify(config("https://10.0.0.1:6443")));
  expect(c.server).toBe("https://10.0.0.1:6443");
});

test("a context the kubeconfig does not have is named", () => {
  expect(() => kubeConnection(file, "prod")).toThrow("the kubeconfig has no context named prod");
});
