/** Team directories for the tests of a team's own rules and dashboards (preflight/team-content.ts, `npm run check`). */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const GOOD_RULES = `groups:
  - name: shop
    rules:
      - alert: ShopOrdersStalled
        expr: sum(rate(shop_orders_total[15m])) == 0
        for: 15m
        labels: { severity: warning, team: shop }
        annotations: { summary: "No order for 15 minutes" }
`;

export function dashboardJson(overrides: Record<string, unknown> = {}, expr = "sum(rate(shop_orders_total[5m]))"): string {
  const ds = { type: "prometheus", uid: "${datasource}" };
  const dashboard = {
    uid: "shop-orders",
    title: "Shop orders",
    templating: { list: [{ name: "datasource", type: "datasource", query: "prometheus" }] },
    panels: [
      {
        id: 1,
        type: "timeseries",
        title: "Orders",
        datasource: ds,
        gridPos: { x: 0, y: 0, w: 12, h: 8 },
        targets: [{ refId: "A", datasource: ds, expr }],
      },
    ],
    ...overrides,
  };
  return JSON.stringify(dashboard, null, 2);
}

/** A promtool unit test of GOOD_RULES that expects no alert at 35 minutes, for the orders series given. */
export function quietShopTest(orders: string): string {
  return [
    "rule_files: [../shop.yml]",
    "evaluation_interval: 1m",
    "tests:",
    "  - interval: 1m",
    "    input_series:",
    "      - series: shop_orders_total",
    `        values: ${orders}`,
    "    alert_rule_test:",
    "      - eval_time: 35m",
    "        alertname: ShopOrdersStalled",
    "        exp_alerts: []",
    "",
  ].join("\n");
}

/** A team directory in a fresh project-like root: files by path under it. */
export function teamDir(files: Record<string, string>): { root: string; dir: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "team-content-"));
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, "team", file)), { recursive: true });
    fs.writeFileSync(path.join(root, "team", file), text);
  }
  return { root, dir: "team" };
}
