#!/usr/bin/env bash
# The render matrix: both stack files, the three examples (with the stand-in secrets their headers give),
# production with every component on (test/support/everything.ts's sets), and three refused
# configs (their problem lists, order included), each rendered by the `npm run render` of the
# checkout given, into <out>/<case>/ with the command's output in <out>/<case>.stdout.
#
#   scripts/render-matrix.sh <checkout> <out>
#
# A change that must not change behaviour (the reshape of issue 21) renders the same, byte for
# byte: run it on a checkout of the commit before and of the commit after, then `diff -r` the two.
set -uo pipefail
repo=$(cd "$1" && pwd); out=$2
mkdir -p "$out"; out=$(cd "$out" && pwd)
rm -rf "$out"; mkdir -p "$out"
cd "$repo"
r() { local name=$1; shift; npx ts-node --transpile-only scripts/render.ts --out "$out/$name" "$@" 2>&1 | grep -v "^npm warn" | sed "s#$out#OUT#g" > "$out/$name.stdout"; }
r staging --stack staging &
r production --stack production &
r production-shown --stack production --show-secrets &
wait
for x in tumulte deployment-system gauzian; do
  r "example-$x" --stack production --stack-file "examples/$x/Pulumi.production.yaml" --secrets-file "examples/$x/secrets.example.yaml" &
done
wait
ev=(
  "nodes=3"
  'probes=[{name: website, url: "https://www.example.com/"}, {name: smtp, address: "mail.example.com:587"}, {name: status, url: "http://status.example.com:8080/health"}]'
  "apps[0].probe={path: /health}"
  'targets=[{name: minio, url: "https://minio.example.com:9000/minio/v2/metrics/cluster"}]'
  'prometheus.remoteWrite=[{name: mimir, url: "https://mimir.example.com/api/v1/push"}]'
  'alertmanager.receivers=[{name: team, slack: {channel: "#alerts"}, email: {to: ["ops@example.com"]}}, {name: pager, webhook: {}}]'
  "alertmanager.defaultReceiver=team"
  'alertmanager.smtp={smarthost: "smtp.example.com:587", from: "alerts@example.com"}'
  "grafana.database={type: postgres, host: db.example.com, name: grafana, user: grafana}"
  "networkPolicy.extraEgress.grafana=[{ports: [8443], cidrs: [10.0.0.0/8]}]"
  "tracing.enabled=true"
  "backup.enabled=true"
  "backup.bucket=monitoring-backups"
  "backup.endpoint=https://0123456789abcdef.r2.cloudflarestorage.com"
)
args=(); for x in "${ev[@]}"; do args+=(--set "$x"); done
# Its secrets in a file of their own (a --set of a secret key is refused), yours alone, outside <out>.
secrets=$(mktemp); chmod 600 "$secrets"; trap 'rm -f "$secrets"' EXIT
cat > "$secrets" <<'EOF'
slackWebhookUrls.team: https://hooks.slack.com/services/T0/B0/token
webhookUrls.pager: http://pager.tools.svc:8080/hook
deadMansSwitchUrl: https://hc-ping.com/uuid
grafanaDatabasePassword: grafana-database-password
backupAccessKeyId: backup-access-key-id
backupSecretAccessKey: backup-secret-access-key
EOF
r everything --stack production --show-secrets "${args[@]}" --secrets-file "$secrets" &
r staging-loki-off --stack staging --set "loki.enabled=false" &
# Loki on a bucket (loki.objectStore), its key pair in a secrets file of its own.
lokiSecrets=$(mktemp); chmod 600 "$lokiSecrets"; trap 'rm -f "$secrets" "$lokiSecrets"' EXIT
printf 'lokiAccessKeyId: loki-access-key-id\nlokiSecretAccessKey: loki-secret-access-key\n' > "$lokiSecrets"
r staging-loki-bucket --stack staging --show-secrets --set "loki.objectStore={bucket: monitoring-logs, endpoint: https://0123456789abcdef.r2.cloudflarestorage.com, from: '2026-12-01'}" --secrets-file "$lokiSecrets" &
wait
r bad-many --stack production --set "prometheus.retention=banana" --set "grafana.replicas=-1" --set "prometheuss.x=1" --set "apps[0].port=http2" --set "alertmanager.receivers=[{name: x, slack: {}}]" --set "nodes=0" &
r bad-cross --stack staging --set "prometheus.retention=1d" --set "prometheus.retentionSize=100TB" --set "loki.retention=1h" &
r bad-dsn --stack production --set 'databases=[{name: pg, type: postgres, dsn: "postgres://u:p@localhost:5432/db"}]' &
wait
