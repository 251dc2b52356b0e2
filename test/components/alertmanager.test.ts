/**
 * Alertmanager: the pure config, the component alone under mocks, and both real stacks.
 * The deployed release's amtool checks the rendered files and renders the message templates
 * in test/e2e/alertmanager.test.ts.
 */
import * as YAML from "yaml";
import { Alertmanager } from "../../components/alertmanager";
import { AlertmanagerArgs } from "../../components/alertmanager/args";
import { AlertReceivers } from "../../components/alertmanager/routing";
import { problems } from "../../components/alertmanager/section";
import {
  GROUP_BY,
  INHIBIT_EQUAL,
  alertmanagerConfig,
  alertmanagerTemplates,
  receiverChannels,
} from "../../components/alertmanager/config-file";
import { alertmanagerArgs } from "../../components/stack/args";
import { parseStackConfig } from "../../config";
import { images } from "../../components/images";
import { Rendered, renderRun, summary } from "../../cli/render";
import { runProgram } from "../../cli/runner";
import { objectOf, objectsOf, render, renderStack, ALONE } from "../support/render";
import { schemaProblems } from "../support/schema";
import { parse, problems as configProblems } from "../config/support";
import { ALL_RECEIVER_SETS, SEED_001_HOOKS, SEED_001_SETS, SMTP_PASSWORD, URLS } from "../support/alertmanager";

const ALL_RECEIVERS: AlertReceivers = {
  discord: { webhookUrl: URLS.discord, criticalWebhookUrl: URLS.discordCritical },
  webhook: { url: URLS.webhook },
  deadMansSwitch: { url: URLS.deadMansSwitch },
};

const timing = { groupWait: "30s", groupInterval: "5m", repeatInterval: "4h" };

type Receiver = { name: string } & Record<string, Array<Record<string, unknown>>>;
const receiversOf = (config: Record<string, unknown>) => config.receivers as Receiver[];
const receiver = (config: Record<string, unknown>, name: string) => receiversOf(config).find((r) => r.name === name);

