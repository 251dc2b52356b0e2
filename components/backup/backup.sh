#!/bin/sh
# The stack's backups and restores (components/backup): one component's state to or from a folder
# of an S3-compatible bucket, with rclone. Run by the CronJob backup-<component> (`snapshot` in its
# init container, `upload` in its main one), by `npm run restore` (`list`, `restore`), and by the
# live lab on the local binaries (test/live/backup.test.ts). POSIX sh: busybox's in the images.
#
# Environment:
#   BACKUP_STACK, BACKUP_COMPONENT   the stack and prometheus | alertmanager | grafana | loki
#   BACKUP_REMOTE                    the rclone path of the bucket (and prefix): store:bucket[/prefix];
#                                    the store itself comes from RCLONE_CONFIG_STORE_* variables
#   BACKUP_DATA                      the component's data directory (its volume, mounted)
#   BACKUP_URL                       the component's HTTP address (snapshot, flush, running check)
#   BACKUP_WORK                      a scratch directory shared by the two containers
#   BACKUP_KEEP                      complete backups kept per component (upload)
#   BACKUP_PUSH_URL                  optional: Prometheus' OTLP metrics endpoint the outcome is pushed to
#   BACKUP_INTERVAL_SECONDS          the schedule's longest wait between two runs (pushed with the outcome)
#   BACKUP_WAIT_SECONDS              how long a snapshot waits for the component (default 120)
#   BACKUP_REPLACE=1                 restore over a data directory that holds files (default: refused)
#   RCLONE, SQLITE3, WGET            the commands, default rclone, sqlite3, wget
set -eu

RCLONE=${RCLONE:-rclone}
SQLITE3=${SQLITE3:-sqlite3}
WGET=${WGET:-wget}
WAIT=${BACKUP_WAIT_SECONDS:-120}
# The remote is in the environment (RCLONE_CONFIG_STORE_*): no config file to look for.
export RCLONE_CONFIG="${RCLONE_CONFIG:-/dev/null}"

say() { echo "backup $BACKUP_STACK/$BACKUP_COMPONENT: $*" >&2; }
fail() {
  say "$*"
  exit 1
}
need() { for v in "$@"; do eval "[ -n \"\${$v:-}\" ]" || fail "$v is not set"; done; }

need BACKUP_STACK BACKUP_COMPONENT BACKUP_REMOTE
case "$BACKUP_COMPONENT" in
  prometheus | alertmanager | grafana | loki) ;;
  *) fail "no such component: $BACKUP_COMPONENT (prometheus, alertmanager, grafana or loki)" ;;
esac
FOLDER="$BACKUP_REMOTE/$BACKUP_STACK/$BACKUP_COMPONENT"

post() { "$WGET" -q -O - --post-data="${2:-}" ${3:+--header="$3"} "$1"; }
get() { "$WGET" -q -O - "$1"; }

