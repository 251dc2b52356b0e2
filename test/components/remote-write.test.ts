/**
 * prometheus.remoteWrite[]'s options for real destinations (components/prometheus/remote-write.ts): a tenant header, the
 * series kept or dropped, the queue and TLS with a client certificate, rendered into prometheus.yml with their files in
 * the remote-write Secret (the client key a Pulumi secret, redacted in the default render); what is refused, naming the
 * key; what is warned. The real Prometheus sending them to a real store: test/e2e/remote-write.test.ts.
 */
import * as YAML from "yaml";
import { ConfigError, StackConfig, parseStackConfig } from "../../config";
import { Prometheus } from "../../components/prometheus";
import { PrometheusArgs } from "../../components/prometheus/args";
import { re2Problem } from "../../components/prometheus/remote-write";
import { prometheusArgs } from "../../components/stack/args";
import { Rendered, renderRun } from "../../cli/render";
import { runProgram } from "../../cli/runner";
import { ALONE, objectOf } from "../support/render";
import { parse, problems } from "../config/support";

const b64 = (text: string) => Buffer.from(text).toString("base64");
const CA = "-----BEGIN CERTIFICATE-----\nMIIBcaFake\n-----END CERTIFICATE-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nMIIBclientFake\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nMIIEkeyFakeSealedClientKey\n-----END PRIVATE KEY-----\n";

function config(plain: Record<string, unknown>, secrets: Record<string, unknown> = {}): StackConfig {
  const wire = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...plain, ...secrets })) values[`monitoring:${k}`] = wire(v);
  try {
    return parseStackConfig({
      project: "monitoring",
      stack: "staging",
      values,
      secretKeys: Object.keys(secrets).map((k) => `monitoring:${k}`),
    }).config;
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(err.message);
    throw err;
  }
}

async function renderPrometheus(args: PrometheusArgs): Promise<{ rendered: Rendered; redacted: Rendered }> {
  const run = await runProgram({
    ...ALONE,
    program: async () => {
      new Prometheus("prometheus", args);
      return {};
    },
  });
  return { rendered: renderRun(run, true), redacted: renderRun(run, false) };
}

const central = {
  name: "central",
  url: "https://vm.example.com/insert/7/prometheus/api/v1/write",
  username: "staging",
  headers: { "X-Scope-OrgID": "staging" },
  writeRelabel: [
    { action: "drop", regex: "go_.*" },
    { action: "keep", sourceLabels: ["job", "namespace"], regex: "node-exporter;.*|kube-state-metrics;.*" },
  ],
  queue: { capacity: 20000, maxShards: 8, maxSamplesPerSend: 5000, batchSendDeadline: "10s", minBackoff: "100ms", maxBackoff: "30s" },
  tls: { caData: b64(CA), serverName: "vm.internal", clientCertData: b64(CERT) },
};

