/**
 * `npm run dashboard:export`: a dashboard saved in Grafana's UI comes back as a file of the
 * repository. Grafana is stood in for by a loopback server answering GET
 * /api/dashboards/uid/<uid> with an answer shaped as Grafana's (written here, not recorded
 * from a real instance: no Grafana binary is built for the tests).
 */
import * as http from "http";
import * as fs from "fs";
import * as path from "path";
import {
  authorizationFrom,
  cleanDashboard,
  dashboardFileText,
  exportDashboard,
  folderOf,
  parseExportArgs,
} from "../../cli/dashboard-export";
import { freePort } from "../../lab/ports";
import { LoopbackServer } from "../../lab/local/http";
import { DASHBOARDS_DIR, JsonObject } from "../../cli/dashboards/files";
import { structureProblems, variableProblems } from "../../cli/dashboards/checks";
import { tempDirs } from "../support/temp";

/** A dashboard as Grafana 13's API returns it after a user built it in the writable folder: instance ids, a chosen datasource, a string reference. */
function grafanaAnswer(): JsonObject {
  return {
    meta: {
      type: "db",
      canSave: true,
      canEdit: true,
      slug: "team-latency",
      url: "/d/team-latency/team-latency",
      version: 7,
      folderUid: "writable-dashboards",
      folderTitle: "Team dashboards",
      provisioned: false,
      provisionedExternalId: "",
    },
    dashboard: {
      id: 42,
      uid: "team-latency",
      title: "Team latency",
      version: 7,
      iteration: 1763800000000,
      schemaVersion: 41,
      tags: ["team"],
      time: { from: "now-6h", to: "now" },
      refresh: "1m",
      editable: true,
      annotations: {
        list: [
          {
            builtIn: 1,
            datasource: { type: "grafana", uid: "-- Grafana --" },
            enable: true,
            hide: true,
            name: "Annotations & Alerts",
            type: "dashboard",
          },
        ],
      },
      panels: [
        {
          id: 1,
          type: "timeseries",
          title: "p95 latency",
          datasource: { type: "prometheus", uid: "prometheus" },
          targets: [
            {
              refId: "A",
              datasource: { type: "prometheus", uid: "P1809F7CD0C75ACF3" },
              expr: 'histogram_quantile(0.95, sum by (le) (app:http_request_duration_seconds_bucket:rate5m{app="shop"}))',
            },
          ],
        },
        {
          id: 2,
          type: "logs",
          title: "Errors",
          datasource: "Loki",
          targets: [{ refId: "A", datasource: { type: "loki", uid: "loki" }, expr: '{namespace="shop"} |= "error"' }],
        },
        { id: 3, type: "table", title: "External", datasource: { type: "postgres", uid: "abc123" }, targets: [] },
      ],
      templating: {
        list: [
          {
            name: "datasource",
            type: "datasource",
            query: "prometheus",
            label: "Prometheus",
            current: { text: "Prometheus", value: "prometheus" },
            options: [{ selected: true, text: "Prometheus", value: "prometheus" }],
            hide: 0,
            includeAll: false,
            multi: false,
            refresh: 1,
            regex: "",
          },
        ],
      },
    },
  };
}

const tempDir = tempDirs("dashboard-export");

