#!/bin/sh
# The stack's backups and restores (components/backup): one component's state to or from a folder
# of an S3-compatible bucket, with rclone. Run by the CronJob backup-<component> (`snapshot` in its
# init container, `upload` in its main one), by `npm run restore` (`list`, `restore`), and by the
# tests on the exact binaries (test/e2e/backup.test.ts, and its faults in
# test/e2e/backup-faults.test.ts). POSIX sh: busybox's in the images.
#
# Failing safe: a backup is complete once COMPLETE.json, its manifest (every file with its size and
# MD5, as the bucket holds them, checked against the snapshot), is in its folder: it is written
# last. Only folders named <stack>-<component>-<UTC time>, not dated in the future, are backups. A
# listing that fails ends the job before anything is chosen or deleted (never read as "no
# backup"); retention deletes only what a listing that succeeded showed to be past `keep`, or
# incomplete, older than the newest complete backup and than a run's deadline (another run may be
# uploading). Prometheus' snapshot is removed however the run ends (a trap), and one a killed run
# left is removed before the next is taken. A restore downloads beside the data
# (<data>/.restore-<name>), checks it against the manifest, and only then swaps it in: until the
# swap the data is as it was. Each failed backup pushes its time
# (monitoring_backup_last_failure_timestamp_seconds: BackupFailed in rules/backup.yml).
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
#   BACKUP_DEADLINE_SECONDS          the longest a run lasts (its Job's activeDeadlineSeconds): an incomplete
#                                    folder younger than it may be a run still uploading, never deleted
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

say() { echo "backup ${BACKUP_STACK:-}/${BACKUP_COMPONENT:-}: $*" >&2; }
fail() {
  say "$*"
  exit 1
}
need() { for v in "$@"; do eval "[ -n \"\${$v:-}\" ]" || fail "$v is not set"; done; }

# Prometheus' OTLP endpoint takes the outcome: gauges labelled with the stack and component (job "backup").
# Arguments: "<metric> <value>" pairs, each named monitoring_backup_<metric>.
push() {
  [ -n "${BACKUP_PUSH_URL:-}" ] || return 0
  now=$(date +%s)
  attrs="{\"key\":\"stack\",\"value\":{\"stringValue\":\"${BACKUP_STACK:-}\"}},{\"key\":\"component\",\"value\":{\"stringValue\":\"${BACKUP_COMPONENT:-}\"}}"
  metrics=""
  for pair in "$@"; do
    set -- $pair
    metrics="$metrics${metrics:+,}{\"name\":\"monitoring_backup_$1\",\"gauge\":{\"dataPoints\":[{\"timeUnixNano\":\"${now}000000000\",\"asDouble\":$2,\"attributes\":[$attrs]}]}}"
  done
  body="{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"backup\"}}]},\"scopeMetrics\":[{\"metrics\":[$metrics]}]}]}"
  "$WGET" -q -O /dev/null -T 30 --post-data="$body" --header="Content-Type: application/json" "$BACKUP_PUSH_URL" ||
    say "could not push the outcome to $BACKUP_PUSH_URL"
}
# A failed run: its time (BackupFailed fires while it is newer than the last success).
push_failure() { push "last_failure_timestamp_seconds $(date +%s)" "interval_seconds ${BACKUP_INTERVAL_SECONDS:-0}"; }

