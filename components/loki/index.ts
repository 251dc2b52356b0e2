/**
 * Loki: the stack's log store. One single-binary Loki 3 (`-target=all`) with a tsdb
 * index (schema v13) and chunks on its own volume, or from a given day on in an S3-compatible
 * bucket (loki.objectStore: the volume keeps the WAL and the index cache), retention applied by the
 * compactor, a Service for Grafana and the log collector, its NetworkPolicy and its
 * scrape target.
 *
 * One replica in every profile, production included: the filesystem store belongs
 * to one pod, and replicas would need object storage and a memberlist ring. A
 * PodDisruptionBudget on one replica would only block node drains; the collector
 * retries its pushes while Loki restarts, so a drain costs latency, not lines.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { DEFAULT_EGRESS, EgressRule, anywhereOn, extraEgressRules, IngressPeer, urlPort, workloadPolicies } from "../kit/network";
import { ScrapeTarget } from "../kit/services";
import { WorkloadIdentity, imageOf, objectMeta, selectorLabels, stackPods } from "../kit/labels";
import { configChecksum, httpProbe, resourcesOf, restrictedContainerSecurity, restrictedPodSecurity } from "../kit/pods";
import { oneReplicaStore, oneReplicaStoreClaims, scratchVolume } from "../kit/volumes";
import { StackComponent } from "../kit/component";
import { podPriority } from "../kit/priority";
import { LOKI_DISK_FULL_THRESHOLD, LOKI_MAX_LINE_BYTES, LokiIngestionLimits, lokiIngestionLimits } from "./limits";
import { goMemoryLimit, validBytes, validSeconds } from "../kit/units";
import { LOKI_PORT, LOKI_PUSH_PORT, SERVICE_PORTS } from "../kit/services";
import { PROXY_ROUTES_KEY, pathProxyContainer } from "../kit/path-proxy";
import { PUSH_ENTRY_POINTS, PUSH_PROXY_CONFIG_DIR, PUSH_PROXY_CONFIG_MAP, pushProxyRoutes } from "./push-proxy";
import { LOKI_TENANT } from "./rules";
import { LokiArgs } from "./args";
import { LOKI_SCHEMA_FROM, LokiObjectStore, objectStoreProblems } from "./section";
import { refuseProblems } from "../kit/problems";
import { secretDigest } from "../kit/secret-digest";
import { JOB } from "../kit/stack-jobs";

/** Loki's gRPC port: only the single binary's own modules talk on it, so no Service exposes it. */
export const LOKI_GRPC_PORT = 9095;

/** The labels of an OTLP app's log streams: those of a tailed pod's that an OTLP app has (no container, no stream). */
export const LOKI_OTLP_LABELS = ["namespace", "pod", "app", "job", "node"] as const;

/** The uid of the official image's `loki` user. */
const LOKI_UID = 10001;

/** Where the pod sees its files. */
export const LOKI_PATHS = {
  config: "/etc/loki/config",
  /** The volume: index, chunks, WAL, compactor state. */
  data: "/var/loki",
  /** The ruler's local rule storage: a directory per tenant, `fake` (LOKI_TENANT) the ConfigMap of the rule files. */
  rules: "/etc/loki/rules",
};

const CONFIG_FILE = "loki.yaml";

/**
 * The day the schema below starts (section.ts). Never edit it once logs are stored: a later
 * schema is a new entry with a future `from` (loki.objectStore's), and Loki reads each period with its own.
 */
export { LOKI_SCHEMA_FROM };

/** The Secret of the bucket's key pair (loki.objectStore), read by Loki's S3 client from its environment. */
export const LOKI_OBJECT_STORE_SECRET = "loki-object-store";
/** The use of the stack's salt that keys the digest of the bucket's key pair (checksum/object-store). */
const OBJECT_STORE_DIGEST_LABEL = "loki-object-store";

/**
 * A retention in hours (`7d` -> `168h`). Whole days, at least one, as loki.retention's schema
 * requires (section.ts): the compactor deletes whole 24h index tables, so a retention of 36h
 * would keep 48h and say otherwise.
 */
function retentionHours(duration: string): string {
  return `${validSeconds(duration) / 3600}h`;
}

