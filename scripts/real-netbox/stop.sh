#!/usr/bin/env bash
# Stop what start.sh/setup.sh started: RQ worker, gunicorn, Redis, PostgreSQL (by pid file only).
#   scripts/real-netbox/stop.sh           # stop everything
#   scripts/real-netbox/stop.sh --keep-db # stop NetBox + worker, leave PostgreSQL and Redis up
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rn_stop_pidfile "RQ worker" "$RN_RUN/rqworker.pid"
rn_stop_pidfile gunicorn "$RN_RUN/gunicorn.pid"
if [ "${1:-}" != --keep-db ]; then
  rn_stop_pidfile redis "$RN_RUN/redis.pid"
  rn_stop_postgres
fi
rm -f "$RN_ENV_FILE"
rn_log "stopped"
