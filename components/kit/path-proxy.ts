/**
 * A proxy that gives a pod's clients the paths they need and nothing else. A NetworkPolicy admits a port, never a
 * path: a client admitted to a server's port reaches every path it serves. Where some of those paths must stay out of
 * reach of some clients (Prometheus' admin API, components/prometheus/admin-proxy.ts), a sidecar in the server's pod serves a port of its own for them, its routes naming
 * the methods and paths it lets through, and forwards those to the server on the pod's loopback.
 *
 * The sidecar is Traefik's official image (components/images.ts): its release binary is the lab's already (the same
 * release as the image), and its rule language is the one the stack's public routes use. Its routes come from a
 * mounted ConfigMap (Traefik's file provider, watched); its ping answers the kubelet's probes.
 */
import * as k8s from "@pulumi/kubernetes";
import * as YAML from "yaml";
import { images } from "../images";
import { httpProbe, resourcesOf, restrictedContainerSecurity } from "./pods";
import { ResourceRequirements, requirements } from "./resources";

/** The proxy's container name, in every pod that has one. */
export const PROXY_CONTAINER = "proxy";

/** The key of the routes file in the proxy's ConfigMap. */
export const PROXY_ROUTES_KEY = "routes.yml";

/** Traefik's encoded characters options (all allowed by default in v3.7): each refused in a path. */
const ENCODED_CHARACTERS = [
  "EncodedSlash",
  "EncodedBackSlash",
  "EncodedNullCharacter",
  "EncodedSemicolon",
  "EncodedPercent",
  "EncodedQuestionMark",
  "EncodedHash",
];

/**
 * The proxy's requests and limits, from its measured footprint (docs/benchmark.md, "The admin API's proxy"): 85 MiB
 * resident idle and 96 MiB after 6,000 queries (most of it its binary's mapped pages, 12 to 21 MiB its heap and
 * stacks), 0.35 CPU-seconds per 1,000 requests. Sized as the profiles are (lab/bench/figures.ts): the request the
 * steady figure × 1.25, the memory limit the peak × 2; CPU as its clients need, a few requests a second.
 */
export const PROXY_RESOURCES: ResourceRequirements = requirements("5m", "112Mi", "500m", "192Mi");

/** A port the proxy serves: its entry point's name (the container port's too) and number. */
export interface ProxyEntryPoint {
  name: string;
  port: number;
}

/**
 * The proxy's static configuration, as flags: each entry point on every address of the pod, the routes from the
 * mounted directory (watched: a changed ConfigMap applies without a restart), Traefik's /ping on `ping` for the
 * kubelet's probes, nothing sent home, no dashboard or API.
 */
export function pathProxyArgs(entryPoints: readonly ProxyEntryPoint[], configDir: string, ping: string): string[] {
  return [
    ...entryPoints.map((e) => `--entryPoints.${e.name}.address=:${e.port}`),
    // A path Traefik would read otherwise than the server behind it (an encoded slash decoded by one of them only) is
    // refused: no spelling of a path the routes leave out gets past them. The servers' own paths never carry these encoded.
    ...entryPoints.flatMap((e) => ENCODED_CHARACTERS.map((c) => `--entryPoints.${e.name}.http.encodedCharacters.allow${c}=false`)),
    `--providers.file.directory=${configDir}`,
    "--providers.file.watch=true",
    "--ping=true",
    `--ping.entryPoint=${ping}`,
    "--global.checkNewVersion=false",
    "--global.sendAnonymousUsage=false",
    "--log.level=WARN",
  ];
}

/** A router of the proxy: the entry points it serves and Traefik's rule for the requests it takes. */
export interface ProxyRouter {
  entryPoints: string[];
  rule: string;
}

/**
 * The proxy's routes file (Traefik's file provider): each router to the one server, `url` (the pod's loopback), the
 * Host header passed. A request no router takes gets Traefik's 404.
 */
export function pathProxyRoutes(routers: Readonly<Record<string, ProxyRouter>>, service: string, url: string): string {
  const named = Object.fromEntries(Object.entries(routers).map(([name, router]) => [name, { ...router, service }]));
  return YAML.stringify({
    http: { routers: named, services: { [service]: { loadBalancer: { servers: [{ url }], passHostHeader: true } } } },
  });
}

/** The proxy's container: its entry points as named ports, probed on `ping`'s /ping, its routes mounted from `volume`. */
export function pathProxyContainer(
  entryPoints: readonly ProxyEntryPoint[],
  ping: string,
  volume: string,
  configDir: string,
): k8s.types.input.core.v1.Container {
  return {
    name: PROXY_CONTAINER,
    image: images.traefik,
    args: pathProxyArgs(entryPoints, configDir, ping),
    ports: entryPoints.map((e) => ({ name: e.name, containerPort: e.port, protocol: "TCP" })),
    readinessProbe: httpProbe("/ping", ping, { periodSeconds: 5, failureThreshold: 3 }),
    livenessProbe: httpProbe("/ping", ping, { periodSeconds: 15, failureThreshold: 4 }),
    resources: resourcesOf(PROXY_RESOURCES),
    securityContext: restrictedContainerSecurity(),
    volumeMounts: [{ name: volume, mountPath: configDir, readOnly: true }],
  };
}