/** What loki.yaml is made of: the retention (whole days, at least one), and what the stack wires in. */
export interface LokiConfigArgs extends Pick<LokiArgs, "retention"> {
  /** The bucket of the chunks and index from its first day on (loki.objectStore); none: all on the volume. */
  objectStore?: Pick<LokiObjectStore, "provider" | "endpoint" | "region" | "bucket" | "from">;
  /** The ingestion limits, sized to the volume (components/loki/limits.ts: lokiIngestionLimits). */
  ingestion: LokiIngestionLimits;
  /** The Alertmanager URLs the ruler sends to (LokiArgs.alertmanager); none: it sends nowhere. */
  alertmanagerUrls?: readonly string[];
  /** The `environment` label of every alert the ruler sends, as Prometheus' external label. */
  environment?: string;
}

const MIB = 1024 * 1024;

/**
 * loki.yaml of a single-binary Loki 3: no tenants, tsdb + filesystem under
 * /var/loki, retention by the compactor, ingestion limits sized to the volume.
 */
export function lokiConfig(args: LokiConfigArgs): Record<string, unknown> {
  const retention = retentionHours(args.retention);
  const data = LOKI_PATHS.data;
  const store = args.objectStore;
  return {
    // One tenant ("fake"): the stack has one audience, and the collector sends no X-Scope-OrgID.
    auth_enabled: false,
    server: { http_listen_port: LOKI_PORT, grpc_listen_port: LOKI_GRPC_PORT, log_level: "info" },
    common: {
      path_prefix: data,
      // One process holds every ring: nothing to gossip with, so the rings live in memory.
      replication_factor: 1,
      instance_addr: "127.0.0.1",
      ring: { kvstore: { store: "inmemory" } },
      storage: { filesystem: { chunks_directory: `${data}/chunks` } },
    },
    schema_config: {
      configs: [
        {
          from: LOKI_SCHEMA_FROM,
          store: "tsdb",
          object_store: "filesystem",
          schema: "v13",
          // Retention deletes whole index tables: 24h tables are what the compactor requires.
          index: { prefix: "index_", period: "24h" },
        },
        // The bucket, from its first day: the days before stay on the volume, read with their own period until retention deletes them.
        ...(store
          ? [{ from: store.from, store: "tsdb", object_store: "s3", schema: "v13", index: { prefix: "index_", period: "24h" } }]
          : []),
      ],
    },
    storage_config: {
      // On the volume either way: the index being written (shipped to the bucket every 15 minutes) and a cache of the shipped one.
      tsdb_shipper: { active_index_directory: `${data}/tsdb-index`, cache_location: `${data}/tsdb-cache` },
      // The key pair is not here: Loki's S3 client reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from its environment (the Secret).
      ...(store ? { aws: s3Storage(store) } : {}),
    },
    // At this use of the filesystem under the WAL (the volume's, or on local-path the node's),
    // the ingester refuses every push; rules/logs.yml's LokiVolumeAlmostFull reads the same use.
    ingester: { wal: { dir: `${data}/wal`, disk_full_threshold: LOKI_DISK_FULL_THRESHOLD } },
    compactor: {
      working_directory: `${data}/compactor`,
      compaction_interval: "10m",
      retention_enabled: true,
      // Time to change one's mind about a delete request before chunks are really removed.
      retention_delete_delay: "2h",
      // With a bucket, delete requests are kept there too: a lost volume does not forget them.
      delete_request_store: store ? "s3" : "filesystem",
    },
    limits_config: {
      retention_period: retention,
      // A collector that starts on a node with old files must not push what retention would delete at once.
      reject_old_samples: true,
      reject_old_samples_max_age: retention,
      max_query_lookback: retention,
      // Per tenant (the one tenant is the whole cluster) and per stream: sized so that the
      // retention window cannot keep more than the volume holds (components/loki/limits.ts).
      // Loki counts MB as MiB; a per-stream figure without a unit is bytes.
      ingestion_rate_mb: args.ingestion.rateBytes / MIB,
      ingestion_burst_size_mb: args.ingestion.burstBytes / MIB,
      per_stream_rate_limit: String(Math.floor(args.ingestion.perStreamRateBytes)),
      per_stream_rate_limit_burst: String(Math.floor(args.ingestion.perStreamBurstBytes)),
      max_global_streams_per_user: 10000,
      max_line_size: String(LOKI_MAX_LINE_BYTES),
      max_line_size_truncate: true,
      // Streams carry exactly the collector's labels: no derived service_name label.
      discover_service_name: [],
      allow_structured_metadata: true,
      // Logs sent as OTLP (apps, through the collector): the resource attributes the collector sets
      // from the pod that sent (components/log-collector/alloy.ts) are the streams' labels, as a tailed
      // pod's; every other attribute, trace_id and span_id included, is structured metadata.
      otlp_config: {
        resource_attributes: {
          ignore_defaults: true,
          attributes_config: [{ action: "index_label", attributes: [...LOKI_OTLP_LABELS] }],
        },
      },
    },
    // LogQL alerting rules (components/loki/rules.ts): files under LOKI_PATHS.rules/<tenant>, re-read every
    // poll_interval (1m), so a rule change needs no restart; evaluated every minute, their alerts to
    // every Alertmanager peer (each URL its own group: a peer that is down does not keep the others from
    // getting them) with the stack's environment, as Prometheus' carry it.
    ruler: {
      storage: { type: "local", local: { directory: LOKI_PATHS.rules } },
      rule_path: `${data}/rules-temp`,
      ...(args.alertmanagerUrls && args.alertmanagerUrls.length > 0 ? { alertmanager_url: args.alertmanagerUrls.join(",") } : {}),
      ...(args.environment !== undefined ? { external_labels: { environment: args.environment } } : {}),
    },
    // cache_results defaults to false: without it the results cache below is configured but never used.
    query_range: { cache_results: true, results_cache: { cache: { embedded_cache: { enabled: true, max_size_mb: 100 } } } },
    analytics: { reporting_enabled: false },
  };
}

