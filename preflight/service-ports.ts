/**
 * An app's Service port given by number (`apps[].port: 80`), resolved at deploy time from the
 * Service itself. Prometheus' endpoints discovery never sees a Service's port numbers: it sees
 * the Service port's name, the address (the pod's IP and the endpoint's port, which is the
 * targetPort) and the pod's container port. So a number the user means as the Service's port
 * (80, mapped to 3333 on the pods) becomes what discovery can match:
 *   - the port's name, when the Service names it (a Service with several ports names each);
 *   - otherwise (a Service with one unnamed port) its targetPort: a number, matched on the
 *     address, or a container port's name, matched on the pod's container port name;
 *     no targetPort means the same number as the port.
 * The Service is read when the program runs (`pulumi preview` and `up` read it from the
 * cluster), before anything is created.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AppTarget } from "../components/prometheus/args";

/** A port of a Service's spec, as the API returns it. */
export interface ServicePortSpec {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

/** What discovery matches: the Service port's name, the pods' port number, or the pods' container port name. */
export type ResolvedServicePort = { port: string } | { targetPort: number } | { targetPortName: string };

/** A numeric Service port that cannot be resolved, with the key that gave it. */
export interface ServicePortProblem {
  key: string;
  message: string;
}

export class ServicePortError extends Error {
  constructor(public readonly problems: ServicePortProblem[]) {
    super(`Apps whose Service port could not be resolved:\n${problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n")}`);
    this.name = "ServicePortError";
  }
}

const describePort = (p: ServicePortSpec) =>
  `${p.name ? `${p.name} ` : ""}${p.port}${p.targetPort !== undefined && p.targetPort !== p.port ? ` -> ${p.targetPort}` : ""}${
    p.protocol && p.protocol !== "TCP" ? `/${p.protocol}` : ""
  }`;

/**
 * The port `number` of a Service (its `ports`; undefined when the Service does not exist) as
 * discovery can match it. Throws with a message for the user (without the key) when the
 * Service does not exist or has no TCP port of that number.
 */
export function resolveServicePort(service: string, ports: ServicePortSpec[] | undefined, number: number): ResolvedServicePort {
  if (ports === undefined) throw new Error(`is ${number}, a port of Service ${service}, which does not exist`);
  const tcp = ports.filter((p) => p.port === number && (p.protocol ?? "TCP") === "TCP");
  const found = tcp[0];
  if (!found) {
    const udp = ports.some((p) => p.port === number);
    const known = ports.length > 0 ? ports.map(describePort).join(", ") : "none";
    throw new Error(
      udp
        ? `is ${number}, a port of Service ${service} that is not TCP; Prometheus scrapes over HTTP (its ports: ${known})`
        : `is ${number}, but Service ${service} has no such port (its ports: ${known}); give one of its port numbers or names`,
    );
  }
  if (found.name) return { port: found.name };
  const target = found.targetPort ?? found.port;
  return typeof target === "number" ? { targetPort: target } : { targetPortName: target };
}

/** Reads the ports of a Service (namespace/name); undefined when it does not exist. */
export type ServiceReader = (namespace: string, name: string, readName: string) => Promise<ServicePortSpec[] | undefined>;

/** The value of an Output, once known (a read's outputs are known in previews too). */
export async function known<T>(output: pulumi.Output<T>): Promise<T | undefined> {
  // Output.isKnown is the SDK's own promise, not in its typings: an unknown value never reaches apply.
  const isKnown = (output as unknown as { isKnown?: Promise<boolean> }).isKnown;
  if (isKnown && !(await isKnown)) return undefined;
  return new Promise<T>((resolve) => output.apply((v) => resolve(v)));
}

/**
 * Reads a Service through the Kubernetes provider (`Service.get`): the engine reads it from
 * the cluster in previews and updates alike, and fails the deployment, naming the read, when
 * it does not exist. The read is named after the config key, so that this failure names it too.
 */
export const readServiceFromCluster: ServiceReader = async (namespace, name, readName) => {
  const service = k8s.core.v1.Service.get(readName, `${namespace}/${name}`);
  const spec = await known(service.spec);
  if (spec === undefined || spec === null) return undefined;
  return (spec.ports ?? []).map((p) => ({
    ...(p.name ? { name: p.name } : {}),
    port: p.port,
    ...(p.targetPort !== undefined && p.targetPort !== null ? { targetPort: p.targetPort } : {}),
    ...(p.protocol ? { protocol: p.protocol } : {}),
  }));
};

/**
 * The apps with every numeric Service port resolved (`service.servicePort` becomes `port`,
 * `targetPort` or `targetPortName`); `keyOf(i)` names the config key of app i. Each Service is
 * read once, however many apps scrape it. Throws a ServicePortError listing every app that
 * cannot be resolved. Apps without a numeric port are returned as they are.
 */
export async function resolveAppServicePorts(
  apps: AppTarget[],
  keyOf: (index: number) => string,
  read: ServiceReader = readServiceFromCluster,
): Promise<AppTarget[]> {
  const reads = new Map<string, Promise<ServicePortSpec[] | undefined>>();
  const problems: Array<ServicePortProblem & { index: number }> = [];
  const resolved = await Promise.all(
    apps.map(async (app, i): Promise<AppTarget> => {
      const svc = app.service;
      if (svc?.servicePort === undefined) return app;
      const id = `${svc.namespace}/${svc.name}`;
      if (!reads.has(id)) reads.set(id, read(svc.namespace, svc.name, `${keyOf(i)} Service ${id}`));
      try {
        const ports = await reads.get(id);
        const { namespace, name, servicePort } = svc;
        return { ...app, service: { namespace, name, servicePort, ...resolveServicePort(id, ports, servicePort) } };
      } catch (err) {
        problems.push({ index: i, key: keyOf(i), message: (err as Error).message });
        return app;
      }
    }),
  );
  if (problems.length > 0) {
    throw new ServicePortError(problems.sort((a, b) => a.index - b.index).map(({ key, message }) => ({ key, message })));
  }
  return resolved;
}
