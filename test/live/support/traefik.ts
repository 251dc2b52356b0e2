/**
 * The cluster's Traefik in the live lab: the exact release k3s bundles, with its Kubernetes
 * CRD provider on the lab's control plane, where the rendered stack is applied (IngressRoutes,
 * the basic-auth and security-headers Middlewares, the users' Secret). No pod runs there, so
 * the Services Traefik routes to lose their selectors and get EndpointSlices that point at the
 * lab's real Prometheus, Alertmanager and Grafana metrics server on 127.0.0.1 (an FQDN-typed
 * address: the API server refuses a loopback IP in an IPv4 EndpointSlice). Its metrics are
 * on the entry point k3s's chart names, scraped by the rendered job traefik through discovery
 * of a pod shaped as k3s's; a file provider gives it the certificate a TLS Secret would.
 */
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import * as YAML from "yaml";
import { TRAEFIK_NAMES, HTPASSWD_KEY, basicAuthHash, htpasswd } from "../../../components/traefik";
import { K3S_TRAEFIK } from "../../../components/traefik/section";
import { TraefikPorts, traefikArgs } from "../../../lab/catalog/traefik";
import { stackBinary } from "../../../lab/local/binaries";
import { getOk, selfSignedCertificate } from "../../../lab/local/http";
import { LOOPBACK } from "../../../lab/ports";
import { LocalRun } from "../../../lab/processes/children";
import { waitFor } from "../../../lab/processes/supervision";
import type { TargetGroup } from "../../../lab/local/prometheus";
import { KubeObject, apply, get, kubectl, list } from "../../cluster/support/kube";

/** The lab's basic-auth user: its Secret is written here, hashed as the stack hashes it. */
export const LAB_BASIC_AUTH = { user: "lab-admin", password: "lab-password-0123" };

export interface TraefikReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export class LabTraefik {
  constructor(
    readonly ports: TraefikPorts,
    readonly ca: string,
  ) {}

  /** A request to the websecure entry point for `host` (SNI and Host), with or without the lab's credentials. */
  request(host: string, urlPath: string, credentials?: { user: string; password: string }): Promise<TraefikReply> {
    const auth = credentials
      ? { Authorization: `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString("base64")}` }
      : {};
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: LOOPBACK,
          port: this.ports.websecure,
          path: urlPath,
          servername: host,
          headers: { Host: host, ...auth },
          rejectUnauthorized: false,
          timeout: 5000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`GET https://${host}${urlPath} timed out`)));
      req.on("error", reject);
      req.end();
    });
  }

  /** What Kubernetes pod discovery would report for k3s's Traefik pod: its metrics port, here on the loopback. */
  podTarget(node: string): TargetGroup {
    const meta = (label: string) => `__meta_kubernetes_pod_label_${label.replace(/[^a-zA-Z0-9_]/g, "_")}`;
    return {
      targets: [`${LOOPBACK}:${this.ports.metrics}`],
      labels: {
        __meta_kubernetes_namespace: K3S_TRAEFIK.namespace,
        __meta_kubernetes_pod_name: "traefik-5d45fc8cc9-lab",
        __meta_kubernetes_pod_node_name: node,
        __meta_kubernetes_pod_phase: "Running",
        __meta_kubernetes_pod_ip: LOOPBACK,
        __meta_kubernetes_pod_container_port_number: String(K3S_TRAEFIK.port),
        ...Object.fromEntries(
          Object.entries({ ...K3S_TRAEFIK.podLabels, "app.kubernetes.io/instance": "traefik-kube-system" }).map(([k, v]) => [meta(k), v]),
        ),
      },
    };
  }
}

/** The published Services of the stack, and the lab's port that serves each. */
export type Backends = Record<string, number>;

/**
 * Points each published Service at the lab's process: its selector dropped (the endpoint
 * controller then lets go of its EndpointSlices), and an EndpointSlice of its own that names
 * the Service port and the lab's address.
 */