# The state of the component, consistent, into $BACKUP_WORK/data, or named in $BACKUP_WORK/source.
snapshot() {
  need BACKUP_DATA BACKUP_URL BACKUP_WORK
  rm -rf "$BACKUP_WORK/data" "$BACKUP_WORK/source"
  mkdir -p "$BACKUP_WORK/data"
  date +%s >"$BACKUP_WORK/started"
  case "$BACKUP_COMPONENT" in
    prometheus)
      # Persisted blocks and the head, as hard links under <data>/snapshots/<name> (the admin API).
      answer=$(post "$BACKUP_URL/api/v1/admin/tsdb/snapshot") || fail "the TSDB snapshot was refused by $BACKUP_URL"
      name=$(echo "$answer" | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')
      [ -n "$name" ] || fail "no snapshot name in Prometheus' answer: $answer"
      echo "$BACKUP_DATA/snapshots/$name" >"$BACKUP_WORK/source"
      ;;
    alertmanager)
      # The silences and the notification log as Alertmanager last wrote them (every
      # --data.maintenance-interval): wait for a write after this start, so that every silence
      # made before it is in; the silences as the API lists them beside, for reading.
      started=$(cat "$BACKUP_WORK/started")
      waited=0
      until [ -f "$BACKUP_DATA/silences" ] && [ "$(date -r "$BACKUP_DATA/silences" +%s)" -gt "$started" ]; do
        [ "$waited" -lt "$WAIT" ] || fail "Alertmanager wrote no silences file within ${WAIT}s (its --data.maintenance-interval)"
        sleep 2
        waited=$((waited + 2))
      done
      sleep 1
      cp "$BACKUP_DATA/silences" "$BACKUP_WORK/data/silences"
      [ ! -f "$BACKUP_DATA/nflog" ] || cp "$BACKUP_DATA/nflog" "$BACKUP_WORK/data/nflog"
      get "$BACKUP_URL/api/v2/silences" >"$BACKUP_WORK/data/silences.json" || fail "cannot list the silences at $BACKUP_URL"
      ;;
    grafana)
      # SQLite's online backup: a consistent copy while Grafana writes, then checked.
      [ -f "$BACKUP_DATA/grafana.db" ] || fail "no $BACKUP_DATA/grafana.db"
      "$SQLITE3" "$BACKUP_DATA/grafana.db" ".timeout 30000" ".backup '$BACKUP_WORK/data/grafana.db'"
      check=$("$SQLITE3" "$BACKUP_WORK/data/grafana.db" "PRAGMA integrity_check;")
      [ "$check" = "ok" ] || fail "the copy of grafana.db fails its integrity check: $check"
      ;;
    loki)
      # Flush every in-memory chunk to the chunk store, wait for the queues to empty, then take
      # the directory: chunks, index, and the write-ahead logs Loki replays at start.
      post "$BACKUP_URL/flush" >/dev/null || fail "Loki refused the flush at $BACKUP_URL/flush"
      waited=0
      while :; do
        queued=$(get "$BACKUP_URL/metrics" | awk '/^loki_ingester_flush_queue_length/ { s += $2 } END { print s + 0 }')
        [ "$queued" = 0 ] && break
        [ "$waited" -lt "$WAIT" ] || fail "Loki's flush queues still hold $queued chunks after ${WAIT}s"
        sleep 1
        waited=$((waited + 1))
      done
      echo "$BACKUP_DATA" >"$BACKUP_WORK/source"
      ;;
  esac
  [ -f "$BACKUP_WORK/source" ] || echo "$BACKUP_WORK/data" >"$BACKUP_WORK/source"
  say "snapshot ready in $(cat "$BACKUP_WORK/source")"
}

# The complete backups of the component, oldest first (a backup is complete once COMPLETE.json is in).
complete() {
  "$RCLONE" lsf -R --files-only --include "/*/COMPLETE.json" "$FOLDER" 2>/dev/null | sed 's|/COMPLETE.json$||' | sort
}

# Prometheus' OTLP endpoint takes the outcome: gauges labelled with the stack and component (job "backup").
push() {
  [ -n "${BACKUP_PUSH_URL:-}" ] || return 0
  now=$(date +%s)
  attrs="{\"key\":\"stack\",\"value\":{\"stringValue\":\"$BACKUP_STACK\"}},{\"key\":\"component\",\"value\":{\"stringValue\":\"$BACKUP_COMPONENT\"}}"
  metrics=""
  for pair in "last_success_timestamp_seconds $now" "size_bytes $1" "duration_seconds $2" "interval_seconds ${BACKUP_INTERVAL_SECONDS:-0}"; do
    set -- $pair
    metrics="$metrics${metrics:+,}{\"name\":\"monitoring_backup_$1\",\"gauge\":{\"dataPoints\":[{\"timeUnixNano\":\"${now}000000000\",\"asDouble\":$2,\"attributes\":[$attrs]}]}}"
  done
  body="{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"backup\"}}]},\"scopeMetrics\":[{\"metrics\":[$metrics]}]}]}"
  post "$BACKUP_PUSH_URL" "$body" "Content-Type: application/json" >/dev/null || say "could not push the outcome to $BACKUP_PUSH_URL"
}

