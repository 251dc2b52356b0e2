/**
 * The traces backend: Jaeger v2 (one process, an OpenTelemetry Collector build) storing spans
 * in its embedded Badger store on its own volume, expired by time (`retention`). It receives
 * OTLP from the log collector, where apps send, and answers Grafana's traces datasource on its
 * query API; nothing of it is public (no route, no hostname: Grafana is the way in).
 *
 * One replica in every profile: Badger is an embedded store that one process opens; replicas
 * would need an external database (Cassandra, Elasticsearch, ClickHouse). The collector retries
 * while the pod restarts, so a drain costs latency, not spans.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { IngressPeer, workloadPolicies } from "../kit/network";
import { OTLP_PORTS, ScrapeTarget, TRACES_QUERY_PORT, TRACES_SERVICE, serviceUrl } from "../kit/services";
import { WorkloadIdentity, imageOf, objectMeta, selectorLabels, stackPods } from "../kit/labels";
import { configChecksum, httpProbe, resourcesOf, restrictedContainerSecurity, restrictedPodSecurity } from "../kit/pods";
import { oneReplicaStore, oneReplicaStoreClaims, scratchVolume } from "../kit/volumes";
import { StackComponent } from "../kit/component";
import { podPriority } from "../kit/priority";
import { refuseProblems } from "../kit/problems";
import { goMemoryLimit } from "../kit/units";
import { TracingArgs } from "./args";
import { JAEGER_PATHS, JAEGER_PORTS, jaegerConfig } from "./jaeger-config";
import { problems } from "./section";
import { JOB } from "../kit/stack-jobs";

/** The uid of the official image's user. */
const JAEGER_UID = 10001;

const CONFIG_FILE = "jaeger.yaml";

/** Name of the StatefulSet and its Service; its claim is `data-jaeger-0`. */
const JAEGER_NAME = TRACES_SERVICE;

/** Jaeger's identity: its labels and image. */
export function jaegerIdentity(environment: string): WorkloadIdentity {
  return { name: JAEGER_NAME, component: "trace-store", instance: environment, image: "jaeger" };
}

/** Jaeger with its volume, Service, NetworkPolicies and scrape target. */
export class Tracing extends StackComponent {
  /** In-cluster URL of the query API (Grafana's traces datasource); undefined with `dataOnly`. */
  public readonly url: pulumi.Output<string> | undefined;
  /** Jaeger's own metrics (job `jaeger`); none with `dataOnly`. */
  public readonly scrapeTargets: ScrapeTarget[];
  /** The data claim (`data-jaeger-0`): the only object that holds spans. */
  public readonly claims: k8s.core.v1.PersistentVolumeClaim[];

