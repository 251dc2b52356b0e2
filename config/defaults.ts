/** Defaults: per profile, assembled from each component's own, and of the stack's namespace and nodes. */
import { Profile } from "../components/kit/profiles";
import { StackConfig } from "../components/stack/config";
import { sectionDefaults } from "../components/stack/sections";

export type ProfileDefaults = Omit<
  StackConfig,
  | "project"
  | "stack"
  | "profile"
  | "environment"
  | "namespace"
  | "nodes"
  | "hostnames"
  | "apps"
  | "databases"
  | "domain"
  | "storageClass"
  | "targets"
  | "probes"
>;

/** The namespace of a stack that does not name one: one per environment, so that several stacks share a cluster. */
export function defaultNamespace(environment: string): string {
  return `monitoring-${environment}`;
}

/** Nodes a stack counts on unless it says otherwise: the single k3s node this project is built for. */
export const DEFAULT_NODES = 1;

/** A profile's defaults, from each component's own (kit/profiles.ts says how the profiles differ). */
function profileDefaults(profile: Profile): ProfileDefaults {
  // The lists (apps, targets, …) are empty in every profile, so they are no profile's default; with no
  // app that sends OTLP, tracing is off, as it follows the apps (components/stack/tracing.ts).
  const sections = Object.fromEntries(Object.entries(sectionDefaults(profile)).filter(([, value]) => !Array.isArray(value)));
  return {
    // Production protects its volumes: the stored metrics, silences, dashboards and logs.
    protectVolumes: profile === "production",
    ...sections,
  } as ProfileDefaults;
}

/** The defaults of each profile: what a key is when the stack does not set it. */
export const PROFILE_DEFAULTS: Record<Profile, ProfileDefaults> = {
  staging: profileDefaults("staging"),
  production: profileDefaults("production"),
};
