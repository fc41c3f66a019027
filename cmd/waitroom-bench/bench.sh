#!/usr/bin/env bash
# The benchmark suite (make bench): builds the server and the load
# generator, starts the server on Redis + PostgreSQL on loopback (a fresh
# database and Redis key prefix per server), runs every scenario RUNS times,
# and regenerates docs/benchmarks.md from the JSON results with
# `waitroom-bench summarize`.
#
# The server runs on SERVER_CORES and the generator on GEN_CORES (taskset);
# Redis and PostgreSQL are not pinned and share every core. By default the
# server may use both cores of a 2-core machine and the generator is held
# to one of them, so the generator still takes CPU from the server and its
# stores, and the report says so. (SERVER_CORES=0 gives the server a core
# of its own: light floods such as B2 then do better, CPU-bound work such
# as RS256 signing worse.)
#
# B4 compares the full login with dex's, measured the same way in the same
# session: before waitroom's runs of each signing algorithm, bench.sh starts
# DEX_BIN once per storage of DEX_STORAGES (memory, then PostgreSQL in a
# database of its own, dex_bench), with a mockCallback connector so that
# /auth redirects straight through, approval skipped, the bench's client,
# pinned like the server, and runs the same oidc-flow against it (-provider
# dex, or dex-postgres). A dex that cannot sign with an algorithm, or whose
# flow fails a check run, is reported as such in the B4 section. Without
# DEX_BIN the comparison is skipped and the report says so. dex is a peer,
# not part of this repository: bring any build of it; the report names the
# version it prints.
#
# Settings (environment):
#   RUNS=3            repeated runs per figure (the report gives the median and spread)
#   DURATION=20s      measured time per run;  WARMUP=5s before it
#   SERVER_CORES=0,1  GEN_CORES=1   (the server may use both cores, the generator one)
#   ALGS="RS256 ES256"  signing algorithms, one pass each (B3 and B4 run in every pass,
#                     the other groups in the first)
#   B4_USERS="32 128" concurrent browsers of the B4 logins (each load measured
#                     on waitroom and dex alike)
#   DEPTHS="0 1000000 10000000"   queue depths for B6, filled through the
#                     backend's bulk path (group-committed enqueues straight into Redis + PostgreSQL)
#   BURST_RATE=0      B8: open-loop enqueue rate for 30 s (0 skips; use 3 × the B1 figure)
#   QUICK=1           a few seconds per scenario, one run, small depths: checks the script, not the server
#   OUT=dir           where binaries, logs and JSON results go (default: a new temporary directory)
#   DOC=docs/benchmarks.md
#   GOBENCH_TIME=1s   -benchtime of the Go benchmarks (go test -bench) run after the load
#   DEX_BIN=          a dex binary, the reference of B4 (unset: not compared)
#   DEX_STORAGES="memory postgres"   dex's storages measured (provider dex, dex-postgres)
#   DEX_ADDR=127.0.0.1:28490   where dex listens
#   GATE_BITS=8       difficulty of the bot gate in "B1 enqueue, bot gate" (GATE_POOL: challenges solved per run)
#   ONLY=             run only these groups, e.g. ONLY="b1 b2 b4" (b1 enqueue, b1gate B1 through the bot gate, b2 polls
#                     with wrk and room status, b3 token, b4 logins with dex, b5
#                     userinfo, flow queue-flow, b6 depths and b7, b8 burst, go the Go
#                     benchmarks; unset: all). The report then goes to $OUT/benchmarks.md
#                     unless DOC is set and KEEP_DOC_TARGET=1.
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS=${RUNS:-3}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-5s}
SERVER_CORES=${SERVER_CORES:-0,1}
B4_USERS=${B4_USERS:-"32 128"}
ALGS=${ALGS:-RS256 ES256}
GEN_CORES=${GEN_CORES:-1}
DEPTHS=${DEPTHS:-"0 1000000 10000000"}
BURST_RATE=${BURST_RATE:-0}
DOC=${DOC:-docs/benchmarks.md}
if [ -n "${QUICK:-}" ]; then
	RUNS=1 DURATION=2s WARMUP=1s DEPTHS="0 150000" GOBENCH_TIME=${GOBENCH_TIME:-100ms}
fi
OUT=${OUT:-$(mktemp -d /tmp/waitroom-bench.XXXXXX)}
# Enough solved challenges for a run of B1 at 30,000 enqueues/s.
GATE_POOL=${GATE_POOL:-$(((${DURATION%s} + ${WARMUP%s}) * 30000))}
mkdir -p "$OUT/results"

