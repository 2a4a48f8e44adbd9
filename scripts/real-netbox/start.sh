#!/usr/bin/env bash
# Start the real NetBox prepared by setup.sh: PostgreSQL, Redis, gunicorn (web + REST API) on
# 127.0.0.1:$REAL_NETBOX_PORT (default 18000) and the RQ worker that delivers webhooks.
# Idempotent: already-running parts are left alone. Writes .data/real-netbox/env with
# NETBOX_URL, NETBOX_TOKEN (v1) and NETBOX_TOKEN_V2 for tests, then prints it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ -x "$RN_VENV/bin/netbox" ] && [ -f "$RN_DATA/.migrated" ] || rn_die "not set up: run scripts/real-netbox/setup.sh first"
mkdir -p "$RN_LOGS" "$RN_RUN"
T0=$(date +%s.%N)

rn_start_postgres
rn_start_redis

cd "$RN_DATA"
if ! rn_pid_alive "$RN_RUN/gunicorn.pid"; then
  rn_log "starting gunicorn on $RN_HOST:$RN_PORT"
  # 2 cores: 2 workers x 4 threads is plenty for tests.
  "$RN_VENV/bin/gunicorn" netbox.wsgi --bind "$RN_HOST:$RN_PORT" --workers "${REAL_NETBOX_WORKERS:-2}" \
    --threads 4 --timeout 120 --preload --daemon --pid "$RN_RUN/gunicorn.pid" \
    --access-logfile "$RN_LOGS/gunicorn-access.log" --error-logfile "$RN_LOGS/gunicorn.log" \
    --capture-output
fi

if ! rn_pid_alive "$RN_RUN/rqworker.pid"; then
  rn_log "starting RQ worker (queues high default low)"
  setsid "$RN_VENV/bin/netbox" rqworker high default low >>"$RN_LOGS/rqworker.log" 2>&1 </dev/null &
  echo $! >"$RN_RUN/rqworker.pid"
fi

# Wait for the API.
# shellcheck disable=SC1090
source "$RN_SECRETS"
URL="http://$RN_HOST:$RN_PORT"
ok=0
for i in $(seq 1 240); do
  if curl -fsS -o /dev/null -H "Authorization: Token $TOKEN_V1" "$URL/api/status/" 2>/dev/null; then ok=1; break; fi
  # With --preload gunicorn writes its pid file only once NetBox has loaded (10-20 s on a busy machine):
  # give up early only when that process has come and gone.
  if rn_pid_alive "$RN_RUN/gunicorn.pid"; then seen=1; elif [ "${seen:-0}" = 1 ]; then break; fi
  sleep 0.5
done
[ "$ok" = 1 ] || { tail -30 "$RN_LOGS/gunicorn.log"; rn_die "NetBox did not answer at $URL/api/status/"; }
sleep 1
rn_pid_alive "$RN_RUN/rqworker.pid" || { tail -30 "$RN_LOGS/rqworker.log"; rn_die "RQ worker died"; }

umask 077
cat >"$RN_ENV_FILE" <<ENV
NETBOX_URL=$URL
NETBOX_TOKEN=$TOKEN_V1
NETBOX_TOKEN_V2=nbt_$TOKEN_V2_KEY.$TOKEN_V2_SECRET
NETBOX_ADMIN_USER=$RN_ADMIN_USER
NETBOX_ADMIN_PASSWORD=$ADMIN_PASSWORD
ENV
umask 022
rn_log "NetBox $("$RN_VENV/bin/netbox" version) up in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"
rn_log "env written to $RN_ENV_FILE (v1: 'Authorization: Token \$NETBOX_TOKEN', v2: 'Authorization: Bearer \$NETBOX_TOKEN_V2')"
rn_log "variables: $(cut -d= -f1 "$RN_ENV_FILE" | tr "\n" " ")(values not printed: they are credentials)"
