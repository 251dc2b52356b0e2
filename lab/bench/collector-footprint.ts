/**
 * The log collector's footprint, measured on the binary the stack deploys: the staging
 * stack's rendered config.alloy, pod discovery swapped for file discovery, tailing pod log files that grow at a steady rate and pushing to a real Loki,
 * all on 127.0.0.1. Samples the collector's resident memory and CPU time from /proc.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { cpuMillicores, quantityBytes } from "../../components/kit/units";
import { residentBytes } from "../processes/proc";

/** Anonymous resident memory of a process (RssAnon), in bytes. */
function anonymousBytes(pid: number): number {
  const m = /^RssAnon:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}
import { alloyRunArgs, localAlloyConfig, localLokiConfig } from "../local/logs";
import { LOOPBACK, freePorts } from "../ports";
import { ManagedProcess, stopAll } from "../processes/children";
import { sleep, waitFor } from "../processes/supervision";
import { httpGet } from "../local/http";
import { renderStack } from "../../cli/render-stack";
import { cpuSeconds } from "./sampling";
import { binPath } from "../tools/tools";

export interface CollectorFootprint {
  /** Lines per second written to the pod log files, all files together. */
  linesPerSecond: number;
  files: number;
  /** Median resident memory once steady (after the warm-up), and the highest seen. */
  steadyBytes: number;
  peakBytes: number;
  /** The highest anonymous resident memory (the heap and stacks: what reclaim cannot take back; the rest is the binary's mapped pages). */
  peakAnonBytes: number;
  /** CPU used over the measured period, in millicores. */
  millicores: number;
  /** The staging profile's limits for the collector's container. */
  limitBytes: number;
  limitMillicores: number;
}

/** A Kubernetes quantity the stack itself rendered; anything else is a bug worth stopping on. */
function parsed(value: number | undefined, text: string): number {
  if (value === undefined) throw new Error(`not a quantity: ${text}`);
  return value;
}

export async function measureCollector(
  opts: { files?: number; linesPerFilePerSecond?: number; warmupSeconds?: number; seconds?: number } = {},
): Promise<CollectorFootprint> {
  const files = opts.files ?? 50;
  const rate = opts.linesPerFilePerSecond ?? 20;
  const warmup = opts.warmupSeconds ?? 20;
  const seconds = opts.seconds ?? 40;
  const rendered = await renderStack({ stack: "staging", showSecrets: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "footprint-alloy-"));
  const processes: ManagedProcess[] = [];
  let writer: NodeJS.Timeout | undefined;
  try {
    const [lokiHttp, lokiGrpc, agentPort] = await freePorts(3);
    const lokiUrl = `http://${LOOPBACK}:${lokiHttp}`;
    const lokiConfig = path.join(tmp, "loki.yaml");
    fs.writeFileSync(
      lokiConfig,
      YAML.stringify(
        localLokiConfig(rendered.files.get("loki/loki.yaml") ?? "", path.join(tmp, "loki"), { http: lokiHttp, grpc: lokiGrpc }),
      ),
    );
    const loki = new ManagedProcess("loki", binPath("loki"), [`-config.file=${lokiConfig}`, "-target=all"]);
    processes.push(loki);
    await waitFor(
      "Loki ready",
      async () => ((await httpGet(`${lokiUrl}/ready`).catch(() => undefined))?.status === 200 ? true : undefined),
      90_000,
      500,
    );

    // The pods' files and what discovery would say of them.
    const podLogs = path.join(tmp, "pods");
    const node = "k3s-server";
    const targets = [];
    const logFiles: string[] = [];
    for (let i = 0; i < files; i++) {
      const [ns, pod, uid, container] = [
        "bench",
        `app-${i}-7d9c5b6f4-x2x7z`,
        `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
        `app-${i}`,
      ];
      const dir = path.join(podLogs, `${ns}_${pod}_${uid}`, container);
      fs.mkdirSync(dir, { recursive: true });
      logFiles.push(path.join(dir, "0.log"));
      targets.push({
        targets: [LOOPBACK],
        labels: {
          __meta_kubernetes_namespace: ns,
          __meta_kubernetes_pod_name: pod,
          __meta_kubernetes_pod_uid: uid,
          __meta_kubernetes_pod_container_name: container,
          __meta_kubernetes_pod_node_name: node,
          __meta_kubernetes_pod_label_app: `app-${i}`,
        },
      });
    }
    const targetsFile = path.join(tmp, "targets.json");
    fs.writeFileSync(targetsFile, JSON.stringify(targets));
    let n = 0;
    const tick = 100;
    writer = setInterval(() => {
      const at = new Date().toISOString().replace("Z", "000000Z");
      const perTick = Math.max(1, Math.round((rate * tick) / 1000));
      for (const file of logFiles) {
        let chunk = "";
        for (let k = 0; k < perTick; k++, n++)
          chunk += `${at} stdout F {"level":"${n % 20 ? "info" : "error"}","msg":"request served","n":${n},"path":"/cart"}\n`;
        fs.appendFileSync(file, chunk);
      }
    }, tick);

    const config = path.join(tmp, "config.alloy");
    fs.writeFileSync(
      config,
      localAlloyConfig(rendered.files.get("log-collector/config.alloy") ?? "", targetsFile, podLogs, `${lokiUrl}/loki/api/v1/push`),
    );
    const collector = new ManagedProcess("alloy", binPath("alloy"), alloyRunArgs(config, agentPort, path.join(tmp, "alloy-data")), {
      env: { HOSTNAME: node },
    });
    processes.push(collector);
    await sleep(warmup * 1000);
    if (!collector.alive || collector.pid === undefined) throw new Error(`alloy exited\n${collector.output()}`);
    const pid = collector.pid;
    const samples: number[] = [];
    const anon: number[] = [];
    const startCpu = cpuSeconds(pid);
    const started = Date.now();
    while (Date.now() - started < seconds * 1000) {
      samples.push(residentBytes(pid));
      anon.push(anonymousBytes(pid));
      await sleep(1000);
    }
    const millicores = ((cpuSeconds(pid) - startCpu) / ((Date.now() - started) / 1000)) * 1000;
    const limits = (
      rendered.kubernetes.find((o) => o.object.kind === "DaemonSet" && o.object.metadata.name === "alloy")?.object.spec as {
        template: { spec: { containers: Array<{ resources: { limits: { cpu: string; memory: string } } }> } };
      }
    ).template.spec.containers[0].resources.limits;
    const sorted = [...samples].sort((a, b) => a - b);
    return {
      linesPerSecond: files * rate,
      files,
      steadyBytes: sorted[Math.floor(sorted.length / 2)],
      peakBytes: sorted[sorted.length - 1],
      peakAnonBytes: Math.max(...anon),
      millicores,
      limitBytes: parsed(quantityBytes(limits.memory), limits.memory),
      limitMillicores: parsed(cpuMillicores(limits.cpu), limits.cpu),
    };
  } finally {
    if (writer) clearInterval(writer);
    await stopAll(processes);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
