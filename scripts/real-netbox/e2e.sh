#!/usr/bin/env bash
# npm run test:real-netbox: the end-to-end suite (test/real-netbox/) against a real NetBox from PyPI.
#
#   scripts/real-netbox/e2e.sh                  # set up (first run ~7 min), reset the demo DB, start, test, stop
#   scripts/real-netbox/e2e.sh --keep-running   # leave NetBox running afterwards (stop.sh stops it)
#
# Every run starts from the pristine migrated demo database (setup.sh --reset-db), so runs never see each
# other's prefixes or webhooks. Needs root, as setup.sh does.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEEP=0
for a in "$@"; do
  case "$a" in
    --keep-running) KEEP=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) rn_die "unknown argument: $a" ;;
  esac
done

T0=$(date +%s)
# Stopped first, so the reset needs no restart of NetBox (the reset restarts what it finds running).
bash "$RN_SCRIPT_DIR/stop.sh" --keep-db >/dev/null 2>&1 || true
bash "$RN_SCRIPT_DIR/setup.sh" --reset-db
bash "$RN_SCRIPT_DIR/start.sh"
[ "$KEEP" = 1 ] || trap 'bash "$RN_SCRIPT_DIR/stop.sh"' EXIT
set -a
# shellcheck disable=SC1090
source "$RN_ENV_FILE"
set +a
T1=$(date +%s)
export LOG_LEVEL="${LOG_LEVEL:-warn}"   # the receiver logs each accepted webhook at info
cd "$RN_REPO_ROOT"
status=0
npx jest --config jest.real-netbox.config.js --runInBand || status=$?
rn_log "NetBox ready in $((T1 - T0)) s; suite ran in $(( $(date +%s) - T1 )) s"
exit "$status"
