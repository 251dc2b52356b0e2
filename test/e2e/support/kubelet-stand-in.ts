/**
 * The rendered Prometheus scraping a kubelet stand-in with the render's own kubelet and cadvisor jobs: each job as
 * rendered (its relabelling and metric relabelling), made local (plain HTTP to 127.0.0.1, without the kubelet's
 * certificate and the service account's token, a scrape a second), its node discovery pointed at the stand-in.
 * test/e2e/watch.test.ts (the namespaces a stack keeps) and test/e2e/cadvisor-cgroup.test.ts (the pod's cgroup
 * labelled) run it.
 */
import * as path from "path";
import type { Rendered } from "../../../cli/render";
import { httpGetJson } from "../../../lab/local/http";
import { LOOPBACK } from "../../../lab/ports";
import { CheckableJob, fileDiscovery, rerooted } from "../../../lab/local/prometheus";
import type { LocalRun } from "../../../lab/processes/children";
import { startRenderedPrometheus } from "./rendered-prometheus";

/** A job of the render (`name`), made local; `mark` gives it a job name of its own (`<name>-<mark>`), so that two renders' jobs can run side by side. */
export function localKubeletJob(rendered: Rendered, name: "kubelet" | "cadvisor", dir: string, mark?: string): CheckableJob {
  const job = rerooted(rendered.files.get("prometheus/prometheus.yml") ?? "", dir).scrape_configs.find((j) => j.job_name === name);
  if (!job) throw new Error(`no ${name} job in the render`);
  const local: CheckableJob = {
    ...job,
    scheme: "http",
    scrape_interval: "1s",
    scrape_timeout: "1s",
    ...(mark ? { job_name: `${name}-${mark}` } : {}),
  };
  delete local.authorization;
  delete local.tls_config;
  return local;
}

/**
 * Starts `rendered`'s Prometheus (its container's args, its web config) on these jobs only, no rules, no Alertmanager
 * and no remote write, with one node (`node-1`) discovered at the stand-in's port; resolves to its address once ready.
 */
export async function prometheusOnStandIn(
  run: LocalRun,
  rendered: Rendered,
  jobs: CheckableJob[],
  ports: { kubelet: number; prometheus: number },
  dir: string,
): Promise<string> {
  const config = rerooted(rendered.files.get("prometheus/prometheus.yml") ?? "", dir);
  config.scrape_configs = jobs;
  delete config.alerting;
  delete (config as { remote_write?: unknown }).remote_write;
  config.rule_files = [];
  const node = [{ targets: [`${LOOPBACK}:${ports.kubelet}`], labels: { __meta_kubernetes_node_name: "node-1" } }];
  fileDiscovery(config, path.join(dir, "discovery"), { endpoints: [], pod: [], node });
  return startRenderedPrometheus(run, rendered, config, ports.prometheus, dir);
}

/** A series of an instant query's answer. */
export interface StandInSeries {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * prometheusOnStandIn's Prometheus at `base`, read: the answer to an instant query once each of its `jobs` jobs has
 * scraped the stand-in successfully (an `up` of 1 each), so that every series of the scrape is stored.
 */
export function storedOnStandIn(run: LocalRun, base: string, jobs: number): (promql: string) => Promise<StandInSeries[]> {
  const query = async (promql: string) =>
    (await httpGetJson<{ data: { result: StandInSeries[] } }>(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`)).data.result;
  return async (promql) => {
    await run.waitFor(
      `each of the ${jobs} jobs scraped the stand-in`,
      async () => ((await query("up == 1")).length === jobs ? true : undefined),
      60_000,
      500,
    );
    return query(promql);
  };
}