async function pointServicesAtLab(namespace: string, backends: Backends): Promise<void> {
  for (const [name, port] of Object.entries(backends)) {
    const svc = (await get("service", name, namespace)) as KubeObject;
    const ports = (svc.spec?.ports ?? []) as Array<{ name?: string; port: number; protocol?: string }>;
    await apply({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace, labels: svc.metadata.labels },
      spec: { ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? "TCP" })) },
    });
    // Whatever applied the selector, it goes: with it left, the endpoint controllers would keep
    // writing slices to the pods' addresses, which Traefik would balance with the lab's.
    if ((await get("service", name, namespace))?.spec?.selector)
      await kubectl(["-n", namespace, "patch", "service", name, "--type=json", "-p", '[{"op":"remove","path":"/spec/selector"}]']);
    await settleOnLabSlicesOnly(namespace, name);
    await apply({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name: `${name}-lab`,
        namespace,
        labels: { "kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": "live-lab" },
      },
      // The API server refuses a loopback IP in an IPv4 slice (ValidateEndpointIP), not as an FQDN-typed address
      // (four DNS labels), and Traefik reads a slice's addresses whatever their type: the lab's processes on 127.0.0.1.
      addressType: "FQDN",
      endpoints: [{ addresses: [LOOPBACK], conditions: { ready: true, serving: true, terminating: false } }],
      ports: ports.map((p) => ({ name: p.name ?? "", port, protocol: "TCP" })),
    });
  }
}

/**
 * Removes every EndpointSlice of a Service but the lab's, and the Endpoints the mirroring
 * controller would copy into new ones, until none has come back for three seconds: the
 * controllers may still be writing one when the selector goes.
 */
async function settleOnLabSlicesOnly(namespace: string, name: string): Promise<void> {
  let quiet = 0;
  await waitFor(
    `the EndpointSlices of Service ${namespace}/${name} left to the lab`,
    async () => {
      await kubectl(["-n", namespace, "delete", "endpoints", name, "--ignore-not-found"]);
      const others = (await list("endpointslices", namespace, `kubernetes.io/service-name=${name}`)).filter(
        (slice) => slice.metadata.labels?.["endpointslice.kubernetes.io/managed-by"] !== "live-lab",
      );
      for (const slice of others) await kubectl(["-n", namespace, "delete", "endpointslice", slice.metadata.name, "--ignore-not-found"]);
      quiet = others.length === 0 ? quiet + 1 : 0;
      return quiet >= 3 ? true : undefined;
    },
    60_000,
    1000,
  );
}

/** The users' Secret with the lab's user, hashed as components/traefik hashes the stack's. */
async function writeUsers(namespace: string): Promise<void> {
  const hash = basicAuthHash(LAB_BASIC_AUTH.user, LAB_BASIC_AUTH.password, Buffer.from("live-lab-salt"));
  await kubectl(["-n", namespace, "delete", "secret", TRAEFIK_NAMES.basicAuthSecret, "--ignore-not-found"]);
  await apply({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: TRAEFIK_NAMES.basicAuthSecret, namespace },
    type: "Opaque",
    stringData: { [HTPASSWD_KEY]: htpasswd([{ user: LAB_BASIC_AUTH.user, hash }]) },
  });
}

/**
 * Starts Traefik on the lab's control plane (`kubeconfig`) for the stack's namespace, once the
 * rendered objects are applied; resolves when /ping answers.
 */
export async function startLabTraefik(
  run: LocalRun,
  dir: string,
  kubeconfig: string,
  namespace: string,
  backends: Backends,
  ports: TraefikPorts,
): Promise<LabTraefik> {
  await pointServicesAtLab(namespace, backends);
  await writeUsers(namespace);
  // A certificate as a TLS Secret would give it (its expiry is what the certificate alert reads).
  const tls = selfSignedCertificate(dir, "traefik-lab", 60, [`IP:${LOOPBACK}`, "DNS:localhost"]);
  const dynamic = path.join(dir, "traefik-dynamic.yml");
  fs.writeFileSync(dynamic, YAML.stringify({ tls: { certificates: [{ certFile: tls.certFile, keyFile: tls.keyFile }] } }));
  const proc = run.start(
    "traefik",
    stackBinary("traefik"),
    traefikArgs(ports, [
      "--providers.kubernetescrd=true",
      `--providers.kubernetescrd.namespaces=${namespace}`,
      `--providers.file.filename=${dynamic}`,
      // The routes name the resolver the stack file sets (certResolver: letsencrypt): one that can reach no CA here.
      "--certificatesresolvers.letsencrypt.acme.tlschallenge=true",
      `--certificatesresolvers.letsencrypt.acme.storage=${path.join(dir, "acme.json")}`,
      `--certificatesresolvers.letsencrypt.acme.caserver=https://${LOOPBACK}:1/directory`,
    ]),
    { env: { KUBECONFIG: kubeconfig } },
  );
  await waitFor("Traefik's /ping", () => getOk(`http://${LOOPBACK}:${ports.traefik}/ping`), 60_000, 500, [proc]);
  return new LabTraefik(ports, tls.cert);
}