/**
 * Loki's S3 client for the bucket: its endpoint (AWS S3's from the region when none is given), the
 * bucket addressed in the path for every store but AWS S3 (R2, B2 and MinIO take it; a MinIO has
 * no DNS name per bucket).
 */
function s3Storage(store: NonNullable<LokiConfigArgs["objectStore"]>): Record<string, unknown> {
  return {
    bucketnames: store.bucket,
    ...(store.endpoint ? { endpoint: store.endpoint.replace(/\/+$/, "") } : {}),
    region: store.region,
    s3forcepathstyle: store.provider !== "s3",
  };
}

/** The limits of a Loki with these args: the overrides, the rest derived from its volume and retention. */
export function ingestionOf(args: Pick<LokiArgs, "storage" | "retention"> & Partial<Pick<LokiArgs, "ingestion">>): LokiIngestionLimits {
  return lokiIngestionLimits(validBytes(args.storage.size), args.retention, args.ingestion);
}

/**
 * Where Loki connects, besides DNS: the stack's Alertmanager pods, when the ruler sends to them, and
 * the bucket's port (loki.objectStore). One process holds every ring on 127.0.0.1 (lokiConfig), and reports no usage.
 */
export function lokiEgressRules(args: Pick<LokiArgs, "egress" | "alertmanager" | "objectStore">): EgressRule[] {
  return [
    ...(args.alertmanager ? [{ ports: [SERVICE_PORTS.alertmanager], to: [{ pods: args.alertmanager.pods }] }] : []),
    // The bucket's port at any address: the store is a host outside the cluster, which a policy cannot name.
    ...(args.objectStore ? [anywhereOn([args.objectStore.endpoint ? urlPort(args.objectStore.endpoint) : 443])] : []),
    ...extraEgressRules(args.egress ?? DEFAULT_EGRESS),
  ];
}

/** Single-binary Loki with its volume, Service, NetworkPolicy and scrape target. */
export class Loki extends StackComponent {
  /** In-cluster URL of the `loki` Service on Loki's own port (Grafana's datasource); undefined with `dataOnly`. */
  public readonly url: pulumi.Output<string> | undefined;
  /** Loki's own metrics (job `loki`); none with `dataOnly`. */
  public readonly scrapeTargets: ScrapeTarget[];
  /** The StatefulSet; undefined with `dataOnly`. */
  public readonly statefulSet: k8s.apps.v1.StatefulSet | undefined;
  /** The data claim (`data-loki-0`): the logs, or with a bucket (objectStore) the WAL, the index being written and its cache. */
  public readonly claims: k8s.core.v1.PersistentVolumeClaim[];