  constructor(name: string, args: TracingArgs, opts?: pulumi.ComponentResourceOptions) {
    // Its problems(), the ones config runs on a stack's values, before anything is registered; none
    // for the claim alone (dataOnly), which runs no Jaeger: config checks them only while tracing runs.
    refuseProblems("Tracing", name, args.dataOnly ? [] : problems(args), opts);
    super("monitoring:index:Tracing", name, opts);
    const id = jaegerIdentity(args.environment);
    const selector = selectorLabels(id);
    const ns = args.namespace;

    // Made here so that Pulumi owns (and, in a stack that keeps its data, protects) the claim.
    this.claims = oneReplicaStoreClaims(
      `${name}-data`,
      { id, namespace: ns, storage: args.storage, protect: args.protectVolumes ?? false },
      this,
    );
    if (args.dataOnly) {
      this.url = undefined;
      this.scrapeTargets = [];
      this.registerOutputs({ scrapeTargets: this.scrapeTargets });
      return;
    }

    const configYaml = YAML.stringify(jaegerConfig({ retention: args.retention }), { lineWidth: 0, aliasDuplicateObjects: false });
    const config = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: objectMeta(id, ns, "jaeger-config"), data: { [CONFIG_FILE]: configYaml } },
      { parent: this },
    );
    // Jaeger reads its config once, at start: the checksum rolls the pod when it changes.
    const checksum = configChecksum(configYaml);

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: objectMeta(id, ns, JAEGER_NAME),
        spec: {
          selector,
          ports: [
            { name: "otlp-grpc", port: OTLP_PORTS.grpc, targetPort: "otlp-grpc", protocol: "TCP", appProtocol: "grpc" },
            { name: "http", port: TRACES_QUERY_PORT, targetPort: "http", protocol: "TCP" },
            { name: "metrics", port: JAEGER_PORTS.metrics, targetPort: "metrics", protocol: "TCP" },
          ],
        },
      },
      { parent: this },
    );

    const podSpec: k8s.types.input.core.v1.PodSpec = {
      automountServiceAccountToken: false,
      ...podPriority(args.priorityClassName),
      securityContext: restrictedPodSecurity(JAEGER_UID),
      // Badger closes its files cleanly on SIGTERM; a crash costs a longer start (it replays its value log).
      terminationGracePeriodSeconds: 30,
      containers: [
        {
          name: "jaeger",
          image: imageOf(id),
          args: [`--config=${JAEGER_PATHS.config}/${CONFIG_FILE}`],
          env: [{ name: "GOMEMLIMIT", value: goMemoryLimit(args.resources.limits.memory) }],
          ports: [
            { name: "otlp-grpc", containerPort: OTLP_PORTS.grpc, protocol: "TCP" },
            { name: "http", containerPort: TRACES_QUERY_PORT, protocol: "TCP" },
            { name: "metrics", containerPort: JAEGER_PORTS.metrics, protocol: "TCP" },
            { name: "health", containerPort: JAEGER_PORTS.health, protocol: "TCP" },
          ],
          // The health extension answers 200 once every pipeline component has started.
          readinessProbe: httpProbe("/status", "health", { initialDelaySeconds: 5 }),
          livenessProbe: httpProbe("/status", "health", { initialDelaySeconds: 30, periodSeconds: 20 }),
          resources: resourcesOf(args.resources),
          securityContext: restrictedContainerSecurity(),
          volumeMounts: [
            { name: "config", mountPath: JAEGER_PATHS.config, readOnly: true },
            { name: "data", mountPath: JAEGER_PATHS.data },
            { name: "tmp", mountPath: "/tmp" },
          ],
        },
      ],
      volumes: [{ name: "config", configMap: { name: config.metadata.name } }, scratchVolume("tmp")],
    };

    oneReplicaStore(
      `${name}-statefulset`,
      {
        id,
        namespace: ns,
        serviceName: service.metadata.name,
        storage: args.storage,
        configChecksum: checksum,
        podSpec,
        claims: this.claims,
      },
      this,
    );

    // Grafana queries, Prometheus scrapes, the collector sends spans: nobody else.
    const rules: Array<{ ports: number[]; from: IngressPeer[] }> = [
      { ports: [TRACES_QUERY_PORT], from: [{ pods: stackPods("grafana", args.environment) }] },
      { ports: [JAEGER_PORTS.metrics], from: [{ pods: stackPods("prometheus", args.environment) }] },
    ];
    if (args.collector) {
      rules.push({
        ports: [OTLP_PORTS.grpc],
        from: [
          {
            namespaces: { "kubernetes.io/metadata.name": args.collector.namespace },
            pods: stackPods(args.collector.agent, args.environment),
          },
        ],
      });
    }
    // It connects nowhere but DNS: it stores on its volume and sends nothing.
    workloadPolicies(name, { id, namespace: ns, name: JAEGER_NAME }, { ingress: rules, egress: [] }, { parent: this });

    this.url = pulumi.interpolate`${serviceUrl(JAEGER_NAME, ns, TRACES_QUERY_PORT)}`;
    this.scrapeTargets = [{ job: JOB.jaeger, namespace: ns, selector, port: "metrics" }];
    this.registerOutputs({ url: this.url, scrapeTargets: this.scrapeTargets });
  }
}
