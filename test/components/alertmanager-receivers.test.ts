/**
 * Alertmanager's receiver kinds are one table (components/alertmanager/receivers.ts): the receiver's
 * schema, the secret keys, routing's problems, alertmanager.yml, the egress ports and the render's
 * summary all read its rows. Each kind here: a receiver of it, given in a stack, all the way through
 * to alertmanager.yml (test/e2e/alertmanager-receivers.test.ts has amtool check each).
 */
import * as YAML from "yaml";
import { alertmanagerConfig, receiverChannels, receiverPorts } from "../../components/alertmanager/config-file";
import { alertmanagerArgs } from "../../components/stack/args";
import { SECRET_KEYS, configKeyDocs } from "../../config";
import { parse, problems } from "../config/support";
import { KINDS, KIND_NAMES, row, stackWith } from "../support/receiver-kinds";

test("every kind of the table is tried here, in the table's order", () => {
  expect(Object.keys(KINDS)).toEqual(KIND_NAMES);
});

test("the receiver's keys are its name, the table's kinds and sendResolved; each kind's docs line is its key's description", () => {
  const docs = configKeyDocs();
  const keys = docs.map((d) => d.key).filter((k) => /^alertmanager\.receivers\[\]\.[a-zA-Z]+$/.test(k));
  expect(keys).toEqual(["name", ...KIND_NAMES, "sendResolved"].map((k) => `alertmanager.receivers[].${k}`));
  for (const kind of KIND_NAMES) {
    expect(docs.find((d) => d.key === `alertmanager.receivers[].${kind}`)?.description).toBe(row(kind).docs);
  }
});

test("each kind's secret map is a secret key, read by receiver name, and a map given whole says how to give it", () => {
  const secretMaps = KIND_NAMES.flatMap((kind) => (row(kind).secrets ?? []).map((secret) => secret.key));
  expect(secretMaps.filter((key) => !(SECRET_KEYS as readonly string[]).includes(key))).toEqual([]);
  for (const key of secretMaps) {
    expect(problems("staging", {}, { [key]: "not-a-map" })).toEqual([
      expect.stringContaining(`monitoring:${key}: must be a map of receiver to `),
    ]);
  }
});

test("a receiver without any kind is told the kinds it may have", () => {
  expect(problems("staging", { alertmanager: { receivers: [{ name: "ops" }], defaultReceiver: "ops" } })).toEqual([
    `monitoring:alertmanager.receivers[0]: receiver "ops" has no integration: give it ${KIND_NAMES.slice(0, -1).join(", ")} or ${KIND_NAMES[KIND_NAMES.length - 1]}`,
  ]);
});

test.each(KIND_NAMES.filter((kind) => row(kind).secrets))(
  "a receiver of kind %s is refused without its secrets, naming each key to set",
  (kind) => {
    const keys = (row(kind).secrets ?? []).map((secret) => secret.key);
    expect(problems("staging", stackWith(kind).plain)).toEqual(
      keys.map((key) =>
        expect.stringMatching(
          new RegExp(`^monitoring:alertmanager\\.receivers\\[0\\]\\.${kind}: receiver "ops" needs .*--path '${key}\\.ops'`),
        ),
      ),
    );
    for (const key of keys) {
      const { plain, secrets } = stackWith(kind);
      const others = Object.fromEntries(Object.entries(secrets).filter(([k]) => k !== key));
      expect(problems("staging", plain, others)).toEqual([
        expect.stringMatching(new RegExp(`^monitoring:alertmanager\\.receivers\\[0\\]\\.${kind}: .*--path '${key}\\.ops'`)),
      ]);
    }
  },
);

describe.each(KIND_NAMES)("a receiver of kind %s", (kind) => {
  test("renders into alertmanager.yml, the render's summary and the egress ports", () => {
    const { plain, secrets } = stackWith(kind);
    const { config } = parse("staging", plain, secrets);
    const args = alertmanagerArgs(config);
    const rendered = YAML.parse(YAML.stringify(alertmanagerConfig(args))) as { receivers: Array<Record<string, unknown>> };
    expect(rendered.receivers[0]).toEqual({ name: "ops", ...KINDS[kind].config });
    expect(receiverChannels(args.receivers, args.routing)).toEqual([{ name: "ops", channels: [KINDS[kind].channel] }]);
    expect(receiverPorts(args.receivers, args.routing)).toEqual(KINDS[kind].ports);
  });
});
