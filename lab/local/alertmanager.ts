/**
 * amtool of the deployed Alertmanager release (built by `npm run tools`) on rendered Alertmanager files: config
 * checks, routing tests and template rendering, each in a temporary directory
 * that holds the files exactly as the container mounts them.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Rendered } from "../../cli/render";
import { stackBinary } from "./binaries";
import { LOOPBACK } from "../ports";

/** Writes the files of the rendered `alertmanager` component to a new temporary directory; returns the config path. */
export function writeAlertmanagerFiles(rendered: Rendered, prefix = "am-"): { dir: string; config: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  let found = false;
  for (const [file, content] of rendered.files) {
    if (!file.startsWith("alertmanager/")) continue;
    if (content.startsWith("[secret]")) throw new Error(`${file} is redacted: render with secrets shown`);
    fs.writeFileSync(path.join(dir, path.basename(file)), content);
    found = true;
  }
  if (!found) throw new Error("the render has no alertmanager files");
  return { dir, config: path.join(dir, "alertmanager.yml") };
}

/** `amtool check-config`: the exit status and what it printed. */
export function checkConfig(config: string): { ok: boolean; output: string } {
  const r = spawnSync(stackBinary("amtool"), ["check-config", config], { encoding: "utf8", timeout: 30_000 });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** The receivers `amtool config routes test` resolves for a label set, in order. */
export function routeOf(config: string, labels: Record<string, string>): string[] {
  const out = execFileSync(
    stackBinary("amtool"),
    ["config", "routes", "test", `--config.file=${config}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)],
    { encoding: "utf8", timeout: 30_000, stdio: ["ignore", "pipe", "pipe"] },
  );
  return out
    .trim()
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
}

/** Renders `text` with the templates of `dir` and the given notification data (template.Data). */
export function renderTemplate(dir: string, text: string, data: object): string {
  const dataFile = path.join(dir, `data-${process.pid}-${Date.now()}.json`);
  fs.writeFileSync(dataFile, JSON.stringify(data));
  try {
    return execFileSync(
      stackBinary("amtool"),
      ["template", "render", `--template.glob=${path.join(dir, "*.tmpl")}`, `--template.text=${text}`, `--template.data=${dataFile}`],
      { encoding: "utf8", timeout: 30_000, stdio: ["ignore", "pipe", "pipe"] },
    );
  } finally {
    fs.rmSync(dataFile, { force: true });
  }
}

/**
 * The rendered Alertmanager args with only addresses and paths made local: the mesh on 127.0.0.1:`mesh`
 * with `peers` on 127.0.0.1, or, with `gossip`, where it says (a peer on an address of its own that
 * advertises another, a proxy's: test/e2e/support/gossip-proxy.ts).
 */
export function localAlertmanagerArgs(
  rendered: string[],
  local: {
    config: string;
    storage: string;
    web: number;
    mesh: number;
    peers: number[];
    gossip?: { listen: string; advertise: string; peers: string[] };
  },
): string[] {
  const gossip = local.gossip ?? {
    listen: `${LOOPBACK}:${local.mesh}`,
    advertise: `${LOOPBACK}:${local.mesh}`,
    peers: local.peers.map((p) => `${LOOPBACK}:${p}`),
  };
  const out: string[] = [];
  for (const arg of rendered) {
    const flag = arg.slice(0, arg.indexOf("=") < 0 ? arg.length : arg.indexOf("="));
    if (flag === "--config.file") out.push(`--config.file=${local.config}`);
    else if (flag === "--storage.path") out.push(`--storage.path=${local.storage}`);
    // The web config lives beside the config, as in the container.
    else if (flag === "--web.config.file") out.push(`--web.config.file=${path.join(path.dirname(local.config), path.basename(arg))}`);
    else if (flag === "--web.listen-address") out.push(`--web.listen-address=${LOOPBACK}:${local.web}`);
    // An empty listen address turns clustering off (one replica): it stays off.
    else if (arg === "--cluster.listen-address=") out.push(arg);
    else if (flag === "--cluster.listen-address") out.push(`--cluster.listen-address=${gossip.listen}`);
    else if (flag === "--cluster.advertise-address") out.push(`--cluster.advertise-address=${gossip.advertise}`);
    else if (flag !== "--cluster.peer") out.push(arg);
  }
  return [...out, ...gossip.peers.map((p) => `--cluster.peer=${p}`)];
}
