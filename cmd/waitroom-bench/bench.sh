#!/usr/bin/env bash
# The benchmark suite (make bench): builds the server and the load
# generator, starts the server on Redis + PostgreSQL on loopback (a fresh
# database and Redis key prefix per server), runs every scenario RUNS times,
# and regenerates docs/benchmarks.md from the JSON results with
# `waitroom-bench summarize`.
#
# The server is pinned to SERVER_CORES and the generator to GEN_CORES with
# taskset; Redis and PostgreSQL are not pinned and share every core. On a
# 2-core machine the generator therefore shares the machine with the
# server and its stores, and the report says so.
#
# Settings (environment):
#   RUNS=3            repeated runs per figure (the report gives the median and spread)
#   DURATION=20s      measured time per run;  WARMUP=5s before it
#   SERVER_CORES=0    GEN_CORES=1
#   DEPTHS="0 1000000 10000000"   queue depths for B6, filled through the
#                     backend's bulk path (group-committed enqueues straight into Redis + PostgreSQL)
#   BURST_RATE=0      B8: open-loop enqueue rate for 30 s (0 skips; use 3 × the B1 figure)
#   QUICK=1           a few seconds per scenario, one run, small depths: checks the script, not the server
#   OUT=dir           where binaries, logs and JSON results go (default: a new temporary directory)
#   DOC=docs/benchmarks.md
#   GOBENCH_TIME=1s   -benchtime of the Go benchmarks (go test -bench) run after the load
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS=${RUNS:-3}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-5s}
SERVER_CORES=${SERVER_CORES:-0}
GEN_CORES=${GEN_CORES:-1}
DEPTHS=${DEPTHS:-"0 1000000 10000000"}
BURST_RATE=${BURST_RATE:-0}
DOC=${DOC:-docs/benchmarks.md}
if [ -n "${QUICK:-}" ]; then
	RUNS=1 DURATION=2s WARMUP=1s DEPTHS="0 150000" GOBENCH_TIME=${GOBENCH_TIME:-100ms}
fi
OUT=${OUT:-$(mktemp -d /tmp/waitroom-bench.XXXXXX)}
mkdir -p "$OUT/results"

PUBLIC_ADDR=${PUBLIC_ADDR:-127.0.0.1:28480}
ADMIN_ADDR=${ADMIN_ADDR:-127.0.0.1:28481}
PG_BASE=postgresql://postgres@127.0.0.1:5432
DB=waitroom_bench
REDIS_PREFIX="wrbench:$$:"
ADMIN_KEY=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
CLIENT_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
export WAITROOM_BENCH_ADMIN_KEY=$ADMIN_KEY WAITROOM_BENCH_CLIENT_SECRET=$CLIENT_SECRET

log() { echo "[bench.sh] $*" >&2; }

SERVER_PID=""
stop_server() {
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=""
	fi
	psql -q "$PG_BASE/postgres" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
	redis-cli -h 127.0.0.1 --scan --pattern "${REDIS_PREFIX}*" | xargs -r -n 500 redis-cli -h 127.0.0.1 del >/dev/null || true
}
trap stop_server EXIT

# The OpenID provider reads its clients from the config file once the
# server mounts it; older trees reject the key, so it is only written when
# the server knows it.
oidc_available() { grep -q 'yaml:"clients"' cmd/waitroom/config.go; }

write_config() { # ALG
	local alg=$1
	cat >"$OUT/server-$alg.yaml" <<EOF
http_addr: $PUBLIC_ADDR
admin_addr: $ADMIN_ADDR
issuer: http://$PUBLIC_ADDR
database_url: $PG_BASE/$DB?sslmode=disable
redis_url: redis://127.0.0.1:6379/0
redis_key_prefix: "$REDIS_PREFIX"
admin_key_hashes: ["$(printf '%s' "$ADMIN_KEY" | sha256sum | cut -d' ' -f1)"]
assign_rate_limit: 0
log_level: warn
signing_algorithm: $alg
key_file: $OUT/keys-$alg.json
demo_room: false
rooms:
  - {id: bench, name: Benchmark}
  - {id: bench-depth, name: Benchmark depth}
  - {id: bench-oidc, name: Benchmark OpenID, expiry_enabled: false}
EOF
	if oidc_available; then
		cat >>"$OUT/server-$alg.yaml" <<EOF
clients:
  - id: bench
    secret: "$CLIENT_SECRET"
    room: bench-oidc
    redirect_uris: ["http://127.0.0.1:9999/callback"]
EOF
	fi
}

