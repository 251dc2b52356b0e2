/**
 * What the bench's live phases look up in the staging render (lab/bench/deployed.ts), held
 * to the render without running them: the full bench reads it only after 27 minutes of measuring,
 * and the bench's own runs in the tests are `--no-live`.
 */
import { BENCH_STACK_SETS, MEASURED_IMAGE, OTLP_SETS, benchDatabases, deployedContainer } from "../../lab/bench/deployed";
import type { Component } from "../../lab/bench/sampling";
import { KSM_PLAN, KsmRun, ksmRequestBytes, ksmTable, sharingRenders } from "../../lab/bench/ksm-figures";
import { containerArgs } from "../../lab/local/rendered";
import { PROFILE_DEFAULTS } from "../../config";
import { quantityBytes } from "../../components/kit/units";
import type { Rendered } from "../../cli/render";
import { render } from "../support/render";

const MIB = 2 ** 20;

describe("the staging render holds every process the live phases measure", () => {
  let staging: Rendered;
  /** The render the OTLP footprint measures Jaeger in: the stack file's apps send no OTLP, so Jaeger runs for the bench's app. */
  let withOtlp: Rendered;
  beforeAll(async () => {
    staging = await render("staging", [...BENCH_STACK_SETS]);
    withOtlp = await render("staging", OTLP_SETS);
  });

  test("each measured process the stack deploys runs in a container with a memory request and limit", () => {
    const renderOf = (c: Component) => (c === "jaeger" ? withOtlp : staging);
    const where = (Object.keys(MEASURED_IMAGE) as Component[]).map((c) => {
      const found = deployedContainer(renderOf(c), c);
      return [c, found && `${found.kind}/${found.name}/${found.container}`];
    });
    expect(Object.fromEntries(where)).toEqual({
      prometheus: "StatefulSet/prometheus/prometheus",
      "prometheus-compare": undefined,
      alertmanager: "StatefulSet/alertmanager/alertmanager",
      loki: "StatefulSet/loki/loki",
      alloy: "DaemonSet/alloy/alloy",
      jaeger: "StatefulSet/jaeger/jaeger",
      "node-exporter": "DaemonSet/node-exporter/node-exporter",
      // Each in a Deployment of its own, not beside its database (components/database-exporters/).
      "postgres-exporter": "Deployment/shop-postgres-exporter/postgres-exporter",
      "redis-exporter": "Deployment/shop-redis-exporter/redis-exporter",
    });
    for (const c of Object.keys(MEASURED_IMAGE) as Component[]) {
      const found = deployedContainer(renderOf(c), c);
      if (found) expect({ c, ok: found.requestBytes > 0 && found.limitBytes >= found.requestBytes }).toEqual({ c, ok: true });
    }
  });

  test("the databases the live phases serve: the staging stack's PostgreSQL and Redis, by their exporters", () => {
    expect(benchDatabases(staging)).toEqual([
      { type: "postgres", name: "shop-postgres" },
      { type: "redis", name: "shop-redis" },
    ]);
  });

  test("the staging stack file itself runs no Jaeger: the live phases, which read it, measure none", () => {
    expect(() => deployedContainer(staging, "jaeger")).toThrow(/^jaeger: no container of \S+jaeger\S* with memory requests and limits/);
  });

  test("a process the render runs nowhere is an error naming its image, not a figure held to nothing", async () => {
    const without = await render("staging", ["databases=[]"]);
    expect(() => deployedContainer(without, "postgres-exporter")).toThrow(
      /^postgres-exporter: no container of quay\.io\/prometheuscommunity\/postgres-exporter:\S+ with memory requests and limits in the render$/,
    );
    expect(benchDatabases(without)).toEqual([]);
  });
});

describe("kube-state-metrics once or twice (lab/bench/ksm-footprint.ts), offline", () => {
  test("the request each narrowed instance is held to is its stack's profile's, and 0 where no instance runs", async () => {
    const staging = await render("staging");
    const production = await render("production");
    const none = await render("staging", ["kubeStateMetrics.enabled=false"]);
    expect([ksmRequestBytes(staging), ksmRequestBytes(production), ksmRequestBytes(none)]).toEqual([
      quantityBytes(PROFILE_DEFAULTS.staging.kubeStateMetrics.resources.requests.memory),
      quantityBytes(PROFILE_DEFAULTS.production.kubeStateMetrics.resources.requests.memory),
      0,
    ]);
  });

  test("the shared instance is measured as the stack renders it: production's reporting staging's namespaces, staging running none", async () => {
    const { staging, production } = await sharingRenders();
    expect(ksmRequestBytes(staging)).toBe(0);
    const args = containerArgs(production, "Deployment", "kube-state-metrics");
    expect(args.filter((a) => a.startsWith("--namespaces="))).toEqual([
      "--namespaces=kube-system,monitoring-production,monitoring-production-agents,monitoring-staging,shop,shop-staging",
    ]);
  });

  test("the table says what each instance watched and used, and the two answers side by side", () => {
    const instance = (run: KsmRun, namespaces: string[], mib: number, series: number) => ({
      run,
      namespaces,
      rssBytes: mib * MIB,
      peakRssBytes: (mib + 1) * MIB,
      anonBytes: 15 * MIB,
      heapBytes: 9 * MIB,
      series,
      scrapeBytes: series * 150,
    });
    const table = ksmTable({
      plan: KSM_PLAN,
      objects: { pods: 114, deployments: 50, services: 65, jobs: 12 },
      instances: {
        production: instance("production", ["shop"], 56, 3726),
        staging: instance("staging", ["shop-staging"], 57, 3201),
        shared: instance("shared", ["shop", "shop-staging"], 60, 6779),
      },
      twoNarrowedBytes: 113 * MIB,
      sharedBytes: 60 * MIB,
      droppedSeriesPerScrape: 3578,
      prometheus: { own: { rssBytes: 87 * MIB, headSeries: 3206 }, sharing: { rssBytes: 95 * MIB, headSeries: 3064 } },
    });
    expect(table).toContain("Cluster: 114 pods, 50 Deployments, 65 Services, 12 Jobs.");
    expect(table).toContain("| shared | shop, shop-staging | 60.0 MiB | 61.0 MiB | 15.0 MiB | 9.0 MiB | 6779 |");
    expect(table).toContain("Two narrowed: 113.0 MiB; one for both: 60.0 MiB.");
    expect(table).toContain("95.0 MiB (3064 series; 3578 series parsed and dropped a scrape)");
  });
});
