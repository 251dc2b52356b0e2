/**
 * Exports a dashboard saved in Grafana's UI back into the repository (`npm run
 * dashboard:export`): fetches it through Grafana's HTTP API (GET /api/dashboards/uid/<uid>),
 * removes what belongs to one Grafana instance (the database id, the version counter, the
 * iteration, export cruft, the datasource variables' current selection) and points every
 * datasource reference at what the provisioned dashboards use: the `datasource` variable for
 * Prometheus, `loki_datasource` for Loki, the fixed uid `alertmanager`. The file is written as
 * the repository's dashboards are: keys sorted, two-space indentation, a final newline, so that
 * an export of an unchanged dashboard gives no diff.
 *
 * Credentials come from the environment, never the command line (which other users of the
 * machine can read in the process list): GRAFANA_TOKEN (a service account token), or
 * GRAFANA_USER and GRAFANA_PASSWORD (basic auth).
 */
import * as path from "path";
import { canonicalDashboardText } from "./dashboards/files";
import { clearDatasourceSelections, dropInstanceFields, repositoryTags } from "./dashboards/repository-form";

export const EXPORT_USAGE =
  "usage: GRAFANA_TOKEN=<token> npm run dashboard:export -- --url <grafana url> --uid <dashboard uid> --out <file.json>\n" +
  "       (or GRAFANA_USER and GRAFANA_PASSWORD instead of GRAFANA_TOKEN)";

export interface ExportArgs {
  url: string;
  uid: string;
  out: string;
}

/** Flags that would put a secret on the command line. */
const SECRET_FLAGS = ["--token", "--password", "--user", "--auth", "--api-key"];

/** The command line's options; throws with the usage on anything else. */
export function parseExportArgs(argv: string[]): ExportArgs {
  const found: Partial<ExportArgs> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (SECRET_FLAGS.includes(flag)) {
      throw new Error(
        `${flag} is not taken: credentials on the command line show in the process list and the shell history. ` +
          `Set GRAFANA_TOKEN, or GRAFANA_USER and GRAFANA_PASSWORD, in the environment\n${EXPORT_USAGE}`,
      );
    }
    const key = { "--url": "url", "--uid": "uid", "--out": "out" }[flag] as keyof ExportArgs | undefined;
    if (key === undefined) throw new Error(`unknown argument ${arg}\n${EXPORT_USAGE}`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === "") throw new Error(`${flag} needs a value\n${EXPORT_USAGE}`);
    found[key] = value;
  }
  const missing = (["url", "uid", "out"] as const).filter((k) => found[k] === undefined);
  if (missing.length > 0) throw new Error(`missing ${missing.map((k) => `--${k}`).join(", ")}\n${EXPORT_USAGE}`);
  const url = found.url as string;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--url must be Grafana's http:// or https:// URL (got ${JSON.stringify(url)})`);
  }
  if (!/^https?:$/.test(parsed.protocol)) throw new Error(`--url must be Grafana's http:// or https:// URL (got ${JSON.stringify(url)})`);
  if (parsed.username || parsed.password) {
    throw new Error("--url must not hold credentials (user:password@): set GRAFANA_USER and GRAFANA_PASSWORD in the environment");
  }
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(found.uid as string)) {
    throw new Error(`--uid must be a dashboard uid: at most 40 of letters, digits, - and _ (got ${JSON.stringify(found.uid)})`);
  }
  if (!(found.out as string).endsWith(".json")) throw new Error(`--out must name a .json file (got ${JSON.stringify(found.out)})`);
  return found as ExportArgs;
}

/** The Authorization header from the environment: a bearer token, or basic auth; an error names what is missing. */
export function authorizationFrom(env: NodeJS.ProcessEnv): string {
  const token = env.GRAFANA_TOKEN;
  const user = env.GRAFANA_USER;
  const password = env.GRAFANA_PASSWORD;
  if (token && (user || password)) throw new Error("set GRAFANA_TOKEN or GRAFANA_USER and GRAFANA_PASSWORD, not both");
  if (token) return `Bearer ${token}`;
  if (user && password) return `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
  if (user || password)
    throw new Error(`GRAFANA_${user ? "PASSWORD" : "USER"} is not set: basic auth needs both GRAFANA_USER and GRAFANA_PASSWORD`);
  throw new Error("no credentials: set GRAFANA_TOKEN (a service account token), or GRAFANA_USER and GRAFANA_PASSWORD");
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

/** GET /api/dashboards/uid/<uid>; resolves with the API's answer ({ dashboard, meta }), fails with Grafana's reason. */
export async function fetchDashboard(baseUrl: string, uid: string, authorization: string, timeoutMs = 15_000): Promise<JsonObject> {
  const url = `${baseUrl.replace(/\/+$/, "")}/api/dashboards/uid/${encodeURIComponent(uid)}`;
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { Authorization: authorization, Accept: "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new Error(`GET ${url} failed: ${(err as Error).message}`);
  }
  const body = await res.text();
  if (res.status === 401 || res.status === 403) {
    throw new Error(`GET ${url}: HTTP ${res.status}: Grafana refused the credentials (a Viewer token or user is enough)`);
  }
  if (res.status === 404) throw new Error(`GET ${url}: HTTP 404: Grafana has no dashboard with uid ${uid}`);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}: ${body.slice(0, 200)}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error(`GET ${url}: the answer is not JSON; is --url Grafana's address?`);
  }
  if (!isObject(parsed) || !isObject(parsed.dashboard)) throw new Error(`GET ${url}: the answer has no "dashboard" object`);
  return parsed;
}