PUBLIC_ADDR=${PUBLIC_ADDR:-127.0.0.1:28480}
ADMIN_ADDR=${ADMIN_ADDR:-127.0.0.1:28481}
DEX_BIN=${DEX_BIN:-}
DEX_ADDR=${DEX_ADDR:-127.0.0.1:28490}
DEX_STORAGES=${DEX_STORAGES:-memory postgres}
DEX_DB=dex_bench
ONLY=${ONLY:-}
GATE_BITS=${GATE_BITS:-8}
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
trap 'stop_dex; stop_server' EXIT

# want GROUP: the group is to be run (ONLY unset, or naming it).
want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

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
demo: false
rooms:
  - {id: bench, name: Benchmark}
  - {id: bench-depth, name: Benchmark depth}
  - {id: bench-oidc, name: Benchmark OpenID, expiry_enabled: false}
clients:
  - id: bench
    secret: "$CLIENT_SECRET"
    room: bench-oidc
    redirect_uris: ["http://127.0.0.1:9999/callback"]
EOF
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
	TARGET_ARGS=(-target "http://$PUBLIC_ADDR" -admin "http://$ADMIN_ADDR" -server-pid "$SERVER_PID")
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
# writing one JSON file, against the server TARGET_ARGS names (the last one
# started).
bench() {
	local name=$1 label=$2 note=$3
	shift 3
	for run in $(seq 1 "$RUNS"); do
		SEQ=$((SEQ + 1))
		log "$label ($name) run $run/$RUNS"
		taskset -c "$GEN_CORES" "$OUT/waitroom-bench" \
			"${TARGET_ARGS[@]}" -duration "$DURATION" -warmup "$WARMUP" -label "$label" -note "$note" \
			-note "server pinned to core(s) $SERVER_CORES, load generator to core(s) $GEN_CORES; Redis and PostgreSQL unpinned, on the same machine" \
			-note "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews figures)" \
			-q -json "$OUT/results/$(printf '%03d' "$SEQ")-$name-$run.json" "$@"
	done
}
SEQ=0

# dex, the reference of B4.
DEX_PID=""
B4_NOTES=()
DEX_FLOW=() # the flags of dex's flow for the current algorithm (-userinfo=false)
stop_dex() {
	if [ -n "$DEX_PID" ]; then
		kill "$DEX_PID" 2>/dev/null || true
		wait "$DEX_PID" 2>/dev/null || true
		DEX_PID=""
	fi
	psql -q "$PG_BASE/postgres" -c "DROP DATABASE IF EXISTS $DEX_DB" >/dev/null 2>&1 || true
}

# dex_provider STORAGE: the provider name its results carry.
dex_provider() { if [ "$1" = memory ]; then echo dex; else echo "dex-$1"; fi; }

# dex_storage STORAGE: the storage block of dex's config.
dex_storage() {
	case $1 in
	memory) printf 'storage:\n  type: memory\n' ;;
	postgres)
		printf 'storage:\n  type: postgres\n  config:\n    host: 127.0.0.1\n    port: 5432\n    database: %s\n    user: postgres\n    ssl:\n      mode: disable\n' "$DEX_DB"
		;;
	*)
		log "DEX_STORAGES: unknown storage $1 (memory or postgres)"
		exit 1
		;;
	esac
}

write_dex_config() { # ALG STORAGE
	local alg=$1 storage=$2
	cat >"$OUT/dex-$alg-$storage.yaml" <<EOF
issuer: http://$DEX_ADDR/dex
$(dex_storage "$storage")
web:
  http: $DEX_ADDR
oauth2:
  skipApprovalScreen: true
  responseTypes: [code]
enablePasswordDB: false
connectors:
  - type: mockCallback
    id: mock
    name: Mock
staticClients:
  - id: bench
    name: Benchmark
    secret: "$CLIENT_SECRET"
    redirectURIs: ["http://127.0.0.1:9999/callback"]
logger:
  level: warn
EOF
	# RS256 is every dex's default; the local signer's algorithm setting is
	# newer than the last release, so it is only written for another one.
	if [ "$alg" != RS256 ]; then
		printf 'signer:\n  type: local\n  config:\n    keysRotationPeriod: 6h\n    algorithm: %s\n' "$alg" >>"$OUT/dex-$alg-$storage.yaml"
	fi
}

