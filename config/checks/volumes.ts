/** Protected volumes that outlive the component that used them. */
import { CheckInput } from "./check";

/** A protected claim that stays when its component stops using it: said, not hidden. */
export function protectedVolumeChecks({ resolved, key, warnings }: CheckInput): void {
  // A stack that protects its volumes never drops a data claim on a config change (Pulumi
  // would refuse to delete it): the claim of a component that stops using it stays.
  if (resolved.protectVolumes && !resolved.loki.enabled) {
    warnings.push(
      `${key("loki.enabled")} is false in a stack that protects its volumes: Loki's claim data-loki-0 stays, protected, with the logs ` +
        'on it, and turning Loki on again reuses it (docs/operations.md, "Good to know").',
    );
  }
  // Off by its default (no app sends OTLP) it keeps nothing: there was no claim, or the stack is refused (preflight/tracing-default.ts).
  if (resolved.protectVolumes && !resolved.tracing.enabled && resolved.tracing.enabledBy === "set") {
    warnings.push(
      `${key("tracing.enabled")} is false in a stack that protects its volumes: Jaeger's claim data-jaeger-0 stays, protected, with the ` +
        'spans on it, and turning tracing on again reuses it (docs/operations.md, "Good to know").',
    );
  }
  if (resolved.protectVolumes && resolved.grafana.database && resolved.grafana.replicas > 1) {
    warnings.push(
      `${key("grafana.replicas")} is ${resolved.grafana.replicas} on an external database in a stack that protects its volumes: Grafana's ` +
        'claim (grafana) stays, protected and unmounted, with its SQLite data (docs/operations.md, "Good to know").',
    );
  }
}
