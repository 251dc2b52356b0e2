/**
 * The deployed release of Alertmanager run on a rendered stack, for the end-to-end tests of its
 * notifications: the rendered files in a temporary directory (alertmanager.yml, optionally changed
 * by the test first: an API host the stack fixes pointed at a sink), the rendered container args
 * with only addresses and paths made local, a wait until its API answers, and the directories
 * removed after the run has stopped it.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import type { Rendered } from "../../../cli/render";
import { localAlertmanagerArgs, writeAlertmanagerFiles } from "../../../lab/local/alertmanager";
import { stackBinary } from "../../../lab/local/binaries";
import { httpGetJson, postJson } from "../../../lab/local/http";
import { LOOPBACK, freePort } from "../../../lab/ports";
import { LocalRun, ManagedProcess } from "../../../lab/processes/children";
import { objectOf } from "../../support/render";

/** alertmanager.yml as YAML parses it: the test may change it before Alertmanager reads it. */
export type AlertmanagerYml = Record<string, unknown> & {
  receivers?: Array<{ name: string } & Record<string, unknown>>;
};

/** A running Alertmanager of a rendered stack. */
export interface RunningAlertmanager {
  /** Its API and UI: `http://127.0.0.1:<port>`. */
  url: string;
  /** The directory of its files, as the container mounts them. */
  dir: string;
  /** Its alertmanager.yml. */
  config: string;
  /** alertmanager.yml as it runs (after `edit`). */
  yml: AlertmanagerYml;
  process: ManagedProcess;
  /** Posts alerts to its API as Prometheus does; resolves with the status. */
  post(alerts: unknown[]): Promise<number>;
}

/**
 * Alertmanager for the enclosing describe block: `start` runs it on a rendered stack (in beforeAll);
 * its directories are removed in an afterAll registered here, after the run's own (declare the
 * run first: `localRun()` then `renderedAlertmanager(run)`), once nothing writes to them.
 */
export function renderedAlertmanager(run: LocalRun, prefix: string) {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    /**
     * Writes the rendered files, lets `edit` change alertmanager.yml, starts Alertmanager with the
     * rendered args and waits until it answers (`extra`: the caller's state, shown if it never does).
     */
    async start(
      rendered: Rendered,
      opts: { edit?: (yml: AlertmanagerYml) => void; extra?: () => string } = {},
    ): Promise<RunningAlertmanager> {
      const { dir, config } = writeAlertmanagerFiles(rendered, `${prefix}-am-`);
      dirs.push(dir);
      const yml = YAML.parse(fs.readFileSync(config, "utf8")) as AlertmanagerYml;
      if (opts.edit) {
        opts.edit(yml);
        fs.writeFileSync(config, YAML.stringify(yml));
      }
      const storage = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-data-`));
      dirs.push(storage);
      const statefulSet = objectOf(rendered, "StatefulSet", "alertmanager").spec as {
        template: { spec: { containers: Array<{ name: string; args: string[] }> } };
      };
      const renderedArgs = statefulSet.template.spec.containers.find((c) => c.name === "alertmanager")?.args ?? [];
      const web = await freePort();
      const proc = run.start(
        "alertmanager",
        stackBinary("alertmanager"),
        localAlertmanagerArgs(renderedArgs, { config, storage, web, mesh: 0, peers: [] }),
      );
      const url = `http://${LOOPBACK}:${web}`;
      await run.waitFor(
        "Alertmanager to be ready",
        async () => (await httpGetJson<object>(`${url}/api/v2/status`).catch(() => undefined)) ?? undefined,
        30_000,
        undefined,
        opts.extra,
      );
      return {
        url,
        dir,
        config,
        yml,
        process: proc,
        post: async (alerts) => (await postJson(`${url}/api/v2/alerts`, alerts)).status,
      };
    },
  };
}

/** The first integration of a kind (`pagerduty_configs`) of a receiver of alertmanager.yml, to read or change. */
export function integrationOf(yml: AlertmanagerYml, receiver: string, kind: string): Record<string, unknown> {
  const found = (yml.receivers?.find((r) => r.name === receiver)?.[kind] as Array<Record<string, unknown>> | undefined)?.[0];
  if (!found) throw new Error(`alertmanager.yml has no ${kind} for receiver ${receiver}`);
  return found;
}
