/**
 * The remote-write tests' store and its replication, tools of lab/tools/tools.ts's table kept apart (that file is full);
 * the type of a row is tool.ts, which both read.
 */
import type { Tool } from "./tool";

/**
 * The remote-write test's (test/e2e/remote-write.test.ts), from tools/victoriametrics/go.mod: a test peer the stack sends
 * series to, not deployed (no image). VictoriaMetrics' cluster binaries (vminsert, vmselect, vmstorage) live on its
 * `cluster` branch, whose `-cluster` tags and commits the Go module proxy refuses; the single-node server of the same
 * release is the proxy's v1.151.0 (v1.152 and later need Go 1.27). Built without cgo: its pure-Go zstd (`!cgo` files).
 * vmagent and vmauth are `package main` in the same module at the same tag: the replicated store's writer (one
 * `-remoteWrite.url` and one on-disk queue per instance) and its reader (`first_available`), run by
 * test/e2e/replicated-store.test.ts.
 */
export const REMOTE_WRITE_TOOLS: Tool[] = [
  {
    binary: "victoria-metrics",
    module: "victoriametrics",
    upstream: "github.com/VictoriaMetrics/VictoriaMetrics",
    pkg: "github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics",
    release: "v1.151.0",
    ldflags: ["-X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=victoria-metrics-v1.151.0"],
    versionArgs: ["-version"],
  },
  {
    binary: "vmagent",
    module: "victoriametrics",
    upstream: "github.com/VictoriaMetrics/VictoriaMetrics",
    pkg: "github.com/VictoriaMetrics/VictoriaMetrics/app/vmagent",
    release: "v1.151.0",
    ldflags: ["-X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=vmagent-v1.151.0"],
    versionArgs: ["-version"],
  },
  {
    binary: "vmauth",
    module: "victoriametrics",
    upstream: "github.com/VictoriaMetrics/VictoriaMetrics",
    pkg: "github.com/VictoriaMetrics/VictoriaMetrics/app/vmauth",
    release: "v1.151.0",
    ldflags: ["-X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=vmauth-v1.151.0"],
    versionArgs: ["-version"],
  },
];
