/**
 * The log collector's stream labelling (podLogRelabelling), run through a small evaluator
 * of Prometheus relabel rules (itself tested below) on discovery labels of every kind of
 * pod. Alloy's config that carries these rules is test/components/alloy.test.ts; the
 * component itself is test/components/log-collector.test.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { RelabelRule, podLogRelabelling } from "../../components/log-collector/relabelling";

// ---------------------------------------------------------------------------
// A relabel evaluator with Prometheus' semantics, for the rules Alloy runs

/** Go's Regexp.Expand: $n, ${n}, $name (the longest name), $$; unknown or unmatched groups are empty. */
function expand(template: string, match: RegExpExecArray): string {
  let out = "";
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (ch !== "$") {
      out += ch;
      continue;
    }
    if (template[i + 1] === "$") {
      out += "$";
      i++;
      continue;
    }
    const braced = /^\{([a-zA-Z0-9_]+)\}/.exec(template.slice(i + 1));
    const bare = /^[a-zA-Z0-9_]+/.exec(template.slice(i + 1));
    const name = braced ? braced[1] : bare?.[0];
    if (name === undefined) {
      out += "$";
      continue;
    }
    i += braced ? braced[0].length : name.length;
    const value = /^\d+$/.test(name) ? match[Number(name)] : match.groups?.[name];
    out += value ?? "";
  }
  return out;
}

/** Applies relabel rules to a label set; undefined when the target is dropped. */
function relabel(labels: Record<string, string>, rules: RelabelRule[]): Record<string, string> | undefined {
  const current = { ...labels };
  for (const rule of rules) {
    const value = (rule.source_labels ?? []).map((l) => current[l] ?? "").join(rule.separator ?? ";");
    const regex = new RegExp(`^(?:${rule.regex ?? "(.*)"})$`);
    const action = rule.action ?? "replace";
    if (action === "keep" && !regex.test(value)) return undefined;
    if (action === "drop" && regex.test(value)) return undefined;
    if (action === "replace") {
      const match = regex.exec(value);
      if (!match || rule.target_label === undefined) continue;
      const result = expand(rule.replacement ?? "$1", match);
      if (result === "") delete current[rule.target_label];
      else current[rule.target_label] = result;
    } else if (action !== "keep" && action !== "drop") {
      throw new Error(`the evaluator does not know action ${action}`);
    }
  }
  return current;
}

/** The labels a stream ends with: the internal `__` ones are dropped after relabelling. */
const publicLabels = (labels: Record<string, string>) => Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith("__")));

describe("the relabel evaluator", () => {
  const match = /^(?:(a)-(b)?)$/.exec("a-") as RegExpExecArray;

  test("expands templates as Go does", () => {
    expect(expand("$1/${1}x/$$1", match)).toBe("a/ax/$1");
    // "$1_" names a group "1_", which does not exist: empty. This is why the rules write ${1}_.
    expect(expand("$1_/$2_/end", match)).toBe("//end");
    expect(expand("${2}|$9|$", match)).toBe("||$");
  });

  test("replaces only when the regex matches the whole value, and deletes a label replaced by nothing", () => {
    expect(relabel({ a: "x-1" }, [{ source_labels: ["a"], regex: "x", target_label: "b" }])).toEqual({ a: "x-1" });
    expect(relabel({ a: "x-1" }, [{ source_labels: ["a"], regex: "x-(.*)", target_label: "b" }])).toEqual({ a: "x-1", b: "1" });
    expect(relabel({ a: "", b: "old" }, [{ source_labels: ["a"], target_label: "b" }])).toEqual({ a: "" });
    expect(relabel({ a: "1", b: "2" }, [{ source_labels: ["a", "b"], separator: "/", target_label: "c" }])).toEqual({
      a: "1",
      b: "2",
      c: "1/2",
    });
  });

  test("keeps, drops, and refuses actions it does not know", () => {
    expect(relabel({ a: "1" }, [{ source_labels: ["a"], regex: "2", action: "keep" }])).toBeUndefined();
    expect(relabel({ a: "1" }, [{ source_labels: ["a"], regex: "1", action: "drop" }])).toBeUndefined();
    expect(() => relabel({}, [{ action: "labelmap", regex: "x" }])).toThrow(/does not know action labelmap/);
  });
});

// ---------------------------------------------------------------------------
// Discovery labels of sample pods, as Kubernetes SD (role pod) reports them

function discovered(pod: {
  namespace: string;
  name: string;
  uid: string;
  container: string;
  node?: string;
  controller?: [string, string];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}): Record<string, string> {
  const sanitize = (s: string) => s.replace(/[^a-zA-Z0-9_]/g, "_");
  return {
    __address__: "10.42.0.17",
    __meta_kubernetes_namespace: pod.namespace,
    __meta_kubernetes_pod_name: pod.name,
    __meta_kubernetes_pod_uid: pod.uid,
    __meta_kubernetes_pod_container_name: pod.container,
    __meta_kubernetes_pod_container_init: "false",
    __meta_kubernetes_pod_node_name: pod.node ?? "node-1",
    __meta_kubernetes_pod_phase: "Running",
    __meta_kubernetes_pod_ip: "10.42.0.17",
    ...(pod.controller
      ? { __meta_kubernetes_pod_controller_kind: pod.controller[0], __meta_kubernetes_pod_controller_name: pod.controller[1] }
      : {}),
    ...Object.fromEntries(
      Object.entries(pod.labels ?? {}).flatMap(([k, v]) => [
        [`__meta_kubernetes_pod_label_${sanitize(k)}`, v],
        [`__meta_kubernetes_pod_labelpresent_${sanitize(k)}`, "true"],
      ]),
    ),
    ...Object.fromEntries(Object.entries(pod.annotations ?? {}).map(([k, v]) => [`__meta_kubernetes_pod_annotation_${sanitize(k)}`, v])),
  };
}

