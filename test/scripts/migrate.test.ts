/**
 * npm run migrate: a stack file of the previous release's shape (0.1.0's own production file,
 * test/fixtures/releases/, with the earlier shapes its refusals named and the tracing key it did not
 * need) becomes one today's render accepts, in place, its diff printed; a second run changes
 * nothing; comments, order and secure values kept; what it cannot decide refused, naming the key.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { MigrateIo, runMigrate } from "../../cli/migrate";
import { unifiedDiff } from "../../cli/line-diff";
import { renderStack } from "../../cli/render-stack";
import { ROOT } from "../../cli/stackfile";
import { tempDirs } from "../support/temp";

const tempDir = tempDirs("migrate");
const RELEASED = fs.readFileSync(path.join(ROOT, "test/fixtures/releases/0.1.0-Pulumi.production.yaml"), "utf8");

/** 0.1.0's production file with a Redis exporter as a sidecar (target and all), Promtail, and tracing on by 0.1.0's default. */
function previousShape(): string {
  const edited = RELEASED.replace(
    "      type: redis\n      mode: standalone\n",
    "      type: redis\n      mode: sidecar # beside Redis\n      target:\n        kind: StatefulSet\n        name: redis\n        namespace: shop\n",
  )
    .replace("  monitoring:tracing:\n    enabled: true\n", "  monitoring:tracing:\n")
    .concat("  # Logs: the collector this stack ran.\n  monitoring:logCollector:\n    agent: promtail\n");
  expect(edited).not.toBe(RELEASED);
  return edited;
}

/** Jaeger's claim in the previous deployment's `volumes` output, as 0.1.0 recorded it. */
const RAN_JAEGER = { volumes: { tracing: { size: "20Gi", storageClass: "local-path", claims: ["data-jaeger-0"] } } };

/** runMigrate on a file of its own, with what it printed. */
function migrate(text: string, extra: string[] = [], previous?: object) {
  const dir = tempDir();
  const file = path.join(dir, "Pulumi.production.yaml");
  fs.writeFileSync(file, text);
  const args = ["--stack", "production", "--stack-file", file];
  if (previous) {
    fs.writeFileSync(path.join(dir, "outputs.json"), JSON.stringify(previous));
    args.push("--previous", path.join(dir, "outputs.json"));
  }
  const out: string[] = [];
  const err: string[] = [];
  const io: MigrateIo = {
    root: ROOT,
    project: "monitoring",
    readFile: (f) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined),
    writeFile: (f, t) => fs.writeFileSync(f, t),
    print: (line) => out.push(line),
    printError: (line) => err.push(line),
  };
  const code = runMigrate([...args, ...extra], io);
  return { code, file, out: out.join("\n"), err: err.join("\n"), text: fs.readFileSync(file, "utf8") };
}

const commentLines = (text: string) => text.split("\n").filter((l) => l.trim().startsWith("#"));
const topKeys = (text: string) => text.split("\n").flatMap((l) => /^ {2}([\w:.-]+):/.exec(l)?.[1] ?? []);