# The snapshot into the bucket as <stack>-<component>-<UTC time>/, COMPLETE.json last; then retention.
upload() {
  need BACKUP_WORK BACKUP_KEEP
  [ -f "$BACKUP_WORK/source" ] || fail "no snapshot in $BACKUP_WORK (the snapshot step did not finish)"
  source=$(cat "$BACKUP_WORK/source")
  started=$(cat "$BACKUP_WORK/started")
  name="$BACKUP_STACK-$BACKUP_COMPONENT-$(date -u +%Y%m%dT%H%M%SZ)"
  # Loki's write-ahead logs grow while they are read: taken as they are, and Loki replays what it can.
  "$RCLONE" copy --local-no-check-updated "$source" "$FOLDER/$name"
  bytes=$("$RCLONE" size --json "$FOLDER/$name" | sed -n 's/.*"bytes":\([0-9]*\).*/\1/p')
  finished=$(date +%s)
  printf '{"stack":"%s","component":"%s","name":"%s","bytes":%s,"started":%s,"finished":%s}\n' \
    "$BACKUP_STACK" "$BACKUP_COMPONENT" "$name" "$bytes" "$started" "$finished" >"$BACKUP_WORK/COMPLETE.json"
  "$RCLONE" copyto "$BACKUP_WORK/COMPLETE.json" "$FOLDER/$name/COMPLETE.json"
  [ "$BACKUP_COMPONENT" != prometheus ] || rm -rf "$source"
  say "$name: $bytes bytes in $((finished - started))s"
  # The newest BACKUP_KEEP complete ones stay; older ones go, and so do incomplete ones older than the newest.
  newest=$(complete | tail -n 1)
  surplus=$(($(complete | wc -l) - BACKUP_KEEP))
  [ "$surplus" -gt 0 ] || surplus=0
  complete | head -n "$surplus" | while read -r old; do
    [ -z "$old" ] || { "$RCLONE" purge "$FOLDER/$old" && say "deleted $old (keep $BACKUP_KEEP)"; }
  done
  "$RCLONE" lsf --dirs-only "$FOLDER" | sed 's|/$||' | while read -r dir; do
    if [ "$dir" \< "$newest" ] && ! complete | grep -qx "$dir"; then "$RCLONE" purge "$FOLDER/$dir" && say "deleted incomplete $dir"; fi
  done
  push "$bytes" "$((finished - started))"
}

# Refused while the component answers at BACKUP_URL (a page each answers 200 on once it listens): its volume is in use.
stopped() {
  [ -n "${BACKUP_URL:-}" ] || return 0
  case "$BACKUP_COMPONENT" in
    prometheus | alertmanager) page=/-/healthy ;;
    grafana) page=/api/health ;;
    loki) page=/loki/api/v1/status/buildinfo ;;
  esac
  if "$WGET" -q -O /dev/null -T 3 "$BACKUP_URL$page" 2>/dev/null; then
    fail "$BACKUP_COMPONENT answers at $BACKUP_URL: stop it (scale it to 0) before restoring into its volume"
  fi
}

# A complete backup (a name, or `latest`) into the data directory of the stopped component.
restore() {
  need BACKUP_DATA
  wanted=${1:-}
  [ -n "$wanted" ] || fail "name the backup to restore (a name from \`list\`, or latest)"
  if [ "$wanted" = latest ]; then wanted=$(complete | tail -n 1); fi
  [ -n "$wanted" ] && complete | grep -qx "$wanted" || fail "no complete backup \"${1}\" in $FOLDER (see list)"
  stopped
  mkdir -p "$BACKUP_DATA"
  if [ -n "$(ls -A "$BACKUP_DATA")" ]; then
    [ "${BACKUP_REPLACE:-}" = 1 ] || fail "$BACKUP_DATA holds files: restore into an empty volume, or replace them (BACKUP_REPLACE=1, --replace)"
    find "$BACKUP_DATA" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  fi
  "$RCLONE" copy --exclude /COMPLETE.json "$FOLDER/$wanted" "$BACKUP_DATA"
  # The silences as listed are for reading; Alertmanager reads its own files.
  [ "$BACKUP_COMPONENT" != alertmanager ] || rm -f "$BACKUP_DATA/silences.json"
  say "restored $wanted into $BACKUP_DATA"
}

case "${1:-}" in
  snapshot) snapshot ;;
  upload) upload ;;
  backup)
    snapshot
    upload
    ;;
  list) complete ;;
  restore) restore "${2:-}" ;;
  *) fail "usage: backup.sh snapshot | upload | backup | list | restore <name|latest>" ;;
esac
