#!/usr/bin/env bash
# Run waitroom behind nginx as docs/deploy.md says: the nginx block is read
# from the guide (between its nginx-test markers) and only its host name,
# ports and certificate paths are replaced. A certificate for the test's host
# name is made for the run. Then, through nginx:
#   - /healthz over HTTP/2 with Strict-Transport-Security passed on;
#   - discovery names the https issuer;
#   - the visitor's address reaches waitroom (its log and the per-address
#     limit of /assign_queue_num), and a forged X-Forwarded-For does not;
#   - a demo login through the queue with the Secure cookies of an https
#     issuer, to the verified claims.
#
#   deploy/nginx-test.sh        (needs nginx, openssl, curl, go; root installs
#                                nginx with apt-get when it is missing)
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18580}          # waitroom's public listener
ADMIN_PORT=${ADMIN_PORT:-18581}
TLS_PORT=${TLS_PORT:-18543}  # nginx
# A public-looking name (curl resolves it to 127.0.0.1): the issuer of a real
# deployment is not a loopback name.
HOST=queue.waitroom.test
ISSUER=https://$HOST:$TLS_PORT

log() { echo "[nginx-test] $*" >&2; }
fail() {
	log "FAIL: $*"
	[ -f "${work:-}/waitroom.log" ] && tail -20 "$work/waitroom.log" >&2
	[ -f "${work:-}/error.log" ] && tail -5 "$work/error.log" >&2
	exit 1
}

if ! command -v nginx >/dev/null; then
	[ "$(id -u)" = 0 ] || fail "nginx is needed (apt-get install nginx-light)"
	log "installing nginx"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
fi
command -v go >/dev/null || export PATH=$PATH:/usr/local/go/bin

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# --- the guide's block ---------------------------------------------------------
block=$(awk '/<!-- nginx-test:begin -->/ {on=1; next} /<!-- nginx-test:end -->/ {on=0} on && !/^```/' docs/deploy.md)
[ -n "$block" ] || fail "no nginx block between the nginx-test markers of docs/deploy.md"
block=$(sed -e "s#server 127.0.0.1:8080;#server 127.0.0.1:$PORT;#" \
	-e "s#listen 443 ssl#listen 127.0.0.1:$TLS_PORT ssl#" \
	-e "s#server_name queue.example.com;#server_name $HOST;#" \
	-e "s#/etc/ssl/queue.example.com/fullchain.pem#$work/cert.pem#" \
	-e "s#/etc/ssl/queue.example.com/privkey.pem#$work/key.pem#" <<<"$block")
grep -q "127.0.0.1:$PORT" <<<"$block" && grep -q "$work/key.pem" <<<"$block" || fail "the guide's block changed shape: $block"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=$HOST" \
	-addext "subjectAltName=DNS:$HOST" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
mkdir -p "$work/tmp" && chmod 1777 "$work/tmp"
cat >"$work/nginx.conf" <<EOF
pid $work/nginx.pid;
error_log $work/error.log warn;
events {}
http {
    access_log $work/access.log;
    client_body_temp_path $work/tmp/body;
    proxy_temp_path $work/tmp/proxy;
    fastcgi_temp_path $work/tmp/fastcgi;
    uwsgi_temp_path $work/tmp/uwsgi;
    scgi_temp_path $work/tmp/scgi;
$block
}
EOF
nginx -t -p "$work" -c "$work/nginx.conf" 2>"$work/nginx-t.log" || { cat "$work/nginx-t.log" >&2; fail "nginx -t"; }

# --- waitroom, as the guide configures it ------------------------------------
log "building waitroom; nginx $(nginx -v 2>&1 | sed 's/.*nginx\///')"
go build -o "$work/waitroom" ./cmd/waitroom
admin_key=nginx-test-admin-key-$$
WAITROOM_ISSUER=$ISSUER WAITROOM_TRUSTED_PROXIES=127.0.0.1,::1 \
	WAITROOM_HTTP_ADDR=127.0.0.1:$PORT WAITROOM_ADMIN_ADDR=127.0.0.1:$ADMIN_PORT \
	WAITROOM_ADMIN_KEY_HASHES=$(printf '%s' "$admin_key" | sha256sum | cut -d' ' -f1) \
	WAITROOM_DATA_DIR=$work/data WAITROOM_LOG_LEVEL=debug WAITROOM_ASSIGN_RATE_LIMIT=2 \
	"$work/waitroom" serve >"$work/banner.txt" 2>"$work/waitroom.log" &
