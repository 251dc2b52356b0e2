/**
 * The blackbox exporter the stack deploys, run: the exact release (.tools/bin) accepts the
 * config components/blackbox-exporter.ts renders (`--config.check`), and, started on the
 * loopback with it, reports a healthy endpoint up and a failing one down, with the module
 * Prometheus' probe jobs ask for (components/prometheus/); over HTTPS, it trusts what the
 * system trusts (here a throwaway CA given as SSL_CERT_FILE, as the live lab does) and reports
 * when the certificate expires, which TlsCertificateExpiringSoon reads.
 */
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { blackboxConfigYaml } from "../../components/blackbox-exporter";
import type { ProbeSpec } from "../../components/kit/probes";
import { probeModule } from "../../components/kit/probes";
import { runBinary, stackBinary } from "../../lab/local/binaries";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { httpGet, selfSignedCertificate } from "../../lab/local/http";
import { localRun } from "./support/local-run";

jest.setTimeout(60_000);

const PROBES: Array<Pick<ProbeSpec, "module" | "expectStatus">> = [
  { module: "http_2xx" },
  { module: "http_2xx", expectStatus: [204] },
  { module: "tcp_connect" },
];

/** /health answers 200, /broken 500, /empty 204. */
const handler: http.RequestListener = (req, res) => {
  const status = req.url === "/health" ? 200 : req.url === "/empty" ? 204 : 500;
  res.writeHead(status, { "Content-Type": "text/plain" });
  res.end(status === 204 ? undefined : "status\n");
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blackbox-"));
const configFile = path.join(dir, "blackbox.yml");
/** The exporter and the servers it probes, stopped after the tests. */
const run = localRun();
let exporterUrl = "";
let appUrl = "";
let closedPort = 0;
let trustedUrl = "";
let untrustedUrl = "";

/** A self-signed certificate for 127.0.0.1, valid for `days`. */
const selfSigned = (name: string, days: number) => selfSignedCertificate(dir, name, days);

beforeAll(async () => {
  fs.writeFileSync(configFile, blackboxConfigYaml(PROBES as ProbeSpec[]));
  const [exporterPort, appPort, closed, trustedPort, untrustedPort] = await freePorts(5);
  closedPort = closed;
  await run.serve(appPort, handler);
  const trusted = selfSigned("trusted", 60);
  for (const [port, tls] of [
    [trustedPort, trusted],
    [untrustedPort, selfSigned("untrusted", 60)],
  ] as const)
    await run.serve(port, handler, tls);
  trustedUrl = `https://${LOOPBACK}:${trustedPort}/health`;
  untrustedUrl = `https://${LOOPBACK}:${untrustedPort}/health`;
  appUrl = `http://${LOOPBACK}:${appPort}`;
  run.start(
    "blackbox_exporter",
    stackBinary("blackbox_exporter"),
    [`--config.file=${configFile}`, `--web.listen-address=${LOOPBACK}:${exporterPort}`],
    { env: { SSL_CERT_FILE: trusted.certFile } },
  );
  exporterUrl = `http://${LOOPBACK}:${exporterPort}`;
  await run.waitFor(
    "blackbox_exporter answering",
    async () => ((await httpGet(`${exporterUrl}/-/healthy`)).status === 200 ? true : undefined),
    20_000,
  );
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A series of one probe's answer, as Prometheus would scrape it. */
async function probeValue(
  probe: Pick<ProbeSpec, "module" | "expectStatus">,
  target: string,
  metric = "probe_success",
): Promise<number | undefined> {
  const url = `${exporterUrl}/probe?module=${probeModule(probe)}&target=${encodeURIComponent(target)}`;
  const { status, body } = await httpGet(url, 15_000);
  expect(status).toBe(200);
  const value = new RegExp(`^${metric} (\\S+)$`, "m").exec(body)?.[1];
  return value === undefined ? undefined : Number(value);
}

async function probeSuccess(probe: Pick<ProbeSpec, "module" | "expectStatus">, target: string): Promise<number> {
  const value = await probeValue(probe, target);
  if (value === undefined) throw new Error(`no probe_success in the answer for ${target}\n${run.diagnostics(40)}`);
  return value;
}

test("the rendered config passes the exporter's own check", () => {
  const result = runBinary("blackbox_exporter", [`--config.file=${configFile}`, "--config.check"]);
  expect(result.output).not.toMatch(/level=error/i);
  expect(result.ok).toBe(true);
});

test("a config the exporter cannot read fails that check (the check is not vacuous)", () => {
  const broken = path.join(dir, "broken.yml");
  fs.writeFileSync(broken, "modules:\n  http_2xx:\n    prober: http\n    http:\n      valid_status_codez: [200]\n");
  expect(runBinary("blackbox_exporter", [`--config.file=${broken}`, "--config.check"]).ok).toBe(false);
});

test("http_2xx: the healthy endpoint is up, the failing one and a closed port are down", async () => {
  expect(await probeSuccess({ module: "http_2xx" }, `${appUrl}/health`)).toBe(1);
  expect(await probeSuccess({ module: "http_2xx" }, `${appUrl}/broken`)).toBe(0);
  expect(await probeSuccess({ module: "http_2xx" }, `http://${LOOPBACK}:${closedPort}/health`)).toBe(0);
});

test("expectStatus: only the codes it names count as up", async () => {
  const only204 = { module: "http_2xx" as const, expectStatus: [204] };
  expect(await probeSuccess(only204, `${appUrl}/empty`)).toBe(1);
  expect(await probeSuccess(only204, `${appUrl}/health`)).toBe(0);
});

test("tcp_connect: an open port is up, a closed one down", async () => {
  expect(await probeSuccess({ module: "tcp_connect" }, appUrl.replace("http://", ""))).toBe(1);
  expect(await probeSuccess({ module: "tcp_connect" }, `${LOOPBACK}:${closedPort}`)).toBe(0);
});

test("https: a certificate the system trusts is up and reports its expiry; another is down", async () => {
  expect(await probeSuccess({ module: "http_2xx" }, trustedUrl)).toBe(1);
  const expiry = await probeValue({ module: "http_2xx" }, trustedUrl, "probe_ssl_earliest_cert_expiry");
  const days = ((expiry ?? 0) - Date.now() / 1000) / 86400;
  expect(days).toBeGreaterThan(59);
  expect(days).toBeLessThanOrEqual(60);
  expect(await probeSuccess({ module: "http_2xx" }, untrustedUrl)).toBe(0);
});
