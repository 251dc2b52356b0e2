/**
 * logCollector.externalLoki: the stack's own pod logs also go to a Loki-compatible endpoint outside the cluster (with its
 * tenant and a credential from the secret externalLokiPassword), or there alone when the stack runs no Loki; what is
 * refused naming the key. The real Alloy sending to two real Lokis: test/e2e/external-logs.test.ts.
 */
import { alloyConfig } from "../../components/log-collector/alloy";
import { logCollectorEgressRules } from "../../components/log-collector";
import { logCollectorArgs } from "../../components/stack/args";
import { parse, problems } from "../config/support";

const PUSH = "http://loki.monitoring-staging.svc:3100/loki/api/v1/push";
const URL_ = "https://logs.example.com/loki/api/v1/push";

describe("logCollector.externalLoki", () => {
  test("the own logs go to the stack's Loki and the endpoint, with the tenant and the credential's file; without it, the config is as before", () => {
    const plain = alloyConfig({ lokiPushUrl: PUSH });
    expect(plain).not.toContain("external");
    const both = alloyConfig({
      lokiPushUrl: PUSH,
      external: { url: URL_, tenant: "staging", basicAuth: { username: "u", passwordFile: "/etc/alloy-secrets/external-loki/credential" } },
    });
    expect(both).toContain("forward_to = [loki.write.loki.receiver, loki.write.external.receiver]");
    expect(both).toMatch(/loki\.write "external" \{\n\tendpoint \{\n\t\turl\s+= "https:\/\/logs\.example\.com\/loki\/api\/v1\/push"/);
    expect(both).toMatch(/tenant_id\s+= "staging"/);
    expect(both).toMatch(/basic_auth \{\n\t\t\tusername\s+= "u"\n\t\t\tpassword_file = "\/etc\/alloy-secrets\/external-loki\/credential"/);
    // The writer of the stack's Loki is there, as before.
    expect(both).toContain('loki.write "loki"');
  });

  test("without the stack's Loki (only), the own logs go to the endpoint alone; shared namespaces still go to their stacks", () => {
    const alone = alloyConfig({
      lokiPushUrl: PUSH,
      external: { url: URL_, bearerTokenFile: "/etc/alloy-secrets/external-loki/credential", only: true },
      shares: [
        {
          stackNamespace: "monitoring-production",
          lokiPushUrl: "http://loki.monitoring-production.svc:3100/loki/api/v1/push",
          namespaces: ["shop"],
        },
      ],
    });
    expect(alone).not.toContain('loki.write "loki"');
    expect(alone).toMatch(/bearer_token_file\s+= "\/etc\/alloy-secrets\/external-loki\/credential"/);
    // The "own" relabelling (every namespace but the shared ones) forwards to the endpoint.
    expect(alone).toMatch(/loki\.relabel "own" \{\n\tforward_to = \[loki\.write\.external\.receiver\]/);
    expect(alone).toContain('loki.write "to_monitoring_production"');
  });

  test("the stack's args: the credential a secret, `only` with loki.enabled false; the egress reaches the endpoint's port", () => {
    const { config } = parse(
      "staging",
      {
        loki: { enabled: false },
        tracing: { enabled: false },
        logCollector: { externalLoki: { url: URL_, tenant: "staging", bearerToken: true } },
      },
      { externalLokiPassword: "token-123456" },
    );
    const args = logCollectorArgs(config);
    expect(args.external).toMatchObject({ url: URL_, tenant: "staging", only: true, auth: { type: "bearer" } });
    const without = { ...args, external: undefined };
    const added = logCollectorEgressRules(args).filter(
      (r) => !JSON.stringify(logCollectorEgressRules(without)).includes(JSON.stringify(r)),
    );
    expect(added).toEqual([{ ports: [443], to: [{ cidrs: ["0.0.0.0/0", "::/0"] }, { anyNamespace: true }] }]);
  });

  test("refused, naming the key: a missing credential, two kinds of auth, a password without an endpoint, an endpoint without a collector, OTLP logs without Loki", () => {
    const ext = (extra: Record<string, unknown> = {}) => ({ logCollector: { externalLoki: { url: URL_, ...extra } } });
    expect(problems("staging", ext({ username: "u" }))).toEqual([
      "monitoring:logCollector.externalLoki: needs its credential: pulumi config set --secret externalLokiPassword <value>",
    ]);
    expect(problems("staging", ext({ username: "u", bearerToken: true }), { externalLokiPassword: "p-123456" })).toEqual([
      "monitoring:logCollector.externalLoki: choose username (basic auth) or bearerToken, not both",
    ]);
    expect(problems("staging", {}, { externalLokiPassword: "p-123456" })).toEqual([
      "monitoring:externalLokiPassword: is set, but logCollector.externalLoki is not: add the endpoint, or remove the password with: pulumi config rm externalLokiPassword",
    ]);
    expect(problems("staging", { logCollector: { enabled: false, externalLoki: { url: URL_ } } })).toEqual([
      "monitoring:logCollector.externalLoki: is set, but this stack runs no collector (enabled is false): only a running collector sends logs there",
    ]);
    expect(problems("staging", { ...ext({ tenant: "a b" }) })[0]).toMatch(
      /^monitoring:logCollector\.externalLoki\.tenant: must be a Loki tenant ID/,
    );
    expect(problems("staging", { loki: { enabled: false }, tracing: { enabled: true }, ...ext() })).toEqual([
      expect.stringMatching(/^monitoring:loki\.enabled: is false, but the collector's OTLP endpoint/),
    ]);
    // Without an endpoint, a collector without Loki is refused as before, the new way named.
    expect(problems("staging", { loki: { enabled: false }, tracing: { enabled: false } })).toEqual([
      expect.stringMatching(/^monitoring:logCollector\.enabled: the log collector ships to Loki, .*logCollector\.externalLoki/),
    ]);
  });
});