describe("alertmanagerConfig", () => {
  test("with every receiver: critical and warning channels, the Watchdog to the dead man's switch first", () => {
    const config = alertmanagerConfig({ environment: "production", receivers: ALL_RECEIVERS, ...timing });

    expect(config.route).toEqual({
      receiver: "warning",
      group_by: GROUP_BY,
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: [
        { receiver: "deadmans-switch", matchers: ['watchdog="true"'], group_wait: "0s", group_interval: "1m", repeat_interval: "5m" },
        { receiver: "critical", matchers: ['severity="critical"'] },
        { receiver: "warning", matchers: ['severity=~"warning|info"'] },
      ],
    });
    expect(receiversOf(config).map((r) => r.name)).toEqual(["critical", "warning", "deadmans-switch", "null"]);
    expect(receiver(config, "critical")?.discord_configs).toEqual([
      {
        webhook_url: URLS.discordCritical,
        title: '{{ template "monitoring.title" . }}',
        message: '{{ template "monitoring.message" . }}',
        send_resolved: true,
      },
    ]);
    expect(receiver(config, "warning")?.discord_configs?.[0].webhook_url).toBe(URLS.discord);
    expect(receiver(config, "critical")?.webhook_configs).toEqual([{ url: URLS.webhook, send_resolved: true }]);
    expect(receiver(config, "warning")?.webhook_configs).toEqual([{ url: URLS.webhook, send_resolved: true }]);
    expect(receiver(config, "deadmans-switch")).toEqual({
      name: "deadmans-switch",
      webhook_configs: [{ url: URLS.deadMansSwitch, send_resolved: false }],
    });
    expect(receiver(config, "null")).toEqual({ name: "null" });
  });

  test("a single Discord webhook takes every severity, whichever of the two it is", () => {
    for (const discord of [{ webhookUrl: URLS.discord }, { criticalWebhookUrl: URLS.discordCritical }]) {
      const only = discord.webhookUrl ?? discord.criticalWebhookUrl;
      const config = alertmanagerConfig({ environment: "staging", receivers: { discord }, ...timing });
      expect(receiver(config, "critical")?.discord_configs?.[0].webhook_url).toBe(only);
      expect(receiver(config, "warning")?.discord_configs?.[0].webhook_url).toBe(only);
      expect(receiver(config, "critical")?.slack_configs).toBeUndefined();
    }
  });

  test("with no receiver, everything goes to a `null` receiver without integrations", () => {
    const config = alertmanagerConfig({ environment: "staging", receivers: {}, ...timing });
    expect(receiversOf(config)).toEqual([{ name: "null" }]);
    expect(config.route).toMatchObject({ receiver: "null", routes: [{ receiver: "null", matchers: ['watchdog="true"'] }] });
  });

  test("the Watchdog never reaches a human channel, even without a dead man's switch", () => {
    const config = alertmanagerConfig({ environment: "staging", receivers: { discord: { webhookUrl: URLS.discord } }, ...timing });
    const routes = (config.route as { routes: Array<{ receiver: string; matchers: string[] }> }).routes;
    expect(routes[0]).toMatchObject({ receiver: "null", matchers: ['watchdog="true"'] });
    expect(routes[0]).not.toHaveProperty("continue");
  });

  test("a critical alert mutes the warning (and info) of the same name and target", () => {
    const config = alertmanagerConfig({ environment: "staging", receivers: {}, ...timing });
    expect(config.inhibit_rules).toEqual([
      { source_matchers: ['severity="critical"'], target_matchers: ['severity=~"warning|info"'], equal: INHIBIT_EQUAL },
      { source_matchers: ['severity="warning"'], target_matchers: ['severity="info"'], equal: INHIBIT_EQUAL },
    ]);
    expect(INHIBIT_EQUAL).toEqual(expect.arrayContaining(["alertname", "instance", "job", "namespace", "app", "database"]));
    expect(INHIBIT_EQUAL).not.toContain("severity");
    expect(INHIBIT_EQUAL).not.toContain("replica");
  });

  test("the receivers and their channels, in words without secrets, for the render's summary", () => {
    expect(receiverChannels(ALL_RECEIVERS)).toEqual([
      { name: "critical", channels: ["discord (discordCriticalWebhookUrl)", "webhook"] },
      { name: "warning", channels: ["discord (discordWebhookUrl)", "webhook"] },
      { name: "deadmans-switch", channels: ["webhook (Watchdog only)"] },
    ]);
    expect(receiverChannels({ discord: { webhookUrl: URLS.discord } })).toEqual([
      { name: "critical", channels: ["discord"] },
      { name: "warning", channels: ["discord"] },
    ]);
    expect(receiverChannels({})).toEqual([]);
    expect(JSON.stringify(receiverChannels(ALL_RECEIVERS))).not.toMatch(/https?:/);
  });

  test("Discord configs use only the four fields the stack sets", () => {
    const config = alertmanagerConfig({ environment: "production", receivers: ALL_RECEIVERS, ...timing });
    for (const r of receiversOf(config)) {
      for (const d of r.discord_configs ?? []) expect(Object.keys(d).sort()).toEqual(["message", "send_resolved", "title", "webhook_url"]);
    }
  });
});

