#!/usr/bin/env bash
# The gate's cost through nginx (docs/benchmarks.md, "Gate"): requests per
# second and latency of a small page through nginx alone, and through nginx
# with waitroom's gate for an admitted visitor, configured exactly as the
# guide says (docs/integrations/gate/nginx.conf, addresses swapped).
#
# The server runs waitroom on the embedded store (the admitted check reads
# no store, so the backend does not matter), nginx serves both the site
# (a fixed page) and the two proxies, and waitroom-bench's get scenario is
# the load. waitroom and nginx run on SERVER_CORES, the generator on
# GEN_CORES (taskset), as in bench.sh.
#
# Settings (environment):
#   RUNS=3  DURATION=20s  WARMUP=5s  USERS="16 64"   (closed-loop users)
#   SERVER_CORES=0,1  GEN_CORES=1
#   QUICK=1       one short run per figure: checks the script, not the proxy
#   OUT=dir       binaries, logs and JSON results (default: a new temporary directory)
#   NGINX=path    the nginx binary (default: nginx on PATH, else /usr/sbin/nginx)
#   BASE_PORT=28600  ports BASE_PORT..BASE_PORT+4 on 127.0.0.1
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS=${RUNS:-3}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-5s}
USERS=${USERS:-"16 64"}
SERVER_CORES=${SERVER_CORES:-0,1}
GEN_CORES=${GEN_CORES:-1}
if [ "${QUICK:-}" = 1 ]; then RUNS=1 DURATION=2s WARMUP=0s USERS=4; fi
OUT=${OUT:-$(mktemp -d)}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
BASE_PORT=${BASE_PORT:-28600}
WR=$((BASE_PORT)) ADMIN=$((BASE_PORT + 1)) SITE=$((BASE_PORT + 2)) PLAIN=$((BASE_PORT + 3)) GATED=$((BASE_PORT + 4))
ROOM=bench-gate

log() { echo "[gate-bench] $*" >&2; }
# pinned CORES CMD...: the command on those cores (taskset), as a plain
# exec so that a background start's $! is the program itself.
server_pin=() gen_pin=()
if command -v taskset >/dev/null; then server_pin=(taskset -c "$SERVER_CORES") gen_pin=(taskset -c "$GEN_CORES"); fi

mkdir -p "$OUT"
log "building into $OUT"
go build -o "$OUT/waitroom" ./cmd/waitroom
go build -o "$OUT/waitroom-bench" ./cmd/waitroom-bench

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

"${server_pin[@]}" "$OUT/waitroom" serve -http-addr "127.0.0.1:$WR" -admin-addr "127.0.0.1:$ADMIN" \
	-data-dir "$OUT/data" -log-level warn >"$OUT/waitroom.out" 2>"$OUT/waitroom.log" &
pids+=($!)
KEY=""
for _ in $(seq 1 100); do
	KEY=$(sed -n 's/.*Admin key for this run[^:]*:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$OUT/waitroom.out" | head -n 1)
	[ -n "$KEY" ] && break
	sleep 0.2
done
[ -n "$KEY" ] || { log "waitroom printed no admin key"; cat "$OUT/waitroom.log" >&2; exit 1; }

curl -fsS -o /dev/null -X POST "http://127.0.0.1:$ADMIN/v1/rooms" -H "Authorization: Bearer $KEY" \
	-H 'Content-Type: application/json' \
	-d "{\"id\":\"$ROOM\",\"name\":\"gate bench\",\"gate\":{\"hosts\":[\"127.0.0.1\"],\"pass\":[\"/static/\"]}}"

# nginx: the site, the plain proxy, and the guide's gated proxy.
gated=$(sed -e "s|listen 80;|listen 127.0.0.1:$GATED;|" -e "s|server_name shop.example.com;|server_name 127.0.0.1;|" \
	-e "s|127.0.0.1:8080|127.0.0.1:$WR|" -e "s|127.0.0.1:3000|127.0.0.1:$SITE|" -e "s|/gate/launch|/gate/$ROOM|" \
	docs/integrations/gate/nginx.conf)
cat >"$OUT/nginx.conf" <<EOF
worker_processes 2;
error_log $OUT/nginx-error.log warn;
pid $OUT/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $OUT/body;
    proxy_temp_path $OUT/proxy;
    fastcgi_temp_path $OUT/fastcgi;
    uwsgi_temp_path $OUT/uwsgi;
    scgi_temp_path $OUT/scgi;
    server {
        listen 127.0.0.1:$SITE;
        location / { default_type text/html; return 200 '<!doctype html><title>shop</title><p>product</p>'; }
    }
    server {
        listen 127.0.0.1:$PLAIN;
        location / {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://shop_backend;
        }
    }
$gated
}
EOF
"$NGINX" -t -q -p "$OUT" -c "$OUT/nginx.conf"
"${server_pin[@]}" "$NGINX" -p "$OUT" -c "$OUT/nginx.conf" -g 'daemon off;' 2>>"$OUT/nginx-error.log" &
pids+=($!)
for _ in $(seq 1 50); do curl -fs -o /dev/null "http://127.0.0.1:$PLAIN/" && break; sleep 0.1; done

