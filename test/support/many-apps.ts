/**
 * A stack of a thousand apps, rendered and laid out as the Prometheus container sees it (the
 * ConfigMaps' projected directories), for the scale tests (test/scenarios/scale.test.ts, and
 * test/e2e/scale.test.ts, which runs promtool and Prometheus on it).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROMETHEUS_PATHS } from "../../components/prometheus/args";
import type { Rendered } from "../../cli/render";
import { manyApps } from "../../lab/local/many-apps";
import { objectOf, renderConfig } from "./render";

export const APPS = 1000;

interface PodSpec {
  automountServiceAccountToken?: boolean;
  containers: Array<{ name: string; volumeMounts: Array<{ name: string; mountPath: string }> }>;
  volumes: Array<{
    name: string;
    configMap?: { name: string };
    secret?: { secretName: string };
    projected?: { sources: Array<{ configMap?: { name: string } }> };
  }>;
}

/** Every file the prometheus container sees, written under `root` from its mounts (projected ConfigMaps and Secrets included). */
export function layOut(r: Rendered, dir: string): void {
  const pod = (objectOf(r, "StatefulSet", "prometheus").spec as { template: { spec: PodSpec } }).template.spec;
  const container = pod.containers.find((c) => c.name === "prometheus");
  for (const mount of container?.volumeMounts ?? []) {
    const volume = pod.volumes.find((v) => v.name === mount.name);
    const maps = volume?.configMap ? [volume.configMap.name] : (volume?.projected?.sources ?? []).flatMap((s) => s.configMap?.name ?? []);
    fs.mkdirSync(path.join(dir, mount.mountPath), { recursive: true });
    for (const name of maps) {
      for (const [key, content] of Object.entries(objectOf(r, "ConfigMap", name).data as Record<string, string>)) {
        fs.writeFileSync(path.join(dir, mount.mountPath, key), content);
      }
    }
    if (volume?.secret) {
      const secret = objectOf(r, "Secret", volume.secret.secretName) as {
        stringData?: Record<string, string>;
        data?: Record<string, string>;
      };
      const files = {
        ...secret.stringData,
        ...Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString()])),
      };
      for (const [key, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, mount.mountPath, key), content);
    }
  }
  const sa = path.join(dir, PROMETHEUS_PATHS.serviceAccountDir);
  fs.mkdirSync(sa, { recursive: true });
  for (const file of ["token", "ca.crt", "namespace"]) fs.writeFileSync(path.join(sa, file), `${file}\n`);
}

/**
 * The staging stack with APPS apps, its rules evaluated every second (so that a Prometheus
 * evaluates each group within a test), laid out under a new directory `root`.
 */
export async function renderManyApps(): Promise<{ rendered: Rendered; root: string }> {
  // Watching the cluster too (watch.cluster): every built-in rule group is evaluated, and node-exporter's scrape credentials mounted.
  const rendered = await renderConfig("staging", {
    apps: manyApps(APPS),
    prometheus: { evaluationInterval: "1s" },
    watch: { cluster: true },
  });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "scale-"));
  layOut(rendered, root);
  return { rendered, root };
}
