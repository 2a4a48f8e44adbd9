#!/usr/bin/env bash
# A private PostgreSQL for the store tests (TEST_DATABASE_URL): Debian's postgresql, a cluster of its own
# under the ignored .data/test-postgres on a loopback port, started if not running. Prints the URL.
#   export TEST_DATABASE_URL=$(scripts/ci/test-postgres.sh)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
data="$root/.data/test-postgres"
log() { echo "[test-postgres] $*" >&2; }

if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  log "installing Debian's postgresql"
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

mkdir -p "$data"
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$data"; fi
if [ ! -f "$data/pgdata/PG_VERSION" ]; then
  as_postgres "$bin/initdb" -D "$data/pgdata" -U postgres -A trust -E UTF8 >/dev/null
fi
if as_postgres "$bin/pg_ctl" -D "$data/pgdata" status >/dev/null 2>&1; then
  port="$(sed -n 4p "$data/pgdata/postmaster.pid")"   # the running cluster's own port
else
  # The first free port from TEST_POSTGRES_PORT (default 54330): another checkout's cluster may hold it.
  port="${TEST_POSTGRES_PORT:-54330}"
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  as_postgres "$bin/pg_ctl" -D "$data/pgdata" -w -l "$data/postgres.log" -o "-h 127.0.0.1 -p $port -k $data" start >/dev/null
fi
psql() { "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAq "$@"; }
[ "$(psql -c "select 1 from pg_database where datname='nps_test'")" = 1 ] || psql -c "create database nps_test" >/dev/null
echo "postgres://postgres@127.0.0.1:$port/nps_test"