pids+=($!)
nginx -p "$work" -c "$work/nginx.conf" -g 'daemon off;' &
pids+=($!)

get() { curl -sS -m 5 --cacert "$work/cert.pem" --resolve "$HOST:$TLS_PORT:127.0.0.1" "$@"; }
for _ in $(seq 1 60); do get -o /dev/null "$ISSUER/readyz" 2>/dev/null && break; sleep 0.5; done
get -fo /dev/null "$ISSUER/readyz" || fail "/readyz through nginx"

# --- HTTP/2, HSTS, issuer ------------------------------------------------------
headers=$(get -D - -o /dev/null "$ISSUER/healthz")
grep -q '^HTTP/2 200' <<<"$headers" || fail "/healthz: $headers"
grep -qi '^strict-transport-security: max-age=63072000' <<<"$headers" || fail "no HSTS through nginx: $headers"
grep -q "\"issuer\":\"$ISSUER\"" <<<"$(get "$ISSUER/.well-known/openid-configuration")" || fail "discovery does not name $ISSUER"
log "HTTP/2 to the client, HSTS passed on, discovery names $ISSUER"

# --- client addresses ------------------------------------------------------------
# Visitors 127.0.0.2 and 127.0.0.3 (loopback answers all of 127/8); the
# second forges an X-Forwarded-For. The limit is 2 enqueues a minute each.
enqueue() { get -o /dev/null -w '%{http_code}' --interface "$1" -XPOST "$ISSUER/assign_queue_num" -d '{"event_id":"demo"}' "${@:2}"; }
codes="$(enqueue 127.0.0.2) $(enqueue 127.0.0.2) $(enqueue 127.0.0.2)"
[ "$codes" = "200 200 429" ] || fail "visitor 127.0.0.2: $codes, want 200 200 429 (limit per visitor)"
codes="$(enqueue 127.0.0.3 -H 'X-Forwarded-For: 127.0.0.2') $(enqueue 127.0.0.3 -H 'X-Forwarded-For: 198.51.100.9')"
[ "$codes" = "200 200" ] || fail "visitor 127.0.0.3: $codes, want 200 200 (its own limit, whatever it forges)"
sleep 0.5
grep -q 'client_ip=127.0.0.3' "$work/waitroom.log" || fail "the log does not show the visitor's address"
! grep -q 'client_ip=198.51.100.9' "$work/waitroom.log" || fail "a forged X-Forwarded-For was believed"
log "visitors' addresses reach waitroom (log, rate limit); a forged X-Forwarded-For does not"

# --- a demo login through the queue ---------------------------------------------
jar=$work/cookies
page=$(get -L --max-redirs 8 -c "$jar" -b "$jar" --interface 127.0.0.4 "$ISSUER/demo/login" -w '\n%{url_effective}')
room_url=$(tail -n 1 <<<"$page")
grep -q 'You are in line' <<<"$page" || fail "not queued after sign-in: $room_url"
# The room's ticket cookie (wr_t_<room>): HttpOnly and Secure, for the host.
awk -v h="#HttpOnly_$HOST" '$1 == h && $4 == "TRUE" && $6 ~ /^wr_t_/ {found=1} END {exit !found}' "$jar" || fail "the ticket cookie is not Secure and HttpOnly"
curl -fsS -m 5 -XPOST -H "Authorization: Bearer $admin_key" "http://127.0.0.1:$ADMIN_PORT/increment_serving_counter" \
	-d '{"event_id":"demo","increment_by":100}' >/dev/null || fail "increment_serving_counter"
# Admitted: the room page sends the browser on to the demo's callback,
# which shows the verified ID token's claims.
page=$(get -L --max-redirs 8 -c "$jar" -b "$jar" "$room_url")
grep -q 'preferred_username' <<<"$page" || { sed -e 's/<[^>]*>//g' <<<"$page" | grep -v '^\s*$' | head -20 >&2; fail "the demo did not end with verified claims"; }
grep -q 'You are through' <<<"$page" || fail "the demo page does not say the visitor is through"
log "demo login through the queue: queued, admitted, back on the demo with the ID token's claims"
log "nginx test passed"