  constructor(name: string, args: LokiArgs, opts?: pulumi.ComponentResourceOptions) {
    // A bucket without its name, endpoint, first day or key pair: refused before any resource.
    refuseProblems("Loki", name, args.dataOnly ? [] : objectStoreProblems(args.objectStore), opts);
    super("monitoring:index:Loki", name, opts);
    const id: WorkloadIdentity = { name: "loki", component: "log-store", instance: args.environment, image: "loki" };
    const selector = selectorLabels(id);
    const ns = args.namespace;

    // The logs live on this claim, made here so that Pulumi owns (and, in a stack that
    // keeps its data, protects) it; the StatefulSet's controller adopts it.
    this.claims = oneReplicaStoreClaims(
      `${name}-data`,
      { id, namespace: ns, storage: args.storage, protect: args.protectVolumes ?? false },
      this,
    );
    if (args.dataOnly) {
      this.url = undefined;
      this.scrapeTargets = [];
      this.statefulSet = undefined;
      this.registerOutputs({ scrapeTargets: this.scrapeTargets });
      return;
    }

    const configYaml = YAML.stringify(
      lokiConfig({
        retention: args.retention,
        ...(args.objectStore ? { objectStore: args.objectStore } : {}),
        ingestion: ingestionOf(args),
        environment: args.environment,
        ...(args.alertmanager ? { alertmanagerUrls: args.alertmanager.urls } : {}),
      }),
      {
        lineWidth: 0,
        aliasDuplicateObjects: false,
      },
    );
    // The LogQL rules, the tenant's directory of the ruler's local storage (read again every minute: no checksum).
    const rules = new k8s.core.v1.ConfigMap(
      `${name}-rules`,
      { metadata: objectMeta(id, ns, "loki-rules"), data: Object.fromEntries(args.ruleFiles ?? []) },
      { parent: this },
    );
    // A stable name, so that the pod template below always mounts the same ConfigMap.
    const config = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: objectMeta(id, ns, "loki-config"), data: { [CONFIG_FILE]: configYaml } },
      { parent: this },
    );
    // Loki has no reload endpoint: it reads loki.yaml once, at start. The config's
    // checksum on the pod template makes a config change roll the pod; without it the
    // ConfigMap would change on disk and Loki would go on with the old settings.
    const checksum = configChecksum(configYaml);

    // The bucket's key pair (Pulumi secrets lokiAccessKeyId, lokiSecretAccessKey).
    const keys = args.objectStore?.credentials;
    const credentials =
      args.objectStore && keys?.accessKeyId !== undefined && keys.secretAccessKey !== undefined
        ? new k8s.core.v1.Secret(
            `${name}-object-store`,
            {
              metadata: objectMeta(id, ns, LOKI_OBJECT_STORE_SECRET),
              type: "Opaque",
              stringData: { "access-key-id": pulumi.secret(keys.accessKeyId), "secret-access-key": pulumi.secret(keys.secretAccessKey) },
            },
            { parent: this },
          )
        : undefined;

    const storeDigest =
      keys?.accessKeyId !== undefined && keys.secretAccessKey !== undefined && credentials && args.stackSalt
        ? pulumi.output(
            secretDigest(
              { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey },
              args.stackSalt,
              OBJECT_STORE_DIGEST_LABEL,
            ),
          )
        : undefined;

    // A collector that scrapes monitors pushes here: the push port, its proxy's routes (push-proxy.ts).
    const pushProxy = args.pushProxy ?? false;
    const proxyConfig = pushProxy
      ? new k8s.core.v1.ConfigMap(
          `${name}-push-proxy`,
          { metadata: objectMeta(id, ns, PUSH_PROXY_CONFIG_MAP), data: { [PROXY_ROUTES_KEY]: pushProxyRoutes() } },
          { parent: this },
        )
      : undefined;

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: objectMeta(id, ns, "loki"),
        spec: {
          selector,
          ports: [
            { name: "http", port: LOKI_PORT, targetPort: "http", protocol: "TCP" },
            ...(pushProxy ? [{ name: "push", port: LOKI_PUSH_PORT, targetPort: "push", protocol: "TCP" }] : []),
          ],
        },
      },
      { parent: this },
    );

    const podSpec: k8s.types.input.core.v1.PodSpec = {
      automountServiceAccountToken: false,
      ...podPriority(args.priorityClassName),
      securityContext: restrictedPodSecurity(LOKI_UID),
      // Loki flushes its in-memory chunks on SIGTERM; the WAL covers the rest, but a clean flush is quicker to start from.
      terminationGracePeriodSeconds: 60,
      containers: [
        {
          name: "loki",
          image: imageOf(id),
          args: [`-config.file=${LOKI_PATHS.config}/${CONFIG_FILE}`, "-target=all"],
          // The Go runtime collects harder as it nears GOMEMLIMIT; kept under the container's limit
          // (memory outside the Go heap counts too), so that it pushes back before the kernel OOM-kills it.
          env: [
            { name: "GOMEMLIMIT", value: goMemoryLimit(args.resources.limits.memory) },
            // The bucket's key pair, from its Secret: never in the ConfigMap.
            ...(credentials
              ? ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"].map((name) => ({
                  name,
                  valueFrom: {
                    secretKeyRef: {
                      name: credentials.metadata.name,
                      key: name === "AWS_ACCESS_KEY_ID" ? "access-key-id" : "secret-access-key",
                    },
                  },
                }))
              : []),
          ],
          ports: [
            { name: "http", containerPort: LOKI_PORT, protocol: "TCP" },
            { name: "grpc", containerPort: LOKI_GRPC_PORT, protocol: "TCP" },
          ],
          // Ready once the ingester has joined its ring (about 15s after start).
          readinessProbe: httpProbe("/ready", "http", { initialDelaySeconds: 15 }),
          // Alive while the HTTP server answers: /ready would restart a pod that is only replaying its WAL.
          livenessProbe: httpProbe("/loki/api/v1/status/buildinfo", "http", { initialDelaySeconds: 30, periodSeconds: 20 }),
          resources: resourcesOf(args.resources),
          securityContext: restrictedContainerSecurity(),
          volumeMounts: [
            { name: "config", mountPath: LOKI_PATHS.config, readOnly: true },
            { name: "rules", mountPath: `${LOKI_PATHS.rules}/${LOKI_TENANT}`, readOnly: true },
            // The only writable paths: the volume for everything Loki stores, /tmp for scratch.
            { name: "data", mountPath: LOKI_PATHS.data },
            { name: "tmp", mountPath: "/tmp" },
          ],
        },
        ...(pushProxy ? [pathProxyContainer(PUSH_ENTRY_POINTS, "push", "push-proxy", PUSH_PROXY_CONFIG_DIR)] : []),
      ],
      volumes: [
        { name: "config", configMap: { name: config.metadata.name } },
        { name: "rules", configMap: { name: rules.metadata.name } },
        scratchVolume("tmp"),
        ...(proxyConfig ? [{ name: "push-proxy", configMap: { name: proxyConfig.metadata.name } }] : []),
      ],
    };

    this.statefulSet = oneReplicaStore(
      `${name}-statefulset`,
      {
        id,
        namespace: ns,
        serviceName: service.metadata.name,
        storage: args.storage,
        configChecksum: checksum,
        // Loki reads the key pair from its environment, at start: a new pair rolls the pod (a salted, slow digest).
        ...(storeDigest ? { checksums: { "object-store": storeDigest } } : {}),
        podSpec,
        claims: this.claims,
      },
      this,
    );

    // Grafana queries, Prometheus scrapes, the collector (this stack's, or the one another stack shares) pushes: nobody
    // else. With the push port, the collectors are admitted there alone.
    const clients: IngressPeer[] = [{ pods: stackPods("grafana", args.environment) }, { pods: stackPods("prometheus", args.environment) }];
    const collectors: IngressPeer[] = [];
    if (args.logCollector) {
      collectors.push({
        namespaces: { "kubernetes.io/metadata.name": args.logCollector.namespace },
        pods: stackPods(args.logCollector.agent, args.environment),
      });
    }
    if (args.sharedCollector) {
      collectors.push({
        namespaces: { "kubernetes.io/metadata.name": args.sharedCollector.namespace },
        pods: { "app.kubernetes.io/name": args.sharedCollector.agent },
      });
    }
    const ingress = pushProxy
      ? [{ ports: [LOKI_PORT], from: clients }, ...(collectors.length > 0 ? [{ ports: [LOKI_PUSH_PORT], from: collectors }] : [])]
      : [{ ports: [LOKI_PORT], from: [...clients, ...collectors] }];
    workloadPolicies(name, { id, namespace: ns, name: "loki" }, { ingress, egress: lokiEgressRules(args) }, { parent: this });

    this.url = pulumi.interpolate`http://${service.metadata.name}.${service.metadata.namespace}.svc:${LOKI_PORT}`;
    this.scrapeTargets = [{ job: JOB.loki, namespace: ns, selector, port: "http" }];
    this.registerOutputs({ url: this.url, scrapeTargets: this.scrapeTargets });
  }
}