# An admission, taken as a browser would: the room page, the serving
# counter, the callback through nginx.
jar="$OUT/cookies.txt"
wait_url=$(curl -s -o /dev/null -w '%{redirect_url}' -H 'Accept: text/html' "http://127.0.0.1:$GATED/product?id=1")
case "$wait_url" in */gate/$ROOM/wait\?*) ;; *) log "the gate did not send to the room page: '$wait_url'"; exit 1 ;; esac
curl -fsS -o /dev/null -c "$jar" -b "$jar" -H 'Accept: text/html' "$wait_url"
curl -fsS -o /dev/null -X POST "http://127.0.0.1:$ADMIN/v1/rooms/$ROOM/advance" -H "Authorization: Bearer $KEY" \
	-H 'Content-Type: application/json' -d '{"by":1}'
sleep 3 # past the counters' poll cache
callback=$(curl -s -o /dev/null -c "$jar" -b "$jar" -w '%{redirect_url}' -H 'Accept: text/html' "$wait_url")
curl -s -o /dev/null -c "$jar" -b "$jar" "$callback"
cookie=$(awk -v name="waitroom_$ROOM" '$6 == name { print $7 }' "$jar" | tail -n 1)
[ -n "$cookie" ] || { log "no admission cookie after the callback ($callback)"; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: waitroom_$ROOM=$cookie" "http://127.0.0.1:$GATED/product?id=1")
[ "$status" = 200 ] || { log "admitted request through the gate: status $status"; exit 1; }

WR_PID=${pids[0]}
log "admitted; measuring (runs $RUNS, users $USERS, $WARMUP + $DURATION each)"
for users in $USERS; do
	for run in $(seq 1 "$RUNS"); do
		for target in plain gated; do
			port=$PLAIN
			args=()
			if [ "$target" = gated ]; then port=$GATED args=(-header "Cookie: waitroom_$ROOM=$cookie" -server-pid "$WR_PID"); fi
			"${gen_pin[@]}" "$OUT/waitroom-bench" -scenario get -url "http://127.0.0.1:$port/product?id=1" "${args[@]}" \
				-c "$users" -duration "$DURATION" -warmup "$WARMUP" -label "nginx $target" \
				-json "$OUT/get-$target-c$users-run$run.json" -q
			python3 - "$OUT/get-$target-c$users-run$run.json" "$target" "$users" "$run" <<'PY' | tee -a "$OUT/summary.txt"
import json, sys
doc = json.load(open(sys.argv[1]))
r = (doc if isinstance(doc, list) else doc.get("results", [doc]))[0]
lat = r["latency"]
print(f"{sys.argv[2]:5} c={sys.argv[3]:<4} run {sys.argv[4]}: {r['achieved_rate']:.0f} requests/s, "
      f"p50 {lat['p50_ms']:.2f} ms, p99 {lat['p99_ms']:.2f} ms, errors {r['errors']}")
PY
		done
	done
done
log "results in $OUT (summary.txt, one JSON file per run)"
