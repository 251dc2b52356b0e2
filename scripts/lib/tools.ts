/**
 * The pinned tool set the cluster and live test tiers run: one table, built from Go
 * modules declared under tools/ (one go.mod per upstream project, so that each builds
 * with the dependency versions its own release was tested with). Binaries go to the
 * git-ignored .tools/bin/; `npm run tools` builds what is missing or stale.
 *
 * Version rules:
 * - The Pulumi CLI is the release of @pulumi/pulumi in package.json, and each resource
 *   plugin the release of its npm package, so the engine runs exactly the SDK it talks to.
 * - Some upstream modules carry no semantic-version tag for the path that holds the main
 *   package (pulumi-kubernetes tags `v4.x.y` at the repository root, but its Go module is
 *   `provider/v4`), so the go.mod pins the pseudo-version of the release commit and the
 *   table says which release that commit is.
 */
import * as fs from "fs";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "..", "..");
export const TOOLS_DIR = path.join(ROOT, "tools");
export const BIN_DIR = path.join(ROOT, ".tools", "bin");
/** Pulumi's home for the test tiers: plugins and credentials stay out of ~/.pulumi. */
export const PULUMI_HOME = path.join(ROOT, ".tools", "pulumi-home");

export interface Tool {
  /** Binary name under .tools/bin. */
  binary: string;
  /** Folder under tools/ whose go.mod pins the upstream module. */
  module: string;
  /** The upstream Go module, as required in that go.mod. */
  upstream: string;
  /** The main package to build. */
  pkg: string;
  /** The release this build is: a tag, or the release whose commit a pseudo-version names. */
  release: string;
  /** Linker flags that stamp the release into the binary (where upstream reads it from the linker). */
  ldflags: string[];
  /** Arguments that make the binary print its version; absent for plugins that only speak gRPC. */
  versionArgs?: string[];
  /** The npm package whose version this tool must equal. */
  npmPackage?: string;
  /** A Pulumi resource plugin: installed into PULUMI_HOME under this name. */
  plugin?: string;
  /**
   * Data files upstream's release build generates before compiling, made here from the
   * upstream module's own files (JSON, compacted; `stampVersion` sets its "version" to the
   * release) into tools/<module>/, where the package embeds them. Never committed.
   */
  embeds?: Array<{ from: string; to: string; stampVersion?: boolean }>;
}

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

export const TOOLS: Tool[] = [
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

/**
 * Tools that cannot be built here, and why: said by `npm run tools`, the README and the
 * notes, so that nobody takes their absence for an oversight.
 */
export const UNAVAILABLE: Array<{ what: string; why: string }> = [
  {
    what: "pulumi-language-nodejs (the Node.js language host)",
    why:
      "its Go module (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) is not served by the module proxy " +
      "this project's machines reach, at any release; the cluster tier runs the program through the Automation API's " +
      "inline mode, where the CLI talks to a language host inside the test process instead",
  },
  {
    what: "pulumi-resource-random (the random provider)",
    why:
      "its Go module (github.com/pulumi/pulumi-random/provider/v4) is not served at any release; the cluster tier " +
      "supplies every password as a secret so that the stack creates no random resources",
  },
  {
    what: "pulumi-resource-cloudflare (the Cloudflare provider)",
    why: "its Go module (github.com/pulumi/pulumi-cloudflare/provider/v6) is not served at any release; the tunnel stays off",
  },
];

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

/** The version of an npm package as installed (node_modules), from its package.json. */
export function npmVersion(pkg: string): string {
  const file = path.join(ROOT, "node_modules", ...pkg.split("/"), "package.json");
  return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
}

/** The version of an npm package as package.json pins it (exact pins only). */
export function pinnedNpmVersion(pkg: string): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  return manifest.dependencies[pkg];
}
