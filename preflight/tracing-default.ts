/**
 * Tracing now runs only when an app sends OTLP (`apps[].otlp`), unless `tracing.enabled` says
 * otherwise (components/stack/tracing.ts); it used to run in every stack. A stack that ran Jaeger and does
 * not set the key would lose Jaeger, and its claim with the spans on it (or, in a stack that
 * protects its volumes, Pulumi would stop mid-update at that claim), only because the default
 * changed. The previous deployment's `volumes` output shows Jaeger's claim: such a stack is
 * refused before anything changes, until it says which it wants.
 *
 * Pure: the previous record and the config come in, problems go out.
 */
import { ConfigProblem, RawConfig, StackConfig } from "../config";
import { VolumeRecords } from "../components/stack/volumes";

/** Where the docs say what changed and what to do. */
const UPGRADE_NOTE = `docs/operations.md, "Tracing follows the apps"`;

/**
 * The problem of a stack whose tracing is off only by the new default (tracing.enabled not set,
 * no app sends OTLP) while its previous deployment had Jaeger's claim; none otherwise (the key
 * set either way, an app that sends OTLP, a first deployment, or one made before the program
 * recorded `volumes`).
 */
export function tracingDefaultProblems(raw: RawConfig, cfg: StackConfig, previous: VolumeRecords | undefined): ConfigProblem[] {
  const claims = previous?.tracing?.claims ?? [];
  if (cfg.tracing.enabled || cfg.tracing.enabledBy !== "apps" || claims.length === 0) return [];
  const one = claims.length === 1;
  const off = cfg.protectVolumes
    ? `stops Jaeger and keeps ${one ? "its claim" : "its claims"}, protected (protectVolumes), with the spans on ${one ? "it" : "them"}`
    : `removes Jaeger and ${one ? "its claim" : "its claims"} with the spans`;
  return [
    {
      key: `${raw.project}:tracing.enabled`,
      message:
        `is not set, and tracing now runs only when an app sends OTLP (apps[].otlp), which none of this stack's apps does; ` +
        `but this stack ran Jaeger: ${one ? "its claim" : "its claims"} ${claims.join(", ")} ${one ? "holds" : "hold"} spans. Say which you want: ` +
        `pulumi config set --path 'tracing.enabled' true keeps Jaeger and its spans; ` +
        `pulumi config set --path 'tracing.enabled' false ${off}; npm run migrate -- --stack <stack> --previous <pulumi stack output --json> sets true ` +
        `(see ${UPGRADE_NOTE}) (got nothing)`,
    },
  ];
}
