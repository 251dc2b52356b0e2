/**
 * The local control plane (scripts/cluster.ts, lab/cluster) is the k3s node this
 * tier claims it is: a Ready node with k3s's labels and size, k3s's default StorageClass
 * with volumes made when a claim's first pod is scheduled and reclaimed as the class says, Pod Security admission and
 * RBAC on, NetworkPolicies and Traefik's CRDs served, workloads (host network and ports
 * included) going Ready, namespaces deleted with their contents, and nothing listening
 * beyond 127.0.0.1. The tier's global setup started it; KUBECONFIG points at it.
 */
import { execFile } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { basicAuthMiddleware, ingressRoute, routeTls, securityHeadersMiddleware } from "../../components/traefik";
import { kubeconfigPath, status } from "../../lab/cluster";
import { nodeNames, NODE_CAPACITY } from "../../lab/cluster/manifests";
import { locateBinaries } from "../../lab/cluster/paths";
import { ROOT } from "../../lab/tools/tools";
import { TRAEFIK_KINDS } from "../../lab/cluster/traefik-crds";
import { waitFor } from "./support/kube";

const KUBECTL = locateBinaries().kubectl;
const SUFFIX = crypto.randomBytes(3).toString("hex");
const NS = `cluster-test-${SUFFIX}`;
const RESTRICTED_NS = `cluster-test-restricted-${SUFFIX}`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env: process.env, cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** kubectl; fails with its stderr unless it succeeds. */
async function kubectl(args: string[], input?: string): Promise<string> {
  const res = await run(KUBECTL, args, input);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${res.stderr.trim()}`);
  return res.stdout;
}

/** Server-side apply with strict field validation: an unknown or mistyped field is an error, not a silent prune. */
function apply(objects: unknown[]): Promise<string> {
  return kubectl(
    ["apply", "--server-side", "--validate=strict", "--field-manager=cluster-test", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
  );
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function getJson(args: string[]): Promise<Json> {
  return JSON.parse(await kubectl(["get", ...args, "-o", "json"]));
}

const condition = (obj: Json, type: string): string | undefined =>
  (obj.status?.conditions ?? []).find((c: { type: string }) => c.type === type)?.status;

/** A pod that meets the restricted Pod Security Standard, as the stack's pods do. */
function restrictedPod(name: string, namespace: string, extra: Json = {}): Json {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "app",
          image: "busybox:1.36",
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
          readinessProbe: { httpGet: { path: "/ready", port: 8080 } },
        },
      ],
      ...extra,
    },
  };
}

beforeAll(async () => {
  expect(process.env.KUBECONFIG).toBe(kubeconfigPath());
  await kubectl(["create", "namespace", NS]);
  await kubectl(["create", "namespace", RESTRICTED_NS]);
  await kubectl(["label", "namespace", RESTRICTED_NS, "pod-security.kubernetes.io/enforce=restricted"]);
});

afterAll(async () => {
  await run(KUBECTL, ["delete", "namespace", NS, RESTRICTED_NS, "--ignore-not-found", "--wait=true", "--timeout=120s"]);
});

describe("the command line", () => {
  const cli = (...args: string[]) =>
    run(path.join(ROOT, "node_modules", ".bin", "ts-node"), ["--transpile-only", path.join(ROOT, "scripts", "cluster.ts"), ...args]);

  it("env prints the export line and nothing else", async () => {
    const res = await cli("env");
    expect(res).toMatchObject({ code: 0, stdout: `export KUBECONFIG=${kubeconfigPath()}\n` });
  });

  it("up on a running cluster says so, keeps its processes and prints the kubeconfig", async () => {
    const before = await status();
    const res = await cli("up");
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(`${kubeconfigPath()}\n`);
    expect(res.stderr).toContain("already up and healthy");
    const after = await status();
    expect(after.processes.map((p) => p.pid)).toEqual(before.processes.map((p) => p.pid));
  });

  it("status lists every process alive and /readyz ok", async () => {
    const res = await cli("status");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("/readyz: ok");
    for (const name of ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]) {
      expect(res.stdout).toMatch(new RegExp(`^\\s+${name}\\s+alive`, "m"));
    }
  });
});

describe("a k3s-shaped cluster", () => {
  it("has a Ready node k3s-server with k3s's labels and size and no taints", async () => {
    const node = await getJson(["node", "k3s-server"]);
    expect(condition(node, "Ready")).toBe("True");
    expect(node.metadata.labels).toMatchObject({
      "kubernetes.io/hostname": "k3s-server",
      "kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64",
      "node-role.kubernetes.io/control-plane": "true",
      "node-role.kubernetes.io/master": "true",
      "node.kubernetes.io/instance-type": "k3s",
      "topology.kubernetes.io/region": expect.any(String),
      "topology.kubernetes.io/zone": expect.any(String),
    });
    expect(node.status.capacity).toEqual(NODE_CAPACITY);
    expect(node.status.allocatable).toEqual(NODE_CAPACITY);
    expect(node.spec.taints ?? []).toEqual([]);
    expect(node.spec.podCIDR).toMatch(/^10\.42\.\d+\.0\/24$/);
    const nodes = await getJson(["nodes"]);
    expect(nodes.items.map((n: Json) => n.metadata.name)).toEqual(nodeNames(1).map((n) => n.name));
  });

  it("offers k3s's local-path StorageClass as the only default", async () => {
    const classes = (await getJson(["storageclasses"])).items;
    const defaults = classes.filter((c: Json) => c.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true");
    expect(defaults.map((c: Json) => c.metadata.name)).toEqual(["local-path"]);
    expect(defaults[0]).toMatchObject({
      provisioner: "rancher.io/local-path",
      reclaimPolicy: "Delete",
      volumeBindingMode: "WaitForFirstConsumer",
    });
  });

  /** A claim of `storageClassName` and a pod using it; returns the volume it got once both are Bound and Ready. */
  async function claimWithPod(claimName: string, storageClassName?: string): Promise<Json> {
    await apply([
      {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: claimName, namespace: NS },
        spec: {
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage: "10Gi" } },
          ...(storageClassName ? { storageClassName } : {}),
        },
      },
    ]);
    await new Promise((r) => setTimeout(r, 2000));
    // WaitForFirstConsumer: no pod, no volume.
    expect((await getJson(["pvc", claimName, "-n", NS])).status.phase).toBe("Pending");
    await apply([
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: `uses-${claimName}`, namespace: NS },
        spec: {
          containers: [{ name: "app", image: "busybox:1.36", volumeMounts: [{ name: "data", mountPath: "/data" }] }],
          volumes: [{ name: "data", persistentVolumeClaim: { claimName } }],
        },
      },
    ]);
    let volume = "";
    await waitFor("the claim to bind and its pod to be Ready", async () => {
      const pvc = await getJson(["pvc", claimName, "-n", NS]);
      const pod = await getJson(["pod", `uses-${claimName}`, "-n", NS]);
      volume = pvc.spec.volumeName ?? "";
      return pvc.status.phase === "Bound" && condition(pod, "Ready") === "True"
        ? undefined
        : `claim ${pvc.status.phase}, pod ${pod.status.phase}`;
    });
    const pvc = await getJson(["pvc", claimName, "-n", NS]);
    const pv = await getJson(["pv", volume]);
    // As local-path names and places it: pvc-<claim uid>, in a directory of its own, on the pod's node, of the size asked.
    expect(volume).toBe(`pvc-${pvc.metadata.uid}`);
    expect(pv.metadata.annotations["pv.kubernetes.io/provisioned-by"]).toBe("rancher.io/local-path");
    expect(pv.spec.capacity).toEqual({ storage: "10Gi" });
    expect(pv.spec.hostPath.path).toBe(path.join(ROOT, ".cluster", "volumes", `${volume}_${NS}_${claimName}`));
    expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0]).toEqual({
      key: "kubernetes.io/hostname",
      operator: "In",
      values: ["k3s-server"],
    });
    // Nothing runs in the pod: "data on the volume" is what a test writes into the directory.
    fs.writeFileSync(path.join(pv.spec.hostPath.path, "marker"), "kept");
    await kubectl(["delete", "pod", `uses-${claimName}`, "-n", NS, "--wait=true", "--timeout=60s"]);
    await kubectl(["delete", "pvc", claimName, "-n", NS, "--wait=true", "--timeout=60s"]);
    return pv;
  }

  it("provisions a volume for a claim when its first pod is scheduled, and deletes it and its directory with the claim (Delete)", async () => {
    const pv = await claimWithPod("data");
    expect(pv.spec).toMatchObject({
      storageClassName: "local-path",
      persistentVolumeReclaimPolicy: "Delete",
      claimRef: { namespace: NS, name: "data" },
    });
    await waitFor("the volume and its directory to be deleted", async () => {
      const left = await run(KUBECTL, ["get", "pv", pv.metadata.name, "--ignore-not-found", "-o", "name"]);
      return left.stdout.trim() === "" && !fs.existsSync(pv.spec.hostPath.path) ? undefined : "still there";
    });
  });

  it("keeps a Retain class's volume Released, directory and data too, after its claim goes", async () => {
    const retain = `local-path-retain-${SUFFIX}`;
    await apply([
      {
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: { name: retain },
        provisioner: "rancher.io/local-path",
        reclaimPolicy: "Retain",
        volumeBindingMode: "WaitForFirstConsumer",
      },
    ]);
    try {
      const pv = await claimWithPod("kept", retain);
      expect(pv.spec).toMatchObject({ storageClassName: retain, persistentVolumeReclaimPolicy: "Retain", claimRef: { name: "kept" } });
      await waitFor("the volume to be released", async () => {
        const phase = (await getJson(["pv", pv.metadata.name])).status.phase;
        return phase === "Released" ? undefined : phase;
      });
      // A few of the provisioner's passes later, still there.
      await new Promise((r) => setTimeout(r, 3000));
      expect((await getJson(["pv", pv.metadata.name])).status.phase).toBe("Released");
      expect(fs.readFileSync(path.join(pv.spec.hostPath.path, "marker"), "utf8")).toBe("kept");
      // Leave the cluster as this file found it: a retained volume is the admin's to remove.
      await kubectl(["delete", "pv", pv.metadata.name, "--wait=true", "--timeout=60s"]);
      fs.rmSync(pv.spec.hostPath.path, { recursive: true, force: true });
    } finally {
      await kubectl(["delete", "storageclass", retain, "--ignore-not-found"]);
    }
  });

  it("refuses a pod that violates restricted in a namespace that enforces it, and admits one that meets it", async () => {
    const bad = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "bad", namespace: RESTRICTED_NS },
      spec: { containers: [{ name: "app", image: "busybox:1.36" }] },
    };
    await expect(apply([bad])).rejects.toThrow(/violates PodSecurity "restricted:latest"/);
    const privileged = restrictedPod("host", RESTRICTED_NS, { hostNetwork: true });
    await expect(apply([privileged])).rejects.toThrow(/violates PodSecurity "restricted:latest": host namespaces/);

    await apply([restrictedPod("good", RESTRICTED_NS)]);
    await waitFor("the restricted pod to be Ready (probes are not run)", async () => {
      const pod = await getJson(["pod", "good", "-n", RESTRICTED_NS]);
      return condition(pod, "Ready") === "True" ? undefined : pod.status.phase;
    });
  });

  it("enforces RBAC: a ServiceAccount without bindings may not list pods", async () => {
    const res = await run(KUBECTL, ["auth", "can-i", "list", "pods", "-n", NS, `--as=system:serviceaccount:${NS}:default`]);
    expect(res.stdout.trim()).toBe("no");
  });

  it("accepts NetworkPolicies", async () => {
    const policy = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "default-deny-ingress", namespace: NS },
      spec: {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
            ports: [{ port: 9090, protocol: "TCP" }],
          },
        ],
      },
    };
    await apply([policy]);
    expect((await getJson(["networkpolicy", "default-deny-ingress", "-n", NS])).spec).toEqual(policy.spec);
  });

  it("serves every Traefik CRD and accepts the stack's IngressRoute and Middlewares as rendered", async () => {
    for (const kind of TRAEFIK_KINDS) {
      const crd = await getJson(["crd", `${kind.toLowerCase()}s.traefik.io`]);
      expect([kind, condition(crd, "Established")]).toEqual([kind, "True"]);
    }
    const objects = [
      securityHeadersMiddleware(NS, "staging"),
      basicAuthMiddleware(NS, "staging"),
      ingressRoute({
        namespace: NS,
        environment: "staging",
        route: { service: "prometheus", hostname: "prometheus.example.com" },
        entryPoints: ["websecure"],
        tls: routeTls({ tlsSecretName: "monitoring-tls" }),
      }),
      ingressRoute({
        namespace: NS,
        environment: "staging",
        route: { service: "grafana", hostname: "grafana.example.com" },
        entryPoints: ["websecure"],
        tls: routeTls({}),
      }),
    ];
    await apply(objects);
    for (const obj of objects) {
      // Nothing pruned: every field the stack sets is in the schema.
      expect((await getJson([`${obj.kind.toLowerCase()}.traefik.io`, obj.metadata.name, "-n", NS])).spec).toEqual(obj.spec);
    }
  });

  it("validates Traefik objects on the API server: unknown and mistyped fields are refused", async () => {
    // POSTed as they are, so that the API server's own validation answers, not kubectl's.
    const create = (obj: Json) =>
      kubectl(
        ["create", "--raw", `/apis/traefik.io/v1alpha1/namespaces/${NS}/ingressroutes?fieldValidation=Strict`, "-f", "-"],
        JSON.stringify(obj),
      );
    const route = ingressRoute({
      namespace: NS,
      environment: "staging",
      route: { service: "grafana", hostname: "g.example.com" },
      entryPoints: ["websecure"],
      tls: {},
    });
    await expect(
      create({ ...route, metadata: { ...route.metadata, name: "unknown-field" }, spec: { ...route.spec, bogus: true } }),
    ).rejects.toThrow(/unknown field "spec.bogus"/);
    await expect(
      create({ ...route, metadata: { ...route.metadata, name: "mistyped" }, spec: { ...route.spec, entryPoints: "websecure" } }),
    ).rejects.toThrow(/spec.entryPoints in body must be of type array/);
    await create({ ...route, metadata: { ...route.metadata, name: "valid" } });
  });

  it("runs a Deployment, a StatefulSet with a claim template and a DaemonSet on the host network with a hostPort and a hostPath to Ready", async () => {
    const labels = (app: string) => ({ app });
    const template = (app: string, extra: Json = {}) => ({
      metadata: { labels: labels(app) },
      spec: { containers: [{ name: app, image: "busybox:1.36", readinessProbe: { httpGet: { path: "/", port: 80 } } }], ...extra },
    });
    await apply([
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web", namespace: NS },
        spec: { replicas: 2, selector: { matchLabels: labels("web") }, template: template("web") },
      },
      {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: { name: "db", namespace: NS },
        spec: {
          serviceName: "db",
          replicas: 1,
          selector: { matchLabels: labels("db") },
          template: template("db"),
          volumeClaimTemplates: [
            { metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } } },
          ],
        },
      },
      {
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        metadata: { name: "agent", namespace: NS },
        spec: {
          selector: { matchLabels: labels("agent") },
          template: {
            metadata: { labels: labels("agent") },
            spec: {
              hostNetwork: true,
              hostPID: true,
              containers: [
                {
                  name: "agent",
                  image: "busybox:1.36",
                  ports: [{ containerPort: 9100, hostPort: 9100 }],
                  volumeMounts: [{ name: "root", mountPath: "/host", readOnly: true }],
                },
              ],
              volumes: [{ name: "root", hostPath: { path: "/" } }],
            },
          },
        },
      },
    ]);
    await waitFor("the workloads to be Ready", async () => {
      const deploy = await getJson(["deployment", "web", "-n", NS]);
      const sts = await getJson(["statefulset", "db", "-n", NS]);
      const ds = await getJson(["daemonset", "agent", "-n", NS]);
      const state = `web ${deploy.status.readyReplicas ?? 0}/2, db ${sts.status.readyReplicas ?? 0}/1, agent ${ds.status.numberReady ?? 0}/${ds.status.desiredNumberScheduled ?? "?"}`;
      const ready =
        deploy.status.readyReplicas === 2 &&
        condition(deploy, "Available") === "True" &&
        sts.status.readyReplicas === 1 &&
        ds.status.desiredNumberScheduled === 1 &&
        ds.status.numberReady === 1;
      return ready ? undefined : state;
    });
    const agent = (await getJson(["pods", "-n", NS, "-l", "app=agent"])).items[0];
    // On the host network a pod has its node's address.
    expect(agent.status.podIP).toBe(agent.status.hostIP);
    expect((await getJson(["pvc", "data-db-0", "-n", NS])).status.phase).toBe("Bound");
  });

  it("collects the garbage: deleting a Deployment removes its ReplicaSet and pods", async () => {
    await kubectl(["delete", "deployment", "web", "-n", NS, "--wait=true", "--timeout=60s"]);
    await waitFor("the ReplicaSet and pods of web to go", async () => {
      const left = [
        ...(await getJson(["replicasets", "-n", NS, "-l", "app=web"])).items,
        ...(await getJson(["pods", "-n", NS, "-l", "app=web"])).items,
      ];
      return left.length === 0 ? undefined : left.map((o: Json) => `${o.kind}/${o.metadata.name}`).join(", ");
    });
  });

  it("listens on 127.0.0.1 only, with every process", async () => {
    const s = await status();
    const ours = new Map<number, string>();
    for (const p of s.processes) for (const pid of [p.pid, ...p.componentPids]) ours.set(pid, p.name);
    const res = await run("ss", ["-H", "-l", "-t", "-u", "-n", "-p"]);
    expect(res.code).toBe(0);
    const sockets: Array<{ name: string; local: string }> = [];
    for (const line of res.stdout.split("\n")) {
      const pids = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])).filter((pid) => ours.has(pid));
      if (pids.length === 0) continue;
      // Netid State Recv-Q Send-Q Local-Address:Port Peer-Address:Port Process
      sockets.push({ name: ours.get(pids[0]) ?? "?", local: line.trim().split(/\s+/)[4] });
    }
    expect(new Set(sockets.map((x) => x.name))).toEqual(
      new Set(["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "local-path-provisioner"]),
    );
    expect(sockets.filter((x) => !x.local.startsWith("127.0.0.1:"))).toEqual([]);
  });

  it("deletes a namespace with everything in it", async () => {
    await kubectl(["delete", "namespace", NS, "--wait=true", "--timeout=120s"]);
    const res = await run(KUBECTL, ["get", "namespace", NS]);
    expect(res.stderr).toContain("NotFound");
  });
});