describe("the command line", () => {
  test("takes --url, --uid and --out, as separate or inline values", () => {
    expect(parseExportArgs(["--url", "http://127.0.0.1:3000", "--uid=team-latency", "--out", "dashboards/applications/team.json"])).toEqual(
      {
        url: "http://127.0.0.1:3000",
        uid: "team-latency",
        out: "dashboards/applications/team.json",
      },
    );
  });

  test("refuses credentials on the command line, missing or malformed values, and names what to do", () => {
    expect(() => parseExportArgs(["--token", "glsa_x"])).toThrow(/--token is not taken: .* GRAFANA_TOKEN/);
    expect(() => parseExportArgs(["--password=x"])).toThrow(/--password is not taken/);
    expect(() => parseExportArgs(["--url", "https://admin:pw@grafana.example.com", "--uid", "a", "--out", "a.json"])).toThrow(
      /must not hold credentials/,
    );
    expect(() => parseExportArgs(["--url", "http://g", "--uid", "a"])).toThrow(/missing --out/);
    expect(() => parseExportArgs(["--url", "ftp://g", "--uid", "a", "--out", "a.json"])).toThrow(/http:\/\/ or https:\/\//);
    expect(() => parseExportArgs(["--url", "http://g", "--uid", "a/../b", "--out", "a.json"])).toThrow(/--uid must be a dashboard uid/);
    expect(() => parseExportArgs(["--url", "http://g", "--uid", "a", "--out", "a.yaml"])).toThrow(/\.json file/);
    expect(() => parseExportArgs(["--stack", "x"])).toThrow(/unknown argument --stack/);
  });

  test("credentials come from the environment: a token, or a user and a password", () => {
    expect(authorizationFrom({ GRAFANA_TOKEN: "glsa_abc" })).toBe("Bearer glsa_abc");
    expect(authorizationFrom({ GRAFANA_USER: "admin", GRAFANA_PASSWORD: "pässword" })).toBe(
      `Basic ${Buffer.from("admin:pässword").toString("base64")}`,
    );
    expect(() => authorizationFrom({ GRAFANA_USER: "admin" })).toThrow(/GRAFANA_PASSWORD is not set/);
    expect(() => authorizationFrom({})).toThrow(/no credentials/);
    expect(() => authorizationFrom({ GRAFANA_TOKEN: "t", GRAFANA_USER: "u" })).toThrow(/not both/);
  });

  test("the folder of a file under dashboards/<folder>/ is its Grafana folder", () => {
    expect(folderOf(path.join(DASHBOARDS_DIR, "applications", "team.json"))).toBe("applications");
    expect(folderOf("/tmp/team.json")).toBeUndefined();
  });
});

describe("cleaning", () => {
  test("instance fields go, datasources point at the provisioned ones, and the repository's checks pass", () => {
    const { dashboard, warnings } = cleanDashboard(grafanaAnswer(), { folder: "applications" });
    expect(dashboard.id).toBeNull();
    expect(dashboard.version).toBe(1);
    expect("iteration" in dashboard).toBe(false);
    const panels = dashboard.panels as JsonObject[];
    expect(panels[0].datasource).toEqual({ type: "prometheus", uid: "${datasource}" });
    expect((panels[0].targets as JsonObject[])[0].datasource).toEqual({ type: "prometheus", uid: "${datasource}" });
    expect(panels[1].datasource).toEqual({ type: "loki", uid: "${loki_datasource}" });
    expect(panels[2].datasource).toEqual({ type: "postgres", uid: "abc123" });
    const variables = (dashboard.templating as { list: JsonObject[] }).list;
    expect(variables.map((v) => [v.name, v.query, v.current, v.options])).toEqual([
      ["datasource", "prometheus", {}, []],
      ["loki_datasource", "loki", {}, []],
    ]);
    expect(dashboard.tags).toEqual(["team", "monitoring-stack", "applications"]);
    expect(warnings).toEqual(["datasources the stack does not provision, left as they are: postgres (uid abc123)"]);
    expect(structureProblems(dashboard, { folder: "applications" })).toEqual([]);
    expect(variableProblems(dashboard)).toEqual([]);
  });

  test("a repository dashboard round-trips: what provisioning gave Grafana comes back as the same file", () => {
    const file = path.join(DASHBOARDS_DIR, "infrastructure", "nodes.json");
    const text = fs.readFileSync(file, "utf8");
    const served = { ...(JSON.parse(text) as JsonObject), id: 7, version: 3 };
    const { dashboard, warnings } = cleanDashboard(
      { dashboard: served, meta: { provisioned: true, provisionedExternalId: "infrastructure__nodes.json" } },
      { folder: "infrastructure" },
    );
    expect(dashboardFileText(dashboard)).toBe(text);
    expect(warnings).toEqual([expect.stringMatching(/provisioned from infrastructure__nodes\.json/)]);
  });

  test("a uid the repository's checks refuse is pointed out", () => {
    const answer = grafanaAnswer();
    (answer.dashboard as JsonObject).uid = "Ad3kZ9";
    expect(cleanDashboard(answer).warnings).toContainEqual(expect.stringMatching(/uid "Ad3kZ9" is not short kebab-case/));
  });
});

describe("against a stand-in Grafana on the loopback", () => {
  let server: LoopbackServer;
  const seen: Array<{ url: string; authorization: string | undefined }> = [];

  beforeAll(async () => {
    server = new LoopbackServer(await freePort(), (req: http.IncomingMessage, res: http.ServerResponse) => {
      seen.push({ url: req.url ?? "", authorization: req.headers.authorization });
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (
        req.headers.authorization !== "Bearer glsa_good" &&
        req.headers.authorization !== `Basic ${Buffer.from("viewer:secret-pass").toString("base64")}`
      ) {
        return send(401, { message: "Unauthorized" });
      }
      if (req.url === "/grafana/api/dashboards/uid/team-latency") return send(200, grafanaAnswer());
      return send(404, { message: "Dashboard not found" });
    });
    await server.start();
  });
  afterAll(() => server.stop());

  const url = () => `http://127.0.0.1:${server.port}/grafana/`;

  test("fetches with the token from the environment and writes the repository's format", async () => {
    const dir = tempDir();
    const out = path.join(dir, "dashboards", "applications", "team-latency.json");
    const written = new Map<string, string>();
    const result = await exportDashboard({ url: url(), uid: "team-latency", out }, { GRAFANA_TOKEN: "glsa_good" }, (f, t) =>
      written.set(f, t),
    );
    expect(seen[seen.length - 1]).toEqual({ url: "/grafana/api/dashboards/uid/team-latency", authorization: "Bearer glsa_good" });
    expect(result.title).toBe("Team latency");
    const text = written.get(out) as string;
    expect(text).toBe(dashboardFileText(cleanDashboard(grafanaAnswer(), { folder: "applications" }).dashboard));
    // Stable: keys sorted, two spaces, a final newline; the secret is nowhere in it.
    expect(text.startsWith('{\n  "annotations"')).toBe(true);
    expect(text.endsWith("}\n")).toBe(true);
    expect(text).not.toContain("glsa_good");
  });

  test("basic auth works too; refused credentials and an unknown uid are reported as such", async () => {
    const write = () => undefined;
    await exportDashboard(
      { url: url(), uid: "team-latency", out: "x.json" },
      { GRAFANA_USER: "viewer", GRAFANA_PASSWORD: "secret-pass" },
      write,
    );
    await expect(exportDashboard({ url: url(), uid: "team-latency", out: "x.json" }, { GRAFANA_TOKEN: "glsa_bad" }, write)).rejects.toThrow(
      /HTTP 401: Grafana refused the credentials/,
    );
    await expect(exportDashboard({ url: url(), uid: "nope", out: "x.json" }, { GRAFANA_TOKEN: "glsa_good" }, write)).rejects.toThrow(
      /HTTP 404: Grafana has no dashboard with uid nope/,
    );
  });
});
