/**
 * Prometheus: a StatefulSet (one volume per replica) that scrapes every component
 * of the stack, annotated pods, the configured apps and the kubelets, evaluates the
 * rule files of rules/ plus the generated app rules, and sends alerts to every
 * Alertmanager peer. Config and rules are ConfigMaps with stable names mounted as
 * directories: kubelet updates the files in place and Prometheus 3 reloads them by
 * itself (auto-reload-config), so a config or rule change never restarts a pod.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  anywhereOn,
  apiServerEgress,
  DEFAULT_EGRESS,
  EgressRule,
  extraEgressRules,
  IngressPeer,
  KUBELET_PORT,
  TRAEFIK_PODS,
  uniquePorts,
  urlPort,
  workloadPolicies,
} from "../kit/network";
import { PROMETHEUS_WRITE_PORT, ScrapeTarget } from "../kit/services";
import { imageOf, objectMeta, selectorLabels, standardLabels, stackPods } from "../kit/labels";
import { httpProbe, resourcesOf, restrictedContainerSecurity, restrictedPodSecurity, spreadAcrossNodes } from "../kit/pods";
import { replicatedStore, scratchVolume } from "../kit/volumes";
import { StackComponent } from "../kit/component";
import { podPriority } from "../kit/priority";
import { WEB_CONFIG_FILE } from "../kit/web";
import {
  PROMETHEUS_PORT,
  PROMETHEUS_PATHS,
  PrometheusArgs,
  prometheusIdentity,
  prometheusInClusterUrl,
  prometheusScrapeTarget,
} from "./args";
import { PROMETHEUS_LOOPBACK, PROXY_CONFIG_DIR, PROXY_CONFIG_MAP, proxyEntryPoints, proxyRoutes } from "./admin-proxy";
import { PROXY_ROUTES_KEY, pathProxyContainer } from "../kit/path-proxy";
import { remoteWriteTlsFiles } from "./remote-write";
import { PrometheusConfig, remoteWriteCredentialKey, scrapedTargets, targetJobNames } from "./scrape-config";
import { scrapeSecretFile, targetSecretFile } from "./scrape-jobs";
import { ConfigMapPlan } from "./files";
import { planPrometheus } from "./plan";

/** Name of the StatefulSet; its replicas' claims are `data-prometheus-<ordinal>`. */
const STATEFULSET_NAME = "prometheus";

/** How often Prometheus looks for a changed config or rule file. Kubelet itself takes up to a minute to update a mounted ConfigMap. */
const AUTO_RELOAD_INTERVAL = "30s";

/**
 * Where Prometheus connects, besides DNS: the API server (discovery), every pod of every
 * namespace on any port (annotated pods name their own port; the apps' and targets' Services,
 * the stack's components, Alertmanager and the blackbox exporter are pods too), the nodes'
 * addresses on the kubelet's port and the host-network targets' ports, and the static URLs'
 * and remote-write endpoints' ports at any address (a NetworkPolicy cannot name their hosts).
 */
export function prometheusEgressRules(
  args: Pick<PrometheusArgs, "apps" | "targets" | "remoteWrite" | "scrapeTargets" | "egress">,
): EgressRule[] {
  const egress = args.egress ?? DEFAULT_EGRESS;
  const nodePorts = uniquePorts([
    KUBELET_PORT,
    ...(args.scrapeTargets ?? []).flatMap((t) => (t.hostPort !== undefined ? [t.hostPort] : [])),
  ]);
  const urls = [
    ...(args.apps ?? []).flatMap((a) => (a.url !== undefined && !a.service ? [a.url] : [])),
    ...(args.targets ?? []).flatMap((t) => (t.url !== undefined && !t.service ? [t.url] : [])),
    ...(args.remoteWrite ?? []).map((rw) => rw.url),
  ];
  const outside = uniquePorts(urls.map(urlPort));
  return [
    apiServerEgress(egress),
    { to: [{ anyNamespace: true }] },
    { ports: nodePorts, to: [{ cidrs: egress.nodeCidrs }] },
    ...(outside.length > 0 ? [anywhereOn(outside)] : []),
    ...extraEgressRules(egress),
  ];
}

/**
 * Prometheus for one stack. Outputs its in-cluster URL, its own scrape target and
 * the config it renders (for tests and the offline render).
 */
