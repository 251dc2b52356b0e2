/**
 * A rotated secret reaches the pods that read it: the production stack file with every secret key
 * set (test/support/every-secret.ts), rendered twice with every secret's value changed. Each
 * Deployment, StatefulSet and DaemonSet that reads a Secret whose data changed (a volume, a
 * projected source, an env value or envFrom) must get another pod template, so that the rollout
 * restarts it with the new value, unless its process reads that Secret's files anew by itself
 * (READ_ANEW, each with why); a pod that reads nothing changed keeps its template.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import type { K8sObject, Rendered } from "../../cli/render";
import { renderStack } from "../../cli/render-stack";
import { SECRET_VARIANTS, SecretVariant, encryptedConfig, sealedValue, topKey } from "../support/every-secret";

/**
 * Secrets whose readers take a new value without a restart, by workload: files the process reads
 * again on its own (Prometheus' *_file credentials on every request, Alertmanager's config reloaded
 * by its sidecar, Alloy's credential files, exporter-toolkit's web config on every connection).
 */
const READ_ANEW: Record<string, Record<string, string>> = {
  "StatefulSet/prometheus": {
    // password_file and credentials_file are read on every request, TLS cert_file and key_file again once changed
    // (prometheus/common's HTTP client), and the kubelet swaps a mounted Secret's files in place.
    "prometheus-remote-write": "remote writes' password, token, CA, client certificate and key, as files",
    "prometheus-targets": "targets' passwords and tokens, as files",
  },
  "StatefulSet/alertmanager": {
    "alertmanager-config": "its config-reloader sidecar watches the mounted directory and calls /-/reload",
  },
  "DaemonSet/alloy": {
    "alloy-external-loki": "loki.write's password_file or bearer_token_file, read on every request",
  },
};

function valueFor(secretPath: string, round: string): string {
  return sealedValue(secretPath, `${secretPath.replace(/[^A-Za-z0-9]/g, "")}${round}Rotated`);
}

async function renderRound(variant: SecretVariant, round: (secretPath: string) => string, dir: string): Promise<Rendered> {
  const config = encryptedConfig(variant);
  const file = path.join(dir, "Pulumi.production.yaml");
  fs.writeFileSync(file, YAML.stringify({ config }));
  const sets = variant.secrets.map((p) => `${p}=${JSON.stringify(valueFor(p, round(p)))}`);
  return renderStack({ stack: "production", stackFile: file, sets, showSecrets: true });
}

interface PodTemplate {
  metadata?: { annotations?: Record<string, string> };
  spec: {
    volumes?: Array<{ secret?: { secretName: string }; projected?: { sources: Array<{ secret?: { name: string } }> } }>;
    containers: Container[];
    initContainers?: Container[];
  };
}
interface Container {
  env?: Array<{ valueFrom?: { secretKeyRef?: { name: string } } }>;
  envFrom?: Array<{ secretRef?: { name: string } }>;
}

const WORKLOADS = ["Deployment", "StatefulSet", "DaemonSet"];
const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;

/** The Secrets (by namespace/name) a pod template reads. */
function secretsRead(namespace: string, t: PodTemplate): string[] {
  const names = new Set<string>();
  for (const v of t.spec.volumes ?? []) {
    if (v.secret) names.add(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) if (s.secret) names.add(s.secret.name);
  }
  for (const c of [...t.spec.containers, ...(t.spec.initContainers ?? [])]) {
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) names.add(e.valueFrom.secretKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.secretRef) names.add(e.secretRef.name);
  }
  return [...names].map((n) => `${namespace}/${n}`);
}

function byKey(r: Rendered): Map<string, K8sObject> {
  return new Map(r.kubernetes.map((o) => [key(o.object), o.object]));
}

/** What a rotation leaves unapplied: each workload that reads a changed Secret and keeps its pod template. */
function unapplied(a: Rendered, b: Rendered): string[] {
  const [before, after] = [byKey(a), byKey(b)];
  const secretData = (m: Map<string, K8sObject>, ref: string) => {
    const [ns, name] = ref.split("/");
    const s = m.get(`Secret/${ns}/${name}`);
    return s ? JSON.stringify([s.data ?? {}, s.stringData ?? {}]) : undefined;
  };
  const found: string[] = [];
  for (const [k, o] of before) {
    if (!WORKLOADS.includes(o.kind)) continue;
    const other = after.get(k);
    if (!other) continue;
    const template = (x: K8sObject) => (x.spec as { template: PodTemplate }).template;
    const changed = secretsRead(o.metadata.namespace ?? "", template(o)).filter(
      (ref) => secretData(before, ref) !== undefined && secretData(before, ref) !== secretData(after, ref),
    );
    const anew = READ_ANEW[`${o.kind}/${o.metadata.name}`] ?? {};
    const needRestart = changed.filter((ref) => anew[ref.split("/")[1]] === undefined);
    const same = JSON.stringify(template(o).metadata ?? {}) === JSON.stringify(template(other).metadata ?? {});
    if (needRestart.length > 0 && same) found.push(`${k} reads ${needRestart.join(", ")}, changed, and keeps its pod template`);
  }
  return found;
}

/**
 * The renders the checks compare: every secret at its first value, then for each top-level secret
 * key (its entries together) one render with that key's values changed alone, so that one Secret's
 * digest cannot stand in for another's.
 */
describe.each(SECRET_VARIANTS.map((v, i) => [v.name, v, i] as const))("each secret key rotated alone (%s)", (_name, variant, i) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotation-"));
  // The keys an earlier variant rotated already are not rotated again.
  const earlier = new Set(SECRET_VARIANTS.slice(0, i).flatMap((v) => v.secrets.map(topKey)));
  const keys = [...new Set(variant.secrets.map(topKey))].filter((k) => !earlier.has(k));
  const rounds = new Map<string, Rendered>();
  let first: Rendered;
  beforeAll(async () => {
    first = await renderRound(variant, () => "One", dir);
    for (const k of keys) rounds.set(k, await renderRound(variant, (p) => (topKey(p) === k ? "Two" : "One"), dir));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("each pod that reads a changed Secret rolls, unless it reads it anew by itself", () => {
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.flatMap((k) => unapplied(first, rounds.get(k) as Rendered).map((w) => `${k}: ${w}`))).toEqual([]);
  });
});