const UID = "0b5d2f7e-4c1a-4d3e-9f2b-6a7c8d9e0f11";

describe("podLogRelabelling", () => {
  test.each([
    [
      "a Deployment's pod named by app.kubernetes.io/name (which wins over app)",
      discovered({
        namespace: "shop",
        name: "web-6b7f5c9d4-x2k4q",
        uid: UID,
        container: "nginx",
        controller: ["ReplicaSet", "web-6b7f5c9d4"],
        labels: { "app.kubernetes.io/name": "storefront", app: "legacy", "pod-template-hash": "6b7f5c9d4" },
      }),
      "storefront",
    ],
    [
      "a pod with only the app label",
      discovered({
        namespace: "shop",
        name: "api-0",
        uid: UID,
        container: "api",
        controller: ["StatefulSet", "api"],
        labels: { app: "orders" },
      }),
      "orders",
    ],
    [
      "a Deployment's pod without labels: the Deployment's name",
      discovered({
        namespace: "shop",
        name: "worker-6b7f5c9d4-9zqkp",
        uid: UID,
        container: "worker",
        controller: ["ReplicaSet", "worker-6b7f5c9d4"],
        labels: { "pod-template-hash": "6b7f5c9d4" },
      }),
      "worker",
    ],
    [
      "a StatefulSet's pod without labels: the StatefulSet's name",
      discovered({ namespace: "data", name: "postgres-0", uid: UID, container: "postgres", controller: ["StatefulSet", "postgres"] }),
      "postgres",
    ],
    [
      "a CronJob's pod without labels: the CronJob's name",
      discovered({
        namespace: "ops",
        name: "backup-29012345-7xk2p",
        uid: UID,
        container: "backup",
        controller: ["Job", "backup-29012345"],
      }),
      "backup",
    ],
    ["a bare pod: its own name", discovered({ namespace: "default", name: "debug", uid: UID, container: "shell" }), "debug"],
  ])("%s gets the dashboard's labels and its log files", (_, labels, app) => {
    const result = relabel(labels, podLogRelabelling());
    expect(result).toBeDefined();
    const out = result ?? {};
    const ns = labels.__meta_kubernetes_namespace;
    const pod = labels.__meta_kubernetes_pod_name;
    const container = labels.__meta_kubernetes_pod_container_name;
    expect(publicLabels(out)).toEqual({ namespace: ns, pod, container, app, node: "node-1", job: `${ns}/${app}` });
    expect(out.__path__).toBe(`/var/log/pods/${ns}_${pod}_${UID}/${container}/*.log`);
    // Only this node's pods are discovered (Alloy's field selector): no label says which node tails it.
    expect(out.__host__).toBeUndefined();
  });

  test("a static pod's files are found under the uid of its config, not of its mirror", () => {
    const out = relabel(
      discovered({
        namespace: "kube-system",
        name: "kube-apiserver-node-2",
        uid: UID,
        container: "kube-apiserver",
        node: "node-2",
        controller: ["Node", "node-2"],
        annotations: { "kubernetes.io/config.mirror": "5e1c0a3f9b7d4e2a8c6b0d1f3e5a7c9b" },
      }),
      podLogRelabelling(),
    );
    expect(out?.__path__).toBe("/var/log/pods/kube-system_kube-apiserver-node-2_5e1c0a3f9b7d4e2a8c6b0d1f3e5a7c9b/kube-apiserver/*.log");
    // A node is not a workload: the pod keeps its own name.
    expect(out?.app).toBe("kube-apiserver-node-2");
    expect(out?.node).toBe("node-2");
  });

  test("a ReplicaSet name without a pod-template-hash is kept whole", () => {
    const out = relabel(
      discovered({ namespace: "shop", name: "web-db-x2k4q", uid: UID, container: "web", controller: ["ReplicaSet", "web-db"] }),
      podLogRelabelling(),
    );
    expect(out?.app).toBe("web-db");
  });

  test("produces exactly the stream labels the logs dashboard queries", () => {
    const dashboard = fs.readFileSync(path.join(__dirname, "..", "..", "dashboards", "logs", "logs.json"), "utf8");
    const out =
      relabel(discovered({ namespace: "shop", name: "debug", uid: UID, container: "shell", labels: { app: "x" } }), podLogRelabelling()) ??
      {};
    for (const label of ["namespace", "app"]) expect(dashboard).toMatch(new RegExp(`[{,]\\s*${label}=~`));
    expect(Object.keys(publicLabels(out)).sort()).toEqual(["app", "container", "job", "namespace", "node", "pod"]);
  });
});

describe("the rules themselves", () => {
  test("every relabel regex is a valid anchored RE2-style pattern and every rule writes a label", () => {
    for (const rule of podLogRelabelling()) {
      expect(() => new RegExp(`^(?:${rule.regex ?? "(.*)"})$`)).not.toThrow();
      expect(rule.regex ?? "").not.toMatch(/\(\?[=!<]/);
      expect(rule.target_label).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
    }
  });
});