export class Prometheus extends StackComponent {
  /** In-cluster URL of the `prometheus` Service. */
  public readonly url: pulumi.Output<string>;
  /** Prometheus' own metrics (already in its config: listed for completeness). */
  public readonly scrapeTargets: ScrapeTarget[];
  /** The prometheus.yml object, as written (the apps' jobs move to configFiles when they outgrow it). */
  public readonly config: PrometheusConfig;
  /** Every file of the config directory, by key: prometheus.yml, the apps' scrape files, if any, and the web config. */
  public readonly configFiles: Record<string, string>;
  /** The rule files shipped in the `prometheus-rules` ConfigMaps (prometheus-rules, prometheus-rules-2, ...), by key. */
  public readonly ruleFiles: Record<string, string>;
  public readonly statefulSet: k8s.apps.v1.StatefulSet;
  /** The data claim of each replica, by ordinal: the only objects that hold metrics. */
  public readonly claims: k8s.core.v1.PersistentVolumeClaim[];

  constructor(name: string, args: PrometheusArgs, opts?: pulumi.ComponentResourceOptions) {
    const { config, configFiles, ruleFiles, configMaps, ruleMaps } = planPrometheus(name, args, opts?.parent);
    super("monitoring:index:Prometheus", name, opts);
    this.config = config;
    this.configFiles = configFiles;
    this.ruleFiles = ruleFiles;

    const id = prometheusIdentity(args.environment);
    const selector = selectorLabels(id);
    const ns = args.namespace;
    const inClusterUrl = prometheusInClusterUrl(ns);
    const ha = args.replicas > 1;

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      // The token is mounted by the pod spec, which says why it needs one.
      { metadata: objectMeta(id, ns, "prometheus"), automountServiceAccountToken: false },
      { parent: this },
    );

