/**
 * A user name written as a YAML number (Grafana Cloud's user is its numeric instance ID:
 * `username: 123456`) is the text of that number, wherever the stack file takes a user name.
 */
import { parse, problems } from "./support";

const remoteWrite = (username: unknown) => ({
  prometheus: { remoteWrite: [{ name: "cloud", url: "https://prometheus.example.com/api/prom/push", username }] },
});
const externalLoki = (username: unknown) => ({
  logCollector: { externalLoki: { url: "https://logs.example.com/loki/api/v1/push", username } },
});

describe("a numeric user name", () => {
  test('remote write: 123456 is the user name "123456"', () => {
    const { config } = parse("staging", remoteWrite(123456), { remoteWritePasswords: { cloud: "a-token" } });
    expect(config.prometheus.remoteWrite?.[0]?.auth).toEqual({ username: "123456", password: "a-token" });
  });

  test('the external Loki: 123456 is the user name "123456"', () => {
    const { config } = parse("staging", { ...externalLoki(123456), loki: { enabled: false } }, { externalLokiPassword: "a-token" });
    expect(config.logCollector.externalLoki?.auth).toEqual({ username: "123456", password: "a-token" });
  });

  test("a number that is no whole number is refused, saying to quote it", () => {
    expect(problems("staging", remoteWrite(1.5), { remoteWritePasswords: { cloud: "a-token" } })).toEqual([
      expect.stringMatching(/^monitoring:prometheus\.remoteWrite\[0\]\.username: must be a user name.*quote it.*\(got 1\.5\)$/),
    ]);
  });
});
