/** The targets (`targets[]`) and probes (`apps[].probe`, `probes[]`) the tests of test/scenarios/targets-probes.test.ts and test/e2e/targets-probes.test.ts give a stack. */
import type { Rendered } from "../../cli/render";
import { renderConfig } from "./render";

export const CA = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n").toString("base64");
export const shop = { name: "shop", namespace: "shop", service: "shop", port: "http", probe: { path: "/health" } };
export const minio = { name: "minio", url: "https://minio.example.com:9000/minio/v2/metrics/cluster", auth: { bearerToken: true } };
export const billing = {
  name: "billing",
  namespace: "billing",
  service: "billing-worker",
  port: "metrics",
  scheme: "https",
  interval: "1m",
  timeout: "20s",
  tls: { serverName: "billing.internal", caData: CA },
  auth: { username: "prometheus", secretRef: { name: "billing-metrics", key: "password" } },
  labels: { team: "billing" },
};
export const website = { name: "website", url: "https://www.example.com/", latencySeconds: 2 };
export const smtp = { name: "smtp", address: "mail.example.com:587" };

/** The staging stack with every kind of target and probe, a secret credential among them. */
export function renderTargetsAndProbes(): Promise<Rendered> {
  return renderConfig(
    "staging",
    { apps: [shop], targets: [minio, billing], probes: [website, smtp] },
    { targetCredentials: { minio: "tok-123" } },
  );
}