describe("prometheus.remoteWrite[]: headers, write relabelling, queue and TLS", () => {
  test("each option reaches prometheus.yml under Prometheus' own names; the CA, certificate and key are files of the remote-write Secret", async () => {
    const cfg = config(
      {
        prometheus: {
          externalLabels: { cluster: "k3s-1" },
          remoteWrite: [central, { name: "plain", url: "http://vm.example.com:8428/api/v1/write" }],
        },
      },
      { remoteWritePasswords: { central: "basic-password-9" }, remoteWriteClientKeys: { central: b64(KEY) } },
    );
    const { rendered, redacted } = await renderPrometheus(prometheusArgs(cfg));
    const yml = YAML.parse(rendered.files.get("prometheus/prometheus.yml") as string) as { remote_write: unknown[] };
    const dir = "/etc/prometheus/secrets/remote-write";
    expect(yml.remote_write).toEqual([
      {
        name: "central",
        url: "https://vm.example.com/insert/7/prometheus/api/v1/write",
        basic_auth: { username: "staging", password_file: `${dir}/remote-write-central` },
        headers: { "X-Scope-OrgID": "staging" },
        tls_config: {
          ca_file: `${dir}/remote-write-central-ca.crt`,
          cert_file: `${dir}/remote-write-central-client.crt`,
          key_file: `${dir}/remote-write-central-client.key`,
          server_name: "vm.internal",
        },
        write_relabel_configs: [
          { source_labels: ["__name__"], regex: "go_.*", action: "drop" },
          { source_labels: ["job", "namespace"], regex: "node-exporter;.*|kube-state-metrics;.*", action: "keep" },
        ],
        queue_config: {
          capacity: 20000,
          max_shards: 8,
          max_samples_per_send: 5000,
          batch_send_deadline: "10s",
          min_backoff: "100ms",
          max_backoff: "30s",
        },
      },
      // A remote write without options renders as it did before them.
      { name: "plain", url: "http://vm.example.com:8428/api/v1/write" },
    ]);
    expect(objectOf(rendered, "Secret", "prometheus-remote-write").stringData).toEqual({
      "remote-write-central": "basic-password-9",
      "remote-write-central-ca.crt": CA,
      "remote-write-central-client.crt": CERT,
      "remote-write-central-client.key": KEY,
    });
    // The password and the key are Pulumi secrets: the default render shows neither.
    const shown = objectOf(redacted, "Secret", "prometheus-remote-write").stringData as Record<string, string>;
    expect([shown["remote-write-central"], shown["remote-write-central-client.key"]]).toEqual(["[secret]", "[secret]"]);
    expect(JSON.stringify(redacted.kubernetes)).not.toContain("MIIEkeyFake");
    expect(JSON.stringify(objectOf(rendered, "ConfigMap", "prometheus-config"))).not.toContain("MIIEkeyFake");
  });

  test('Grafana Cloud\'s numeric user (username: 123456, a YAML number) renders as the text "123456"', async () => {
    const cloud = { name: "cloud", url: "https://prometheus.example.grafana.net/api/prom/push", username: 123456 };
    const cfg = config({ prometheus: { remoteWrite: [cloud] } }, { remoteWritePasswords: { cloud: "glc-token" } });
    const { rendered } = await renderPrometheus(prometheusArgs(cfg));
    const text = rendered.files.get("prometheus/prometheus.yml") as string;
    const yml = YAML.parse(text) as { remote_write: { basic_auth: { username: unknown } }[] };
    expect(yml.remote_write[0]?.basic_auth.username).toBe("123456");
  });

  test("a bad option is refused before anything is created, naming its key, what is allowed and what was given", () => {
    const rw = (extra: Record<string, unknown>) => ({
      prometheus: { remoteWrite: [{ name: "c", url: "https://vm.example.com/api/v1/write", ...extra }] },
    });
    expect(problems("staging", rw({ headers: { Authorization: "Bearer x" } }))).toEqual([
      "monitoring:prometheus.remoteWrite[0].headers.Authorization: is set by username (basic auth) or bearerToken, with the credential in remoteWritePasswords.<name>: use those",
    ]);
    expect(problems("staging", rw({ headers: { "Content-Type": "text/plain" } }))).toEqual([
      "monitoring:prometheus.remoteWrite[0].headers.Content-Type: is a header Prometheus sets itself and refuses to have changed; remove it",
    ]);
    expect(problems("staging", rw({ headers: { "X-Scope-OrgID": "a\nb" } }))[0]).toMatch(
      /^monitoring:prometheus\.remoteWrite\[0\]\.headers\.X-Scope-OrgID: must be on one line/,
    );
    expect(problems("staging", rw({ writeRelabel: [{ action: "keep", regex: "(?!go_).*" }] }))).toEqual([
      'monitoring:prometheus.remoteWrite[0].writeRelabel[0].regex: has lookaround or a backreference, which Prometheus\' regular expressions (Go RE2) do not have (got "(?!go_).*")',
    ]);
    expect(problems("staging", rw({ writeRelabel: [{ action: "replace", regex: "x" }] }))).toEqual([
      'monitoring:prometheus.remoteWrite[0].writeRelabel[0].action: must be keep or drop (got "replace")',
    ]);
    expect(problems("staging", rw({ queue: { minShards: 10, maxShards: 2 } }))).toEqual([
      "monitoring:prometheus.remoteWrite[0].queue.minShards: must not exceed queue.maxShards (2); got 10",
    ]);
    expect(problems("staging", rw({ queue: { minBackoff: "1m", maxBackoff: "5s" } }))).toEqual([
      "monitoring:prometheus.remoteWrite[0].queue.minBackoff: must not exceed queue.maxBackoff (5s); got 1m",
    ]);
    expect(problems("staging", rw({ queue: { capacity: 0 } }))[0]).toMatch(
      /^monitoring:prometheus\.remoteWrite\[0\]\.queue\.capacity: must be a whole number of samples, at least 1/,
    );
    expect(
      problems("staging", {
        prometheus: { remoteWrite: [{ name: "c", url: "http://vm.example.com/api/v1/write", tls: { caData: b64(CA) } }] },
      }),
    ).toEqual(["monitoring:prometheus.remoteWrite[0].tls: applies to https:// destinations; url is http://vm.example.com/api/v1/write"]);
    expect(problems("staging", rw({ tls: { insecureSkipVerify: true, serverName: "vm.internal" } }))).toEqual([
      "monitoring:prometheus.remoteWrite[0].tls.insecureSkipVerify: skips verification, so caData and serverName would be ignored; keep one or the other",
    ]);
  });

  test("a client certificate needs its key in remoteWriteClientKeys, a secret, and a key needs its certificate and its remote write", () => {
    const withCert = {
      prometheus: { remoteWrite: [{ name: "c", url: "https://vm.example.com/api/v1/write", tls: { clientCertData: b64(CERT) } }] },
    };
    expect(problems("staging", withCert)).toEqual([
      `monitoring:prometheus.remoteWrite[0].tls.clientCertData: needs its key: pulumi config set --secret --path 'remoteWriteClientKeys.c' "$(base64 -w0 client.key)"`,
    ]);
    expect(problems("staging", { ...withCert, remoteWriteClientKeys: { c: b64(KEY) } })).toEqual([
      expect.stringMatching(/^monitoring:remoteWriteClientKeys: must be a secret/),
    ]);
    expect(problems("staging", withCert, { remoteWriteClientKeys: { c: b64("not a key") } })).toEqual([
      "monitoring:remoteWriteClientKeys.c: must be base64 of a PEM private key (-----BEGIN PRIVATE KEY----- ...), one line: base64 -w0 client.key (got a value that is hidden because it is a secret)",
    ]);
    const plain = { prometheus: { remoteWrite: [{ name: "c", url: "https://vm.example.com/api/v1/write" }] } };
    expect(problems("staging", plain, { remoteWriteClientKeys: { c: b64(KEY), ghost: b64(KEY) } })).toEqual([
      "monitoring:remoteWriteClientKeys.c: is a client key, but prometheus.remoteWrite[0] has no tls.clientCertData: add the certificate, or remove the key with: pulumi config rm --path 'remoteWriteClientKeys.c'",
      `monitoring:remoteWriteClientKeys.ghost: no remote write named "ghost" in prometheus.remoteWrite: add it there, or remove the key with: pulumi config rm --path 'remoteWriteClientKeys.ghost'`,
    ]);
  });

  test("warned: a destination whose certificate goes unverified, and series leaving without a cluster label", () => {
    const warnings = parse("staging", {
      prometheus: { remoteWrite: [{ name: "c", url: "https://vm.example.com/api/v1/write", tls: { insecureSkipVerify: true } }] },
    }).warnings.join("\n");
    expect(warnings).toContain(
      'monitoring:prometheus.remoteWrite[0].tls.insecureSkipVerify is true: remote write "c" sends series (and its credential) to whoever answers at https://vm.example.com/api/v1/write; give tls.caData instead.',
    );
    expect(warnings).toContain(
      "monitoring:prometheus.externalLabels: series leave for a remote write with an environment label but no cluster label",
    );
    const labelled = parse("staging", {
      prometheus: { externalLabels: { cluster: "k3s-1" }, remoteWrite: [{ name: "c", url: "https://vm.example.com/api/v1/write" }] },
    }).warnings.join("\n");
    expect(labelled).not.toContain("remoteWrite");
    expect(labelled).not.toContain("externalLabels");
    expect(parse("staging", {}).warnings.join("\n")).not.toContain("externalLabels");
  });

  test("the RE2 check takes RE2's flag groups and refuses what RE2 lacks", () => {
    expect(re2Problem("(?i)node_.*")).toBeUndefined();
    expect(re2Problem("up|node_(cpu|memory)_.*")).toBeUndefined();
    expect(re2Problem("(a)\\1")).toMatch(/backreference/);
    expect(re2Problem("(?<=x)y")).toMatch(/lookaround/);
    expect(re2Problem("node_[")).toBe("is not a regular expression");
  });
});
