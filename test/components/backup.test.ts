/**
 * The backups (components/backup, config `backup`): the schedule's longest wait (what BackupTooOld
 * doubles), the section's refusals by key, nothing rendered while off, and with them on: one CronJob
 * per component the stack runs with its claim, first replica and image, the key pair from a Secret
 * only, what the other components change (Prometheus' admin API and OTLP receiver, the admin API
 * left out of the public routes, Alertmanager's maintenance interval), and the policies. The
 * restore's Job made from a rendered CronJob (cli/restore.ts). test/e2e/backup.test.ts runs
 * the rendered script on the exact binaries.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { main as restoreMain } from "../../cli/commands/restore";
import { runCommand, withKubectl } from "../support/command-run";
import { scheduleGapSeconds } from "../../components/backup/schedule";
import { images } from "../../components/images";
import { K8sObject, Rendered } from "../../cli/render";
import { CronJobObject, kubeContextProblem, parseRestoreArgs, restoreJob, restoreRefusal } from "../../cli/restore";
import { objectOf, objectsOf, render } from "../support/render";
import { parse, problems } from "../config/support";
import { schemaProblems } from "../support/schema";
import { BACKUPS_ON } from "../support/backups";

const ON = BACKUPS_ON;

type Container = { name: string; image: string; command: string[]; env: Array<{ name: string; value?: string; valueFrom?: unknown }> };
type PodSpec = {
  containers: Container[];
  initContainers: Container[];
  affinity: {
    podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: Array<{ labelSelector: { matchLabels: Record<string, string> } }> };
  };
  volumes: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }>;
  securityContext: { runAsUser: number };
};
const podOf = (r: Rendered, component: string) =>
  (objectOf(r, "CronJob", `backup-${component}`).spec as { jobTemplate: { spec: { template: { spec: PodSpec } } } }).jobTemplate.spec
    .template.spec;
const argsOf = (r: Rendered, kind: string, name: string) =>
  (
    objectOf(r, kind, name).spec as { template: { spec: { containers: Array<{ name: string; args: string[] }> } } }
  ).template.spec.containers.find((c) => c.name === name)?.args ?? [];

describe("the schedule's longest wait (components/backup/schedule.ts)", () => {
  test.each([
    ["17 3 * * *", 86400],
    ["0 */6 * * *", 6 * 3600],
    ["*/30 * * * *", 1800],
    ["0 3 * * 1", 7 * 86400],
    ["0 3 * * 1,4", 4 * 86400],
    ["0 3 * * 0", 7 * 86400],
    ["0 3 * * 7", 7 * 86400],
    ["0 2,20 * * *", 18 * 3600],
    ["* * * * *", 60],
    ["0 3 * * 1-5", 3 * 86400],
    ["30 23 * * 6,0", 6 * 86400],
    ["45 1,22 * * *", 21 * 3600],
    ["50,5 9 * * *", 86400 - 45 * 60],
  ])("%s: %d s", (schedule, seconds) => {
    expect(scheduleGapSeconds(schedule)).toBe(seconds);
  });

  test.each([
    ["0 3 1 * *", /day of month and month as \*/],
    ["0 3 * *", /five fields/],
    ["0 25 * * *", /hour field "25" is outside 0-23/],
    ["x 3 * * *", /minute field "x" is not/],
  ])("%s refused", (schedule, message) => {
    expect(String(scheduleGapSeconds(schedule))).toMatch(message);
  });
});