PHASE=${1:-}
# What this run removes when it ends: a Prometheus snapshot (once uploaded, or on a failure), a
# restore's download that was not swapped in; the rclone it waits for, stopped with it.
SNAPSHOT=""
STAGING=""
CHILD=""
finish() {
  status=$?
  trap - EXIT
  [ -z "$CHILD" ] || kill "$CHILD" 2>/dev/null || :
  [ -z "$STAGING" ] || rm -rf "$STAGING"
  if [ -n "$SNAPSHOT" ] && { [ "$status" != 0 ] || [ "$PHASE" != snapshot ]; }; then rm -rf "$SNAPSHOT"; fi
  if [ "$status" != 0 ]; then
    case "$PHASE" in snapshot | upload | backup) push_failure ;; esac
  fi
  exit "$status"
}
trap finish EXIT
# A signal (the Job's deadline, a deleted pod) ends the run through the same cleanup.
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP
# A command in the background, waited for: a signal reaches the trap at once, not after rclone ends.
run() {
  "$@" &
  CHILD=$!
  if wait "$CHILD"; then CHILD=""; else
    ran=$?
    CHILD=""
    return "$ran"
  fi
}

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
      # A snapshot left by a run that was killed (no trap ran) pins old blocks: removed first, once
      # older (by the UTC time Prometheus names it with) than a run's deadline. A younger one may be
      # another run's, still uploading (a manual Job beside the schedule's): left to that run.
      need BACKUP_DEADLINE_SECONDS
      settled=$(date -u -d "@$(($(date +%s) - BACKUP_DEADLINE_SECONDS - SKEW_SECONDS))" +%Y%m%dT%H%M%SZ)
      for left in "$BACKUP_DATA"/snapshots/*; do
        [ -e "$left" ] || continue
        taken=${left##*/}
        taken=${taken%%-*}
        if printf '%s\n' "$taken" | grep -q '^[0-9]\{8\}T[0-9]\{6\}Z$' && [ ! "$taken" \< "$settled" ]; then
          say "left the snapshot ${left##*/} alone: younger than ${BACKUP_DEADLINE_SECONDS}s, it may be another run's still uploading"
          continue
        fi
        rm -rf "$left"
        say "removed the snapshot ${left##*/}, left by a run that did not finish"
      done
      # Persisted blocks and the head, as hard links under <data>/snapshots/<name> (the admin API).
      answer=$(post "$BACKUP_URL/api/v1/admin/tsdb/snapshot") || fail "the TSDB snapshot was refused by $BACKUP_URL"
      name=$(echo "$answer" | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')
      [ -n "$name" ] || fail "no snapshot name in Prometheus' answer: $answer"
      SNAPSHOT="$BACKUP_DATA/snapshots/$name"
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

# How far ahead of this clock a backup's name may be dated and still count (another node's clock).
SKEW_SECONDS=600

# The names, one a line on stdin, that are ours: <stack>-<component>-<UTC time>, as upload names a
# backup. Any other folder (one kept by hand, another tool's) is never listed, restored or deleted.
ours() {
  awk -v p="$BACKUP_STACK-$BACKUP_COMPONENT-" \
    'substr($0, 1, length(p)) == p && substr($0, length(p) + 1) ~ /^[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z$/'
}

# The UTC time in a backup's name, beyond which a name is dated in the future (SKEW_SECONDS from now).
future_after() { date -u -d "@$(($(date +%s) + SKEW_SECONDS))" +%Y%m%dT%H%M%SZ; }

# The complete backups of the component, oldest first: the folders named as ours holding COMPLETE.json.
# One dated in the future is left alone and said, never taken for the newest (nor restored as latest,
# nor deleted). A listing that fails ends the run (exit 1): it is never read as "no backup". rclone's
# exit 3 is a folder not there yet (the first backup): none.
complete() {
  found=$("$RCLONE" lsf -R --files-only --include "/*/COMPLETE.json" "$FOLDER") || {
    listed=$?
    [ "$listed" = 3 ] || fail "cannot list the backups in $FOLDER (rclone exited $listed, its error above): nothing is chosen or deleted"
  }
  limit=$(future_after)
  for n in $(printf '%s\n' "$found" | sed -n 's|/COMPLETE.json$||p' | ours | sort); do
    if [ "${n##*-}" \> "$limit" ]; then
      say "$n is dated in the future (after $limit, this clock's time and ${SKEW_SECONDS}s): left alone, not counted as a backup"
      continue
    fi
    echo "$n"
  done
}

# Every file under a path (a local directory or a folder of the bucket) as "<md5>;<size>;<path>",
# sorted; a listing that fails, or a file without its MD5, ends the run.
files_of() {
  mkdir -p "$BACKUP_WORK"
  found=$("$RCLONE" lsf -R --files-only --format hsp --hash MD5 --separator ";" "$@") ||
    fail "cannot list the files of $1 (rclone exited $?, its error above)"
  printf '%s\n' "$found" | sed '/^$/d' | sort >"$BACKUP_WORK/files"
  awk -F';' 'length($1) != 32 || $1 ~ /[^0-9a-f]/ { print; exit 1 }' "$BACKUP_WORK/files" >/dev/null ||
    fail "no MD5 for a file of $1: $(awk -F';' 'length($1) != 32 || $1 ~ /[^0-9a-f]/ { print; exit }' "$BACKUP_WORK/files")"
  cat "$BACKUP_WORK/files"
}

# The first lines where two file lists differ, for a message.
differences() {
  printf '%s\n' "$1" >"$BACKUP_WORK/a"
  printf '%s\n' "$2" >"$BACKUP_WORK/b"
  diff "$BACKUP_WORK/a" "$BACKUP_WORK/b" | grep '^[-+][^-+]' | head -n 5 | tr '\n' ' '
}

# The snapshot into the bucket as <stack>-<component>-<UTC time>/; COMPLETE.json, its manifest, last.
upload() {
  need BACKUP_WORK BACKUP_KEEP BACKUP_DEADLINE_SECONDS
  [ -f "$BACKUP_WORK/source" ] || fail "no snapshot in $BACKUP_WORK (the snapshot step did not finish)"
  source=$(cat "$BACKUP_WORK/source")
  started=$(cat "$BACKUP_WORK/started")
  [ "$BACKUP_COMPONENT" != prometheus ] || SNAPSHOT=$source
  # The store must answer before anything is written.
  complete >/dev/null || exit 1
  name="$BACKUP_STACK-$BACKUP_COMPONENT-$(date -u +%Y%m%dT%H%M%SZ)"
  # What is meant to be uploaded: Loki's files as listed before the copy (by path: their contents change
  # while read), checked against the bucket after it.
  if [ "$BACKUP_COMPONENT" = loki ]; then
    meant=$("$RCLONE" lsf -R --files-only "$source") || fail "cannot list the files of $source (rclone exited $?)"
  fi
  # Loki's write-ahead logs grow while they are read: taken as they are, and Loki replays what it can.
  run "$RCLONE" copy --local-no-check-updated "$source" "$FOLDER/$name" ||
    fail "the upload of $name failed (rclone's error above): it stays incomplete, and a later run deletes it"
  # The manifest: what the bucket holds, each file's size and MD5 (checked by rclone as it uploaded),
  # the same as the snapshot's; for Loki's files, which change while read, the same paths as listed
  # before the copy (but those Loki deleted meanwhile).
  uploaded=$(files_of "$FOLDER/$name") || exit 1
  [ -n "$uploaded" ] || fail "$name holds no file in the bucket after the upload"
  if [ "$BACKUP_COMPONENT" != loki ]; then
    taken=$(files_of "$source") || exit 1
    [ "$uploaded" = "$taken" ] || fail "$name in the bucket differs from the snapshot: $(differences "$taken" "$uploaded")"
  else
    # Each file listed before the copy is in the bucket, or Loki deleted it meanwhile (a WAL segment checkpointed).
    printf '%s\n' "$uploaded" | awk -F';' '{ print substr($0, length($1) + length($2) + 3) }' >"$BACKUP_WORK/got"
    lost=""
    for p in $(printf '%s\n' "$meant" | sed '/^$/d' | awk 'NR == FNR { got[$0]; next } !($0 in got)' "$BACKUP_WORK/got" -); do
      [ ! -e "$source/$p" ] || lost="$lost $p"
    done
    [ -z "$lost" ] ||
      fail "$name lacks $(echo $lost | wc -w) files listed before the upload and still in $source ($(echo $lost | tr ' ' '\n' | head -n 5 | tr '\n' ' ')): it stays incomplete"
  fi
  case "$uploaded" in *'"'* | *'\'*) fail "a file name holds a quote or a backslash: $name stays incomplete" ;; esac
  bytes=$(printf '%s\n' "$uploaded" | awk -F';' '{ s += $2 } END { print s + 0 }')
  count=$(printf '%s\n' "$uploaded" | grep -c .)
  finished=$(date +%s)
  {
    printf '{"stack":"%s","component":"%s","name":"%s","bytes":%s,"count":%s,"started":%s,"finished":%s,"files":[\n' \
      "$BACKUP_STACK" "$BACKUP_COMPONENT" "$name" "$bytes" "$count" "$started" "$finished"
    printf '%s\n' "$uploaded" | awk -F';' '{ p = substr($0, length($1) + length($2) + 3); printf "%s{\"path\":\"%s\",\"size\":%s,\"md5\":\"%s\"}", (NR > 1 ? ",\n" : ""), p, $2, $1 } END { print "" }'
    printf ']}\n'
  } >"$BACKUP_WORK/COMPLETE.json"
  run "$RCLONE" copyto "$BACKUP_WORK/COMPLETE.json" "$FOLDER/$name/COMPLETE.json" ||
    fail "the manifest of $name could not be written: it stays incomplete"
  [ -z "$SNAPSHOT" ] || rm -rf "$SNAPSHOT"
  SNAPSHOT=""
  say "$name: $count files, $bytes bytes in $((finished - started))s"
  retention "$name"
  push "last_success_timestamp_seconds $(date +%s)" "size_bytes $bytes" "duration_seconds $((finished - started))" \
    "interval_seconds ${BACKUP_INTERVAL_SECONDS:-0}"
}

# After a complete backup: the complete ones past the newest BACKUP_KEEP go, and incomplete folders
# (uploads that failed) older than the newest complete one and, by their name, than BACKUP_DEADLINE_SECONDS
# (and SKEW_SECONDS): a younger one may be another run still uploading (a manual Job beside the
# schedule's), whose Job ends within its deadline. Only what listings that succeeded show,
# and only folders named as ours (ours): a folder kept by hand is never counted nor deleted.
retention() {
  all=$(complete) || exit 1
  newest=$(printf '%s\n' "$all" | tail -n 1)
  [ "$newest" = "$1" ] || fail "the new backup $1 is not listed as the newest complete one (\"$newest\"): nothing deleted"
  surplus=$(($(printf '%s\n' "$all" | grep -c .) - BACKUP_KEEP))
  [ "$surplus" -gt 0 ] || surplus=0
  folders=$("$RCLONE" lsf --dirs-only "$FOLDER") || fail "cannot list the folders of $FOLDER (rclone exited $?): nothing deleted"
  settled=$(date -u -d "@$(($(date +%s) - BACKUP_DEADLINE_SECONDS - SKEW_SECONDS))" +%Y%m%dT%H%M%SZ)
  for old in $(printf '%s\n' "$all" | head -n "$surplus"); do
    [ "$old" \< "$newest" ] || continue
    run "$RCLONE" purge "$FOLDER/$old" || fail "could not delete $old"
    say "deleted $old (keep $BACKUP_KEEP)"
  done
  for dir in $(printf '%s\n' "$folders" | sed 's|/$||' | ours); do
    # Ours alone (<stack>-<component>-<UTC time>), older than the newest complete, and not complete.
    [ "$dir" \< "$newest" ] || continue
    ! printf '%s\n' "$all" | grep -qx "$dir" || continue
    if [ ! "${dir##*-}" \< "$settled" ]; then
      say "kept incomplete $dir: younger than ${BACKUP_DEADLINE_SECONDS}s, it may be another run still uploading"
      continue
    fi
    run "$RCLONE" purge "$FOLDER/$dir" || fail "could not delete the incomplete $dir"
    say "deleted incomplete $dir"
  done
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

# The entries of a directory, hidden ones too, one per line (names of ours: no newline in them).
entries() {
  for e in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    if [ -e "$e" ] || [ -L "$e" ]; then echo "$e"; fi
  done
}

# A complete backup (a name, or `latest`) into the data directory of the stopped component:
# downloaded beside it, checked against its manifest, then swapped in.
restore() {
  need BACKUP_DATA BACKUP_WORK
  wanted=${1:-}
  [ -n "$wanted" ] || fail "name the backup to restore (a name from \`list\`, or latest)"
  all=$(complete) || exit 1
  if [ "$wanted" = latest ]; then wanted=$(printf '%s\n' "$all" | tail -n 1); fi
  [ -n "$wanted" ] && printf '%s\n' "$all" | grep -qx "$wanted" || fail "no complete backup \"${1}\" in $FOLDER (see list)"
  stopped
  mkdir -p "$BACKUP_DATA"
  for left in $(entries "$BACKUP_DATA"); do
    case "${left##*/}" in
      .restore-*)
        rm -rf "$left"
        say "removed ${left##*/}, the download of a restore that did not finish"
        ;;
      .replaced-*) fail "$left holds the data a restore was swapping out when it stopped: put it back by hand (its entries into $BACKUP_DATA), then run again" ;;
    esac
  done
  if [ -n "$(entries "$BACKUP_DATA")" ] && [ "${BACKUP_REPLACE:-}" != 1 ]; then
    fail "$BACKUP_DATA holds files: restore into an empty volume, or replace them (BACKUP_REPLACE=1, --replace)"
  fi
  manifest=$("$RCLONE" cat "$FOLDER/$wanted/COMPLETE.json") || fail "cannot read the manifest of $wanted (rclone exited $?)"
  expected=$(printf '%s\n' "$manifest" | sed -n 's/^,\{0,1\}{"path":"\(.*\)","size":\([0-9]*\),"md5":"\([0-9a-f]*\)"},\{0,1\}$/\3;\2;\1/p' | sort)
  [ -n "$expected" ] || fail "$wanted has no manifest of its files (a backup made before manifests): copy it by hand with rclone copy"
  STAGING="$BACKUP_DATA/.restore-$wanted"
  mkdir "$STAGING"
  run "$RCLONE" copy --exclude /COMPLETE.json "$FOLDER/$wanted" "$STAGING" ||
    fail "the download of $wanted failed (rclone's error above): $BACKUP_DATA is as it was"
  got=$(files_of "$STAGING") || exit 1
  [ "$got" = "$expected" ] ||
    fail "the download of $wanted differs from its manifest: $(differences "$expected" "$got"); $BACKUP_DATA is as it was"
  # The silences as listed are for reading; Alertmanager reads its own files.
  [ "$BACKUP_COMPONENT" != alertmanager ] || rm -f "$STAGING/silences.json"
  stopped
  # The swap: renames on one volume. The old entries aside, the restored ones in, the old ones deleted.
  aside="$BACKUP_DATA/.replaced-$wanted"
  mkdir "$aside"
  staged=$STAGING
  STAGING=""
  for e in $(entries "$BACKUP_DATA"); do
    [ "$e" = "$staged" ] || [ "$e" = "$aside" ] || mv "$e" "$aside/"
  done
  for e in $(entries "$staged"); do mv "$e" "$BACKUP_DATA/"; done
  rmdir "$staged"
  rm -rf "$aside"
  say "restored $wanted into $BACKUP_DATA ($(printf '%s\n' "$got" | grep -c .) files, checked against its manifest)"
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