describe("alertmanagerArgs", () => {
  /** A stack's validated config from plain `monitoring:*` values and secrets. */
  const stackConfig = (stack: string, plain: Record<string, unknown>, secrets: Record<string, string> = {}) => {
    const wire = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
    const values = Object.fromEntries(Object.entries({ ...plain, ...secrets }).map(([k, v]) => [`monitoring:${k}`, wire(v)]));
    return parseStackConfig({ project: "monitoring", stack, values, secretKeys: Object.keys(secrets).map((k) => `monitoring:${k}`) })
      .config;
  };

  test("the stack's section, receivers and volume protection reach the component", () => {
    const cfg = stackConfig("production", { nodes: 3, alertmanager: { groupWait: "10s" } }, { discordWebhookUrl: URLS.discord });
    expect(alertmanagerArgs(cfg)).toEqual({
      namespace: "monitoring-production",
      environment: "production",
      replicas: 3,
      groupWait: "10s",
      groupInterval: "5m",
      repeatInterval: "4h",
      maintenanceInterval: "1m",
      receivers: { discord: { webhookUrl: URLS.discord } },
      storage: cfg.alertmanager.storage,
      resources: cfg.alertmanager.resources,
      protectVolumes: true,
      ingressFromTraefik: false,
      ingressFromCloudflared: false,
      // Loki's ruler sends the alerts of the LogQL rules.
      ingressFromLoki: true,
      egress: { apiServer: { cidrs: ["0.0.0.0/0", "::/0"], ports: [443, 6443] }, nodeCidrs: ["0.0.0.0/0", "::/0"], extra: [] },
      priorityClassName: "monitoring-production-priority",
    });
  });

  test("links point at the public hostname, and the edge may connect, only when Traefik or the tunnel publishes Alertmanager", () => {
    const viaTraefik = alertmanagerArgs(
      stackConfig("staging", { domain: "example.com", traefik: { enabled: true, expose: ["alertmanager"] } }),
    );
    expect(viaTraefik).toMatchObject({
      externalUrl: "https://alertmanager.example.com",
      ingressFromTraefik: true,
      ingressFromCloudflared: false,
    });
    const grafanaOnly = alertmanagerArgs(
      stackConfig("staging", { domain: "example.com", traefik: { enabled: true, expose: ["grafana"] } }),
    );
    expect(grafanaOnly.externalUrl).toBeUndefined();
    expect(grafanaOnly.ingressFromTraefik).toBe(false);
  });

  test("Loki's pods may send to the HTTP port while Loki runs (its ruler), not once it is off", () => {
    expect(alertmanagerArgs(stackConfig("staging", {})).ingressFromLoki).toBe(true);
    expect(
      alertmanagerArgs(stackConfig("staging", { loki: { enabled: false }, logCollector: { enabled: false } })).ingressFromLoki,
    ).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------
// The component alone

const BASE_ARGS: AlertmanagerArgs = {
  namespace: "monitoring",
  environment: "staging",
  replicas: 1,
  ...timing,
  maintenanceInterval: "1m",
  receivers: {},
  storage: { size: "1Gi", storageClass: "local-path" },
  resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
};

async function renderAlertmanager(args: AlertmanagerArgs) {
  const run = await runProgram({
    ...ALONE,
    program: async () => {
      const am = new Alertmanager("alertmanager", args);
      return { url: am.url, peers: am.peers, scrapeTargets: am.scrapeTargets };
    },
  });
  return { run, shown: renderRun(run, true), redacted: renderRun(run, false) };
}

interface PodSpec {
  containers: Array<{
    name: string;
    image: string;
    args: string[];
    ports?: Array<{ name: string; containerPort: number; protocol: string }>;
  }>;
  volumes: Array<{ name: string; projected?: { sources: Array<Record<string, { name: string }>> } }>;
  affinity?: unknown;
}
const podSpecOf = (r: Rendered) =>
  (objectOf(r, "StatefulSet", "alertmanager").spec as { template: { spec: PodSpec; metadata: { annotations?: unknown } } }).template;
const argsOf = (r: Rendered, container = "alertmanager") => podSpecOf(r).spec.containers.find((c) => c.name === container)?.args ?? [];

describe("Alertmanager component", () => {
  test("the config is in a Secret, the templates in a ConfigMap: no webhook URL in a ConfigMap or in the redacted render", async () => {
    const { shown, redacted } = await renderAlertmanager({ ...BASE_ARGS, receivers: ALL_RECEIVERS });

    const secret = objectOf(shown, "Secret", "alertmanager-config");
    expect(Object.keys(secret.stringData as object)).toEqual(["alertmanager.yml"]);
    expect(YAML.parse((secret.stringData as Record<string, string>)["alertmanager.yml"])).toEqual(
      alertmanagerConfig({ environment: "staging", receivers: ALL_RECEIVERS, ...timing }),
    );
    expect(objectOf(shown, "ConfigMap", "alertmanager-templates").data).toEqual(alertmanagerTemplates({ environment: "staging" }));

    const configMaps = JSON.stringify(objectsOf(shown, "ConfigMap"));
    const everythingRedacted = JSON.stringify([redacted.kubernetes, [...redacted.files.values()], redacted.outputs]);
    for (const url of Object.values(URLS)) {
      expect(configMaps).not.toContain(url);
      expect(everythingRedacted).not.toContain(url);
    }
    expect(redacted.files.get("alertmanager/alertmanager.yml")).toMatch(/^\[secret\]/);
  });

  test("the config and templates are mounted as one directory and reloaded in place by a pinned sidecar", async () => {
    const { shown } = await renderAlertmanager(BASE_ARGS);
    const template = podSpecOf(shown);
    expect(template.spec.volumes.find((v) => v.name === "config")?.projected?.sources).toEqual([
      { secret: { name: "alertmanager-config", items: [{ key: "alertmanager.yml", path: "alertmanager.yml" }] } },
      { configMap: { name: "alertmanager-templates" } },
      { configMap: { name: "alertmanager-web" } },
    ]);
    expect(argsOf(shown)).toContain("--config.file=/etc/alertmanager/config/alertmanager.yml");
    const reloader = template.spec.containers.find((c) => c.name === "config-reloader");
    expect(reloader?.image).toBe(images.configReloader);
    expect(reloader?.args).toEqual([
      "--reload-url=http://127.0.0.1:9093/-/reload",
      "--watched-dir=/etc/alertmanager/config",
      "--listen-address=:8080",
    ]);
    // A checksum on the pod template would restart the pods (and drop in-memory state) on every config change.
    expect(template.metadata.annotations).toBeUndefined();
  });

  test("staging: one unclustered peer, no PodDisruptionBudget", async () => {
    const { shown, run } = await renderAlertmanager(BASE_ARGS);
    const sts = objectOf(shown, "StatefulSet", "alertmanager");
    expect((sts.spec as { replicas: number }).replicas).toBe(1);
    expect(argsOf(shown)).toContain("--cluster.listen-address=");
    expect(argsOf(shown).filter((a) => a.startsWith("--cluster.peer"))).toEqual([]);
    expect(objectsOf(shown, "PodDisruptionBudget")).toEqual([]);
    expect(podSpecOf(shown).spec.affinity).toBeUndefined();
    expect(run.outputs.url).toBe("http://alertmanager.monitoring.svc:9093");
  });

  test("two stacks' peers carry their own cluster label, so that gossip between them is dropped", async () => {
    // Both stack files on one three-node cluster, each with a clustered Alertmanager.
    const production = await render("production", ["nodes=3"]);
    const staging = await render("staging", ["nodes=3", "alertmanager.replicas=2"]);
    const labels = (r: Rendered) => argsOf(r).filter((a) => a.startsWith("--cluster.label"));
    expect(labels(production)).toEqual(["--cluster.label=monitoring-production"]);
    expect(labels(staging)).toEqual(["--cluster.label=monitoring-staging"]);
    // Every peer runs the same template: the label is on each of them.
    expect((objectOf(production, "StatefulSet", "alertmanager").spec as { replicas: number }).replicas).toBe(3);
  });

  test("production: three gossiping peers that find each other by stable DNS names, a PDB and anti-affinity", async () => {
    const { shown } = await renderAlertmanager({ ...BASE_ARGS, environment: "production", replicas: 3, protectVolumes: true });
    const sts = objectOf(shown, "StatefulSet", "alertmanager");
    expect(sts.spec).toMatchObject({ replicas: 3, serviceName: "alertmanager-cluster" });
    expect(argsOf(shown).filter((a) => a.startsWith("--cluster."))).toEqual([
      "--cluster.listen-address=0.0.0.0:9094",
      "--cluster.advertise-address=$(POD_IP):9094",
      "--cluster.label=monitoring",
      "--cluster.peer=alertmanager-0.alertmanager-cluster.monitoring.svc:9094",
      "--cluster.peer=alertmanager-1.alertmanager-cluster.monitoring.svc:9094",
      "--cluster.peer=alertmanager-2.alertmanager-cluster.monitoring.svc:9094",
    ]);
    expect(objectOf(shown, "Service", "alertmanager-cluster").spec).toMatchObject({
      clusterIP: "None",
      publishNotReadyAddresses: true,
      ports: [
        { name: "tcp-mesh", port: 9094, targetPort: "tcp-mesh", protocol: "TCP" },
        { name: "udp-mesh", port: 9094, targetPort: "udp-mesh", protocol: "UDP" },
      ],
    });
    const selector = {
      "app.kubernetes.io/name": "alertmanager",
      "app.kubernetes.io/instance": "production",
      "app.kubernetes.io/component": "alerting",
      "app.kubernetes.io/part-of": "monitoring-stack",
    };
    expect(objectOf(shown, "PodDisruptionBudget", "alertmanager").spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: selector } });
    // Each peer on a node of its own: the budget then lets a drain take one, and only one, per node.
    expect(podSpecOf(shown).spec.affinity).toEqual({
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: selector } },
        ],
      },
    });
    expect(objectOf(shown, "NetworkPolicy", "alertmanager").spec).toEqual({
      podSelector: { matchLabels: selector },
      policyTypes: ["Ingress"],
      ingress: [
        {
          ports: [{ protocol: "TCP", port: 9093 }],
          from: [
            { podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "production" } } },
            { podSelector: { matchLabels: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "production" } } },
          ],
        },
        {
          ports: [
            { protocol: "TCP", port: 9094 },
            { protocol: "UDP", port: 9094 },
          ],
          from: [{ podSelector: { matchLabels: selector } }],
        },
      ],
    });
  });

  test("Prometheus finds every peer through the `alertmanager` Service, and the component's metrics as a scrape target", async () => {
    const { shown, run } = await renderAlertmanager({ ...BASE_ARGS, replicas: 3 });
    const selector = (objectOf(shown, "Service", "alertmanager").spec as { selector: Record<string, string> }).selector;
    expect(objectOf(shown, "Service", "alertmanager").spec).toMatchObject({ ports: [{ name: "http", port: 9093, targetPort: "http" }] });
    expect(run.outputs.peers).toEqual({ namespace: "monitoring", selector, port: "http" });
    expect(run.outputs.scrapeTargets).toEqual([{ job: "alertmanager", namespace: "monitoring", selector, port: "http" }]);
    // The headless Service carries the same labels but no `http` port, so it never doubles the peers.
    expect(
      (objectOf(shown, "Service", "alertmanager-cluster").spec as { ports: Array<{ name: string }> }).ports.map((p) => p.name),
    ).not.toContain("http");
  });

  test("restricted, read-only, probed, pinned, with resources: every object passes the official schema", async () => {
    const { shown } = await renderAlertmanager({ ...BASE_ARGS, replicas: 3, receivers: ALL_RECEIVERS });
    for (const o of shown.kubernetes)
      expect({ object: `${o.object.kind}/${o.object.metadata.name}`, problems: schemaProblems(o.object) }).toEqual({
        object: `${o.object.kind}/${o.object.metadata.name}`,
        problems: [],
      });
    const spec = (objectOf(shown, "StatefulSet", "alertmanager").spec as { template: { spec: Record<string, unknown> } }).template.spec;
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } });
    for (const c of spec.containers as Array<Record<string, unknown>>) {
      expect(c.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
      });
      expect(c.readinessProbe).toBeDefined();
      expect(c.livenessProbe).toBeDefined();
      expect(c.resources).toMatchObject({
        requests: { cpu: expect.any(String), memory: expect.any(String) },
        limits: { memory: expect.any(String) },
      });
      expect(Object.values(images)).toContain(c.image);
    }
    const am = (spec.containers as Array<Record<string, unknown>>)[0];
    expect(am.readinessProbe).toMatchObject({ httpGet: { path: "/-/ready", port: "http" } });
    expect(am.livenessProbe).toMatchObject({ httpGet: { path: "/-/healthy", port: "http" } });
    expect((objectOf(shown, "StatefulSet", "alertmanager").spec as { volumeClaimTemplates: unknown[] }).volumeClaimTemplates).toMatchObject(
      [{ metadata: { name: "data" }, spec: { storageClassName: "local-path", resources: { requests: { storage: "1Gi" } } } }],
    );
  });

  test("with no receiver it still deploys, and warns at preview time", async () => {
    const { run, shown } = await renderAlertmanager(BASE_ARGS);
    expect(run.warnings).toEqual([expect.stringMatching(/No alert receiver is configured .*"null" receiver/)]);
    expect(objectsOf(shown, "StatefulSet")).toHaveLength(1);
    const withDiscord = await renderAlertmanager({ ...BASE_ARGS, receivers: { discord: { webhookUrl: URLS.discord } } });
    expect(withDiscord.run.warnings).toEqual([]);
    // A dead man's switch alone notifies no human: still a warning.
    const switchOnly = await renderAlertmanager({ ...BASE_ARGS, receivers: { deadMansSwitch: { url: URLS.deadMansSwitch } } });
    expect(switchOnly.run.warnings).toHaveLength(1);
  });

  test("inputs it cannot deploy are refused, naming the argument: by config or by problems(), before any resource", () => {
    expect(configProblems("staging", { alertmanager: { replicas: 0 } })).toEqual([
      expect.stringMatching(/^monitoring:alertmanager\.replicas: must be /),
    ]);
    // A Discord receiver exists only with one of its webhooks.
    const discord = (secrets: Record<string, string>) => parse("staging", {}, secrets).config.alertmanager.receivers.discord;
    expect(discord({})).toBeUndefined();
    expect(discord({ discordCriticalWebhookUrl: URLS.discord })).toEqual({ criticalWebhookUrl: URLS.discord });
    const slackUrl = { slackWebhookUrls: { deployment: URLS.slack } };
    expect(
      configProblems(
        "staging",
        { alertmanager: { receivers: [{ name: "deployment", slack: { channel: "#deployment" } }], defaultReceiver: "infrastructure" } },
        slackUrl,
      ),
    ).toEqual([
      'monitoring:alertmanager.defaultReceiver: must name a receiver of alertmanager.receivers (deployment) (got "infrastructure")',
    ]);
    expect(
      configProblems("staging", {
        alertmanager: { receivers: [{ name: "ops", email: { to: ["ops@example.com"] } }], defaultReceiver: "ops" },
      }),
    ).toEqual([
      expect.stringMatching(/^monitoring:alertmanager\.receivers\[0\]\.email: receiver "ops" sends email, so alertmanager\.smtp must say/),
    ]);
    expect(configProblems("staging", { alertmanager: { receivers: [{ name: "empty" }], defaultReceiver: "empty" } })).toEqual([
      expect.stringMatching(/^monitoring:alertmanager\.receivers\[0\]: receiver "empty" has no integration/),
    ]);
    expect(problems({ groupWait: "1m", groupInterval: "30s", repeatInterval: "4h" })).toEqual([
      { key: "groupInterval", message: "must be at least alertmanager.groupWait (1m); got 30s", involves: ["groupWait"] },
    ]);
    expect(problems(BASE_ARGS)).toEqual([]);
  });

  test("alertmanager.maintenanceInterval: a duration Alertmanager's flag takes, from 1s to 1h, else refused naming the key", () => {
    const refused = (value: unknown) => configProblems("staging", { alertmanager: { maintenanceInterval: value } });
    const units = "must be a duration of hours, minutes and seconds such as 30s, 1m or 1h30m (Alertmanager's flag takes no days)";
    expect(refused("1d")).toEqual([`monitoring:alertmanager.maintenanceInterval: ${units} (got "1d")`]);
    expect(refused("90")).toEqual([`monitoring:alertmanager.maintenanceInterval: ${units} (got "90")`]);
    expect(refused("500ms")).toEqual([`monitoring:alertmanager.maintenanceInterval: ${units} (got "500ms")`]);
    expect(refused("2h")).toEqual(['monitoring:alertmanager.maintenanceInterval: must be between 1s and 1h (got "2h")']);
    expect(refused(60)).toEqual([
      expect.stringMatching(/^monitoring:alertmanager\.maintenanceInterval: must be a duration such as 30s, 1m or 5m/),
    ]);
    for (const ok of ["1s", "30s", "1m", "1m30s", "59m59s", "1h"])
      expect(parse("staging", { alertmanager: { maintenanceInterval: ok } }).config.alertmanager.maintenanceInterval).toBe(ok);
  });

  test("args with a problem are refused by its own problems(), each named as config names it, before any of its objects", async () => {
    const bad = { ...BASE_ARGS, groupWait: "10m", groupInterval: "1m", repeatInterval: "30s" };
    expect(problems(bad)).toHaveLength(2);
    await expect(renderAlertmanager(bad)).rejects.toThrow(
      'Alertmanager "alertmanager": groupInterval: must be at least alertmanager.groupWait (10m); got 1m; ' +
        "repeatInterval: must be at least alertmanager.groupInterval (1m); got 30s",
    );
  });

  test("the edge that publishes the UI may reach the HTTP port, and nothing else is added", async () => {
    const { shown } = await renderAlertmanager({ ...BASE_ARGS, ingressFromTraefik: true, ingressFromCloudflared: true });
    const ingress = (objectOf(shown, "NetworkPolicy", "alertmanager").spec as { ingress: Array<{ ports: unknown[]; from: unknown[] }> })
      .ingress;
    expect(ingress).toHaveLength(1);
    expect(ingress[0].from).toEqual([
      { podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "staging" } } },
      { podSelector: { matchLabels: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "staging" } } },
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
        podSelector: { matchLabels: { "app.kubernetes.io/name": "traefik" } },
      },
      { podSelector: { matchLabels: { "app.kubernetes.io/name": "cloudflared", "app.kubernetes.io/instance": "staging" } } },
    ]);
  });

  test("every child is parented to the component", async () => {
    const { run } = await renderAlertmanager(BASE_ARGS);
    for (const r of run.resources.filter((res) => res.custom)) expect(r.parents).toContain("monitoring:index:Alertmanager");
  });
});