describe("the backup section", () => {
  test("off by default in both profiles, every component listed, a week or two kept", () => {
    const staging = parse("staging", {}).config.backup;
    const production = parse("production", {}).config.backup;
    expect([staging.enabled, production.enabled]).toEqual([false, false]);
    expect([staging.keep, production.keep]).toEqual([7, 14]);
    expect(staging.components).toEqual(["prometheus", "alertmanager", "grafana", "loki"]);
  });

  test("on, it wants a bucket, an endpoint for R2, a schedule it can watch and the key pair, by key", () => {
    expect(problems("staging", { backup: { enabled: true, schedule: "0 3 1 * *" } })).toEqual([
      "monitoring:backup.bucket: is required when backup.enabled is true: the bucket the backups go to",
      'monitoring:backup.endpoint: is required for provider "r2": its S3 endpoint, such as https://<account id>.r2.cloudflarestorage.com',
      'monitoring:backup.schedule: must leave day of month and month as * (got "1 *"): the alert on a late backup needs a fixed longest wait; got "0 3 1 * *"',
      "monitoring:backupAccessKeyId: is needed while backup.enabled is true: pulumi config set --secret backupAccessKeyId <key id>",
      "monitoring:backupSecretAccessKey: is needed while backup.enabled is true: pulumi config set --secret backupSecretAccessKey <secret key>",
    ]);
  });

  test("malformed values are refused with what is allowed", () => {
    const found = problems("staging", { backup: { provider: "gcs", keep: 0, components: ["jaeger"], prefix: "/x/" } });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^monitoring:backup.provider: must be one of r2, s3, b2, minio/),
        expect.stringMatching(/^monitoring:backup.keep: must be a whole number of backups, at least 1/),
        expect.stringMatching(/^monitoring:backup.components\[0\]: must be one of prometheus, alertmanager, grafana, loki/),
        expect.stringMatching(/^monitoring:backup.prefix: must be a folder/),
      ]),
    );
    // A run's timeout: 10 minutes to a day, a duration.
    for (const timeout of ["5m", "25h"]) {
      expect(problems("staging", { backup: { timeout } })).toEqual([
        `monitoring:backup.timeout: must be between 10m and 24h: the longest a backup run lasts before its Job ends it (got "${timeout}")`,
      ]);
    }
    expect(problems("staging", { backup: { timeout: "soon" } })).toEqual([
      expect.stringMatching(/^monitoring:backup\.timeout: must be a positive Prometheus duration/),
    ]);
  });

  test("a bucket name the store refuses, and an endpoint with a path, are refused with the rule and the fix", () => {
    const on = { enabled: true, endpoint: "https://0123456789abcdef.r2.cloudflarestorage.com" };
    const keys = { backupAccessKeyId: "k", backupSecretAccessKey: "s" };
    const of = (backup: Record<string, unknown>) => problems("staging", { backup: { ...on, ...backup } }, keys);
    expect(of({ bucket: "Acme_Monitoring_Backups" })).toEqual([
      'monitoring:backup.bucket: must be a bucket name the store takes: R2 takes 3 to 63 lowercase letters, digits and hyphens, beginning and ending with a letter or digit; got "Acme_Monitoring_Backups"',
    ]);
    expect(
      of({ bucket: "acme-monitoring-backups", endpoint: "https://0123456789abcdef.r2.cloudflarestorage.com/acme-monitoring-backups" }),
    ).toEqual([
      'monitoring:backup.endpoint: must be the store\'s address alone, without a path, query or fragment: set it to https://0123456789abcdef.r2.cloudflarestorage.com; got "https://0123456789abcdef.r2.cloudflarestorage.com/acme-monitoring-backups"',
    ]);
    expect(of({ bucket: "acme-backups", endpoint: "https://0123456789abcdef.r2.cloudflarestorage.com/other-bucket/" })).toEqual([
      expect.stringContaining(
        'set it to https://0123456789abcdef.r2.cloudflarestorage.com (its path names "other-bucket": the bucket goes in backup.bucket)',
      ),
    ]);
    // Each store's own rule: R2 takes no dot, S3 and MinIO do (not two in a row), B2 takes capitals but no fewer than 6.
    const refused = (provider: string, bucket: string) => {
      const backup = { ...on, provider, bucket, region: "eu-central-1", endpoint: "https://store.example.com" };
      return (() => {
        try {
          parse("staging", { backup }, keys);
          return false;
        } catch {
          return of(backup).some((p) => p.startsWith("monitoring:backup.bucket:"));
        }
      })();
    };
    const cases: Array<[string, string, boolean]> = [
      ["r2", "acme-backups", false],
      ["r2", "acme.backups", true],
      ["r2", "ab", true],
      ["r2", "-acme", true],
      ["r2", "a".repeat(63), false],
      ["r2", "a".repeat(64), true],
      ["s3", "acme.backups", false],
      ["s3", "acme..backups", true],
      ["s3", "192.168.5.4", true],
      ["s3", "xn--acme", true],
      ["s3", "acme-s3alias", true],
      ["s3", "Acme", true],
      ["minio", "acme_backups", true],
      ["minio", "acme-backups", false],
      ["b2", "Acme-Backups", false],
      ["b2", "acme", true],
      ["b2", "b2-acme-backups", true],
    ];
    expect(cases.map(([provider, bucket]) => [provider, bucket, refused(provider, bucket)])).toEqual(cases);
  });

  test("Alertmanager backed up writes its silences within the 120 s a backup waits: alertmanager.maintenanceInterval at most 1m", () => {
    const on = { enabled: true, bucket: "acme-backups", endpoint: "https://0123456789abcdef.r2.cloudflarestorage.com" };
    const keys = { backupAccessKeyId: "k", backupSecretAccessKey: "s" };
    const of = (plain: Record<string, unknown>) => problems("staging", plain, keys);
    expect(of({ backup: on, alertmanager: { maintenanceInterval: "2m" } })).toEqual([
      "monitoring:alertmanager.maintenanceInterval: must be at most 1m while Alertmanager is backed up (backup.components): a backup waits at most 120 s for Alertmanager's next write of its silences; got 2m",
    ]);
    const accepted = (plain: Record<string, unknown>) => parse("staging", plain, keys).config.alertmanager.maintenanceInterval;
    expect(accepted({ backup: on, alertmanager: { maintenanceInterval: "1m" } })).toBe("1m");
    // Not backed up (off, or not among the components): a longer interval is the team's choice.
    expect(accepted({ backup: { ...on, components: ["prometheus"] }, alertmanager: { maintenanceInterval: "15m" } })).toBe("15m");
    expect(accepted({ alertmanager: { maintenanceInterval: "15m" } })).toBe("15m");
  });

  test("on without kube-state-metrics (its own off, none shared), a warning: BackupTooOld reads the CronJobs from it", () => {
    const on = { enabled: true, bucket: "acme-backups", endpoint: "https://0123456789abcdef.r2.cloudflarestorage.com" };
    const keys = { backupAccessKeyId: "k", backupSecretAccessKey: "s" };
    const warned = (plain: Record<string, unknown>) => parse("staging", plain, keys).warnings.filter((w) => w.includes("BackupTooOld"));
    expect(warned({ backup: on, kubeStateMetrics: { enabled: false } })).toEqual([
      "monitoring:backup.enabled: kube-state-metrics is off (kubeStateMetrics.enabled) and none is shared with this stack (kubeStateMetrics.sharedFrom), so BackupTooOld, which reads the backup CronJobs' last success from it, never fires: a backup that stops coming goes unnoticed.",
    ]);
    expect(warned({ backup: on })).toEqual([]);
    expect(warned({ kubeStateMetrics: { enabled: false } })).toEqual([]);
  });

  test("off, the section's values are not checked, and S3 needs no endpoint", () => {
    expect(parse("staging", { backup: { enabled: false, schedule: "0 3 1 * *" } }).config.backup.enabled).toBe(false);
    const s3 = parse(
      "staging",
      { backup: { enabled: true, provider: "s3", region: "eu-central-1", bucket: "acme-monitoring-backups" } },
      {
        backupAccessKeyId: "k",
        backupSecretAccessKey: "s",
      },
    );
    expect(s3.config.backup.endpoint).toBeUndefined();
  });
});