port_taken() { ss -ltn | awk '{print $4}' | grep -qx "$1"; }

start_server() { # ALG
	local alg=$1
	stop_server
	for addr in "$PUBLIC_ADDR" "$ADMIN_ADDR"; do
		if port_taken "$addr"; then
			log "$addr is already in use by another process; set PUBLIC_ADDR / ADMIN_ADDR"
			exit 1
		fi
	done
	psql -q "$PG_BASE/postgres" -c "CREATE DATABASE $DB" >/dev/null
	write_config "$alg"
	taskset -c "$SERVER_CORES" "$OUT/waitroom" serve -config "$OUT/server-$alg.yaml" >"$OUT/server-$alg.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 1 150); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		if curl -fsS "http://$PUBLIC_ADDR/readyz" >/dev/null 2>&1; then
			log "server ($alg) ready, pid $SERVER_PID, cores $SERVER_CORES"
			return 0
		fi
		sleep 0.2
	done
	log "server did not start; its log:"
	cat "$OUT/server-$alg.log" >&2
	exit 1
}

# bench NAME LABEL NOTE ARGS...: RUNS runs of the generator, pinned, each
# writing one JSON file.
bench() {
	local name=$1 label=$2 note=$3
	shift 3
	for run in $(seq 1 "$RUNS"); do
		SEQ=$((SEQ + 1))
		log "$label ($name) run $run/$RUNS"
		taskset -c "$GEN_CORES" "$OUT/waitroom-bench" \
			-target "http://$PUBLIC_ADDR" -admin "http://$ADMIN_ADDR" -server-pid "$SERVER_PID" \
			-duration "$DURATION" -warmup "$WARMUP" -label "$label" -note "$note" \
			-note "server pinned to core(s) $SERVER_CORES, load generator to core(s) $GEN_CORES; Redis and PostgreSQL unpinned, on the same machine" \
			-note "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews figures)" \
			-q -json "$OUT/results/$(printf '%03d' "$SEQ")-$name-$run.json" "$@"
	done
}
SEQ=0

