/**
 * The monitors' limits policy (components/monitors/limits.ts) through the real engine and the real
 * Kubernetes provider, on the local control plane: @pulumi/kubernetes has no class of the v1
 * MutatingAdmissionPolicy, so the component writes it as a generic resource, and this is where
 * that is shown to work: `pulumi up` creates the policy and its binding, the API server then
 * lowers a ServiceMonitor's own larger limits to the stack's and keeps a lower one, a second
 * preview finds nothing to change (no field the API server defaults shows as a difference), and
 * after `pulumi destroy` a monitor keeps the limits it gives. The ValidatingAdmissionPolicy on
 * monitors' targets comes with it: created by the same `up`, it refuses a namespaceSelector
 * beyond the monitor's namespace and a Probe's prober in the stack's namespaces; the files policy
 * warns of a ServiceMonitor endpoint naming a file of the scraper's pod.
 */
import * as pulumi from "@pulumi/pulumi";
import { MONITOR_KINDS, MonitorKind, crdName } from "../../components/monitors/args";
import { crdSpec } from "../../components/monitors/crds";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MonitorLimitsPolicy, monitorFilesName, monitorLimitsName, monitorTargetsName } from "../../components/monitors/limits";
import { deleteMonitorCrds, deleteNamespace } from "./support/apps";
import { apply, get, kubectl, kubectlWithWarnings, waitFor } from "./support/kube";
import { StackHandle, openStack } from "./support/stack";

jest.setTimeout(600_000);

const WATCHED = "limits-team";
const STACK_NAMESPACE = "monitoring-limits";
const LIMITS = { samples: 2_000, targets: 7, labels: 25 };
let handle: StackHandle;

const monitor = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: "monitoring.coreos.com/v1",
  kind: "ServiceMonitor",
  metadata: { name, namespace: WATCHED },
  spec: { selector: { matchLabels: { app: name } }, endpoints: [{ port: "metrics" }], ...spec },
});
const stored = async (name: string) => {
  const obj = await get("servicemonitor", name, WATCHED);
  const spec = (obj?.spec ?? {}) as Record<string, unknown>;
  return [spec.sampleLimit, spec.targetLimit, spec.labelLimit];
};

beforeAll(async () => {
  for (const kind of Object.keys(MONITOR_KINDS) as MonitorKind[]) {
    await apply({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: crdName(kind) },
      spec: crdSpec(kind),
    });
    await kubectl(["wait", "--for=condition=Established", `crd/${crdName(kind)}`, "--timeout=60s"]);
  }
  await apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: WATCHED } });
  handle = await openStack("staging");
  handle.stack.workspace.program = async () => {
    new MonitorLimitsPolicy("limits", { stackNamespace: STACK_NAMESPACE, environment: "staging", namespaces: [WATCHED], limits: LIMITS });
    return { policy: pulumi.output(monitorLimitsName(STACK_NAMESPACE)) };
  };
});

afterAll(async () => {
  if (handle) {
    await handle.stack.destroy().catch(() => undefined);
    handle.dispose();
  }
  await deleteNamespace(WATCHED);
  await deleteMonitorCrds();
});