describe("a stack file of 0.1.0's shape", () => {
  test("refused by today's render, pointing at migrate; migrated, it renders; a second run changes nothing", async () => {
    const before = previousShape();
    const dir = tempDir();
    const stackFile = path.join(dir, "Pulumi.production.yaml");
    fs.writeFileSync(stackFile, before);
    const refusal = renderStack({ stack: "production", stackFile, previousOutputs: RAN_JAEGER });
    await expect(refusal).rejects.toThrow(
      /monitoring:databases\[1\]\.mode: "sidecar" is no longer supported: .*npm run migrate -- --stack <stack>/,
    );
    await expect(refusal).rejects.toThrow(/monitoring:logCollector\.agent: is "promtail".*npm run migrate -- --stack <stack>/);

    const first = migrate(before, [], RAN_JAEGER);
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    // The diff, as diff -u prints it, of exactly what changed.
    expect(first.out).toContain(unifiedDiff(before, first.text, first.file).trimEnd());
    expect(first.out).toContain("-      mode: sidecar # beside Redis\n-      target:\n");
    expect(first.out).toContain("+      mode: standalone # beside Redis\n");
    expect(first.out).toContain("   monitoring:tracing:\n+    enabled: true\n     retention: 7d\n");
    expect(first.out).toContain("-  monitoring:logCollector:\n-    agent: promtail\n");
    expect(first.out).toMatch(/note: monitoring:databases\[1\]\.secretRef: .*redis\.shop\.svc:6379\), not localhost/);

    fs.writeFileSync(stackFile, first.text);
    const rendered = await renderStack({ stack: "production", stackFile, previousOutputs: RAN_JAEGER });
    const kinds = rendered.kubernetes.map((o) => `${o.object.kind}/${o.object.metadata.name}`);
    expect(kinds).toContain("StatefulSet/jaeger");
    expect(kinds).toContain("Deployment/shop-redis-exporter");
    expect(kinds).toContain("DaemonSet/alloy");

    const second = migrate(first.text, [], RAN_JAEGER);
    expect(second.code).toBe(0);
    expect(second.text).toBe(first.text);
    expect(second.out).toContain("nothing to migrate; the file is as it was");
    expect(second.out).not.toContain("@@");
  });

  test("comments and order kept: every comment line and every other key, in their order", () => {
    const before = previousShape();
    const { text } = migrate(before, [], RAN_JAEGER);
    expect(commentLines(text)).toEqual(commentLines(before));
    expect(topKeys(text)).toEqual(topKeys(before).filter((k) => k !== "monitoring:logCollector"));
    // Only the lines of the migrated keys differ.
    const changed = unifiedDiff(before, text, "f")
      .split("\n")
      .filter((l) => /^[-+] /.test(l));
    expect(changed).toHaveLength(9);
  });

  test("secure values untouched, byte for byte, and the DSN a sidecar named is left to its owner (a note)", () => {
    const before = previousShape()
      .replace("      secretRef: { name: shop-redis-exporter, key: REDIS_ADDR }\n", "")
      .concat("  monitoring:databaseDsns:\n    shop-redis:\n      secure: v1:c2lkZWNhcg==:AAAAbG9jYWxob3N0OjYzNzk=\n")
      .concat("  monitoring:grafanaAdminPassword:\n    secure: v1:cGFzcw==:AAAAc2VjcmV0\n");
    const { code, out, text } = migrate(before, [], RAN_JAEGER);
    expect(code).toBe(0);
    const secure = (t: string) => t.split("\n").filter((l) => l.includes("secure:"));
    expect(secure(text)).toEqual(secure(before));
    expect(secure(text)).toHaveLength(2);
    expect(out).toContain("note: monitoring:databaseDsns.shop-redis: a secret migrate does not read; if it names localhost");
    expect(out).toContain("pulumi config set --secret --path 'databaseDsns.shop-redis' <dsn>");
  });

  test("flow maps: a sidecar written on one line loses mode and target in place", () => {
    const before = RELEASED.replace(
      "    - name: shop-redis\n      type: redis\n      mode: standalone\n      secretRef: { name: shop-redis-exporter, key: REDIS_ADDR }\n",
      "    - { name: shop-redis, type: redis, mode: sidecar, target: { kind: StatefulSet, name: redis, namespace: shop }, secretRef: { name: shop-redis-exporter, key: REDIS_ADDR } }\n",
    );
    const { text } = migrate(before);
    expect(text).toContain(
      "    - { name: shop-redis, type: redis, mode: standalone, secretRef: { name: shop-redis-exporter, key: REDIS_ADDR } }\n",
    );
  });

  test("no tracing section at all, over a deployment that ran Jaeger: one is added at the end of config, and it renders", async () => {
    const before = RELEASED.replace(/ {2}# Traces \(Jaeger[^]*?storage: \{ size: 20Gi \}\n\n/, "");
    expect(before).not.toContain("monitoring:tracing");
    const { code, text } = migrate(before, [], RAN_JAEGER);
    expect(code).toBe(0);
    expect(text).toBe(`${before}  monitoring:tracing:\n    enabled: true\n`);
    const stackFile = path.join(tempDir(), "Pulumi.production.yaml");
    fs.writeFileSync(stackFile, before);
    await expect(renderStack({ stack: "production", stackFile, previousOutputs: RAN_JAEGER })).rejects.toThrow(
      /monitoring:tracing\.enabled: is not set, .*npm run migrate -- --stack <stack> --previous/,
    );
    fs.writeFileSync(stackFile, text);
    const rendered = await renderStack({ stack: "production", stackFile, previousOutputs: RAN_JAEGER });
    expect(rendered.kubernetes.map((o) => `${o.object.kind}/${o.object.metadata.name}`)).toContain("StatefulSet/jaeger");
  });

  test("its keys written without the project prefix (as the Pulumi CLI reads them): migrated alike, and it renders", async () => {
    const bare = previousShape().replace(/^ {2}monitoring:/gm, "  ");
    expect(bare).not.toMatch(/^ {2}monitoring:/m);
    const { code, err, text } = migrate(bare, [], RAN_JAEGER);
    expect({ code, err }).toEqual({ code: 0, err: "" });
    // The same edits as on the prefixed file, each under its key as written.
    const prefixed = migrate(previousShape(), [], RAN_JAEGER).text;
    expect(text).toBe(prefixed.replace(/^ {2}monitoring:/gm, "  "));
    expect(text).toContain("  tracing:\n    enabled: true\n");
    expect(text).not.toContain("promtail");
    const stackFile = path.join(tempDir(), "Pulumi.production.yaml");
    fs.writeFileSync(stackFile, text);
    const rendered = await renderStack({ stack: "production", stackFile, previousOutputs: RAN_JAEGER });
    expect(rendered.kubernetes.map((o) => `${o.object.kind}/${o.object.metadata.name}`)).toEqual(
      expect.arrayContaining(["StatefulSet/jaeger", "Deployment/shop-redis-exporter", "DaemonSet/alloy"]),
    );
  });

  test("without --previous, tracing is left as it is and the note says how to decide", () => {
    const { code, text, out } = migrate(previousShape());
    expect(code).toBe(0);
    expect(text).toContain("  monitoring:tracing:\n    retention: 7d\n");
    expect(out).toContain("note: monitoring:tracing.enabled: not set, so Jaeger now runs only when an app sends OTLP");
  });
});