describe("the rendered backups", () => {
  let off: Rendered;
  let on: Rendered;
  beforeAll(async () => {
    off = await render("staging");
    on = await render("staging", ON);
  });

  test("off: no CronJob, no backup rule file, Prometheus without the admin API", () => {
    expect(objectsOf(off, "CronJob")).toEqual([]);
    expect(
      [...off.files.keys()].filter((f) => f.startsWith("backup/") || f === "prometheus/backup.yml" || f === "prometheus/backups.rules.yml"),
    ).toEqual([]);
    expect(argsOf(off, "StatefulSet", "prometheus")).not.toContain("--web.enable-admin-api");
  });

  test("BackupTooOld's bound: the schedule's longest wait recorded for the stack's namespace (a weekly schedule: 604800 s)", async () => {
    const recorded = (r: Rendered) =>
      (YAML.parse(r.files.get("prometheus/backups.rules.yml") ?? "") as { groups: Array<{ rules: unknown[] }> }).groups.flatMap(
        (g) => g.rules,
      );
    expect(recorded(on)).toEqual([
      { record: "backup:schedule_longest_wait_seconds", expr: "86400", labels: { namespace: "monitoring-staging", stack: "staging" } },
    ]);
    const weekly = await render("staging", [...ON, "backup.schedule=17 3 * * 0"]);
    expect(recorded(weekly)).toEqual([
      { record: "backup:schedule_longest_wait_seconds", expr: "604800", labels: { namespace: "monitoring-staging", stack: "staging" } },
    ]);
  });

  test("the admin API behind the proxy: Prometheus on the loopback, the pod's ports the proxy's; without backups neither", () => {
    type Pod = {
      containers: Array<{ name: string; image: string; args: string[]; ports?: Array<{ name: string; containerPort: number }> }>;
    };
    const pod = (r: Rendered) => (objectOf(r, "StatefulSet", "prometheus").spec as { template: { spec: Pod } }).template.spec;
    const ports = (r: Rendered) => pod(r).containers.map((c) => [c.name, (c.ports ?? []).map((p) => `${p.name}:${p.containerPort}`)]);
    expect(ports(on)).toEqual([
      ["prometheus", []],
      ["proxy", ["http:9090", "admin:9092"]],
    ]);
    expect(argsOf(on, "StatefulSet", "prometheus")).toContain("--web.listen-address=127.0.0.1:9091");
    expect(pod(on).containers[1].image).toBe(images.traefik);
    expect(ports(off)).toEqual([["prometheus", ["http:9090"]]]);
    expect(argsOf(off, "StatefulSet", "prometheus")).toContain("--web.listen-address=:9090");
    expect(objectsOf(off, "ConfigMap", "prometheus-proxy")).toEqual([]);
    // The backups reach the admin port, and only the backups of Prometheus are admitted there.
    const target = objectOf(on, "Service", "backup-prometheus-target").spec as { ports: Array<{ port: number; targetPort: number }> };
    expect(target.ports.map((p) => [p.port, p.targetPort])).toEqual([[9092, 9092]]);
    const admitted = objectsOf(on, "NetworkPolicy").filter((p) =>
      (p.spec as { ingress?: Array<{ ports?: Array<{ port: number }> }> }).ingress?.some((i) => i.ports?.some((x) => x.port === 9092)),
    );
    expect(admitted.map((p) => p.metadata.name)).toEqual(["backup-to-prometheus"]);
  });

  test("on: a CronJob per component, on its first replica's node, with its claim, uid and images", () => {
    expect(
      objectsOf(on, "CronJob")
        .map((c) => c.metadata.name)
        .sort(),
    ).toEqual(["backup-alertmanager", "backup-grafana", "backup-loki", "backup-prometheus"]);
    const expected = {
      prometheus: { claim: "data-prometheus-0", pod: "prometheus-0", uid: 65534 },
      alertmanager: { claim: "data-alertmanager-0", pod: "alertmanager-0", uid: 65534 },
      loki: { claim: "data-loki-0", pod: "loki-0", uid: 10001 },
      grafana: { claim: "grafana", pod: undefined, uid: 472 },
    };
    for (const [component, want] of Object.entries(expected)) {
      const pod = podOf(on, component);
      const affinity = pod.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels;
      expect({
        component,
        claim: pod.volumes.find((v) => v.name === "data")?.persistentVolumeClaim?.claimName,
        pod: affinity["statefulset.kubernetes.io/pod-name"],
        uid: pod.securityContext.runAsUser,
        snapshot: [pod.initContainers[0].image, pod.initContainers[0].command],
        upload: [pod.containers[0].image, pod.containers[0].command],
      }).toEqual({
        component,
        ...want,
        snapshot: [component === "grafana" ? images.sqlite : images.rclone, ["/bin/sh", "/scripts/backup.sh", "snapshot"]],
        upload: [images.rclone, ["/bin/sh", "/scripts/backup.sh", "upload"]],
      });
    }
    const cron = objectOf(on, "CronJob", "backup-loki").spec as { schedule: string; concurrencyPolicy: string };
    expect([cron.schedule, cron.concurrencyPolicy]).toEqual(["17 3 * * *", "Forbid"]);
  });

  test("each component's target Service reaches its first replica while not ready too: the restore's running check sees it starting", () => {
    for (const c of ["prometheus", "alertmanager", "grafana", "loki"]) {
      const service = objectOf(on, "Service", `backup-${c}-target`).spec as { publishNotReadyAddresses?: boolean };
      expect([c, service.publishNotReadyAddresses]).toEqual([c, true]);
      // The one address the snapshot and the restore's check use (BACKUP_URL), in both containers.
      const pod = podOf(on, c);
      for (const container of [pod.initContainers[0], pod.containers[0]])
        expect(container.env.find((e) => e.name === "BACKUP_URL")?.value).toMatch(new RegExp(`^http://backup-${c}-target\\.`));
    }
  });

  test("the key pair reaches the upload container only, from the Secret; the snapshot gets none", () => {
    const pod = podOf(on, "prometheus");
    const refs = (c: Container) => c.env.filter((e) => e.valueFrom !== undefined).map((e) => e.name);
    expect(refs(pod.containers[0])).toEqual(["RCLONE_CONFIG_STORE_ACCESS_KEY_ID", "RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY"]);
    expect(refs(pod.initContainers[0])).toEqual([]);
    const env = Object.fromEntries(pod.containers[0].env.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      BACKUP_STACK: "staging",
      BACKUP_REMOTE: "store:monitoring-backups",
      BACKUP_KEEP: "7",
      BACKUP_INTERVAL_SECONDS: "86400",
      // The Job's own deadline: an incomplete folder younger than it may be a run still uploading.
      BACKUP_DEADLINE_SECONDS: String(
        (objectOf(on, "CronJob", "backup-prometheus").spec as { jobTemplate: { spec: { activeDeadlineSeconds: number } } }).jobTemplate.spec
          .activeDeadlineSeconds,
      ),
      BACKUP_URL: "http://backup-prometheus-target.monitoring-staging.svc:9092",
      BACKUP_PUSH_URL: "http://backup-push.monitoring-staging.svc:9090/api/v1/otlp/v1/metrics",
      RCLONE_CONFIG_STORE_PROVIDER: "Cloudflare",
      RCLONE_CONFIG_STORE_ENDPOINT: "https://0123456789abcdef.r2.cloudflarestorage.com",
    });
    expect(on.files.get("backup/access-key-id")).toBe("key-id-0123");
    expect(on.files.get("backup/backup.sh")).toContain("api/v1/admin/tsdb/snapshot");
  });

  test("backup.timeout is every Job's deadline and what backup.sh reads as one: 3 hours by default", async () => {
    const deadlines = (r: Rendered) =>
      objectsOf(r, "CronJob").map((c) => {
        const job = (c.spec as { jobTemplate: { spec: { activeDeadlineSeconds: number; template: { spec: PodSpec } } } }).jobTemplate.spec;
        const envs = [...job.template.spec.containers, ...job.template.spec.initContainers].map(
          (ctr) => ctr.env.find((e) => e.name === "BACKUP_DEADLINE_SECONDS")?.value,
        );
        return [job.activeDeadlineSeconds, ...envs];
      });
    expect(deadlines(on)).toEqual(Array(4).fill([10_800, "10800", "10800"]));
    const longer = await render("staging", [...ON, "backup.timeout=7h30m"]);
    expect(deadlines(longer)).toEqual(Array(4).fill([27_000, "27000", "27000"]));
  });

  test("Prometheus gets its admin API and OTLP receiver, which the public route leaves out; Alertmanager writes every minute (its default, backed up or not)", () => {
    expect(argsOf(on, "StatefulSet", "prometheus")).toEqual(
      expect.arrayContaining(["--web.enable-admin-api", "--web.enable-otlp-receiver"]),
    );
    expect(argsOf(on, "StatefulSet", "alertmanager")).toContain("--data.maintenance-interval=1m");
    expect(argsOf(off, "StatefulSet", "alertmanager")).toContain("--data.maintenance-interval=1m");
    const routes = (r: Rendered) =>
      objectsOf(r, "IngressRoute").flatMap((o) => (o.spec as { routes: Array<{ match: string }> }).routes.map((x) => x.match));
    expect(routes(on).filter((m) => m.includes("prometheus."))).toEqual([expect.stringContaining("!PathPrefix(`/api/v1/admin`)")]);
    expect(routes(off).filter((m) => m.includes("/api/v1/admin"))).toEqual([]);
    expect(on.files.get("prometheus/backup.yml")).toContain("alert: BackupTooOld");
  });

  test("production's tunnel answers Prometheus' admin API 404 too, before its rule to Prometheus", async () => {
    // Prometheus through the tunnel only: the production file publishes it on Traefik.
    const production = await render("production", [...ON, "cloudflare.expose=[grafana, prometheus]", "traefik.expose=[alertmanager]"]);
    const config = production.cloudflare.find((c) => c.type.endsWith("ZeroTrustTunnelCloudflaredConfig"));
    const ingresses = (config?.inputs.config as { ingresses: Array<{ hostname?: string; path?: string; service: string }> }).ingresses;
    const prometheus = ingresses.filter((i) => i.hostname?.startsWith("prometheus."));
    expect(prometheus.map((i) => [i.path, i.service])).toEqual([
      [expect.stringContaining("/api/v1/write"), "http_status:404"],
      [expect.stringContaining("/api/v1/otlp"), "http_status:404"],
      [expect.stringContaining("/api/v1/admin"), "http_status:404"],
      [undefined, "http://prometheus.monitoring-production.svc:9090"],
    ]);
  });

  test("the backup pods reach DNS, their components, Prometheus and the store's port, nothing else", () => {
    const egress = objectOf(on, "NetworkPolicy", "backup-egress").spec as { egress: Array<{ ports?: Array<{ port: number }> }> };
    expect(egress.egress.map((e) => (e.ports ?? []).map((p) => p.port))).toEqual([[53, 53], [9092], [9093], [3000], [3100], [9090], [443]]);
    for (const c of ["prometheus", "alertmanager", "grafana", "loki"])
      expect(objectsOf(on, "NetworkPolicy", `backup-to-${c}`)).toHaveLength(1);
  });

  test("Grafana on an external database and Loki turned off are not backed up", async () => {
    const r = await render("staging", [
      ...ON,
      "loki.enabled=false",
      "logCollector.enabled=false",
      "grafana.database={type: postgres, host: db.example.com, name: grafana, user: grafana}",
      "grafanaDatabasePassword=grafana-database-password",
    ]);
    expect(
      objectsOf(r, "CronJob")
        .map((c) => c.metadata.name)
        .sort(),
    ).toEqual(["backup-alertmanager", "backup-prometheus"]);
  });

  test("every object of the backups, and the restore's Job, passes the official schema", () => {
    const ours = on.kubernetes.filter((o) => o.object.metadata.labels?.["app.kubernetes.io/name"] === "backup").map((o) => o.object);
    expect(ours.map((o) => o.kind).sort()).toEqual([
      "ConfigMap",
      ...Array(4).fill("CronJob"),
      ...Array(6).fill("NetworkPolicy"),
      "Secret",
      ...Array(5).fill("Service"),
    ]);
    const job = restoreJob(
      objectOf(on, "CronJob", "backup-loki") as unknown as CronJobObject,
      { from: "latest", list: false, replace: false },
      "r",
    );
    for (const o of [...ours, job as K8sObject]) expect(schemaProblems(o)).toEqual([]);
  });

  test("the restore's Job: the upload container running `restore`, no snapshot, no affinity, the claim written", () => {
    const cronJob = objectOf(on, "CronJob", "backup-grafana") as unknown as CronJobObject;
    const job = restoreJob(cronJob, { from: "latest", list: false, replace: true }, "restore-grafana-1") as {
      metadata: { name: string; namespace: string };
      spec: { template: { spec: PodSpec & { volumes: Array<{ name: string }> } } };
    };
    const spec = job.spec.template.spec;
    expect(job.metadata).toMatchObject({ name: "restore-grafana-1", namespace: "monitoring-staging" });
    expect([spec.initContainers, spec.affinity]).toEqual([undefined, undefined]);
    expect(spec.containers[0].command).toEqual(["/bin/sh", "/scripts/backup.sh", "restore", "latest"]);
    expect(spec.containers[0].env).toContainEqual({ name: "BACKUP_REPLACE", value: "1" });
    expect((spec.containers[0] as unknown as { volumeMounts: Array<{ name: string; readOnly?: boolean }> }).volumeMounts).toContainEqual(
      expect.objectContaining({ name: "data", readOnly: false }),
    );
    const list = restoreJob(cronJob, { list: true, replace: false }, "list-grafana-1") as typeof job;
    expect(list.spec.template.spec.volumes.map((v) => v.name)).not.toContain("data");
    expect(list.spec.template.spec.containers[0].command.slice(2)).toEqual(["list"]);
  });
});