# start_dex ALG: dex pinned like the server; fails, after a B4 note, when
# it does not come up.
start_dex() { # ALG STORAGE
	local alg=$1 storage=$2 name
	name=$(dex_provider "$storage")
	stop_dex
	if port_taken "$DEX_ADDR"; then
		log "$DEX_ADDR is already in use by another process; set DEX_ADDR"
		exit 1
	fi
	if [ "$storage" = postgres ]; then
		psql -q "$PG_BASE/postgres" -c "CREATE DATABASE $DEX_DB" >/dev/null
	fi
	write_dex_config "$alg" "$storage"
	taskset -c "$SERVER_CORES" "$DEX_BIN" serve "$OUT/dex-$alg-$storage.yaml" >"$OUT/dex-$alg-$storage.log" 2>&1 &
	DEX_PID=$!
	TARGET_ARGS=(-provider "$name" -target "http://$DEX_ADDR" -issuer "http://$DEX_ADDR/dex" -server-pid "$DEX_PID")
	for _ in $(seq 1 150); do
		kill -0 "$DEX_PID" 2>/dev/null || break
		if curl -fsS "http://$DEX_ADDR/dex/.well-known/openid-configuration" >"$OUT/dex-$alg-discovery.json" 2>/dev/null; then
			log "dex ($alg, $storage storage) ready, pid $DEX_PID, cores $SERVER_CORES"
			return 0
		fi
		sleep 0.2
	done
	log "dex ($alg, $storage storage) did not start; its log is $OUT/dex-$alg-$storage.log"
	B4_NOTES+=("dex $DEX_VERSION did not start with $alg signing keys and $storage storage ($(tail -n 1 "$OUT/dex-$alg-$storage.log")): not measured as $name")
	stop_dex
	return 1
}

# dex_check ALG ARGS...: (storage from the caller) one smoke run of the flow against dex (a second,
# two browsers; any error fails it), its log kept.
dex_check() {
	local alg=$1
	shift
	taskset -c "$GEN_CORES" "$OUT/waitroom-bench" "${TARGET_ARGS[@]}" -scenario oidc-flow -smoke -q "$@" 2>"$OUT/dex-$alg-$storage-check.log"
}

# compare_dex ALG: B4's references, the same flow against dex signing with
# ALG on each storage of DEX_STORAGES, or notes saying why not. DEX_FLOW
# is -userinfo=false when any of them had to stop at the token.
compare_dex() {
	local alg=$1 storage
	DEX_FLOW=()
	if [ -z "$DEX_BIN" ]; then return 0; fi
	for storage in $DEX_STORAGES; do
		compare_dex_on "$alg" "$storage"
	done
}

# compare_dex_on ALG STORAGE: one reference of B4.
compare_dex_on() {
	local alg=$1 storage=$2 algs why name flow=()
	name=$(dex_provider "$storage")
	start_dex "$alg" "$storage" || return 0
	algs=$(tr -d ' \n' <"$OUT/dex-$alg-discovery.json" | sed -n 's/.*"id_token_signing_alg_values_supported":\(\[[^]]*\]\).*/\1/p')
	if [[ "$algs" != *"\"$alg\""* ]]; then
		log "dex $DEX_VERSION does not sign with $alg (it offers $algs); not measured"
		B4_NOTES+=("dex $DEX_VERSION cannot sign ID tokens with $alg (asked to, it still offers $algs): $alg not measured for $name")
		stop_dex
		return 0
	fi
	if ! dex_check "$alg"; then
		why=$(tail -n 1 "$OUT/dex-$alg-$storage-check.log" | sed 's/^waitroom-bench: //')
		if ! dex_check "$alg" -userinfo=false; then
			log "$name ($alg): the flow failed a check run ($why); not measured"
			B4_NOTES+=("dex $DEX_VERSION ($storage storage) with $alg: the flow failed a check run ($why): not measured")
			stop_dex
			return 0
		fi
		log "$name ($alg): the full flow failed a check run ($why); measuring it without userinfo"
		B4_NOTES+=("dex $DEX_VERSION ($storage storage) with $alg: the full flow failed a check run ($why), so its $alg flows stop at the token")
		flow=(-userinfo=false)
		DEX_FLOW=(-userinfo=false)
	fi
	for users in $B4_USERS; do
		bench "oidc-$name-$alg-$users" "B4 $name $alg" "reference for B4: dex $DEX_VERSION, $storage storage, mockCallback connector, approval screen skipped" \
			-scenario oidc-flow -c "$users" "${flow[@]}"
	done
	stop_dex
}

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

