#!/usr/bin/env bash
# Prove the running real NetBox (start.sh) delivers prefix webhooks through its RQ worker:
# starts webhook_listener.py on 127.0.0.1:$LISTENER_PORT (default 18099), creates (or reuses)
# webhook "nbsync-real-demo" (secret "test-secret") + event rule "nbsync-real-demo-prefix"
# (ipam.prefix created/updated/deleted), then creates, updates and deletes a prefix, waits for
# the three deliveries, checks their X-Hook-Signature, and with --save-samples writes them to
# test/fixtures/real-netbox-<version>/webhooks/. Removes the webhook and rule again unless --keep-webhook.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SAVE=0; KEEP=0
for a in "$@"; do case "$a" in --save-samples) SAVE=1 ;; --keep-webhook) KEEP=1 ;; *) rn_die "unknown arg $a" ;; esac; done

[ -f "$RN_ENV_FILE" ] || rn_die "NetBox not running (no $RN_ENV_FILE): run start.sh"
set -a; source "$RN_ENV_FILE"; set +a
LPORT="${LISTENER_PORT:-18099}"
SECRET=test-secret
OUT="$RN_DATA/webhooks/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
PY="$RN_VENV/bin/python"

api() { # METHOD PATH [JSON]
  local m="$1" p="$2" d="${3:-}"
  curl -sS --fail-with-body -X "$m" -H "Authorization: Token $NETBOX_TOKEN" -H 'Content-Type: application/json' \
    -H 'Accept: application/json' ${d:+--data "$d"} "$NETBOX_URL$p"
}
jget() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

"$PY" "$RN_SCRIPT_DIR/webhook_listener.py" --port "$LPORT" --out "$OUT" --secret "$SECRET" &
LPID=$!
cleanup() {
  kill "$LPID" 2>/dev/null || true
  if [ "$KEEP" = 0 ]; then
    [ -n "${RULE_ID:-}" ] && api DELETE "/api/extras/event-rules/$RULE_ID/" >/dev/null 2>&1 || true
    [ -n "${HOOK_ID:-}" ] && api DELETE "/api/extras/webhooks/$HOOK_ID/" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
for i in $(seq 1 50); do curl -fsS "http://127.0.0.1:$LPORT/" >/dev/null 2>&1 && break; sleep 0.1; done

HOOK_ID=$(api GET "/api/extras/webhooks/?name=nbsync-real-demo" | jget "d['results'][0]['id'] if d['results'] else ''")
if [ -z "$HOOK_ID" ]; then
  HOOK_ID=$(api POST /api/extras/webhooks/ "{\"name\":\"nbsync-real-demo\",\"payload_url\":\"http://127.0.0.1:$LPORT/netbox-webhook\",\"http_method\":\"POST\",\"http_content_type\":\"application/json\",\"secret\":\"$SECRET\",\"ssl_verification\":false}" | jget "d['id']")
fi
RULE_ID=$(api GET "/api/extras/event-rules/?name=nbsync-real-demo-prefix" | jget "d['results'][0]['id'] if d['results'] else ''")
if [ -z "$RULE_ID" ]; then
  RULE_ID=$(api POST /api/extras/event-rules/ "{\"name\":\"nbsync-real-demo-prefix\",\"object_types\":[\"ipam.prefix\"],\"event_types\":[\"object_created\",\"object_updated\",\"object_deleted\"],\"action_type\":\"webhook\",\"action_object_type\":\"extras.webhook\",\"action_object_id\":$HOOK_ID,\"enabled\":true}" | jget "d['id']")
fi
rn_log "webhook $HOOK_ID, event rule $RULE_ID -> http://127.0.0.1:$LPORT/netbox-webhook"

# A site-scoped prefix in the demo data to hang the new one on.
SITE_ID=$(api GET "/api/dcim/sites/?limit=1&ordering=id" | jget "d['results'][0]['id']")
T0=$(date +%s.%N)
PID=$(api POST /api/ipam/prefixes/ "{\"prefix\":\"198.51.100.0/24\",\"status\":\"active\",\"scope_type\":\"dcim.site\",\"scope_id\":$SITE_ID,\"description\":\"nbsync real-netbox webhook demo\"}" | jget "d['id']")
api PATCH "/api/ipam/prefixes/$PID/" '{"description":"nbsync real-netbox webhook demo (edited)","status":"reserved"}' >/dev/null
api DELETE "/api/ipam/prefixes/$PID/" >/dev/null
rn_log "created/updated/deleted prefix $PID (198.51.100.0/24, site $SITE_ID); waiting for 3 deliveries"

for i in $(seq 1 120); do [ "$(ls "$OUT" | wc -l)" -ge 3 ] && break; sleep 0.25; done
n=$(ls "$OUT" | wc -l)
rn_log "received $n deliveries in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s -> $OUT"
[ "$n" -ge 3 ] || { tail -20 "$RN_LOGS/rqworker.log"; rn_die "expected 3 webhook deliveries, got $n"; }

"$PY" - "$OUT" "$SAVE" "$RN_REPO_ROOT/test/fixtures/real-netbox-$("$RN_VENV/bin/netbox" version)/webhooks" "$("$RN_VENV/bin/netbox" version)" <<'PY'
import json, os, sys
out, save, samples, version = sys.argv[1], sys.argv[2] == "1", sys.argv[3], sys.argv[4]
bad = 0
for f in sorted(os.listdir(out)):
    r = json.load(open(os.path.join(out, f)))
    body = json.loads(r["body_text"])
    print(f"  {f}: event={body['event']} object_type={body.get('object_type')} "
          f"prefix={body['data']['prefix']} sig_ok={r['signature_ok']} keys={sorted(body)}")
    if r["signature_ok"] is not True:
        bad += 1
    if save:
        os.makedirs(samples, exist_ok=True)
        name = f"netbox-{version}-prefix-{body['event']}"
        with open(os.path.join(samples, name + ".body.json"), "w", newline="") as fh:
            fh.write(r["body_text"])  # exact bytes that were signed
        hdrs = {k: v for k, v in r["headers"].items() if k.lower() not in ("host",)}
        with open(os.path.join(samples, name + ".headers.json"), "w") as fh:
            json.dump({"method": r["method"], "path": r["path"], "headers": hdrs,
                       "hmac_sha512_secret": "test-secret", "signature_ok": r["signature_ok"]}, fh, indent=2)
            fh.write("\n")
        print(f"    saved {name}.body.json / .headers.json")
sys.exit(1 if bad else 0)
PY
rn_log "webhook deliveries verified (X-Hook-Signature = HMAC-SHA512(body, 'test-secret'))"
