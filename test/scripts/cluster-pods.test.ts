/**
 * The cluster tier's pod runner (lab/local/cluster-pods.ts), held to what a kubelet does: `$(VAR)` expansion as
 * Kubernetes documents it (a reference to a defined variable expanded, `$$` an escaped `$`, an unknown reference left
 * as written), the downward API's fields, volumes' keys and items (a Secret's base64 decoded, a missing key an error),
 * and, on the rendered production pods, that what it changes in their args is paths and listen addresses only.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ClusterPod, DataObject, containerEnv, expand, headlessHosts, layOutContainer, volumeFiles } from "../../lab/local/cluster-pods";
import { objectOf, objectsOf, render } from "../support/render";

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

function pod(overrides: Partial<ClusterPod["spec"]> = {}, podIP: string | undefined = "10.42.1.7"): ClusterPod {
  return {
    metadata: { name: "alertmanager-1", namespace: "monitoring-production" },
    spec: { nodeName: "k3s-agent-2", serviceAccountName: "prometheus", containers: [{ name: "main" }], ...overrides },
    status: podIP ? { podIP } : {},
  };
}

describe("$(VAR) expansion, as the kubelet's", () => {
  test("a defined variable expanded, $$ escaping, an unknown reference left as written", () => {
    const env = { POD_IP: "10.42.1.7", NAME: "am" };
    expect(expand("--cluster.advertise-address=$(POD_IP):9094", env)).toBe("--cluster.advertise-address=10.42.1.7:9094");
    expect(expand("$$(POD_IP)", env)).toBe("$(POD_IP)");
    expect(expand("$(MISSING)-$(NAME)", env)).toBe("$(MISSING)-am");
    expect(expand("${POD_IP} $POD_IP", env)).toBe("${POD_IP} $POD_IP");
  });

  test("the env: values (expanding earlier ones) and the downward API's fields; another source is refused by name", () => {
    const p = pod({
      containers: [
        {
          name: "main",
          env: [
            { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
            { name: "PEER", value: "$(POD_NAME).peers:$(PORT)" },
          ],
        },
      ],
    });
    expect(containerEnv(p, p.spec.containers[0])).toEqual({
      POD_IP: "10.42.1.7",
      POD_NAME: "alertmanager-1",
      NODE: "k3s-agent-2",
      PEER: "alertmanager-1.peers:$(PORT)",
    });
    const secretRef = pod({
      containers: [{ name: "main", env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] }],
    });
    expect(() => containerEnv(secretRef, secretRef.spec.containers[0])).toThrow(/env TOKEN comes from .*secretKeyRef/);
    const hostIP = pod({ containers: [{ name: "main", env: [{ name: "H", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } }] }] });
    expect(() => containerEnv(hostIP, hostIP.spec.containers[0])).toThrow(/reads status\.hostIP/);
  });
});

describe("volumes", () => {
  const objects: DataObject[] = [
    { kind: "ConfigMap", metadata: { name: "rules" }, data: { "a.yml": "a", "b.yml": "b" } },
    { kind: "Secret", metadata: { name: "config" }, data: { "alertmanager.yml": b64("route: {}\n"), other: b64("x") } },
    { kind: "ConfigMap", metadata: { name: "kube-root-ca.crt" }, data: { "ca.crt": "CA" } },
  ];

  test("a ConfigMap's keys; a Secret's decoded; items at their paths; a missing key or object refused by name", () => {
    const p = pod();
    expect(volumeFiles(p, { name: "v", configMap: { name: "rules" } }, { objects })).toEqual({ "a.yml": "a", "b.yml": "b" });
    expect(
      volumeFiles(p, { name: "v", secret: { secretName: "config", items: [{ key: "alertmanager.yml", path: "c/am.yml" }] } }, { objects }),
    ).toEqual({ "c/am.yml": "route: {}\n" });
    expect(() =>
      volumeFiles(p, { name: "v", configMap: { name: "rules", items: [{ key: "c.yml", path: "c.yml" }] } }, { objects }),
    ).toThrow("ConfigMap rules has no key c.yml");
    expect(() => volumeFiles(p, { name: "v", configMap: { name: "gone" } }, { objects })).toThrow(
      "alertmanager-1 mounts ConfigMap gone, which the API server does not hold",
    );
    expect(volumeFiles(p, { name: "v", emptyDir: {} }, { objects })).toBeUndefined();
  });

  test("the API server's service-account volume: token, CA and namespace; without a token, an error", () => {
    const p = pod();
    const volume = {
      name: "kube-api-access-x",
      projected: {
        sources: [
          { serviceAccountToken: { path: "token" } },
          { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
          { downwardAPI: { items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }] } },
        ],
      },
    };
    expect(volumeFiles(p, volume, { objects, serviceAccountToken: "tkn" })).toEqual({
      token: "tkn",
      "ca.crt": "CA",
      namespace: "monitoring-production",
    });
    expect(() => volumeFiles(p, volume, { objects })).toThrow(/mounts its service account's token \(prometheus\), and none was given/);
  });
});

test("headless Services' pods by the names the cluster's DNS gives them, ready or not; no hostname, no name", () => {
  const hosts = headlessHosts([
    {
      metadata: { name: "alertmanager-cluster", namespace: "monitoring-production" },
      subsets: [
        {
          addresses: [{ ip: "10.42.1.7", hostname: "alertmanager-1" }],
          notReadyAddresses: [{ ip: "10.42.2.3", hostname: "alertmanager-2" }],
        },
      ],
    },
    { metadata: { name: "alertmanager", namespace: "monitoring-production" }, subsets: [{ addresses: [{ ip: "10.42.1.7" }] }] },
  ]);
  expect(hosts.trim().split("\n")).toEqual([
    "127.0.0.1 localhost",
    "10.42.1.7 alertmanager-1.alertmanager-cluster.monitoring-production.svc alertmanager-1.alertmanager-cluster.monitoring-production.svc.cluster.local",
    "10.42.2.3 alertmanager-2.alertmanager-cluster.monitoring-production.svc alertmanager-2.alertmanager-cluster.monitoring-production.svc.cluster.local",
  ]);
});

describe("the rendered production pods, laid out", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "cluster-pods-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The rendered StatefulSet's pod as the API server holds it once running: its template, a name, an address. */
  async function runningPod(name: string, podIP: string): Promise<{ pod: ClusterPod; objects: DataObject[]; rendered: string[] }> {
    const rendered = await render("production", ["nodes=3"]);
    const sts = objectOf(rendered, "StatefulSet", name) as unknown as { spec: { template: { spec: ClusterPod["spec"] } } };
    const objects: DataObject[] = [
      ...objectsOf(rendered, "ConfigMap").map((o) => ({
        kind: "ConfigMap",
        metadata: { name: String(o.metadata.name) },
        data: o.data as Record<string, string>,
      })),
      ...objectsOf(rendered, "Secret").map((o) => ({
        kind: "Secret",
        metadata: { name: String(o.metadata.name) },
        data: Object.fromEntries(Object.entries((o.stringData ?? {}) as Record<string, string>).map(([k, v]) => [k, b64(v)])),
      })),
    ];
    const pod: ClusterPod = {
      metadata: { name: `${name}-1`, namespace: "monitoring-production" },
      spec: sts.spec.template.spec,
      status: { podIP },
    };
    return { pod, objects, rendered: sts.spec.template.spec.containers.find((c) => c.name === name)?.args ?? [] };
  }

  test("Alertmanager: its config and templates under the pod's directory; only paths and listen addresses changed", async () => {
    const { pod, objects, rendered } = await runningPod("alertmanager", "10.42.1.7");
    const root = path.join(dir, "am");
    const { args, env } = layOutContainer(pod, "alertmanager", { objects }, root);
    expect(env).toEqual({ POD_IP: "10.42.1.7" });
    expect(fs.readFileSync(path.join(root, "etc/alertmanager/config/alertmanager.yml"), "utf8")).toMatch(/^route:/m);
    expect(fs.existsSync(path.join(root, "etc/alertmanager/config/monitoring.tmpl"))).toBe(true);
    const changed = rendered.map((a, i) => [a, args[i]]).filter(([a, b]) => a !== b);
    expect(Object.fromEntries(changed)).toEqual({
      "--config.file=/etc/alertmanager/config/alertmanager.yml": `--config.file=${root}/etc/alertmanager/config/alertmanager.yml`,
      "--storage.path=/alertmanager": `--storage.path=${root}/alertmanager`,
      "--web.listen-address=:9093": "--web.listen-address=10.42.1.7:9093",
      "--web.config.file=/etc/alertmanager/config/web-config.yaml": `--web.config.file=${root}/etc/alertmanager/config/web-config.yaml`,
      "--cluster.listen-address=0.0.0.0:9094": "--cluster.listen-address=10.42.1.7:9094",
      "--cluster.advertise-address=$(POD_IP):9094": "--cluster.advertise-address=10.42.1.7:9094",
    });
  });

  test("a pod not running yet (no address) is refused", async () => {
    const { pod, objects } = await runningPod("alertmanager", "10.42.1.7");
    expect(() => layOutContainer({ ...pod, status: {} }, "alertmanager", { objects }, path.join(dir, "none"))).toThrow(
      "alertmanager-1 has no address yet (status.podIP): it is not running",
    );
  });
});