// ---------------------------------------------------------------------------
// Both real stacks (test/e2e/alertmanager.test.ts checks them with amtool)

const STACKS = ["staging", "production"] as const;

/** The rendered alertmanager.yml, parsed. */
const configFile = (rendered: Rendered) => YAML.parse(rendered.files.get("alertmanager/alertmanager.yml") ?? "") as Record<string, unknown>;

describe.each(STACKS)("the %s stack's Alertmanager", (stack) => {
  let bare: Rendered;
  let full: Rendered;
  beforeAll(async () => {
    bare = await render(stack);
    full = await render(stack, ALL_RECEIVER_SETS);
  });

  test("without receivers (the stack file as committed), the render warns; with every receiver, it does not", () => {
    expect(bare.warnings).toEqual(expect.arrayContaining([expect.stringContaining("No alert receiver is configured")]));
    expect(full.warnings.filter((w) => w.includes("No alert receiver"))).toEqual([]);
  });

  test("the stack's timing reaches the root route, and the peers match the profile", () => {
    const route = (configFile(full) as { route: Record<string, unknown> }).route;
    expect(route).toMatchObject({ group_wait: "30s", group_interval: "5m", repeat_interval: stack === "production" ? "4h" : "12h" });
    // The stack files run on one node: one peer each, no disruption budget, so that a drain never hangs.
    const sts = objectOf(full, "StatefulSet", "alertmanager").spec as { replicas: number };
    expect(sts.replicas).toBe(1);
    expect(objectsOf(full, "PodDisruptionBudget", "alertmanager")).toHaveLength(0);
    expect(full.outputs.alertmanagerUrl).toBe(`http://alertmanager.monitoring-${stack}.svc:9093`);
  });

  test("the silences are written every minute by default (a power cut loses at most that), or as alertmanager.maintenanceInterval says", async () => {
    const args = (r: Rendered) =>
      (
        (
          objectOf(r, "StatefulSet", "alertmanager").spec as { template: { spec: { containers: Array<{ name: string; args: string[] }> } } }
        ).template.spec.containers.find((c) => c.name === "alertmanager")?.args ?? []
      ).filter((a) => a.startsWith("--data.maintenance-interval"));
    expect(args(bare)).toEqual(["--data.maintenance-interval=1m"]);
    expect(args(await render(stack, ["alertmanager.maintenanceInterval=10s"]))).toEqual(["--data.maintenance-interval=10s"]);
  });

  test("every Alertmanager object passes the official schema", () => {
    const mine = full.kubernetes.filter((o) => o.component === "alertmanager");
    expect(mine.map((o) => o.object.kind).sort()).toEqual(
      [
        "PersistentVolumeClaim",
        "ConfigMap",
        "ConfigMap",
        "NetworkPolicy",
        "NetworkPolicy",
        "Secret",
        "Service",
        "Service",
        "StatefulSet",
      ].sort(),
    );
    for (const o of mine) expect(schemaProblems(o.object)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// A team's own routing: seed 001's channels, on the production stack file

describe("a team's own routing: seed 001's Slack channels and email", () => {
  let shown: Record<string, unknown>;
  let rendered: Awaited<ReturnType<typeof renderStack>>;
  beforeAll(async () => {
    shown = configFile(await render("production", SEED_001_SETS));
    rendered = await renderStack({ stack: "production", sets: SEED_001_SETS });
  });

  test("each Slack channel has its own webhook, email goes through the mail server with TLS, and the per-route timing applies", () => {
    const am = shown as {
      global: Record<string, unknown>;
      route: { routes: Array<Record<string, unknown>> };
      receivers: Receiver[];
    };
    for (const [name, url] of Object.entries(SEED_001_HOOKS)) {
      expect(am.receivers.find((r) => r.name === name)?.slack_configs).toEqual([
        expect.objectContaining({ api_url: url, channel: `#${name}`, send_resolved: true }),
      ]);
    }
    expect(am.global).toMatchObject({
      smtp_smarthost: "smtp.example.com:587",
      smtp_from: "alerts@example.com",
      smtp_auth_username: "alerts@example.com",
      smtp_auth_password: SMTP_PASSWORD,
      smtp_require_tls: true,
    });
    expect(am.receivers.find((r) => r.name === "infrastructure")?.email_configs).toEqual([
      {
        to: "ops@example.com",
        headers: { Subject: '{{ template "monitoring.title" . }}' },
        text: '{{ template "monitoring.message" . }}',
        send_resolved: true,
      },
    ]);
    expect(am.route.routes.find((r) => r.receiver === "applications")).toMatchObject({ repeat_interval: "12h" });
  });

  test("the render shows the routing tree with only the secret values masked", () => {
    const masked = rendered.files.get("alertmanager/alertmanager.yml") ?? "";
    for (const [name, url] of Object.entries(SEED_001_HOOKS)) {
      expect(masked).not.toContain(url);
      expect(masked).toContain(`api_url: https://masked.invalid/secret/slackWebhookUrls.${name}`);
    }
    expect(masked).toContain('smtp_auth_password: "<secret: smtpPassword>"');
    expect(masked).toContain("url: https://masked.invalid/secret/deadMansSwitchUrl");
    expect(masked).not.toContain(SMTP_PASSWORD);
    // Everything but the secrets is what the deployed file says.
    const plain = shown;
    const masks = YAML.parse(masked) as Record<string, unknown>;
    expect(masks.route).toEqual(plain.route);
    expect(masks.inhibit_rules).toEqual(plain.inhibit_rules);
    // Nothing else of the render shows a secret either.
    const everything = JSON.stringify([rendered.kubernetes, [...rendered.files.values()], rendered.outputs]);
    for (const secret of [...Object.values(SEED_001_HOOKS), SMTP_PASSWORD, URLS.deadMansSwitch]) expect(everything).not.toContain(secret);
  });

  test("the summary lists the apps with their metric names, the receivers with their channels, the routes and the public hostnames", () => {
    const text = summary(rendered, "production", "out/production", rendered.config);
    expect(text).toContain(
      "Apps (requests, latency histogram, status label):\n  api: shop_http_requests_total, shop_http_request_duration_seconds, status_code\n  web: http_requests_total, http_request_duration_seconds, status\n",
    );
    expect(text).toContain(
      [
        "Alert receivers:",
        "  alerts-critical: slack #alerts-critical",
        "  deployment: slack #deployment",
        "  applications: slack #applications",
        "  infrastructure: slack #infrastructure; email ops@example.com",
        "  deadmans-switch: webhook (Watchdog only)",
      ].join("\n"),
    );
    expect(text).toContain(
      [
        "Alert routes (first match wins unless it continues):",
        '  watchdog="true" -> deadmans-switch',
        '  severity="critical" -> alerts-critical (continue)',
        '  app=~"deployment-api|port-manager|tunnel-manager" -> deployment',
        '  app=~"app-.+" -> applications',
        '  namespace="deployed-apps" -> applications',
        "  anything else -> infrastructure",
      ].join("\n"),
    );
    expect(text).toContain(
      "Public hostnames:\n  grafana: https://grafana.example.com\n  prometheus: https://prometheus.example.com\n  alertmanager: https://alertmanager.example.com",
    );
    for (const secret of [...Object.values(SEED_001_HOOKS), SMTP_PASSWORD]) expect(text).not.toContain(secret);
  });
});
