/** The catalogue of blackbox_exporter probing servers started here. */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { BLACKBOX_PORT, blackboxConfig } from "../../components/blackbox-exporter";
import type * as http from "http";
import { pinnedBinary } from "../local/binaries";
import { getOk, selfSignedCertificate } from "../local/http";
import { LOOPBACK } from "../ports";
import { waitFor } from "../processes/supervision";
import { scrape, scrapeTwice } from "../local/text-format";
import { CatalogError, Generated, Run, minus } from "./run";

export async function blackboxExporter(r: Run): Promise<Generated> {
  // Endpoints to probe on the loopback: plain HTTP, and HTTPS with a self-signed certificate.
  const tls = selfSignedCertificate(r.dir("tls"), "localhost", 30, ["IP:127.0.0.1", "DNS:localhost"]);
  const handler: http.RequestListener = (_req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end("ok\n");
  };
  const httpPort = await r.port();
  const httpsPort = await r.port();
  await r.serve(httpPort, handler);
  await r.serve(httpsPort, handler, tls);
  // The stack's modules, and one that trusts the throwaway CA: probes of sites with public
  // certificates report the same metrics with http_2xx.
  const config = blackboxConfig([{ module: "http_2xx", expectStatus: [200] }]) as unknown as { modules: Record<string, unknown> };
  config.modules.catalog_https = { prober: "http", http: { preferred_ip_protocol: "ip4", tls_config: { ca_file: tls.certFile } } };
  const configFile = path.join(r.tmp, "blackbox.yml");
  fs.writeFileSync(configFile, YAML.stringify(config));
  const port = await r.port();
  const command = {
    binary: pinnedBinary("blackbox_exporter"),
    args: [`--config.file=${configFile}`, `--web.listen-address=${LOOPBACK}:${port}`],
  };
  const proc = r.start("blackbox_exporter", command);
  const base = `http://${LOOPBACK}:${port}`;
  await waitFor("blackbox_exporter's /metrics", () => getOk(`${base}/metrics`), 30_000, 250, [proc]);
  const probe = async (module: string, target: string) => {
    const { text, names } = await scrape(`${base}/probe?module=${module}&target=${encodeURIComponent(target)}`);
    if (!/^probe_success 1$/m.test(text)) throw new CatalogError(`probe ${module} of ${target} failed:\n${text}\n${proc.output()}`);
    return names;
  };
  const httpNames = await probe("http_2xx", `http://${LOOPBACK}:${httpPort}/health`);
  const statusNames = await probe("http_status_200", `http://${LOOPBACK}:${httpPort}/health`);
  const tcpNames = await probe("tcp_connect", `${LOOPBACK}:${httpPort}`);
  const httpsNames = await probe("catalog_https", `https://${LOOPBACK}:${httpsPort}/health`);
  const own = (await scrapeTwice(`${base}/metrics`)).names;
  const probeNames = new Set([...httpNames, ...statusNames, ...tcpNames]);
  return {
    notes: [
      `Its own metrics (job "blackbox-exporter") and what /probe reports (job "blackbox", label probe) with the modules of blackboxConfig() in components/blackbox-exporter.ts, listening on 127.0.0.1 instead of :${BLACKBOX_PORT}: http_2xx and an expected-status module against an HTTP server started here, tcp_connect against the same port.`,
    ],
    commands: [command],
    names: new Set([...own, ...probeNames]),
    conditional: [
      {
        why: "the probe is HTTPS (here an HTTPS server started here with a throwaway self-signed certificate, probed by a module that trusts it)",
        commands: [],
        names: minus(httpsNames, probeNames),
      },
    ],
  };
}
