# shellcheck shell=bash
# Shared settings and helpers for scripts/real-netbox/*.sh. Source it; do not run it.
# Everything mutable lives under the git-ignored folders .tools/real-netbox (venv) and
# .data/real-netbox (NETBOX_ROOT, PostgreSQL cluster, Redis, logs, pids, env file).

set -euo pipefail

RN_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RN_REPO_ROOT="$(cd "$RN_SCRIPT_DIR/../.." && pwd)"

# Pinned NetBox release from PyPI (the wheel needs Python >= 3.12).
RN_NETBOX_VERSION="${REAL_NETBOX_VERSION:-4.7.3}"
RN_DUMP="${REAL_NETBOX_DUMP:-$RN_REPO_ROOT/../shared/netbox-demo-data/netbox-demo-v4.2.sql}"

RN_TOOLS="$RN_REPO_ROOT/.tools/real-netbox"
RN_DATA="$RN_REPO_ROOT/.data/real-netbox"
RN_VENV="$RN_TOOLS/venv"
export NETBOX_ROOT="$RN_DATA/root"          # NetBox reads $NETBOX_ROOT/conf/configuration.py
RN_PGDATA="$RN_DATA/pgdata"
RN_PGSOCK="$RN_DATA/pgsock"
RN_REDIS_DIR="$RN_DATA/redis"
RN_LOGS="$RN_DATA/logs"
RN_RUN="$RN_DATA/run"
RN_SECRETS="$RN_DATA/secrets.env"            # generated once: SECRET_KEY, pepper, DB password
RN_ENV_FILE="$RN_DATA/env"                   # NETBOX_URL / NETBOX_TOKEN for tests

RN_HOST=127.0.0.1
RN_PORT="${REAL_NETBOX_PORT:-18000}"
RN_PG_PORT="${REAL_NETBOX_PG_PORT:-54329}"
RN_REDIS_PORT="${REAL_NETBOX_REDIS_PORT:-63790}"
RN_DB_NAME=netbox
RN_DB_USER=netbox                            # the 4.2 dump's objects are owned by role "netbox"
RN_ADMIN_USER=nbsync-admin

RN_PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"

rn_log() { printf '[real-netbox %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
rn_die() { rn_log "ERROR: $*"; exit 1; }

# Find a Python >= 3.12 (NetBox 4.5+ refuses older ones).
rn_find_python() {
  local c
  for c in "${REAL_NETBOX_PYTHON:-}" python3.13 python3.12 \
           "$HOME"/.pyenv/versions/3.13*/bin/python3 "$HOME"/.pyenv/versions/3.12*/bin/python3 \
           /usr/bin/python3; do
    [ -n "$c" ] || continue
    command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] || continue
    if "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      command -v "$c" 2>/dev/null || echo "$c"
      return 0
    fi
  done
  return 1
}

rn_netbox() { "$RN_VENV/bin/netbox" "$@"; }

rn_psql() { # psql as the cluster superuser over the private unix socket
  "$RN_PG_BIN/psql" -h "$RN_PGSOCK" -p "$RN_PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q "$@"
}

rn_pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

rn_start_postgres() {
  [ -x "$RN_PG_BIN/pg_ctl" ] || rn_die "PostgreSQL binaries not found (run setup.sh)"
  [ -f "$RN_PGDATA/PG_VERSION" ] || rn_die "no cluster at $RN_PGDATA (run setup.sh)"
  if runuser -u postgres -- "$RN_PG_BIN/pg_ctl" -D "$RN_PGDATA" status >/dev/null 2>&1; then
    return 0
  fi
  rn_log "starting PostgreSQL on $RN_HOST:$RN_PG_PORT"
  runuser -u postgres -- "$RN_PG_BIN/pg_ctl" -D "$RN_PGDATA" -l "$RN_LOGS/postgres.log" -w -t 60 \
    -o "-p $RN_PG_PORT -k $RN_PGSOCK -c listen_addresses=$RN_HOST" start >/dev/null
}

rn_stop_postgres() {
  if [ -f "$RN_PGDATA/PG_VERSION" ] && \
     runuser -u postgres -- "$RN_PG_BIN/pg_ctl" -D "$RN_PGDATA" status >/dev/null 2>&1; then
    rn_log "stopping PostgreSQL"
    runuser -u postgres -- "$RN_PG_BIN/pg_ctl" -D "$RN_PGDATA" -m fast -w stop >/dev/null
  fi
}

rn_start_redis() {
  if rn_pid_alive "$RN_RUN/redis.pid"; then return 0; fi
  rn_log "starting Redis on $RN_HOST:$RN_REDIS_PORT"
  mkdir -p "$RN_REDIS_DIR"
  redis-server --bind "$RN_HOST" --port "$RN_REDIS_PORT" --daemonize yes \
    --pidfile "$RN_RUN/redis.pid" --logfile "$RN_LOGS/redis.log" --dir "$RN_REDIS_DIR" \
    --save '' --appendonly no
  local i
  for i in $(seq 1 50); do
    redis-cli -h "$RN_HOST" -p "$RN_REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.2
  done
  rn_die "Redis did not answer on port $RN_REDIS_PORT (see $RN_LOGS/redis.log)"
}

rn_stop_pidfile() { # name pidfile
  local name="$1" pidfile="$2" pid i
  if rn_pid_alive "$pidfile"; then
    pid="$(cat "$pidfile")"
    rn_log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}
