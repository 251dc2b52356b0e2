/**
 * The local cluster's volumes, offline: what the provisioner makes for a claim and when
 * (lab/cluster/provisioner.ts), and the orders the cluster tier can run its files in
 * (test/cluster/sequencer.js). The cluster tier runs them against the real API server.
 */
import { Claim, Volume, pendingOn, servedClasses, toDelete, volumeFor } from "../../lab/cluster/provisioner";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ordered } = require("../cluster/sequencer.js") as { ordered: (paths: string[], order?: string) => string[] | undefined };

const CLASSES = servedClasses([
  { metadata: { name: "local-path" }, provisioner: "rancher.io/local-path", reclaimPolicy: "Delete" },
  { metadata: { name: "kept" }, provisioner: "rancher.io/local-path", reclaimPolicy: "Retain" },
  { metadata: { name: "ebs" }, provisioner: "ebs.csi.aws.com", reclaimPolicy: "Delete" },
]);

function claim(annotations: Record<string, string>, spec: Partial<Claim["spec"]> = {}, phase = "Pending"): Claim {
  return {
    metadata: { name: "data-loki-0", namespace: "monitoring", uid: "1234-abcd", annotations },
    spec: { storageClassName: "local-path", accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } }, ...spec },
    status: { phase },
  };
}
const handedOver = {
  "volume.kubernetes.io/storage-provisioner": "rancher.io/local-path",
  "volume.kubernetes.io/selected-node": "k3s-server",
};

describe("provisioner", () => {
  test("serves the classes of rancher.io/local-path only", () => {
    expect([...CLASSES.keys()]).toEqual(["local-path", "kept"]);
  });

  test("makes a volume only for a Pending claim handed to it and placed on a node (WaitForFirstConsumer)", () => {
    expect(pendingOn(claim(handedOver), CLASSES)).toBe("k3s-server");
    // Not yet scheduled, not handed over, another provisioner's class, already bound.
    expect(pendingOn(claim({ "volume.kubernetes.io/storage-provisioner": "rancher.io/local-path" }), CLASSES)).toBeUndefined();
    expect(pendingOn(claim({ "volume.kubernetes.io/selected-node": "k3s-server" }), CLASSES)).toBeUndefined();
    expect(pendingOn(claim(handedOver, { storageClassName: "ebs" }), CLASSES)).toBeUndefined();
    expect(pendingOn(claim(handedOver, { volumeName: "pvc-1" }), CLASSES)).toBeUndefined();
    expect(pendingOn(claim(handedOver, {}, "Bound"), CLASSES)).toBeUndefined();
  });

  test("names, sizes, places and binds the volume as local-path does", () => {
    const volume = volumeFor(claim(handedOver), "k3s-server", CLASSES.get("kept")!, "/c/volumes");
    expect(volume.metadata).toEqual({
      name: "pvc-1234-abcd",
      annotations: { "pv.kubernetes.io/provisioned-by": "rancher.io/local-path", "local.path.provisioner/selected-node": "k3s-server" },
    });
    expect(volume.spec).toEqual({
      capacity: { storage: "10Gi" },
      accessModes: ["ReadWriteOnce"],
      volumeMode: "Filesystem",
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: "kept",
      claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: "monitoring", name: "data-loki-0", uid: "1234-abcd" },
      hostPath: { path: "/c/volumes/pvc-1234-abcd_monitoring_data-loki-0", type: "DirectoryOrCreate" },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["k3s-server"] }] }],
        },
      },
    });
  });

  test("deletes its own Released volumes of policy Delete; keeps Retain, Bound and others' volumes", () => {
    const volume = (policy: string, phase: string, by = "rancher.io/local-path"): Volume => ({
      metadata: { name: "pvc-1", annotations: { "pv.kubernetes.io/provisioned-by": by } },
      spec: { persistentVolumeReclaimPolicy: policy },
      status: { phase },
    });
    expect(toDelete(volume("Delete", "Released"))).toBe(true);
    expect(toDelete(volume("Retain", "Released"))).toBe(false);
    expect(toDelete(volume("Delete", "Bound"))).toBe(false);
    expect(toDelete(volume("Delete", "Released", "ebs.csi.aws.com"))).toBe(false);
  });
});

describe("TIER_ORDER", () => {
  const files = ["/r/test/cluster/b.test.ts", "/r/test/cluster/a.test.ts", "/r/test/cluster/d.test.ts", "/r/test/cluster/c.test.ts"];

  test("unset leaves jest's order; name and reverse sort by path", () => {
    expect(ordered(files, undefined)).toBeUndefined();
    expect(ordered(files, "")).toBeUndefined();
    expect(ordered(files, "name")?.map((f) => f.slice(-9))).toEqual(["a.test.ts", "b.test.ts", "c.test.ts", "d.test.ts"]);
    expect(ordered(files, "reverse")?.map((f) => f.slice(-9))).toEqual(["d.test.ts", "c.test.ts", "b.test.ts", "a.test.ts"]);
  });

  test("shuffle:<seed> is a permutation, the same for the same seed whatever order jest found the files in", () => {
    const once = ordered(files, "shuffle:7");
    expect([...(once ?? [])].sort()).toEqual([...files].sort());
    expect(ordered([...files].reverse(), "shuffle:7")).toEqual(once);
    const seeds = new Set([1, 2, 3, 4, 5, 6].map((seed) => JSON.stringify(ordered(files, `shuffle:${seed}`))));
    expect(seeds.size).toBeGreaterThan(1);
  });

  test("anything else is refused, naming what is allowed", () => {
    expect(() => ordered(files, "random")).toThrow(
      'TIER_ORDER must be unset, "name", "reverse" or "shuffle:<seed>" (a whole number), got "random"',
    );
  });
});
