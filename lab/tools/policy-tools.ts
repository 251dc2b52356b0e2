/** The reachability matrix's policy engine, a tool of lab/tools/tools.ts's table kept apart. */
import type { Tool } from "./tool";

/**
 * The reachability test's (test/e2e/reachability.test.ts), from tools/cyclonus/go.mod: cyclonus's NetworkPolicy engine
 * (github.com/mattfenwick/cyclonus, package pkg/matcher, v0.5.6: the one version the Go module proxy serves), run by
 * tools/cyclonus/main.go, our command around the library that reads policies and connections as JSON. SIG Network's
 * policy-assistant (sigs.k8s.io/network-policy-api/cmd/policy-assistant), the other engine, is a module of its own
 * that the proxy does not serve (404), so it cannot be built here. Not deployed (no image).
 */
export const POLICY_TOOLS: Tool[] = [
  {
    binary: "cyclonus-matcher",
    module: "cyclonus",
    upstream: "github.com/mattfenwick/cyclonus",
    pkg: ".",
    release: "v0.5.6",
    ldflags: [],
    versionArgs: ["--version"],
  },
];