# memory_per_ticket DEPTH: fill the room to DEPTH and note the growth of
# Redis memory and of the database per ticket (B7).
memory_per_ticket() {
	local depth=$1 redis0 redis1 pg0 pg1 waiting0
	redis0=$(redis-cli -h 127.0.0.1 info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
	pg0=$(psql -qtA "$PG_BASE/$DB" -c "SELECT pg_database_size(current_database())")
	waiting0=$(curl -fsS "http://$PUBLIC_ADDR/waiting_num?event_id=bench-depth" | sed 's/[^0-9]//g')
	taskset -c "$GEN_CORES" "$OUT/waitroom-bench" -target "http://$PUBLIC_ADDR" -admin "http://$ADMIN_ADDR" \
		-room bench-depth -scenario fill -depth "$depth" "${BULK_FILL[@]}" -q
	psql -q "$PG_BASE/$DB" -c "CHECKPOINT" >/dev/null 2>&1 || true
	redis1=$(redis-cli -h 127.0.0.1 info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
	pg1=$(psql -qtA "$PG_BASE/$DB" -c "SELECT pg_database_size(current_database())")
	local added=$((depth - waiting0))
	if [ "$added" -gt 0 ]; then
		MEMORY_NOTE="memory per waiting ticket while filling $waiting0 → $depth: Redis $(((redis1 - redis0) / added)) B (used_memory, whole instance), PostgreSQL $(((pg1 - pg0) / added)) B (database size)"
		log "$MEMORY_NOTE"
	fi
}

# The depth scenarios fill their room through the server's backend (bulk
# path), not through the public API.
BULK_FILL=(-fill-database-url "$PG_BASE/$DB?sslmode=disable" -fill-redis-url redis://127.0.0.1:6379/0
	-fill-key-prefix "$REDIS_PREFIX" -prefill-c 256)

# go_benchmarks: the hot paths as Go benchmarks (go test -bench) on both
# backends, RUNS counts each, summarised by benchstat (median ± spread).
GOBENCH_PKGS=(./waitroom/embedded ./waitroom/redispg ./oidc ./cmd/waitroom-bench)
BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
go_benchmarks() {
	local cmd=(go test -run '^$' -bench . -benchtime "${GOBENCH_TIME:-1s}" -count "$RUNS" "${GOBENCH_PKGS[@]}")
	log "Go benchmarks: ${cmd[*]}"
	"${cmd[@]}" >"$OUT/gobench.txt"
	{
		printf '\n## Go benchmarks\n\n'
		printf 'Command: `%s` (%s runs each; the table gives the median and the spread across them, by `benchstat`).\n' "${cmd[*]}" "$RUNS"
		printf 'Date: %s. Machine: %s cores, %s memory; load average before: %s. Not pinned: the benchmark, Redis and PostgreSQL share every core.\n\n' \
			"$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(free -h | awk '/^Mem:/ {print $2}')" "$GOBENCH_LOAD"
		printf '```\n'
		go run "$BENCHSTAT" "$OUT/gobench.txt"
		printf '```\n'
	} >"$OUT/gobench.md"
}

log "results in $OUT"
go build -o "$OUT/waitroom" ./cmd/waitroom
go build -o "$OUT/waitroom-bench" ./cmd/waitroom-bench

for alg in RS256 ES256; do
	start_server "$alg"
	bench token-$alg "B3 token $alg" "target B3: ≥ 5,000/s with ES256, ≥ 1,200/s with RS256" -scenario token -c 32
	if oidc_available; then
		bench oidc-$alg "B4 OIDC flow $alg" "target B4: ≥ 1,500 flows/s with ES256, ≥ 500/s with RS256" -scenario oidc-flow -c 32
	fi
	if [ "$alg" = ES256 ]; then continue; fi

	bench enqueue "B1 enqueue" "target B1: ≥ 10,000/s, p99 ≤ 50 ms" -scenario enqueue -c 64
	bench poll "B2 poll" "target B2: ≥ 50,000/s, p99 ≤ 20 ms" -scenario poll -c 64
	if oidc_available; then
		bench room-status "B2 room status" "target B2: ≥ 50,000/s, p99 ≤ 20 ms" -scenario room-status -c 64
		bench userinfo "B5 userinfo" "target B5: ≥ 10,000/s" -scenario userinfo -c 64
	fi
	bench queue-flow "queue flow" "AWS load-test flow, open loop, everyone admitted as they queue" \
		-scenario queue-flow -mode open -rate 300 -c 4000 -poll-interval 1s
	if [ "$BURST_RATE" != 0 ]; then
		bench burst "B8 burst" "target B8: 3 × B1 for 30 s, no 5xx, nothing lost" \
			-scenario enqueue -mode open -rate "$BURST_RATE" -c 5000 -duration 30s
	fi
	for depth in $DEPTHS; do
		MEMORY_NOTE="room filled through the backend's bulk path (the generator enqueues into Redis + PostgreSQL directly, group-committed)"
		if [ "$depth" != 0 ]; then memory_per_ticket "$depth"; fi
		bench depth-$depth "B6 depth $depth" "$MEMORY_NOTE" -room bench-depth -scenario depth -depth "$depth" "${BULK_FILL[@]}" -c 64
	done
done
stop_server
GOBENCH_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
go_benchmarks

{
	cat cmd/waitroom-bench/benchmarks-intro.md
	if [ -n "${QUICK:-}" ]; then
		printf '\n**QUICK run: a check of the script with runs of a few seconds, not a measurement.**\n'
	fi
} >"$OUT/intro.md"
"$OUT/waitroom-bench" summarize -intro "$OUT/intro.md" -out "$DOC" "$OUT"/results/*.json
cat "$OUT/gobench.md" >>"$DOC"
log "wrote $DOC (raw results in $OUT/results)"
