/**
 * `npm run dashboard:import`: a community dashboard (a file exported "for sharing externally", or
 * grafana.com's download of a dashboard id) into the team's directory,
 * `<team>/dashboards/<folder>/<name>.json`, with its datasources mapped onto the stack's
 * (cli/dashboards/community.ts) and written as the repository writes dashboards
 * (cli/dashboards/repository-form.ts), so that `npm run check` takes it.
 *
 * Exit codes: 0 written, 1 refused (what cannot be mapped, a clash, an existing file, a failed
 * download), 2 bad usage.
 */
import * as fs from "fs";
import * as path from "path";
import {
  CONFIGMAP_DATA_BUDGET,
  DEFAULT_DASHBOARDS_DIR,
  DashboardFile,
  dashboardEntryBytes,
  dashboardFolderProblem,
  dashboardKey,
  isDashboardFileName,
  readDashboards,
} from "../components/grafana/dashboards";
import { DASHBOARD_UID, TEAM_CONTENT_DEFAULT } from "../preflight/team-content";
import { datasourceProblems, queryProblems } from "./dashboards/checks";
import { ImportRefused, dashboardOf, mapCommunityDashboard } from "./dashboards/community";
import { JsonObject, asString, canonicalDashboardText } from "./dashboards/files";
import { repositoryTags } from "./dashboards/repository-form";

export { ImportRefused } from "./dashboards/community";

export const IMPORT_USAGE =
  "usage: npm run dashboard:import -- <file.json> [--folder <name>] [--name <file-name>] [--uid <uid>] [--force] [--team <directory>]\n" +
  "       npm run dashboard:import -- --id <grafana.com dashboard id> [--revision <n>] [same options]";

/** The folder imported dashboards go into when --folder is not given. */
export const DEFAULT_IMPORT_FOLDER = "imported";
/** grafana.com, whose API serves each dashboard revision's JSON; GRAFANA_COM_URL stands in another (a test's loopback server). */
export const GRAFANA_COM_URL = "https://grafana.com";

/** A command line the command does not take: exit 2. */
export class UsageError extends Error {}

export interface ImportArgs {
  file?: string;
  id?: number;
  revision?: number;
  folder: string;
  name?: string;
  uid?: string;
  force: boolean;
  /** The team's directory (the stack's `teamContent`), relative to the project. */
  team: string;
}

const VALUE_FLAGS = {
  "--id": "id",
  "--revision": "revision",
  "--folder": "folder",
  "--name": "name",
  "--uid": "uid",
  "--team": "team",
} as const;

/** The command line's options; throws UsageError with the usage on anything else. */
export function parseImportArgs(argv: string[]): ImportArgs {
  const found: Record<string, string> = {};
  const files: string[] = [];
  let force = false;
  const usage = (message: string) => new UsageError(`${message}\n${IMPORT_USAGE}`);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--force") {
      force = true;
      continue;
    }
    if (!arg.startsWith("-")) {
      files.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const key = VALUE_FLAGS[flag as keyof typeof VALUE_FLAGS];
    if (key === undefined) throw usage(`unknown argument ${arg}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === "" || (eq < 0 && value.startsWith("--"))) throw usage(`${flag} needs a value`);
    if (key in found) throw usage(`${flag} is given twice`);
    found[key] = value;
  }
  if (files.length > 1) throw usage(`one dashboard at a time (got ${files.join(", ")})`);
  if ((files.length === 1) === (found.id !== undefined)) throw usage("give a dashboard file or --id <grafana.com id>, one of them");
  if (found.revision !== undefined && found.id === undefined) throw usage("--revision goes with --id");
  const positive = (flag: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    if (!/^[1-9]\d{0,9}$/.test(value)) throw usage(`${flag} must be a positive whole number (got ${JSON.stringify(value)})`);
    return Number(value);
  };
  const folder = found.folder ?? DEFAULT_IMPORT_FOLDER;
  const folderProblem = dashboardFolderProblem(folder);
  if (folderProblem) throw usage(`--folder: ${folderProblem}`);
  const name = found.name === undefined ? undefined : found.name.endsWith(".json") ? found.name : `${found.name}.json`;
  if (name !== undefined && !isDashboardFileName(name)) {
    throw usage(`--name: "${found.name}" may hold only letters, digits, '.', '_' and '-' (the file is <name>.json)`);
  }
  if (found.uid !== undefined && !DASHBOARD_UID.test(found.uid)) {
    throw usage(`--uid must be 1-40 letters, digits, _ and - (got ${JSON.stringify(found.uid)})`);
  }
  const args: ImportArgs = { folder, force, team: (found.team ?? TEAM_CONTENT_DEFAULT).replace(/\/+$/, "") };
  if (files.length === 1) args.file = files[0];
  const id = positive("--id", found.id);
  const revision = positive("--revision", found.revision);
  if (id !== undefined) args.id = id;
  if (revision !== undefined) args.revision = revision;
  if (name !== undefined) args.name = name;
  if (found.uid !== undefined) args.uid = found.uid;
  return args;
}

/** grafana.com's download of a dashboard revision (the latest when none is given). */
export function grafanaComDownloadUrl(id: number, revision?: number, base: string = GRAFANA_COM_URL): string {
  return `${base.replace(/\/+$/, "")}/api/dashboards/${id}/revisions/${revision ?? "latest"}/download`;
}

/** Downloads a dashboard revision; a network failure says that the machine may be offline and what to do instead. */
export async function downloadDashboard(id: number, revision: number | undefined, base: string, timeoutMs = 20_000): Promise<unknown> {
  const url = grafanaComDownloadUrl(id, revision, base);
  let res: Response;
  try {
    res = await fetch(url, { headers: { Accept: "application/json" }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new ImportRefused(
      `GET ${url} failed (${cause}): no network to grafana.com from here (offline?). ` +
        `Download the dashboard's JSON where there is (its page on grafana.com, "Download JSON") and import the file instead`,
    );
  }
  const body = await res.text();
  if (res.status === 404)
    throw new ImportRefused(`GET ${url}: HTTP 404: grafana.com has no dashboard ${id}${revision ? ` revision ${revision}` : ""}`);
  if (!res.ok) throw new ImportRefused(`GET ${url}: HTTP ${res.status}: ${body.slice(0, 200)}`);
  try {
    return JSON.parse(body);
  } catch {
    throw new ImportRefused(`GET ${url}: the answer is not JSON`);
  }
}

