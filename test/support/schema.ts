/**
 * Validates rendered Kubernetes objects against the official OpenAPI schemas
 * (kubernetes-models) and custom resources against their CRD models.
 */
import type { K8sObject } from "../../cli/render";

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: object) => Validatable;

/** Packages that hold models of custom resources, by API group. */
const CRD_PACKAGES: Record<string, string> = {
  "traefik.io": "@kubernetes-models/traefik",
  "traefik.containo.us": "@kubernetes-models/traefik",
};

export function modelFor(apiVersion: string, kind: string): ModelClass {
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  const pkg = CRD_PACKAGES[group] ?? "kubernetes-models";
  const modulePath = `${pkg}/${apiVersion}/${kind}`;
  let mod: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(modulePath) as Record<string, unknown>;
  } catch {
    throw new Error(`no schema model for ${apiVersion} ${kind} (looked for ${modulePath})`);
  }
  const cls = mod[kind];
  if (typeof cls !== "function") throw new Error(`${modulePath} does not export ${kind}`);
  return cls as ModelClass;
}

/**
 * Schema problems of one object; empty when valid. A server-side-apply patch is
 * partial by design, so missing required fields are not problems there; wrong
 * types and values still are.
 */
export function schemaProblems(object: K8sObject, patch = false): string[] {
  const Model = modelFor(object.apiVersion, object.kind);
  try {
    new Model(object).validate();
    return [];
  } catch (err) {
    const lines = (err instanceof Error ? err.message : String(err))
      .split(/\n|, (?=data)/)
      .map((l) => l.trim())
      .filter(Boolean);
    return lines.filter((l) => !patch || !/must have required property/.test(l));
  }
}
