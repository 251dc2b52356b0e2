/** What Prometheus and the blackbox exporter share about a probe: its job and its module. */

/** One probe of the blackbox exporter: `probes[]`, and `apps[].probe` (with `app`). */
export interface ProbeSpec {
  /** The `probe` label of its series: the probe's or the app's name. */
  name: string;
  /** The app it probes, for `apps[].probe`. */
  app?: string;
  module: "http_2xx" | "tcp_connect";
  /** What it probes: a URL, a host:port, or every ready endpoint of a Service at a path. */
  target:
    | { url: string }
    | { address: string }
    | { service: { namespace: string; name: string; port?: string; targetPort?: number }; scheme: "http" | "https"; path: string };
  /** Status codes that count as up (http_2xx); absent: any 2xx. */
  expectStatus?: number[];
  interval?: string;
  labels: Record<string, string>;
  /** ProbeSlow's threshold. */
  latencySeconds: number;
}

/** Defaults of probes (`probes[]`, `apps[].probe`). */
export const PROBE_DEFAULTS = { path: "/health", module: "http_2xx" as const, latencySeconds: 1 };

/** The blackbox module of a probe: its own for a set of expected status codes (components/blackbox-exporter.ts defines them). */
export function probeModule(probe: Pick<ProbeSpec, "module" | "expectStatus">): string {
  return probe.module === "http_2xx" && probe.expectStatus ? `http_status_${probe.expectStatus.join("_")}` : probe.module;
}