describe("the monitor limits policy through Pulumi", () => {
  test("pulumi up creates the policy and its binding", async () => {
    const result = await handle.stack.up();
    expect(result.summary.result).toBe("succeeded");
    const name = monitorLimitsName(STACK_NAMESPACE);
    expect((await get("mutatingadmissionpolicy", name))?.metadata.name).toBe(name);
    expect((await get("mutatingadmissionpolicybinding", name))?.spec).toMatchObject({ policyName: name });
  });

  /**
   * The sampleLimit the API server would store for a monitor asking a million, by a dry run; what it said instead
   * while it does not serve the kind yet (a CRD is served a moment after it is Established: a CI run met it).
   */
  const probeSampleLimit = async (): Promise<string> => {
    const probe = JSON.stringify(monitor("probe", { sampleLimit: 1_000_000 }));
    try {
      return (await kubectl(["apply", "--dry-run=server", "-o", "jsonpath={.spec.sampleLimit}", "-f", "-"], probe)).trim();
    } catch (err) {
      const said = String(err);
      if (/There can be a delay between when CustomResourceDefinitions are created and when they are available/.test(said))
        return "(the kind not served yet)";
      throw err;
    }
  };

  test("the API server lowers a monitor's larger limits, sets those it leaves out, and keeps a lower one", async () => {
    // The policy is read by the API server's informer: a dry run until it acts.
    await waitFor(
      "the policy acting",
      async () => {
        const out = await probeSampleLimit();
        return out === String(LIMITS.samples) ? undefined : `sampleLimit ${out}`;
      },
      60,
    );
    await apply(monitor("greedy", { sampleLimit: 1_000_000, targetLimit: 0 }));
    await apply(monitor("modest", { sampleLimit: 100, labelLimit: 10 }));
    expect(await stored("greedy")).toEqual([LIMITS.samples, LIMITS.targets, LIMITS.labels]);
    expect(await stored("modest")).toEqual([100, LIMITS.targets, 10]);
  });

  test("pulumi up creates the targets policy beside it, and the API server refuses a namespaceSelector beyond the monitor's namespace and a prober in the stack's, and warns of an endpoint naming a file of the scraper's pod", async () => {
    const name = monitorTargetsName(STACK_NAMESPACE);
    expect((await get("validatingadmissionpolicy", name))?.metadata.name).toBe(name);
    expect((await get("validatingadmissionpolicybinding", name))?.spec).toMatchObject({ policyName: name, validationActions: ["Deny"] });
    const refusal = async (object: unknown) => {
      try {
        await kubectl(["apply", "--dry-run=server", "-f", "-"], JSON.stringify(object));
        return "accepted";
      } catch (err) {
        return String((err as { stderr?: string }).stderr ?? err);
      }
    };
    await waitFor(
      "the targets policy acting",
      async () => ((await refusal(monitor("probe", { namespaceSelector: { any: true } }))) === "accepted" ? "accepted" : undefined),
      60,
    );
    expect(await refusal(monitor("any", { namespaceSelector: { any: true } }))).toContain(
      `spec.namespaceSelector may select namespace ${WATCHED} only`,
    );
    expect(await refusal(monitor("other", { namespaceSelector: { matchNames: ["kube-system"] } }))).toContain(
      `spec.namespaceSelector may select namespace ${WATCHED} only`,
    );
    expect(await refusal(monitor("own", { namespaceSelector: { matchNames: [WATCHED] } }))).toBe("accepted");
    const probe = (url: string) => ({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "Probe",
      metadata: { name: "prober", namespace: WATCHED },
      spec: { prober: { url, path: "/ingester/shutdown" }, targets: { staticConfig: { static: ["x"] } } },
    });
    expect(await refusal(probe(`loki.${STACK_NAMESPACE}.svc:3100`))).toContain(
      `spec.prober.url is loki.${STACK_NAMESPACE}.svc:3100: a Probe's prober may not be in the stack's namespaces (${STACK_NAMESPACE}, ${STACK_NAMESPACE}-agents)`,
    );
    expect(await refusal(probe(`blackbox.${WATCHED}.svc:9115`))).toBe("accepted");
    // An endpoint naming a file of the scraper's pod (the collector's service-account token): taken, with a warning.
    const files = monitorFilesName(STACK_NAMESPACE);
    expect((await get("validatingadmissionpolicybinding", files))?.spec).toMatchObject({
      policyName: files,
      validationActions: ["Warn", "Audit"],
    });
    const fileWarning = "an entry of spec.endpoints sets one of bearerTokenFile, tlsConfig.caFile, tlsConfig.certFile, tlsConfig.keyFile";
    const warned = async (name: string, endpoint: Record<string, unknown>) => {
      const file = path.join(os.tmpdir(), `monitor-files-${name}-${process.pid}.json`);
      fs.writeFileSync(file, JSON.stringify(monitor(name, { endpoints: [{ port: "metrics" }, { port: "metrics", ...endpoint }] })));
      try {
        const { stderr } = await kubectlWithWarnings(["apply", "--dry-run=server", "-f", file]);
        return stderr.includes(fileWarning) ? "warned" : stderr.trim();
      } finally {
        fs.rmSync(file, { force: true });
      }
    };
    await waitFor(
      "the files policy acting",
      async () => {
        const got = await warned("probe", { bearerTokenFile: "/t" });
        return got === "warned" ? undefined : got || "no warning";
      },
      60,
    );
    for (const [name, endpoint] of [
      ["token-file", { bearerTokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token" }],
      ["ca-file", { tlsConfig: { caFile: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" } }],
      ["cert-file", { tlsConfig: { certFile: "/etc/alloy/cert.pem" } }],
      ["key-file", { tlsConfig: { keyFile: "/etc/alloy/key.pem" } }],
    ] as const) {
      expect([name, await warned(name, endpoint)]).toEqual([name, "warned"]);
    }
    expect(
      await warned("secrets", {
        bearerTokenSecret: { name: "scrape", key: "token" },
        tlsConfig: { serverName: "api", ca: { secret: { name: "scrape", key: "ca" } } },
      }),
    ).toBe("");
  });

  test("a second preview finds nothing to change", async () => {
    await handle.stack.preview({ expectNoChanges: true });
  });

  test("after pulumi destroy, a monitor keeps the limits it gives", async () => {
    await handle.stack.destroy();
    expect(await get("mutatingadmissionpolicy", monitorLimitsName(STACK_NAMESPACE))).toBeUndefined();
    // The API server's informer drops the deleted policy as it learnt it: a moment later (a CI run
    // once applied within that moment and had the stack's limit).
    await waitFor(
      "the policy no longer acting",
      async () => {
        const out = await probeSampleLimit();
        return out === "1000000" ? undefined : `sampleLimit ${out}`;
      },
      60,
    );
    await apply(monitor("after", { sampleLimit: 1_000_000 }));
    expect((await stored("after"))[0]).toBe(1_000_000);
  });
});