describe("what migrate cannot decide: refused, naming the key, nothing written", () => {
  test.each([
    [
      "Promtail with resources sized for it",
      (t: string) => t.replace("    agent: promtail\n", "    agent: promtail\n    resources: { limits: { memory: 128Mi } }\n"),
      "monitoring:logCollector.resources",
    ],
    [
      "the one Slack webhook",
      (t: string) => t.concat("  monitoring:slackWebhookUrl:\n    secure: v1:abc:def\n"),
      "monitoring:slackWebhookUrl",
    ],
    [
      "Slack channels per severity",
      (t: string) =>
        t.replace(
          "    repeatInterval: 4h\n",
          "    repeatInterval: 4h\n    slack: { criticalChannel: '#alerts', warningChannel: '#warn' }\n",
        ),
      "monitoring:alertmanager.slack",
    ],
    [
      "an app that sends OTLP without its namespace",
      (t: string) => t.replace("  monitoring:apps:\n", "  monitoring:apps:\n    - { name: worker, otlp: true }\n"),
      "monitoring:apps[0].namespace",
    ],
  ])("%s", (_title, shape, key) => {
    const before = shape(previousShape());
    expect(before).not.toBe(previousShape());
    const { code, err, out, text } = migrate(before, [], RAN_JAEGER);
    expect(code).toBe(1);
    expect(err).toContain(`refused: ${key}: `);
    expect(err).toContain("nothing written (1 refused)");
    expect(out).not.toContain("@@");
    expect(text).toBe(before);
  });
});

describe("the command", () => {
  test("--help prints the usage; a missing --stack is refused with it", () => {
    const help = migrate("config: {}\n", ["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^usage: npm run migrate -- --stack <name> \[--stack-file <file>\]/);
    expect(runMigrate(["--stack-file", "x.yaml"], { ...({} as MigrateIo), printError: () => undefined })).toBe(2);
  });

  test("--dry-run prints the diff and writes nothing", () => {
    const before = previousShape();
    const { code, out, text } = migrate(before, ["--dry-run"], RAN_JAEGER);
    expect(code).toBe(0);
    expect(out).toContain("+      mode: standalone");
    expect(out).toContain("not written (--dry-run)");
    expect(text).toBe(before);
  });

  test("npm run migrate on the repository's own stack files: nothing to migrate", () => {
    for (const stack of ["staging", "production"]) {
      const copy = path.join(tempDir(), `Pulumi.${stack}.yaml`);
      fs.copyFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), copy);
      const r = spawnSync("npm", ["run", "--silent", "migrate", "--", "--stack", stack, "--stack-file", copy], {
        cwd: ROOT,
        encoding: "utf8",
      });
      expect(r.stderr).not.toMatch(/refused|Error|error/);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`${copy}: nothing to migrate; the file is as it was`);
      expect(fs.readFileSync(copy, "utf8")).toBe(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8"));
    }
  });
});
