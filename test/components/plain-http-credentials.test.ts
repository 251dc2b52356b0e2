/**
 * A credential over plain HTTP (components/kit/plain-http.ts): remote writes and the external Loki
 * endpoint with basic auth or a bearer token on an http:// url are refused outside the cluster,
 * naming the key that allows it; https://, a cluster-local address (*.svc, *.svc.cluster.local,
 * loopback) or no credential need nothing.
 */
import { isClusterLocalHost } from "../../components/kit/plain-http";
import { parse, problems } from "../config/support";

const HINT =
  "use https://, or set allowPlainHttp: true if that path is yours (a cluster-local *.svc, *.svc.cluster.local or loopback address needs neither)";

describe("prometheus.remoteWrite[]", () => {
  const given = (entry: Record<string, unknown>) => ({ prometheus: { remoteWrite: [{ name: "vm", ...entry }] } });
  const rw = (entry: Record<string, unknown>) => problems("staging", given(entry), { remoteWritePasswords: { vm: "p-123456" } });
  const taken = (entry: Record<string, unknown>, secrets: Record<string, unknown> = { remoteWritePasswords: { vm: "p-123456" } }) =>
    expect(() => parse("staging", given(entry), secrets)).not.toThrow();

  test.each([
    ["basic auth", { username: "u" }, "username's password (basic auth)"],
    ["a bearer token", { bearerToken: true }, "the bearer token"],
  ])("%s to http:// outside the cluster is refused, naming allowPlainHttp", (_what, auth, credential) => {
    expect(rw({ url: "http://vm.example.com:8428/api/v1/write", ...auth })).toEqual([
      `monitoring:prometheus.remoteWrite[0].url: is plain http:// to vm.example.com, outside the cluster (got http://vm.example.com:8428/api/v1/write), and ${credential} would cross the network readable by anyone on the path: ${HINT}`,
    ]);
  });

  test("taken: https://, a cluster-local address, no credential, or allowPlainHttp", () => {
    taken({ url: "https://vm.example.com/api/v1/write", username: "u" });
    for (const host of ["vm.monitoring.svc", "vm.monitoring.svc.cluster.local", "127.0.0.1", "localhost", "[::1]"])
      taken({ url: `http://${host}:8428/api/v1/write`, username: "u" });
    taken({ url: "http://vm.example.com/api/v1/write" }, {});
    taken({ url: "http://vm.example.com/api/v1/write", username: "u", allowPlainHttp: true });
  });
});

describe("logCollector.externalLoki", () => {
  const given = (extra: Record<string, unknown>) => ({ logCollector: { externalLoki: { ...extra } } });
  const ext = (extra: Record<string, unknown>) => problems("staging", given(extra), { externalLokiPassword: "p-123456" });
  const taken = (extra: Record<string, unknown>) =>
    expect(() => parse("staging", given(extra), { externalLokiPassword: "p-123456" })).not.toThrow();

  test("basic auth or a bearer token to http:// outside the cluster is refused, naming allowPlainHttp", () => {
    expect(ext({ url: "http://logs.example.com/loki/api/v1/push", username: "u" })).toEqual([
      `monitoring:logCollector.externalLoki.url: is plain http:// to logs.example.com, outside the cluster (got http://logs.example.com/loki/api/v1/push), and externalLokiPassword (basic auth) would cross the network readable by anyone on the path: ${HINT}`,
    ]);
    expect(ext({ url: "http://10.0.0.5:3100/loki/api/v1/push", bearerToken: true })[0]).toMatch(
      /^monitoring:logCollector\.externalLoki\.url: is plain http:\/\/ to 10\.0\.0\.5, outside the cluster \(got [^)]+\), and the bearer token externalLokiPassword/,
    );
  });

  test("taken: https://, a cluster-local address, or allowPlainHttp", () => {
    taken({ url: "https://logs.example.com/loki/api/v1/push", username: "u" });
    taken({ url: "http://loki.logs.svc.cluster.local:3100/loki/api/v1/push", username: "u" });
    taken({ url: "http://logs.example.com/loki/api/v1/push", username: "u", allowPlainHttp: true });
  });
});

test("cluster-local: a Service's names and the loopback, nothing that merely looks like them", () => {
  expect(
    ["a.b.svc", "a.b.svc.cluster.local", "A.B.SVC.", "localhost", "127.0.0.1", "127.9.9.9", "::1", "[::1]"].filter(
      (h) => !isClusterLocalHost(h),
    ),
  ).toEqual([]);
  expect(
    [
      "svc.example.com",
      "a.svc.example.com",
      "example.svc.cluster.local.evil.com",
      "10.0.0.1",
      "128.0.0.1",
      "::2",
      "localhost.example.com",
    ].filter(isClusterLocalHost),
  ).toEqual([]);
});