# The depth scenarios fill their room through the admin API's bulk path
# (POST /v1/rooms/{id}/fill), not one public enqueue per ticket.
BULK_FILL=(-bulk-fill)

# wrk_poll: B2's serving_num flood once more with wrk, a load generator
# written in C that needs far less CPU per request than waitroom-bench, so
# that the server's own ceiling shows when waitroom-bench saturates its
# core. Same core, connections, duration and runs; written to wrk.md.
WRK_USERS=64
wrk_poll() {
	local url="http://$PUBLIC_ADDR/serving_num?event_id=bench" rates=() p99s=() cpus=() t0 t1 out
	if ! command -v wrk >/dev/null; then
		printf '\n## B2 with wrk\n\nNot measured: wrk is not installed (`apt-get install wrk`).\n' >"$OUT/wrk.md"
		return 0
	fi
	local cmd=(wrk -t1 -c"$WRK_USERS" -d"$DURATION" --latency "$url")
	taskset -c "$GEN_CORES" wrk -t1 -c"$WRK_USERS" -d"$WARMUP" "$url" >/dev/null
	for run in $(seq 1 "$RUNS"); do
		log "B2 poll with wrk run $run/$RUNS"
		t0=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
		out=$(taskset -c "$GEN_CORES" "${cmd[@]}")
		t1=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
		echo "$out" >"$OUT/wrk-$run.txt"
		if echo "$out" | grep -q 'Non-2xx'; then
			log "wrk: some answers were not 2xx; see $OUT/wrk-$run.txt"
			exit 1
		fi
		rates+=("$(echo "$out" | awk '/^Requests\/sec:/ {printf "%.0f", $2}')")
		p99s+=("$(echo "$out" | awk '$1 == "99%" {print $2}')")
		cpus+=("$(awk -v t="$((t1 - t0))" -v d="${DURATION%s}" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.0f", 100 * t / hz / d}')")
	done
	local median
	median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
	{
		printf '\n## B2 with wrk\n\n'
		printf 'The `/serving_num` flood of B2 again, driven by wrk instead of waitroom-bench (same core %s, %s connections, %s per run, after %s of warm-up), against the same server: wrk spends far less CPU per request, so this shows what the server answers when the generator is not the limit. Target B2: ≥ 50,000/s, p99 ≤ 20 ms.\n\n' "$GEN_CORES" "$WRK_USERS" "$DURATION" "$WARMUP"
		printf 'Command: `taskset -c %s %s`. Date: %s. Machine: %s cores, %s memory.\n\n' "$GEN_CORES" "${cmd[*]}" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(free -h | awk '/^Mem:/ {print $2}')"
		printf '| run | requests /s | p99 | server CPU %% |\n|---|---|---|---|\n'
		for i in "${!rates[@]}"; do printf '| %d | %s | %s | %s |\n' "$((i + 1))" "${rates[$i]}" "${p99s[$i]}" "${cpus[$i]}"; done
		printf '\nMedian: **%s requests/s** (%s runs).\n' "$median" "$RUNS"
	} >"$OUT/wrk.md"
}

# go_benchmarks: the hot paths as Go benchmarks (go test -bench) on both
# backends, RUNS counts each, summarised by benchstat (median ± spread).
GOBENCH_PKGS=(./waitroom/backend/embedded ./waitroom/backend/redispg ./oidc ./cmd/waitroom-bench)
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
if [ -z "$DEX_BIN" ]; then
	log "DEX_BIN unset: B4 is not compared with dex (set DEX_BIN to a dex binary)"
	B4_NOTES+=("dex not measured (DEX_BIN unset)")
elif [ ! -x "$DEX_BIN" ]; then
	log "DEX_BIN=$DEX_BIN is not an executable"
	exit 1
else
	DEX_VERSION=$("$DEX_BIN" version | sed -n 's/^Dex Version: //p')
	log "B4 reference: $DEX_BIN, dex ${DEX_VERSION:=(unknown version)}"
fi
go build -o "$OUT/waitroom" ./cmd/waitroom
go build -o "$OUT/waitroom-bench" ./cmd/waitroom-bench

