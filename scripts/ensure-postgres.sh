#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the tests.
# On a machine with Debian's PostgreSQL cluster installed but stopped, it
# starts it; with TEST_DATABASE_URL pointing elsewhere it does nothing.
set -u
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  exit 0
fi
ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! command -v pg_isready >/dev/null 2>&1; then
  echo "ensure-postgres: PostgreSQL client tools not installed; Postgres suites will skip unless CI is set" >&2
  exit 0
fi
ready && exit 0
if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null 2>&1; then
  ver=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "ensure-postgres: starting PostgreSQL $ver cluster 'main'" >&2
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do ready && exit 0; sleep 1; done
  echo "ensure-postgres: PostgreSQL did not become ready" >&2
fi
exit 0