    // Cluster-scoped names carry the namespace: two stacks in one cluster must not share a role.
    const clusterName = `${ns}-prometheus`;
    const clusterRole = new k8s.rbac.v1.ClusterRole(
      `${name}-cluster-role`,
      { metadata: { name: clusterName, labels: standardLabels(id) }, rules: prometheusClusterRoleRules() },
      { parent: this },
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-cluster-role-binding`,
      {
        metadata: { name: clusterName, labels: standardLabels(id) },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: serviceAccount.metadata.name, namespace: ns }],
      },
      { parent: this },
    );

    // The maps' names are their identity (prometheus-config, prometheus-rules, then -2, -3, ...):
    // unchanged as long as the files need as many maps.
    const configMapsOf = (plans: ConfigMapPlan[]) =>
      plans.map(
        (plan) =>
          new k8s.core.v1.ConfigMap(
            `${name}-${plan.name.slice("prometheus-".length)}`,
            { metadata: objectMeta(id, ns, plan.name), data: plan.data },
            { parent: this },
          ),
      );
    const configs = configMapsOf(configMaps);
    const rules = configMapsOf(ruleMaps);
    // One map is mounted as it is; several as one directory (a projected volume). Either way a
    // whole directory, never subPath, so that kubelet swaps the files in place when a map changes.
    const directory = (volume: string, maps: k8s.core.v1.ConfigMap[]): k8s.types.input.core.v1.Volume =>
      maps.length === 1
        ? { name: volume, configMap: { name: maps[0].metadata.name } }
        : { name: volume, projected: { sources: maps.map((m) => ({ configMap: { name: m.metadata.name } })) } };

    const credentials: Record<string, pulumi.Input<string>> = {};
    for (const rw of args.remoteWrite ?? []) {
      if (rw.auth)
        credentials[remoteWriteCredentialKey(rw.name)] = pulumi.secret(rw.auth.type === "basic" ? rw.auth.password : rw.auth.token);
      // The CA and client certificate beside the credential; the client key a secret like it.
      const tls = rw.options?.tls;
      const key = tls?.clientKeyPem;
      Object.assign(
        credentials,
        remoteWriteTlsFiles(rw.name, tls && { ...tls, ...(key !== undefined ? { clientKeyPem: pulumi.secret(key) } : {}) }),
      );
    }
    // targets[]: credentials given as secret config values and CA certificates in a Secret of the stack;
    // credentials in existing Secrets (of the stack namespace) projected beside them, optional so that
    // a Secret made later never keeps Prometheus from starting (its target is down until then:
    // Prometheus reads a credential file at each scrape).
    const targetData: Record<string, pulumi.Input<string>> = {};
    const existing: Array<{ secret: string; key: string; path: string }> = [];
    for (const t of args.targets ?? []) {
      if (t.credential && "value" in t.credential) targetData[targetSecretFile(t.name, "credential")] = pulumi.secret(t.credential.value);
      if (t.credential && "secretRef" in t.credential)
        existing.push({
          secret: t.credential.secretRef.name,
          key: t.credential.secretRef.key,
          path: targetSecretFile(t.name, "credential"),
        });
      if (t.tls?.caPem) targetData[targetSecretFile(t.name, "ca.crt")] = t.tls.caPem;
    }
    const targetSecret =
      Object.keys(targetData).length > 0
        ? new k8s.core.v1.Secret(
            `${name}-targets`,
            { metadata: objectMeta(id, ns, "prometheus-targets"), type: "Opaque", stringData: targetData },
            { parent: this },
          )
        : undefined;
    const targetSources: k8s.types.input.core.v1.VolumeProjection[] = [
      ...(targetSecret ? [{ secret: { name: targetSecret.metadata.name } }] : []),
      ...existing.map((e) => ({ secret: { name: e.secret, optional: true, items: [{ key: e.key, path: e.path }] } })),
    ];

    const remoteWriteSecret =
      Object.keys(credentials).length > 0
        ? new k8s.core.v1.Secret(
            `${name}-remote-write`,
            { metadata: objectMeta(id, ns, "prometheus-remote-write"), type: "Opaque", stringData: credentials },
            { parent: this },
          )
        : undefined;

    // The components' targets that need a password or a certificate to scrape (node-exporter): by job_name, as the config names the files.
    const scraped = scrapedTargets(args);
    const jobNames = targetJobNames(scraped);
    const scrapeData: Record<string, pulumi.Input<string>> = {};
    scraped.forEach((t, i) => {
      if (t.basicAuth) scrapeData[scrapeSecretFile(jobNames[i], "password")] = pulumi.secret(t.basicAuth.password);
      if (t.tls) scrapeData[scrapeSecretFile(jobNames[i], "ca.crt")] = t.tls.caPem;
    });
    const scrapeSecret =
      Object.keys(scrapeData).length > 0
        ? new k8s.core.v1.Secret(
            `${name}-scrape-credentials`,
            { metadata: objectMeta(id, ns, "prometheus-scrape-credentials"), type: "Opaque", stringData: scrapeData },
            { parent: this },
          )
        : undefined;

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: objectMeta(id, ns, "prometheus"),
        spec: {
          type: "ClusterIP",
          selector,
          ports: [
            { name: "http", port: PROMETHEUS_PORT, targetPort: "http", protocol: "TCP" },
            ...(args.writePort ? [{ name: "write", port: PROMETHEUS_WRITE_PORT, targetPort: "write", protocol: "TCP" }] : []),
          ],
          // With two replicas, a client (Grafana) keeps asking the same one: graphs do not flicker between two slightly different TSDBs.
          ...(ha ? { sessionAffinity: "ClientIP" } : {}),
        },
      },
      { parent: this },
    );

    // The admin API on (backups), or a write port for the collectors: Prometheus on the loopback, the proxy on the
    // pod's ports (admin-proxy.ts).
    const adminApi = args.backups?.adminApi ?? false;
    const proxied = { admin: adminApi, write: args.writePort ?? false };
    const proxy = proxied.admin || proxied.write;
    const proxyConfig = proxy
      ? new k8s.core.v1.ConfigMap(
          `${name}-proxy`,
          { metadata: objectMeta(id, ns, PROXY_CONFIG_MAP), data: { [PROXY_ROUTES_KEY]: proxyRoutes(proxied) } },
          { parent: this },
        )
      : undefined;

    const externalUrl = args.publicHostname ? `https://${args.publicHostname}` : inClusterUrl;
    const podArgs = [
      `--config.file=${PROMETHEUS_PATHS.configFile}`,
      // Prometheus 3: reload when prometheus.yml or a rule file changes (their checksum), no sidecar and no restart.
      "--enable-feature=auto-reload-config",
      `--config.auto-reload-interval=${AUTO_RELOAD_INTERVAL}`,
      `--storage.tsdb.path=${PROMETHEUS_PATHS.data}`,
      `--storage.tsdb.retention.time=${args.retention}`,
      `--storage.tsdb.retention.size=${args.retentionSize}`,
      proxy ? `--web.listen-address=${PROMETHEUS_LOOPBACK}` : `--web.listen-address=:${PROMETHEUS_PORT}`,
      `--web.external-url=${externalUrl}`,
      // Read on every request: the security headers Traefik's middleware would add, for the tunnel too.
      `--web.config.file=${PROMETHEUS_PATHS.configDir}/${WEB_CONFIG_FILE}`,
      // Apps' OTLP metrics, forwarded by the collector: pushed in, rather than turned into remote writes by Alloy (no WAL of its own on every node).
      ...(args.otlpReceiver || args.backups ? ["--web.enable-otlp-receiver"] : []),
      // The backups' TSDB snapshot (POST /api/v1/admin/tsdb/snapshot): on the loopback, the proxy's admin port the only way in.
      ...(adminApi ? ["--web.enable-admin-api"] : []),
      ...(args.exemplars ? ["--enable-feature=exemplar-storage"] : []),
      // The monitors' samples, scraped by the collector (config monitors): remote-written in; the published routes never reach /api/v1/write.
      ...(args.remoteWriteReceiver || args.sharedRemoteWriter ? ["--web.enable-remote-write-receiver"] : []),
    ];

    const volumes: k8s.types.input.core.v1.Volume[] = [
      // Mounted as directories, never subPath: kubelet then swaps the files in place when a ConfigMap changes.
      directory("config", configs),
      directory("rules", rules),
      scratchVolume("tmp"),
      ...(remoteWriteSecret ? [{ name: "remote-write", secret: { secretName: remoteWriteSecret.metadata.name, defaultMode: 0o440 } }] : []),
      ...(targetSources.length > 0 ? [{ name: "targets", projected: { sources: targetSources, defaultMode: 0o440 } }] : []),
      ...(scrapeSecret ? [{ name: "scrape-credentials", secret: { secretName: scrapeSecret.metadata.name, defaultMode: 0o440 } }] : []),
      ...(proxyConfig ? [{ name: "proxy", configMap: { name: proxyConfig.metadata.name } }] : []),
    ];
    const volumeMounts: k8s.types.input.core.v1.VolumeMount[] = [
      { name: "config", mountPath: PROMETHEUS_PATHS.configDir, readOnly: true },
      { name: "rules", mountPath: PROMETHEUS_PATHS.rulesDir, readOnly: true },
      { name: "data", mountPath: PROMETHEUS_PATHS.data },
      { name: "tmp", mountPath: "/tmp" },
      ...(remoteWriteSecret ? [{ name: "remote-write", mountPath: PROMETHEUS_PATHS.remoteWriteDir, readOnly: true }] : []),
      ...(targetSources.length > 0 ? [{ name: "targets", mountPath: PROMETHEUS_PATHS.targetSecretsDir, readOnly: true }] : []),
      ...(scrapeSecret ? [{ name: "scrape-credentials", mountPath: PROMETHEUS_PATHS.scrapeSecretsDir, readOnly: true }] : []),
    ];

    const podSpec: k8s.types.input.core.v1.PodSpec = {
      serviceAccountName: serviceAccount.metadata.name,
      ...podPriority(args.priorityClassName),
      // Prometheus talks to the API server: Kubernetes service discovery, and the token authenticates it to the kubelets.
      automountServiceAccountToken: true,
      enableServiceLinks: false,
      securityContext: restrictedPodSecurity(65534),
      ...(ha ? { affinity: spreadAcrossNodes(id) } : {}),
      // Time to flush the head block's WAL cleanly on shutdown.
      terminationGracePeriodSeconds: 120,
      containers: [
        {
          name: "prometheus",
          image: imageOf(id),
          args: podArgs,
          env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
          // Behind the proxy Prometheus has no port of the pod: ready when it answers through the proxy (what
          // clients see), alive when it answers on the loopback (promtool, in its image), whatever the proxy does.
          ...(proxy
            ? {
                readinessProbe: httpProbe("/-/ready", PROMETHEUS_PORT, { periodSeconds: 5, failureThreshold: 3 }),
                livenessProbe: {
                  exec: { command: ["/bin/promtool", "check", "healthy", `--url=http://${PROMETHEUS_LOOPBACK}`] },
                  periodSeconds: 15,
                  timeoutSeconds: 5,
                  failureThreshold: 6,
                },
              }
            : {
                ports: [{ name: "http", containerPort: PROMETHEUS_PORT, protocol: "TCP" }],
                readinessProbe: httpProbe("/-/ready", "http", { periodSeconds: 5, failureThreshold: 3 }),
                // /-/healthy answers while the WAL replays after a restart, so a long replay is not killed.
                livenessProbe: httpProbe("/-/healthy", "http", { periodSeconds: 15, failureThreshold: 6 }),
              }),
          resources: resourcesOf(args.resources),
          securityContext: restrictedContainerSecurity(),
          volumeMounts,
        },
        ...(proxy ? [pathProxyContainer(proxyEntryPoints(proxied), "http", "proxy", PROXY_CONFIG_DIR)] : []),
      ],
      volumes,
    };
    // Each replica's metrics live on its claim; replicas are independent copies, started and replaced in parallel.
    const store = replicatedStore(
      name,
      { id, namespace: ns, statefulSet: STATEFULSET_NAME, serviceName: service.metadata.name, podSpec },
      args,
      this,
    );
    this.claims = store.claims;
    this.statefulSet = store.statefulSet;

    // Named clients only: Grafana queries, the replicas scrape themselves and each other; the exposing proxies reach
    // the UI, the collector the receivers, the backup jobs the admin API (their own policy, components/backup). A
    // NetworkPolicy admits a port, not a path: every client let in reaches every path, the admin API included while
    // backups turn it on, so no other pod of the namespace is (an exporter given extra egress reaches nothing here).
    const clients: IngressPeer[] = [{ pods: stackPods("grafana", args.environment) }, { pods: stackPods("prometheus", args.environment) }];
    if (args.ingressFromTraefik) clients.push(TRAEFIK_PODS);
    if (args.ingressFromCloudflared) clients.push({ pods: stackPods("cloudflared", args.environment) });
    // The collectors that write here: on 9090 with the other clients, or on the write port alone (args.writePort).
    const writers: IngressPeer[] = [];
    if (args.otlpReceiver) {
      writers.push({
        namespaces: { "kubernetes.io/metadata.name": args.otlpReceiver.namespace },
        pods: stackPods(args.otlpReceiver.agent, args.environment),
      });
    }
    const receiver = args.remoteWriteReceiver;
    if (
      receiver &&
      !(args.otlpReceiver && args.otlpReceiver.namespace === receiver.namespace && args.otlpReceiver.agent === receiver.agent)
    ) {
      writers.push({
        namespaces: { "kubernetes.io/metadata.name": receiver.namespace },
        pods: stackPods(receiver.agent, args.environment),
      });
    }
    if (args.sharedRemoteWriter) {
      // The serving stack's collector: its environment is not known here, its namespace and the agent's name are.
      writers.push({
        namespaces: { "kubernetes.io/metadata.name": args.sharedRemoteWriter.namespace },
        pods: { "app.kubernetes.io/name": args.sharedRemoteWriter.agent },
      });
    }
    const ingress = args.writePort
      ? [{ ports: [PROMETHEUS_PORT], from: clients }, ...(writers.length > 0 ? [{ ports: [PROMETHEUS_WRITE_PORT], from: writers }] : [])]
      : [{ ports: [PROMETHEUS_PORT], from: [...clients, ...writers] }];
    workloadPolicies(name, { id, namespace: ns, name: "prometheus" }, { ingress, egress: prometheusEgressRules(args) }, { parent: this });

    this.url = pulumi.interpolate`http://${service.metadata.name}.${service.metadata.namespace}.svc:${PROMETHEUS_PORT}`;
    this.scrapeTargets = [prometheusScrapeTarget(ns, args.environment)];
    this.registerOutputs({ url: this.url, scrapeTargets: this.scrapeTargets });
  }
}

/**
 * Exactly what discovery and kubelet scraping need, read-only: the objects the
 * kubernetes_sd roles watch, the kubelet's metrics endpoints, and /metrics of the
 * API server.
 */
export function prometheusClusterRoleRules(): k8s.types.input.rbac.v1.PolicyRule[] {
  return [
    { apiGroups: [""], resources: ["nodes", "services", "endpoints", "pods"], verbs: ["get", "list", "watch"] },
    // The kubelet authorizes GET /metrics and /metrics/cadvisor as "get nodes/metrics"; nothing lists a subresource.
    { apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] },
    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
    { nonResourceURLs: ["/metrics"], verbs: ["get"] },
  ];
}
