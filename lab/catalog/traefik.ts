/**
 * The catalogue of k3s's Traefik: the exact release on the loopback with Prometheus metrics on
 * their own entrypoint, as k3s's Helm chart sets it up (entrypoint `metrics`, entrypoint and
 * service labels on, router labels off), a file provider with a router, a service and a TLS
 * certificate, and requests through it: 200s, 404s, 5xx from the backend, over HTTP and HTTPS.
 * The router series appear only with router labels on (a second run).
 */
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import * as YAML from "yaml";
import { pinnedBinary } from "../local/binaries";
import { getOk, httpGet, selfSignedCertificate } from "../local/http";
import { LOOPBACK } from "../ports";
import { sleep, waitFor } from "../processes/supervision";
import { scrapeTwice } from "../local/text-format";
import { Command, Generated, Run, minus } from "./run";

/** The ports of one Traefik run on the loopback. */
export interface TraefikPorts {
  web: number;
  websecure: number;
  metrics: number;
  /** Traefik's own entrypoint for /ping and the API, as k3s's chart has it. */
  traefik: number;
}

/** The static configuration as flags: k3s's entrypoints on the loopback, Prometheus metrics, and the providers given. */
export function traefikArgs(ports: TraefikPorts, providers: string[], opts: { routerLabels?: boolean } = {}): string[] {
  return [
    `--entryPoints.web.address=${LOOPBACK}:${ports.web}`,
    `--entryPoints.websecure.address=${LOOPBACK}:${ports.websecure}`,
    "--entryPoints.websecure.http.tls=true",
    `--entryPoints.metrics.address=${LOOPBACK}:${ports.metrics}`,
    `--entryPoints.traefik.address=${LOOPBACK}:${ports.traefik}`,
    "--metrics.prometheus=true",
    "--metrics.prometheus.entryPoint=metrics",
    ...(opts.routerLabels ? ["--metrics.prometheus.addRoutersLabels=true"] : []),
    "--ping=true",
    "--api=true",
    "--global.checkNewVersion=false",
    "--global.sendAnonymousUsage=false",
    "--log.level=ERROR",
    ...providers,
  ];
}

/** An HTTPS GET that trusts the throwaway certificate: the websecure entrypoint's requests. */
function httpsGet(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, servername: "localhost", timeout: 5000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
  });
}

async function run(r: Run, routerLabels: boolean): Promise<{ command: Command; names: Set<string>; text: string }> {
  const backend = await r.port();
  await r.serve(backend, (req, res) => {
    res.writeHead(req.url?.startsWith("/fail") ? 503 : 200, { "Content-Type": "text/plain" });
    res.end("catalogue backend\n");
  });
  const dir = r.dir(routerLabels ? "routers" : "default");
  const tls = selfSignedCertificate(dir, "localhost", 30, [`IP:${LOOPBACK}`, "DNS:localhost"]);
  const dynamic = {
    http: {
      routers: {
        app: { rule: "PathPrefix(`/`)", entryPoints: ["web"], service: "app" },
        "app-secure": { rule: "Host(`localhost`)", entryPoints: ["websecure"], service: "app", tls: {} },
      },
      services: { app: { loadBalancer: { servers: [{ url: `http://${LOOPBACK}:${backend}` }] } } },
    },
    tls: { certificates: [{ certFile: tls.certFile, keyFile: tls.keyFile }] },
  };
  const file = path.join(dir, "dynamic.yml");
  fs.writeFileSync(file, YAML.stringify(dynamic));
  const ports: TraefikPorts = { web: await r.port(), websecure: await r.port(), metrics: await r.port(), traefik: await r.port() };
  const command = {
    binary: pinnedBinary("traefik"),
    args: traefikArgs(ports, [`--providers.file.filename=${file}`, "--providers.file.watch=true"], { routerLabels }),
  };
  const proc = r.start(`traefik${routerLabels ? "-routers" : ""}`, command);
  await waitFor("Traefik's /ping", () => getOk(`http://${LOOPBACK}:${ports.traefik}/ping`), 30_000, 250, [proc]);
  const web = `http://${LOOPBACK}:${ports.web}`;
  await waitFor("Traefik routing to the backend", async () => ((await httpGet(`${web}/`)).status === 200 ? true : undefined), 30_000, 250, [
    proc,
  ]);
  for (let i = 0; i < 5; i++) {
    await httpGet(`${web}/ok`);
    await httpGet(`${web}/fail`);
    await httpsGet(`https://${LOOPBACK}:${ports.websecure}/ok`, tls.cert);
  }
  // A request no router takes (the websecure entrypoint without the Host the router asks for).
  await httpsGet(`https://${LOOPBACK}:${ports.websecure}/nobody`, tls.cert).catch(() => 0);
  // A reload: the file provider sees the change.
  dynamic.http.routers.app.rule = "PathPrefix(`/`) || Path(`/reloaded`)";
  fs.writeFileSync(file, YAML.stringify(dynamic));
  await sleep(2_000);
  await httpGet(`${web}/reloaded`);
  const { names, text } = await scrapeTwice(`http://${LOOPBACK}:${ports.metrics}/metrics`);
  await proc.stop();
  return { command, names, text };
}

/** The label names of each Traefik series, as `name{a,b}` (the le of histograms left out). */
function labelSets(text: string): string[] {
  const labels = new Map<string, Set<string>>();
  for (const [, name, body] of text.matchAll(/^(traefik_[a-zA-Z0-9_:]*?)(?:_bucket|_sum|_count)?\{([^}]*)\}/gm)) {
    const set = labels.get(name) ?? new Set<string>();
    for (const [, label] of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) if (label !== "le") set.add(label);
    labels.set(name, set);
  }
  return [...labels].sort(([a], [b]) => a.localeCompare(b)).map(([name, set]) => `${name}{${[...set].sort().join(",")}}`);
}

export async function traefik(r: Run): Promise<Generated> {
  const plain = await run(r, false);
  const routers = await run(r, true);
  return {
    notes: [
      "k3s's Traefik, which the stack scrapes but does not deploy: the release k3s bundles (lab/tools/tools.ts), with its metrics as k3s's Helm chart sets them (entrypoint metrics, port 9100 in the cluster; entrypoint and service labels on, router labels off), on 127.0.0.1: a file provider with a router per entrypoint, one service and a TLS certificate, requests answered 200, 404 and 503 over HTTP and HTTPS, and one reload of the file.",
      `Labels (with router labels on): ${labelSets(routers.text).join("; ")}.`,
    ],
    commands: [plain.command],
    names: plain.names,
    conditional: [
      {
        why: "metrics.prometheus.addRoutersLabels is on (k3s's chart leaves it off: a HelmChartConfig can set it for the per-router panels)",
        commands: [routers.command],
        names: minus(routers.names, plain.names),
      },
    ],
  };
}
