/** A stand-in cluster of Services, and the staging stack run against it, for the tests of apps[].port as a number. */
import type { ServicePortSpec } from "../../preflight/service-ports";
import { RunInput, runProgram } from "../../cli/runner";
import { readStackConfig } from "../../cli/stackfile";

export const TEAM = "shop";

/** A Service as `kubectl get service -o yaml` gives it (what the mocks answer a read with). */
function service(name: string, ports: ServicePortSpec[]): NonNullable<RunInput["services"]>[number] {
  return {
    metadata: { namespace: TEAM, name, labels: { app: name } },
    spec: { ports: ports.map((p) => ({ protocol: "TCP", ...p })) },
  } as never;
}

/** The stand-in cluster: a named port, an unnamed one mapped to a number, an unnamed one mapped to a container port's name. */
export const SERVICES = [
  service("api", [
    { name: "http", port: 80, targetPort: 3333 },
    { name: "admin", port: 9000, targetPort: 9000 },
  ]),
  service("checkout", [{ port: 80, targetPort: 3333 }]),
  service("billing", [{ port: 8080, targetPort: "metrics" }]),
];

export const app = (name: string, svc: string, port: number | string) => ({ name, namespace: TEAM, service: svc, port });

/** Runs the staging stack file with these apps against the stand-in cluster. */
export async function run(apps: unknown[], services = SERVICES) {
  const input = readStackConfig("staging", [`apps=${JSON.stringify(apps)}`, "databases=[]"]);
  return runProgram({ project: input.project, stack: input.stack, config: input.config, secretKeys: input.secretKeys, services });
}
