/**
 * Credentials of the local cluster, made with Node's crypto and nothing downloaded:
 *
 * - the service-account signing key pair (RSA 2048, PEM);
 * - one static bearer token per client (kube-apiserver --token-auth-file, still
 *   supported in 1.36), so no client certificates and no CA of our own are needed;
 * - kubeconfigs that trust the serving certificate kube-apiserver generates itself in
 *   --cert-dir (a self-signed CA plus a certificate for 127.0.0.1, localhost and the
 *   in-cluster names, written as one chain in apiserver.crt).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";

/** A client of the API server and who it is. */
export interface Identity {
  /** File name of its kubeconfig and the key in the token file. */
  name: string;
  user: string;
  groups: string[];
}

/**
 * Who talks to the API server. The control-plane users are the ones the bootstrap RBAC
 * policy already binds (system:kube-controller-manager, system:kube-scheduler). kwok
 * plays the kubelet of every simulated node, so it needs more than one node identity
 * (the Node authorizer would confine it to one node): like kwokctl, it is an admin.
 */
export const IDENTITIES: Identity[] = [
  { name: "admin", user: "system:admin", groups: ["system:masters"] },
  { name: "kube-controller-manager", user: "system:kube-controller-manager", groups: [] },
  { name: "kube-scheduler", user: "system:kube-scheduler", groups: [] },
  { name: "kwok", user: "system:kwok-controller", groups: ["system:masters"] },
];

export interface Credentials {
  serviceAccountKey: string;
  serviceAccountPub: string;
  tokenFile: string;
  /** Token of each identity, by name. */
  tokens: Record<string, string>;
}

function writeSecret(file: string, content: string): void {
  fs.writeFileSync(file, content, { mode: 0o600 });
}

/** Generates the key pair and the tokens into `dir` (0600 files). */
export function generateCredentials(dir: string): Credentials {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const serviceAccountKey = path.join(dir, "service-account.key");
  const serviceAccountPub = path.join(dir, "service-account.pub");
  writeSecret(serviceAccountKey, privateKey);
  fs.writeFileSync(serviceAccountPub, publicKey);

  const tokens: Record<string, string> = {};
  const lines: string[] = [];
  for (const id of IDENTITIES) {
    const token = crypto.randomBytes(32).toString("hex");
    tokens[id.name] = token;
    // token,user,uid,"group1,group2"
    lines.push(`${token},${id.user},${id.user},"${id.groups.join(",")}"`);
  }
  const tokenFile = path.join(dir, "tokens.csv");
  writeSecret(tokenFile, lines.join("\n") + "\n");
  return { serviceAccountKey, serviceAccountPub, tokenFile, tokens };
}

/**
 * A kubeconfig for one client. The cluster, user and context are all named `default`,
 * as in the kubeconfig k3s writes (/etc/rancher/k3s/k3s.yaml).
 */
export function kubeconfigYaml(server: string, caFile: string, token: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "default", cluster: { server, "certificate-authority": caFile } }],
    users: [{ name: "default", user: { token } }],
    contexts: [{ name: "default", context: { cluster: "default", user: "default" } }],
    "current-context": "default",
    preferences: {},
  });
}

export function writeKubeconfig(file: string, server: string, caFile: string, token: string): void {
  writeSecret(file, kubeconfigYaml(server, caFile, token));
}
