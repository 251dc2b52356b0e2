/** What Prometheus and the blackbox exporter share about a probe: its job and its module. */
import { ProbeSpec } from "../../config";

/** The job label of every probe's series. */
export const PROBE_JOB = "blackbox";

/** The blackbox module of a probe: its own for a set of expected status codes (components/blackbox-exporter.ts defines them). */
export function probeModule(probe: Pick<ProbeSpec, "module" | "expectStatus">): string {
  return probe.module === "http_2xx" && probe.expectStatus ? `http_status_${probe.expectStatus.join("_")}` : probe.module;
}