/** How the provisioned dashboards reference each datasource the stack provisions (see components/grafana/). */
export const DATASOURCE_REFERENCES: Readonly<Record<string, { uid: string; variable?: { name: string; label: string } }>> = {
  prometheus: { uid: "${datasource}", variable: { name: "datasource", label: "Prometheus" } },
  loki: { uid: "${loki_datasource}", variable: { name: "loki_datasource", label: "Loki" } },
  alertmanager: { uid: "alertmanager" },
};
/** Datasource names Grafana's older dashboards reference as plain strings: the provisioned ones' names. */
const DATASOURCE_NAMES: Readonly<Record<string, string>> = { Prometheus: "prometheus", Loki: "loki", Alertmanager: "alertmanager" };
/** References that are not a datasource of the instance: Grafana's own, mixed, dashboard, and variables. */
const SPECIAL_UIDS = /^(-- .* --|grafana|\$\{?\w+(:\w+)?\}?)$/;

export interface CleanResult {
  dashboard: JsonObject;
  /** What the user should look at: datasources the stack does not provision, a uid the repository's checks refuse, ... */
  warnings: string[];
}

/** The dashboard of an API answer, ready for dashboards/<folder>/: see the module comment. Pure. */
export function cleanDashboard(answer: Record<string, unknown>, opts: { folder?: string } = {}): CleanResult {
  const warnings: string[] = [];
  const source = answer.dashboard as JsonObject;
  const dashboard = structuredClone(source);
  dropInstanceFields(dashboard);

  const meta: Record<string, unknown> = isObject(answer.meta) ? answer.meta : {};
  if (meta.provisioned === true) {
    warnings.push(
      `the dashboard is provisioned${typeof meta.provisionedExternalId === "string" ? ` from ${meta.provisionedExternalId}` : ""}: ` +
        "its file in the repository is the original; the export is what Grafana serves",
    );
  }

  const used = new Set<string>();
  const unknown = new Set<string>();
  const reference = (ref: Json): Json => {
    if (typeof ref === "string") {
      const type = DATASOURCE_NAMES[ref];
      if (type) {
        used.add(type);
        return { type, uid: DATASOURCE_REFERENCES[type].uid };
      }
      if (!SPECIAL_UIDS.test(ref)) unknown.add(ref);
      return ref;
    }
    if (!isObject(ref) || typeof ref.uid !== "string" || SPECIAL_UIDS.test(ref.uid)) {
      if (
        isObject(ref) &&
        typeof ref.uid === "string" &&
        typeof ref.type === "string" &&
        DATASOURCE_REFERENCES[ref.type]?.uid === ref.uid
      ) {
        used.add(ref.type);
      }
      return ref;
    }
    const type = typeof ref.type === "string" ? ref.type : undefined;
    if (type && DATASOURCE_REFERENCES[type]) {
      used.add(type);
      return { ...ref, uid: DATASOURCE_REFERENCES[type].uid };
    }
    unknown.add(`${type ?? "unknown type"} (uid ${ref.uid})`);
    return ref;
  };
  const walk = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(walk);
    if (!isObject(node)) return node;
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) out[key] = key === "datasource" ? reference(value) : walk(value);
    return out;
  };
  const walked = walk(dashboard) as JsonObject;

  // The datasource variables: every one the references need, with no instance's selection in it.
  const templating = isObject(walked.templating) ? walked.templating : { list: [] };
  const list = Array.isArray(templating.list) ? templating.list.filter(isObject) : [];
  clearDatasourceSelections(list);
  for (const type of [...used].sort()) {
    const wanted = DATASOURCE_REFERENCES[type].variable;
    if (!wanted || list.some((v) => v.name === wanted.name)) continue;
    list.push({
      current: {},
      hide: 0,
      includeAll: false,
      label: wanted.label,
      multi: false,
      name: wanted.name,
      options: [],
      query: type,
      refresh: 1,
      regex: "",
      type: "datasource",
    });
  }
  walked.templating = { ...templating, list };

  walked.tags = repositoryTags(walked, opts.folder);

  if (unknown.size > 0) {
    warnings.push(`datasources the stack does not provision, left as they are: ${[...unknown].sort().join(", ")}`);
  }
  const uid = typeof walked.uid === "string" ? walked.uid : "";
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(uid) || uid.length > 40) {
    warnings.push(
      `uid "${uid}" is not short kebab-case, which the repository's dashboards use: give it one (e.g. "team-latency") before committing`,
    );
  }
  return { dashboard: walked, warnings };
}

/** The text of a dashboard file as the repository writes them: keys sorted at every level, two-space indentation, final newline. */
export function dashboardFileText(dashboard: Json): string {
  return canonicalDashboardText(dashboard);
}

/** The Grafana folder a file goes into: its directory's name when it lies in a `dashboards/<folder>/` directory. */
export function folderOf(file: string): string | undefined {
  const dir = path.dirname(path.resolve(file));
  return path.basename(path.dirname(dir)) === "dashboards" ? path.basename(dir) : undefined;
}

/** The whole command: fetch, clean, write. Returns what it wrote and the warnings to show. */
export async function exportDashboard(
  args: ExportArgs,
  env: NodeJS.ProcessEnv,
  write: (file: string, text: string) => void,
): Promise<{ file: string; title: string; warnings: string[] }> {
  const answer = await fetchDashboard(args.url, args.uid, authorizationFrom(env));
  const folder = folderOf(args.out);
  const { dashboard, warnings } = cleanDashboard(answer, folder ? { folder } : {});
  write(args.out, dashboardFileText(dashboard));
  return { file: args.out, title: typeof dashboard.title === "string" ? dashboard.title : args.uid, warnings };
}
