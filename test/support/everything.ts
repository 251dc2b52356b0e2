/**
 * The production stack file with every component on and every kind of destination
 * configured: probes (URL, host:port, an app's Service), a static target, remote write,
 * a team's routing (Slack, a webhook, email through a smarthost, the dead man's switch),
 * an external Grafana database, a standalone database exporter (the stack file's), the
 * tunnel and Traefik (the stack file's), tracing (on by its key: no app of the stack file sends
 * OTLP), backups to an R2 bucket, on three nodes (clustered Alertmanager).
 */
export const EVERYTHING_SETS = [
  "nodes=3",
  'probes=[{name: website, url: "https://www.example.com/"}, {name: smtp, address: "mail.example.com:587"}, {name: status, url: "http://status.example.com:8080/health"}]',
  "apps[0].probe={path: /health}",
  'targets=[{name: minio, url: "https://minio.example.com:9000/minio/v2/metrics/cluster"}]',
  'prometheus.remoteWrite=[{name: mimir, url: "https://mimir.example.com/api/v1/push"}]',
  'alertmanager.receivers=[{name: team, slack: {channel: "#alerts"}, email: {to: ["ops@example.com"]}}, {name: pager, webhook: {}}]',
  "alertmanager.defaultReceiver=team",
  'alertmanager.smtp={smarthost: "smtp.example.com:587", from: "alerts@example.com"}',
  "slackWebhookUrls.team=https://hooks.slack.com/services/T0/B0/token",
  "webhookUrls.pager=http://pager.tools.svc:8080/hook",
  "deadMansSwitchUrl=https://hc-ping.com/uuid",
  "grafana.database={type: postgres, host: db.example.com, name: grafana, user: grafana}",
  "grafanaDatabasePassword=grafana-database-password",
  "networkPolicy.extraEgress.grafana=[{ports: [8443], cidrs: [10.0.0.0/8]}]",
  "tracing.enabled=true",
  "backup.enabled=true",
  "backup.bucket=monitoring-backups",
  "backup.endpoint=https://0123456789abcdef.r2.cloudflarestorage.com",
  "backupAccessKeyId=backup-access-key-id",
  "backupSecretAccessKey=backup-secret-access-key",
];

/** The stacks the cross-cutting tests render: each stack file, and production with every component on. */
export const EVERY_STACK_SHAPE: Array<[title: string, stack: string, sets: string[]]> = [
  ["staging", "staging", []],
  ["production", "production", []],
  ["production with every component on", "production", EVERYTHING_SETS],
];