/** A stable uid or file name from a title: lower-case kebab, at most 40 characters. */
export function slugOf(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
}

export interface ImportResult {
  /** The written file, relative to the project. */
  file: string;
  title: string;
  uid: string;
  mapped: string[];
  dropped: string[];
  warnings: string[];
  /** What `npm run check` will say about the file (a query that does not parse, ...): the dashboard's own. */
  checkProblems: string[];
}

/** The whole command: read or download, map, refuse clashes, write. Throws ImportRefused. */
export async function importDashboard(args: ImportArgs, root: string, env: NodeJS.ProcessEnv = process.env): Promise<ImportResult> {
  let parsed: unknown;
  const shownAs = args.file ?? `grafana.com dashboard ${args.id}`;
  if (args.file !== undefined) {
    const file = path.resolve(root, args.file);
    if (!fs.existsSync(file)) throw new ImportRefused(`${args.file}: no such file`);
    try {
      parsed = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
      throw new ImportRefused(`${args.file} is not JSON: ${(err as Error).message}`);
    }
  } else {
    parsed = await downloadDashboard(args.id as number, args.revision, env.GRAFANA_COM_URL || GRAFANA_COM_URL);
  }
  const { dashboard, mapped, dropped, warnings } = mapCommunityDashboard(dashboardOf(parsed, shownAs));

  const title = asString(dashboard.title)?.trim();
  if (!title) throw new ImportRefused(`${shownAs} has no title`);
  const given = asString(dashboard.uid);
  const uid = args.uid ?? (given === undefined || given === "" ? slugOf(title) : given);
  if (args.uid === undefined && uid !== given) warnings.push(`the dashboard had no uid: it gets "${uid}", from its title`);
  if (!DASHBOARD_UID.test(uid)) throw new ImportRefused(`uid "${uid}" is not 1-40 letters, digits, _ and -: give one with --uid`);
  dashboard.uid = uid;
  const name = args.name ?? `${slugOf(title) || uid.toLowerCase()}.json`;
  if (!isDashboardFileName(name)) throw new ImportRefused(`the file name "${name}" is not one a dashboard can have: give one with --name`);

  const out = path.join(args.team, "dashboards", args.folder, name);
  const abs = path.resolve(root, out);
  if (fs.existsSync(abs) && !args.force) throw new ImportRefused(`${out} exists: give --force to overwrite it, or another --name`);

  // What the stack ships beside it: the built-in dashboards and the team's others.
  let others: DashboardFile[] = readDashboards(DEFAULT_DASHBOARDS_DIR, "dashboards");
  try {
    others = [...others, ...readDashboards(path.resolve(root, args.team, "dashboards"), `${args.team}/dashboards`)];
  } catch (err) {
    warnings.push(`the team's other dashboards could not be read for clashes: ${(err as Error).message}`);
  }
  for (const other of others) {
    if (path.resolve(root, other.source) === abs) continue;
    const o = JSON.parse(other.content) as JsonObject;
    if (o.uid === uid) {
      throw new ImportRefused(
        `uid ${uid} is already the uid of ${other.source}: ${args.uid === undefined ? "give the import another with --uid" : "choose another --uid"}`,
      );
    }
    if (o.title === title && other.folder === args.folder) {
      throw new ImportRefused(`title "${title}" is already the title of ${other.source}, in the same folder: give another --folder`);
    }
  }

  dashboard.tags = repositoryTags(dashboard, args.folder);
  const text = canonicalDashboardText(dashboard);
  const bytes = dashboardEntryBytes(dashboardKey({ folder: args.folder, file: name }), text);
  if (bytes > CONFIGMAP_DATA_BUDGET) {
    throw new ImportRefused(`the dashboard weighs ${bytes} bytes in its ConfigMap, more than the ${CONFIGMAP_DATA_BUDGET} one can carry`);
  }
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, text);
  return {
    file: out,
    title,
    uid,
    mapped,
    dropped,
    warnings,
    checkProblems: [...datasourceProblems(dashboard), ...queryProblems(dashboard)],
  };
}

/** What the command prints of a result. */
export function formatImport(r: ImportResult): string {
  const lines = [`wrote "${r.title}" (uid ${r.uid}) to ${r.file}`];
  if (r.mapped.length > 0) lines.push("mapped:", ...r.mapped.map((m) => `  ${m}`));
  if (r.dropped.length > 0) lines.push("dropped:", ...r.dropped.map((d) => `  ${d}`));
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  if (r.checkProblems.length > 0) {
    lines.push(`npm run check will report ${r.checkProblems.length} problem(s) of the dashboard itself; fix them in the file:`);
    lines.push(...r.checkProblems.map((p) => `  ${p}`));
  } else lines.push("npm run check takes it: commit it, then pulumi up");
  return lines.join("\n");
}
