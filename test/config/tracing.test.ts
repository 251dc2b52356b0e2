/**
 * Whether the traces backend runs: `tracing.enabled` as the stack sets it, or, not set, exactly
 * when an app sends OTLP (components/stack/tracing.ts); and what follows from which of the two it is.
 */
import { PROFILE_DEFAULTS } from "../../config";
import { componentsWithClaims } from "../../components/stack/volumes";
import { tracingArgs } from "../../components/stack/args";
import { tracingSummary } from "../../cli/render";
import { api, parse } from "./support";

/** A dead man's switch, which a production stack expects (a warning without one). */
const WATCHED = { deadMansSwitchUrl: "https://hc-ping.com/uuid" };
const sender = { name: "checkout", namespace: "shop", otlp: true };

describe("tracing.enabled not set: on exactly when an app sends OTLP", () => {
  test.each(["staging", "production"])("%s: off without such an app, on with one, and says why", (stack) => {
    const without = parse(stack, { apps: [api] }, WATCHED).config;
    expect(without.tracing).toMatchObject({ enabled: false, enabledBy: "apps" });
    const withSender = parse(stack, { apps: [api, sender] }, WATCHED).config;
    expect(withSender.tracing).toMatchObject({ enabled: true, enabledBy: "apps" });
    // An app scraped and sending OTLP counts too.
    expect(parse(stack, { apps: [{ ...api, otlp: true }] }, WATCHED).config.tracing.enabled).toBe(true);
    // The profile's defaults (no app at all): off.
    expect(PROFILE_DEFAULTS[stack as "staging" | "production"].tracing).toMatchObject({ enabled: false, enabledBy: "apps" });
  });

  test("the rest of the section still comes from the profile or the stack", () => {
    const { tracing } = parse("production", { apps: [sender], tracing: { retention: "2d" } }, WATCHED).config;
    expect(tracing).toMatchObject({ enabled: true, enabledBy: "apps", retention: "2d", storage: { size: "20Gi" } });
  });

  test("off by the default in a stack that protects its volumes: no claim is made, and nothing is said", () => {
    const parsed = parse("production", { apps: [api] }, WATCHED);
    expect(tracingArgs(parsed.config)).toBeUndefined();
    expect(componentsWithClaims(parsed.config)).not.toContain("tracing");
    expect(parsed.warnings).toEqual([]);
  });
});

describe("tracing.enabled set: it wins", () => {
  test("true runs Jaeger without an app that sends OTLP; false keeps it off with one", () => {
    expect(parse("staging", { apps: [api], tracing: { enabled: true } }).config.tracing).toMatchObject({ enabled: true, enabledBy: "set" });
    expect(parse("staging", { apps: [sender], tracing: { enabled: false } }).config.tracing).toMatchObject({
      enabled: false,
      enabledBy: "set",
    });
  });

  test("false in a stack that protects its volumes keeps the claim (dataOnly), and says so", () => {
    const parsed = parse("production", { apps: [api], tracing: { enabled: false } }, WATCHED);
    expect(tracingArgs(parsed.config)).toMatchObject({ dataOnly: true, protectVolumes: true });
    expect(componentsWithClaims(parsed.config)).toContain("tracing");
    expect(parsed.warnings).toEqual([
      expect.stringMatching(
        /^monitoring:tracing\.enabled is false in a stack that protects its volumes: Jaeger's claim data-jaeger-0 stays/,
      ),
    ]);
  });

  test("true without the log collector warns that nothing sends it spans; on by an app, the app's problem says it", () => {
    const set = parse("staging", { logCollector: { enabled: false }, tracing: { enabled: true } }).warnings;
    expect(set).toEqual([expect.stringMatching(/^monitoring:tracing\.enabled is true, but logCollector\.enabled is false/)]);
    expect(() => parse("staging", { apps: [sender], logCollector: { enabled: false } })).toThrow(
      /monitoring:apps\[0\]\.otlp: is true, but the OTLP endpoint for apps is the log collector's/,
    );
  });
});

describe("the render's summary says whether Jaeger runs, and why", () => {
  test.each([
    [{ apps: [api] }, "off, by default: no app sends OTLP (apps[].otlp); tracing.enabled not set"],
    [{ apps: [api, sender] }, "Jaeger runs, by default: apps send OTLP (checkout); tracing.enabled not set"],
    [{ apps: [api], tracing: { enabled: true } }, "Jaeger runs (tracing.enabled: true, set)"],
    [{ apps: [sender], tracing: { enabled: false } }, "off (tracing.enabled: false, set)"],
  ] as Array<[Record<string, unknown>, string]>)("staging %j", (plain, expected) => {
    expect(tracingSummary(parse("staging", plain).config)).toBe(expected);
  });

  test("off by the key in a stack that protects its volumes: the claim kept", () => {
    expect(tracingSummary(parse("production", { tracing: { enabled: false } }, WATCHED).config)).toBe(
      "off (tracing.enabled: false, set), its claim data-jaeger-0 kept (protectVolumes)",
    );
  });
});
