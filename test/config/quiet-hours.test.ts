/** Quiet hours: alertmanager.timeIntervals and the routes' muteTimeIntervals / activeTimeIntervals (components/alertmanager/time-intervals.ts). */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { alertmanagerConfig } from "../../components/alertmanager/config-file";
import { parse, problems } from "./support";

describe("quiet hours: named time intervals, muted and active routes", () => {
  const HOOK = (n: number) => `https://hooks.slack.com/services/T0/B0/${n}`;
  const SECRETS = { slackWebhookUrls: { staging: HOOK(1), ops: HOOK(2) } };
  /** Staging muted outside working hours: its route is active Monday to Friday, 09:00 to 18:00 in Paris. */
  const am = (extra: Record<string, unknown> = {}, route: Record<string, unknown> = { activeTimeIntervals: ["working-hours"] }) => ({
    alertmanager: {
      receivers: [
        { name: "staging", slack: { channel: "#staging" } },
        { name: "ops", slack: { channel: "#ops" } },
      ],
      routes: [{ matchers: ['environment="staging"'], receiver: "staging", ...route }],
      defaultReceiver: "ops",
      timeIntervals: [
        { name: "working-hours", weekdays: ["monday:friday"], times: [{ start: "09:00", end: "18:00" }], location: "Europe/Paris" },
        {
          name: "nights-and-weekends",
          times: [
            { start: "00:00", end: "09:00" },
            { start: "18:00", end: "24:00" },
          ],
          daysOfMonth: ["1:7", "-1"],
          months: ["january:march", "12"],
        },
      ],
      ...extra,
    },
  });
  const interval = (t: Record<string, unknown>) => am({ timeIntervals: [{ name: "quiet", ...t }] }, { muteTimeIntervals: ["quiet"] });

  test("the intervals render as Alertmanager's time_intervals, the routes' names as active_time_intervals / mute_time_intervals", () => {
    const { config } = parse(
      "staging",
      am({}, { activeTimeIntervals: ["working-hours"], muteTimeIntervals: ["nights-and-weekends"] }),
      SECRETS,
    );
    const file = alertmanagerConfig({ ...config.alertmanager, environment: "staging" });
    expect(file.time_intervals).toEqual([
      {
        name: "working-hours",
        time_intervals: [{ times: [{ start_time: "09:00", end_time: "18:00" }], weekdays: ["monday:friday"], location: "Europe/Paris" }],
      },
      {
        name: "nights-and-weekends",
        time_intervals: [
          {
            times: [
              { start_time: "00:00", end_time: "09:00" },
              { start_time: "18:00", end_time: "24:00" },
            ],
            days_of_month: ["1:7", "-1"],
            months: ["january:march", "12"],
          },
        ],
      },
    ]);
    const routes = (file.route as { routes: Array<Record<string, unknown>> }).routes;
    // The Watchdog's route stays first, never muted.
    expect(routes[0]).not.toHaveProperty("mute_time_intervals");
    expect(routes[1]).toMatchObject({
      receiver: "staging",
      active_time_intervals: ["working-hours"],
      mute_time_intervals: ["nights-and-weekends"],
    });
    // Without intervals, nothing of them in the file.
    const plain = parse("staging", am({ timeIntervals: undefined }, {}), SECRETS).config;
    const plainFile = alertmanagerConfig({ ...plain.alertmanager, environment: "staging" });
    expect(plainFile).not.toHaveProperty("time_intervals");
    expect((plainFile.route as { routes: Array<Record<string, unknown>> }).routes[1]).not.toHaveProperty("active_time_intervals");
  });

  test("docs/alerts.md's example, staging muted outside working hours, is a stack the config takes as it says", () => {
    const page = fs.readFileSync(path.join(__dirname, "../../docs/alerts.md"), "utf8");
    const section = page.slice(page.indexOf("#### Quiet hours"));
    const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    const given = (YAML.parse(block) as Record<string, unknown>)["monitoring:alertmanager"];
    const routing = parse("staging", { alertmanager: given }, SECRETS).config.alertmanager.routing;
    expect(routing?.timeIntervals).toEqual([
      { name: "working-hours", weekdays: ["monday:friday"], times: [{ start: "09:00", end: "18:00" }], location: "Europe/Paris" },
    ]);
    expect(routing?.routes).toEqual([
      { receiver: "staging", matchers: ['environment="staging"'], continue: false, activeTimeIntervals: ["working-hours"] },
    ]);
  });

  test("a route naming an unknown interval is refused, naming the route's key and the intervals there are", () => {
    expect(problems("staging", am({}, { muteTimeIntervals: ["working-hours", "weekend"] }), SECRETS)).toEqual([
      'monitoring:alertmanager.routes[0].muteTimeIntervals[1]: must name an interval of alertmanager.timeIntervals (working-hours, nights-and-weekends) (got "weekend")',
    ]);
    expect(problems("staging", am({ timeIntervals: undefined }, { activeTimeIntervals: ["office"] }), SECRETS)).toEqual([
      'monitoring:alertmanager.routes[0].activeTimeIntervals[0]: must name an interval of alertmanager.timeIntervals (none) (got "office")',
    ]);
  });

  test("a time zone Node does not know is refused", () => {
    expect(problems("staging", interval({ times: [{ start: "00:00", end: "08:00" }], location: "Europe/Pariss" }), SECRETS)).toEqual([
      'monitoring:alertmanager.timeIntervals[0].location: must be an IANA time zone such as "Europe/Paris", "America/New_York" or "UTC" (got "Europe/Pariss")',
    ]);
    expect(() =>
      parse("staging", interval({ times: [{ start: "00:00", end: "08:00" }], location: "America/New_York" }), SECRETS),
    ).not.toThrow();
  });

  test("a range that does not end after it starts, or lies outside 00:00-24:00, is refused", () => {
    expect(
      problems(
        "staging",
        interval({
          times: [
            { start: "22:00", end: "06:00" },
            { start: "10:00", end: "10:00" },
            { start: "23:00", end: "24:30" },
            { start: "9:00", end: "10:00" },
          ],
        }),
        SECRETS,
      ),
    ).toEqual(['monitoring:alertmanager.timeIntervals[0].times[3].start: must be a time of day "HH:MM" (got "9:00")']);
    expect(
      problems(
        "staging",
        interval({
          times: [
            { start: "22:00", end: "06:00" },
            { start: "10:00", end: "10:00" },
            { start: "23:00", end: "24:30" },
          ],
        }),
        SECRETS,
      ),
    ).toEqual([
      'monitoring:alertmanager.timeIntervals[0].times[0]: must end after it starts, on the same day: a range across midnight is two, "22:00"-"24:00" and "00:00"-"06:00" (got start "22:00", end "06:00")',
      'monitoring:alertmanager.timeIntervals[0].times[1]: must end after it starts, on the same day: a range across midnight is two, "10:00"-"24:00" and "00:00"-"10:00" (got start "10:00", end "10:00")',
      'monitoring:alertmanager.timeIntervals[0].times[2]: must lie within 00:00 to 24:00 (got "24:30")',
    ]);
  });

  test("an empty interval (every moment) is refused, and so are overlapping ranges within one interval", () => {
    expect(problems("staging", interval({ location: "UTC" }), SECRETS)).toEqual([
      'monitoring:alertmanager.timeIntervals[0]: interval "quiet" is empty, which Alertmanager reads as every moment: give it weekdays, times, daysOfMonth or months',
    ]);
    expect(
      problems(
        "staging",
        interval({
          times: [
            { start: "12:00", end: "14:00" },
            { start: "00:00", end: "09:00" },
            { start: "08:30", end: "10:00" },
            { start: "14:00", end: "15:00" },
          ],
        }),
        SECRETS,
      ),
    ).toEqual(["monitoring:alertmanager.timeIntervals[0].times[2]: overlaps times[1] (00:00-09:00): join them into one range"]);
  });

  test("weekdays, months and days of the month in Alertmanager's words, forward; names unique; intervals need receivers", () => {
    expect(
      problems(
        "staging",
        interval({ weekdays: ["friday:monday", "Monday"], months: ["march:january"], daysOfMonth: ["-1:5", "0"] }),
        SECRETS,
      ),
    ).toEqual([
      'monitoring:alertmanager.timeIntervals[0].weekdays[1]: must be a weekday in lower case or a range of them, e.g. "monday:friday" (got "Monday")',
      'monitoring:alertmanager.timeIntervals[0].daysOfMonth[1]: must be a day of the month (1 to 31, or -1 for the last) or a range, e.g. "1:7" (got "0")',
      // The months are well formed, so they are checked on: backwards.
      'monitoring:alertmanager.timeIntervals[0].months[0]: must run forward, first to last (got "march:january")',
    ]);
    expect(
      problems("staging", interval({ weekdays: ["friday:monday"], months: ["march:january"], daysOfMonth: ["-1:5"] }), SECRETS),
    ).toEqual([
      'monitoring:alertmanager.timeIntervals[0].weekdays[0]: must run forward, first to last (got "friday:monday")',
      'monitoring:alertmanager.timeIntervals[0].months[0]: must run forward, first to last (got "march:january")',
      'monitoring:alertmanager.timeIntervals[0].daysOfMonth[0]: must run forward, first day to last, in every month (got "-1:5")',
    ]);
    expect(
      problems(
        "staging",
        am(
          {
            timeIntervals: [
              { name: "q", weekdays: ["sunday"] },
              { name: "q", months: ["july"] },
            ],
          },
          {},
        ),
        SECRETS,
      ),
    ).toEqual([
      'monitoring:alertmanager.timeIntervals[1].name: interval name "q" is used more than once (first at alertmanager.timeIntervals[0]); names must be unique',
    ]);
    expect(problems("staging", { alertmanager: { timeIntervals: [{ name: "q", weekdays: ["sunday"] }] } })).toEqual([
      "monitoring:alertmanager.timeIntervals: needs alertmanager.receivers: time intervals mute or activate the routes of named receivers",
    ]);
  });

  describe("an interval of several sets of ranges under one name (anyOf)", () => {
    const offHours = {
      name: "off-hours",
      anyOf: [
        { weekdays: ["saturday", "sunday"], location: "Europe/Paris" },
        {
          weekdays: ["monday:friday"],
          times: [
            { start: "00:00", end: "09:00" },
            { start: "18:00", end: "24:00" },
          ],
          location: "Europe/Paris",
        },
      ],
    };

    test("renders as one of Alertmanager's named intervals with a time_intervals entry per set", () => {
      const { config, warnings } = parse("staging", am({ timeIntervals: [offHours] }, { muteTimeIntervals: ["off-hours"] }), SECRETS);
      expect(warnings).toEqual([]);
      const file = alertmanagerConfig({ ...config.alertmanager, environment: "staging" });
      expect(file.time_intervals).toEqual([
        {
          name: "off-hours",
          time_intervals: [
            { weekdays: ["saturday", "sunday"], location: "Europe/Paris" },
            {
              times: [
                { start_time: "00:00", end_time: "09:00" },
                { start_time: "18:00", end_time: "24:00" },
              ],
              weekdays: ["monday:friday"],
              location: "Europe/Paris",
            },
          ],
        },
      ]);
    });

    test("each set is checked on its own, keyed by its place in anyOf; ranges of two sets may overlap", () => {
      const sets = [
        { times: [{ start: "00:00", end: "09:00" }] },
        { times: [{ start: "08:00", end: "10:00" }], location: "Mars/Olympus" },
        { location: "UTC" },
        {
          times: [
            { start: "12:00", end: "14:00" },
            { start: "13:00", end: "15:00" },
          ],
        },
      ];
      expect(problems("staging", interval({ anyOf: sets }), SECRETS)).toEqual([
        'monitoring:alertmanager.timeIntervals[0].anyOf[1].location: must be an IANA time zone such as "Europe/Paris", "America/New_York" or "UTC" (got "Mars/Olympus")',
        'monitoring:alertmanager.timeIntervals[0].anyOf[2]: anyOf[2] of interval "quiet" is empty, which Alertmanager reads as every moment: give it weekdays, times, daysOfMonth or months',
        "monitoring:alertmanager.timeIntervals[0].anyOf[3].times[1]: overlaps times[0] (12:00-14:00): join them into one range",
      ]);
    });

    test("anyOf beside a set's own fields, an empty anyOf, or a key a set does not have is refused", () => {
      expect(problems("staging", interval({ weekdays: ["monday"], location: "UTC", anyOf: [{ weekdays: ["sunday"] }] }), SECRETS)).toEqual([
        'monitoring:alertmanager.timeIntervals[0]: interval "quiet" gives anyOf and weekdays, location: give its sets of ranges in anyOf only, or one set without anyOf',
      ]);
      expect(problems("staging", interval({ anyOf: [] }), SECRETS)).toEqual([
        "monitoring:alertmanager.timeIntervals[0].anyOf: must list at least one set of ranges, or be left out (got [])",
      ]);
      expect(problems("staging", interval({ anyOf: [{ weekdays: ["sunday"], name: "inner" }] }), SECRETS)).toEqual([
        expect.stringMatching(/^monitoring:alertmanager\.timeIntervals\[0\]\.anyOf\[0\]\.name: unknown key/),
      ]);
    });
  });

  test("an interval no route names deploys, with a warning naming it: it mutes and activates nothing", () => {
    const { warnings } = parse("staging", am(), SECRETS);
    expect(warnings).toEqual([
      'monitoring:alertmanager.timeIntervals[1]: interval "nights-and-weekends" mutes and activates nothing: no route names it in muteTimeIntervals or activeTimeIntervals. Name it on a route, or remove it.',
    ]);
    // Named by a route, as mute or as active time, it warns no more.
    expect(
      parse("staging", am({}, { activeTimeIntervals: ["working-hours"], muteTimeIntervals: ["nights-and-weekends"] }), SECRETS).warnings,
    ).toEqual([]);
  });
});