describe("npm run restore's arguments and refusal (cli/restore.ts)", () => {
  test("interrupted while its Job runs (SIGTERM, SIGINT), it deletes the Job before it exits", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "restore-signal-"));
    const calls = path.join(dir, "calls");
    // A cluster where loki is scaled to 0 and the Job never finishes.
    const kubectl = {
      subject: '"$*"',
      calls,
      answers: [
        ['"config current-context"', "echo lab"],
        ['"get namespace monitoring-staging -o name"', "echo namespace/monitoring-staging"],
        ['*" get statefulset loki "*', "echo 0"],
        ['*" get pods "*', ""],
        ['"create -f -"', "cat > /dev/null"],
        ['*" get job "*', "printf ,"],
        ['*" delete job "*', "echo deleted"],
      ],
    } as const;
    const before = { SIGINT: process.listeners("SIGINT"), SIGTERM: process.listeners("SIGTERM") };
    await withKubectl(dir, kubectl, async () => {
      // The key pair from a secrets file only this user reads, as the command wants secrets.
      const secrets = path.join(dir, "secrets.yaml");
      fs.writeFileSync(secrets, "backupAccessKeyId: key-id-0123\nbackupSecretAccessKey: secret-key-0123456789\n", { mode: 0o600 });
      const sets = [
        ...[...ON.filter((s) => s.startsWith("backup.")), "backup.components=[loki]"].flatMap((s) => ["--set", s]),
        "--secrets-file",
        secrets,
      ];
      for (const [signal, code] of [
        ["SIGTERM", 143],
        ["SIGINT", 130],
      ] as const) {
        fs.rmSync(calls, { force: true });
        const ran = runCommand(() => restoreMain(), ["--stack", "staging", "--component", "loki", "--from", "latest", ...sets]);
        // Once it waits for its Job: its own handler of the signal, called as Node would.
        let added: Array<(...a: unknown[]) => void> = [];
        for (let i = 0; i < 400 && added.length === 0; i++) {
          await new Promise((r) => setTimeout(r, 50));
          added = process.listeners(signal).filter((l) => !before[signal].includes(l)) as typeof added;
        }
        expect(added).toHaveLength(1);
        added[0](signal);
        const { code: exited, err } = await ran;
        const made = fs.readFileSync(calls, "utf8").split("\n");
        const job = /restore-loki-\d+/.exec(made.find((c) => c.includes(" get job ")) ?? "")?.[0];
        expect({ exited, deleted: made.filter((c) => c.includes(" delete job ")) }).toEqual({
          exited: code,
          deleted: [`-n monitoring-staging delete job ${job} --cascade=foreground --wait=false`],
        });
        expect(err).toContain(`${signal}: job ${job} deleted`);
        expect(process.listeners(signal)).toEqual(before[signal]);
      }
    }).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
  });

  test("a component, and either a backup or --list", () => {
    expect(parseRestoreArgs(["--stack", "staging", "--component", "loki", "--from", "latest"])).toMatchObject({
      stack: "staging",
      component: "loki",
      from: "latest",
      list: false,
    });
    expect(parseRestoreArgs(["--stack", "staging", "--component", "loki", "--list"])).toMatchObject({ list: true });
    expect(parseRestoreArgs(["--stack", "staging", "--component", "jaeger", "--list"])).toMatch(/--component must be one of/);
    expect(parseRestoreArgs(["--stack", "staging", "--component", "loki"])).toMatch(/either --from <backup\|latest> or --list/);
    expect(parseRestoreArgs(["--stack", "staging", "--component", "loki", "--from", "../x"])).toMatch(/--from must be a backup's name/);
  });

  test("refused while the workload has replicas or pods, named with the command that stops it", () => {
    expect(restoreRefusal("monitoring-staging", "prometheus", { replicas: 1, pods: ["pod/prometheus-0"] })).toMatch(
      /^prometheus is running: statefulset prometheus has 1 replica\(s\) \(pods still there: pod\/prometheus-0\).*kubectl -n monitoring-staging scale statefulset prometheus --replicas=0/,
    );
    expect(restoreRefusal("monitoring-staging", "grafana", { replicas: 0, pods: ["pod/grafana-1"] })).toMatch(/pods still there/);
    expect(restoreRefusal("monitoring-staging", "grafana", undefined)).toMatch(/no deployment grafana in namespace monitoring-staging/);
    expect(restoreRefusal("monitoring-staging", "loki", { replicas: 0, pods: [] })).toBeUndefined();
  });

  test("kubectl's context, wrong or missing, said in one line (kubectl's own answers)", () => {
    const none = { ok: false, out: "", err: "error: current-context is not set\n" };
    const lab = { ok: true, out: "lab\n", err: "" };
    const refused = {
      ok: false,
      out: "",
      err:
        'E1125 03:21:39.041535     367 memcache.go:265] "Unhandled Error" err="couldn\'t get current server API group list: Get \\"https://127.0.0.1:1/api?timeout=32s\\": dial tcp 127.0.0.1:1: connect: connection refused"\n' +
        "The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?\n",
    };
    const missing = { ok: false, out: "", err: 'Error from server (NotFound): namespaces "monitoring-staging" not found\n' };
    const said = [
      kubeContextProblem("staging", "", none),
      kubeContextProblem("staging", "monitoring-staging", lab, refused),
      kubeContextProblem("staging", "monitoring-staging", lab, missing),
    ];
    expect(said).toEqual([
      "no kube context: kubectl has none set (KUBECONFIG or ~/.kube/config), so it cannot reach the cluster of stack staging: kubectl config use-context <its context>, then run this again",
      'kube context "lab" does not answer: The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port? (kubectl config use-context <the cluster of stack staging>)',
      'kube context "lab" has no namespace monitoring-staging: it is not the cluster stack staging is deployed to (kubectl config use-context <its context>)',
    ]);
    expect(said.every((line) => !line?.includes("\n"))).toBe(true);
    expect(
      kubeContextProblem("staging", "monitoring-staging", lab, { ok: true, out: "namespace/monitoring-staging", err: "" }),
    ).toBeUndefined();
  });
});
