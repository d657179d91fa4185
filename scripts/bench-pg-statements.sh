#!/usr/bin/env bash
# Where the database's time goes in a lateness run, statement by statement.
#
# Starts a throwaway PostgreSQL cluster (initdb into a temporary directory,
# its own port and socket directory) with pg_stat_statements loaded, runs
# watchdog-bench against it, and prints the statements of the first
# lateness run (from its "N tickets due" line to its "exactly once" line),
# most database time first. The shared cluster on 5432 is never touched.
#
#   scripts/bench-pg-statements.sh [-watchdogd BIN] [watchdog-bench flags...]
#
# With no flags it runs three times the burst on 1M stored tickets:
#   -lateness-stored 1000000 -lateness-tickets 30000 lateness
# PGSS_FROM and PGSS_TO name the harness's log lines that start and end the
# window (defaults: the lateness run's); for the catch-up:
#   PGSS_FROM='every stage past' scripts/bench-pg-statements.sh catchup
# and for the lateness run with next-reply cycles (the second of the mode):
#   PGSS_FROM='half the stages next-reply' scripts/bench-pg-statements.sh
# The statements go to stdout; the harness's log and JSON to $OUT (a
# temporary directory unless set).
set -euo pipefail
cd "$(dirname "$0")/.."

watchdogd=./bin/watchdogd
if [ "${1:-}" = "-watchdogd" ]; then
  watchdogd=$2
  shift 2
fi
args=("$@")
if [ ${#args[@]} -eq 0 ]; then
  args=(-lateness-stored 1000000 -lateness-tickets 30000 lateness)
fi
[ -x ./bin/watchdog-bench ] && [ -x "$watchdogd" ] || make build

bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
port=${PGSS_PORT:-55499}
dir=$(mktemp -d /tmp/watchdog-pgss.XXXXXX)
OUT=${OUT:-$dir/out}
mkdir -p "$OUT"
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi
stop() {
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  # Keep the directory only when the harness's output is in it.
  case "$OUT" in
    "$dir"/*) rm -rf "$dir/data" ;;
    *) rm -rf "$dir" ;;
  esac
}
trap stop EXIT

"${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
cat >>"$dir/data/postgresql.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = 'all'
EOF
"${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w start >/dev/null
psql=(psql -h 127.0.0.1 -p "$port" -U postgres -X -q)
"${psql[@]}" -d postgres -c "CREATE DATABASE test"
"${psql[@]}" -d test -c "CREATE EXTENSION pg_stat_statements"

log=$OUT/bench.log
./bin/watchdog-bench -spawn -db postgres -postgres "postgres://postgres@127.0.0.1:$port/test?sslmode=disable" \
  -watchdogd "$watchdogd" -json "${args[@]}" >"$OUT/bench.json" 2>"$log" &
bench=$!
from=${PGSS_FROM:-tickets due within}
to=${PGSS_TO:-exactly once}
until grep -q "$from" "$log" 2>/dev/null; do
  kill -0 $bench 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
"${psql[@]}" -d test -c "SELECT pg_stat_statements_reset()" >/dev/null
# The window ends at the first line matching PGSS_TO after PGSS_FROM's.
after_from() { awk -v from="$from" 'index($0, from) { on = 1 } on' "$log"; }
until after_from | grep -q "$to"; do
  kill -0 $bench 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
"${psql[@]}" -d test -c "SELECT calls, rows, round(total_exec_time::numeric, 1) AS exec_ms,
    CASE WHEN rows > 0 THEN round((total_exec_time / rows * 1000)::numeric, 1) END AS us_per_row,
    round(wal_bytes / 1e6, 1) AS wal_mb, left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS statement
  FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'
  ORDER BY total_exec_time DESC LIMIT 20"
wait $bench
echo "# the run these statements are of:"
after_from | grep -m 1 "$to" | sed 's/^ */# /'
echo "# harness log and JSON: $OUT" >&2