# A partial run (ONLY) does not overwrite the whole report by default.
if [ -n "$ONLY" ] && [ "$DOC" = docs/benchmarks.md ] && [ -z "${KEEP_DOC_TARGET:-}" ]; then
	DOC=$OUT/benchmarks.md
	log "ONLY=$ONLY: the report goes to $DOC"
fi
: >"$OUT/wrk.md"
: >"$OUT/gobench.md"

FIRST_ALG=${ALGS%% *}
for alg in $ALGS; do
	# dex first, alone on the machine, then waitroom with the same algorithm.
	if want b4; then compare_dex "$alg"; fi
	start_server "$alg"
	if want b3; then
		bench token-$alg "B3 token $alg" "target B3: ≥ 5,000/s with ES256, ≥ 1,200/s with RS256" -scenario token -c 32
	fi
	if want b4; then
		for users in $B4_USERS; do
			bench oidc-$alg-$users "B4 OIDC flow $alg" "target B4: ≥ 1,500 flows/s with ES256, ≥ 500/s with RS256" -scenario oidc-flow -c "$users"
			if [ ${#DEX_FLOW[@]} -gt 0 ]; then # dex's flow was cut short: waitroom's too, like for like
				bench oidc-short-$alg-$users "B4 OIDC flow $alg ${DEX_FLOW[*]}" "compared with dex's $alg flows, which stop at the token" \
					-scenario oidc-flow -c "$users" "${DEX_FLOW[@]}"
			fi
		done
	fi
	if [ "$alg" != "$FIRST_ALG" ]; then continue; fi

	if want b1; then
		bench enqueue "B1 enqueue" "target B1: ≥ 10,000/s, p99 ≤ 50 ms" -scenario enqueue -c 64
	fi
	if want b1gate; then
		# B1 through a room's bot gate: every enqueue brings a solved
		# proof-of-work challenge (solved before the run, so that the
		# generator's search is not timed) that the server checks and spends.
		bench enqueue-gate "B1 enqueue, bot gate" "target: ≥ 80 % of B1 without the gate; challenges of $GATE_BITS bits, $GATE_POOL solved before each run" \
			-scenario enqueue -c 64 -room bench-gate -create-room -gate-difficulty "$GATE_BITS" -gate-pool "$GATE_POOL"
	fi
	if want b2; then
		bench poll "B2 poll" "target B2: ≥ 50,000/s, p99 ≤ 20 ms" -scenario poll -c 64
		wrk_poll
		bench room-status "B2 room status" "target B2: ≥ 50,000/s, p99 ≤ 20 ms" -scenario room-status -c 64
	fi
	if want b5; then
		bench userinfo "B5 userinfo" "target B5: ≥ 10,000/s" -scenario userinfo -c 64
	fi
	if want flow; then
		bench queue-flow "queue flow" "AWS load-test flow, open loop, everyone admitted as they queue" \
			-scenario queue-flow -mode open -rate 300 -c 4000 -poll-interval 1s
	fi
	if [ "$BURST_RATE" != 0 ] && want b8; then
		bench burst "B8 burst" "target B8: 3 × B1 for 30 s, no 5xx, nothing lost" \
			-scenario enqueue -mode open -rate "$BURST_RATE" -c 5000 -duration 30s
	fi
	want b6 || continue
	for depth in $DEPTHS; do
		MEMORY_NOTE="room filled through the admin API's bulk path (POST /v1/rooms/{id}/fill: the server enqueues, group-committed)"
		if [ "$depth" != 0 ]; then memory_per_ticket "$depth"; fi
		bench depth-$depth "B6 depth $depth" "$MEMORY_NOTE" -room bench-depth -scenario depth -depth "$depth" "${BULK_FILL[@]}" -c 64
	done
done
stop_server
GOBENCH_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
if want go; then go_benchmarks; fi

{
	cat cmd/waitroom-bench/benchmarks-intro.md
	if [ -n "${QUICK:-}" ]; then
		printf '\n**QUICK run: a check of the script with runs of a few seconds, not a measurement.**\n'
	fi
} >"$OUT/intro.md"
B4_ARGS=()
for note in "${B4_NOTES[@]}"; do B4_ARGS+=(-b4-note "$note"); done
"$OUT/waitroom-bench" summarize -intro "$OUT/intro.md" -out "$DOC" -durable-reference dex-postgres "${B4_ARGS[@]}" "$OUT"/results/*.json
cat "$OUT/wrk.md" "$OUT/gobench.md" >>"$DOC"
log "wrote $DOC (raw results in $OUT/results)"
