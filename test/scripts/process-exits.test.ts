/**
 * A process that ends early is named, with how it ended and its last lines, whoever started it:
 * the local run's children (lab/processes/children.ts) and the local cluster's detached
 * components (lab/processes/detached.ts) share one wait (lab/processes/supervision.ts). And a
 * lock left by an aborted run is cleared when its holder has ended, refused with the command that
 * clears it while its holder still runs. Real short-lived processes, no cluster.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DetachedProcess, startDetached } from "../../lab/processes/detached";
import { identityOf, inotifyHeldBy, inotifyInstances, ownerState } from "../../lab/processes/proc";
import { withLock } from "../../lab/processes/lock";
import { StateDir } from "../../lab/cluster/paths";
import { LocalRun, ManagedProcess, exhausted } from "../../lab/processes/children";
import { describeExit, sleep, waitFor } from "../../lab/processes/supervision";
import { scaledMs } from "../support/time-scale";

const NODE = process.execPath;
const never = () => undefined;
let scratch: string;

beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "process-exits-"));
});
afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe("a local run's process", () => {
  test("that exits with a code fails the wait at once, naming binary, code and last lines", async () => {
    const proc = new ManagedProcess("exporter", NODE, ["-e", "console.log('listening'); console.error('bad flag --x'); process.exit(3)"]);
    // At once: the wait ends with the exit's error, not its deadline's ("timed out after …"), however long the
    // machine takes to start the process (a CI run's starved quick tier took 13.6 s, against a fixed 10 s bound here).
    const err = (await waitFor("exporter to answer", never, scaledMs(30_000), 50, [proc]).catch((e: Error) => e)) as Error;
    expect(err.message).not.toMatch(/timed out/);
    expect(err.message).toContain(`exporter (${NODE}) exited with code 3 while waiting for exporter to answer`);
    expect(err.message).toContain("listening");
    expect(err.message).toContain("bad flag --x");
  });

  test("that is killed by a signal says which", async () => {
    const proc = new ManagedProcess("loki", NODE, ["-e", "console.log('started'); process.kill(process.pid, 'SIGKILL')"]);
    await expect(waitFor("loki /ready", never, scaledMs(30_000), 50, [proc])).rejects.toThrow(
      `loki (${NODE}) was killed by SIGKILL while waiting for loki /ready`,
    );
    expect(proc.output()).toMatch(/^--- loki: loki \(.*\) was killed by SIGKILL \(last 40 lines\) ---\nstarted$/);
  });

  test("that is stopped on purpose is no early exit", async () => {
    const proc = new ManagedProcess("server", NODE, ["-e", "setInterval(() => {}, 1000)"]);
    await proc.stop(2000);
    expect(proc.exitReport()).toBeUndefined();
    expect(proc.ended()).toContain("was killed by SIGTERM");
  });
});

describe("a process out of a system resource", () => {
  // Prometheus 3's file discovery when every inotify instance of the user is held (a CI run's
  // node-restart test, 2026-11-26: five scrape pools never discovered, the wait timed out).
  const refused =
    'time=2026-11-26T12:25:09.296Z level=ERROR source=file.go:242 msg="Error adding file watcher" component="discovery manager scrape" discovery=file config=prometheus err="couldn\'t initialize inotify: too many open files"';

  test("is told apart: an inotify instance refused, descriptors run out, or neither", () => {
    expect(exhausted(refused)).toBe("inotify");
    expect(exhausted('level=error msg="accept tcp 127.0.0.1:9090: accept4: too many open files"')).toBe("descriptors");
    expect(exhausted('level=error msg="open /data/chunks: no such file or directory"')).toBeUndefined();
  });

  test("is named at the head of the run's diagnostics, with the limit, however much it printed after", async () => {
    const run = new LocalRun(60_000);
    const script = `console.error(${JSON.stringify(refused)}); for (let i = 0; i < 500; i++) console.log("scrape " + i); setInterval(() => {}, 1000)`;
    const proc = run.start("prometheus", NODE, ["-e", script]);
    try {
      await waitFor("its 500 lines", () => (proc.output(1).includes("scrape 499") ? true : undefined), 30_000, 20);
      const text = run.diagnostics(5);
      expect(proc.output(200)).not.toContain("inotify");
      const { limit } = inotifyInstances();
      expect(text.split("\n")[0]).toBe(`out of a system resource: prometheus: ${refused}`);
      expect(text).toMatch(
        new RegExp(
          `^inotify: this machine's processes hold \\d+ instances, each user may hold ${limit ?? "\\(unknown\\)"} \\(fs\\.inotify\\.max_user_instances\\)`,
          "m",
        ),
      );
    } finally {
      await run.stop(2000);
    }
  });

  test("the inotify instances a process holds are counted: a child's watchers share one", async () => {
    const script = `const fs = require("fs"); fs.watch(${JSON.stringify(scratch)}); fs.watch(${JSON.stringify(os.tmpdir())}); console.log("watching"); setInterval(() => {}, 1000)`;
    const idle = new ManagedProcess("idle", NODE, ["-e", "console.log('idle'); setInterval(() => {}, 1000)"]);
    const watching = new ManagedProcess("watching", NODE, ["-e", script]);
    try {
      // Each one's last line, below the header that names it.
      const said = (p: ManagedProcess) => p.output(1).split("\n")[1];
      await waitFor("both started", () => (said(idle) === "idle" && said(watching) === "watching" ? true : undefined), 30_000, 20);
      expect(inotifyHeldBy(idle.pid ?? 0)).toBe(0);
      expect(inotifyHeldBy(watching.pid ?? 0)).toBe(1);
      expect(inotifyInstances().held).toBeGreaterThanOrEqual(1);
    } finally {
      await Promise.all([idle.stop(2000), watching.stop(2000)]);
    }
  });
});

describe("a local cluster's detached component", () => {
  async function detached(name: string, script: string): Promise<DetachedProcess> {
    const state = new StateDir(path.join(scratch, ".cluster"));
    // The state directory on its command line: how the cluster knows the process is its own.
    const record = await startDetached(state, name, NODE, ["-e", script, state.root], { ttlSeconds: 60 });
    return new DetachedProcess(state, name, record.pid, NODE);
  }

  test("that exits with a code is named with it and its log's last lines, from the status its wrapper recorded", async () => {
    const proc = await detached("etcd", "console.log('member started'); console.error('fatal: data dir locked'); process.exit(3)");
    const err = (await waitFor("etcd to be healthy", never, 30_000, 50, [proc]).catch((e: Error) => e)) as Error;
    expect(err.message).toContain(`etcd (${NODE}) exited with code 3 while waiting for etcd to be healthy`);
    expect(err.message).toContain("fatal: data dir locked");
  });

  test("that is gone while its wrapper has yet to record the status is not reported until the wrapper ends", async () => {
    // A pid that is gone (a child that has ended), and in place of the wrapper's sh a process whose command
    // line names the exit file, as the wrapper's script does: on a busy machine the moment between the two.
    const state = new StateDir(path.join(scratch, ".cluster"));
    const gone = spawn(NODE, ["-e", "0", state.root]);
    await new Promise((r) => gone.once("exit", r));
    const wrapper = spawn("sh", ["-c", "sleep 30", state.exitFile("etcd")]);
    const proc = new DetachedProcess(state, "etcd", gone.pid as number, NODE);
    try {
      await sleep(200);
      expect(proc.exitReport()).toBeUndefined();
    } finally {
      wrapper.kill("SIGKILL");
      await new Promise((r) => wrapper.once("exit", r));
    }
    expect(proc.exitReport()).toBe(`etcd (${NODE}, pid ${gone.pid}) is gone; its exit status was not recorded`);
  });

  test("that is killed by a signal says which", async () => {
    const proc = await detached("kwok", "console.log('kwok up'); process.kill(process.pid, 'SIGKILL')");
    await waitFor("kwok to end", () => proc.exitReport(), 10_000, 50);
    await waitFor("its status", () => (/SIGKILL/.test(proc.exitReport() ?? "") ? true : undefined), 5000, 50);
    expect(proc.exitReport()).toBe(`kwok (${NODE}) was killed by SIGKILL`);
    expect(proc.output()).toContain("kwok up");
  });
});

test("timeout's own exit status is told as the time limit passing", () => {
  expect(describeExit("kube-apiserver", "/b/kube-apiserver", 124)).toBe(
    "kube-apiserver (/b/kube-apiserver) exited with code 124: its time limit passed (coreutils timeout stopped it)",
  );
});

describe("a lock left by an aborted run", () => {
  const lockOf = () => path.join(scratch, ".cluster.lock");

  test("whose holder has ended is cleared, and says so", async () => {
    const gone = spawn(NODE, ["-e", "0"]);
    const pid = gone.pid as number;
    await new Promise((r) => gone.once("exit", r));
    fs.writeFileSync(lockOf(), JSON.stringify({ pid, startTime: "1", command: "jest --config test/cluster/jest.config.js" }));
    const said: string[] = [];
    expect(await withLock(lockOf(), async () => "ran", { log: (m) => said.push(m), timeoutMs: 1000 })).toBe("ran");
    expect(said).toEqual([
      `removed the stale lock ${lockOf()}: pid ${pid} (jest --config test/cluster/jest.config.js) no longer runs (an aborted run)`,
    ]);
    expect(fs.existsSync(lockOf())).toBe(false);
  });

  test("whose holder still runs is refused with the command that clears it", async () => {
    const alive = spawn("sleep", ["30"]);
    try {
      await sleep(100);
      fs.writeFileSync(lockOf(), JSON.stringify(identityOf(alive.pid as number)));
      await expect(withLock(lockOf(), async () => "ran", { timeoutMs: 500 })).rejects.toThrow(
        `is held by pid ${alive.pid} (sleep 30), still running: another cluster command or test run of this checkout. ` +
          `Wait for it to end; if it is stuck, clear it with: kill ${alive.pid} && npm run cluster -- down`,
      );
      expect(fs.existsSync(lockOf())).toBe(true);
    } finally {
      alive.kill("SIGKILL");
    }
  });

  test("a cluster's owner: this process, one that runs, one that has ended (its pid reused or not)", async () => {
    expect(ownerState(undefined)).toBe("none");
    expect(ownerState(identityOf())).toBe("self");
    const alive = spawn("sleep", ["30"]);
    try {
      await sleep(100);
      const id = identityOf(alive.pid as number);
      expect(ownerState(id)).toBe("running");
      // The same pid with another start time is another process: the owner has ended.
      expect(ownerState({ ...id, startTime: "1" })).toBe("ended");
    } finally {
      alive.kill("SIGKILL");
    }
  });
});
