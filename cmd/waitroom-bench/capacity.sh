#!/usr/bin/env bash
# The per-request costs of docs/capacity.md (make capacity): what one
# request of each type costs the stores, counted rather than timed.
#
# It starts a private PostgreSQL (initdb in $OUT, pg_stat_statements
# loaded) and a private Redis, so that nothing else on the machine adds to
# their counters, then REPLICAS waitroom servers on them. For each request
# type it runs one waitroom-bench per replica, together, in open loop at a
# modest rate (the machine is not saturated: these are counts, not speeds),
# and snapshots the stores' statistics when the measured window opens and
# closes (-window-cmd). The deltas, less what the servers do by themselves
# over an idle window of the same length, divided by the requests completed
# in the window, are the costs per request:
#
#   Redis commands (INFO commandstats, commands run inside scripts
#   included) and EVAL/EVALSHA calls, Redis bytes in and out; PostgreSQL
#   statements (pg_stat_statements, BEGIN/COMMIT not counted), commits,
#   rows written and WAL bytes; the servers' CPU time per request (from
#   /proc: indicative only, the generator shares the machine).
#
# Settings (environment):
#   REPLICAS=2  DURATION=15s  WARMUP=3s
#   OUT=dir     where logs, results and the table go (default: a new temporary directory)
#   PG_PORT=55432  REDIS_PORT=6391  BASE_PORT=28580 (servers on BASE_PORT, +1, …)
set -euo pipefail
cd "$(dirname "$0")/../.."

REPLICAS=${REPLICAS:-2}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-3s}
PG_PORT=${PG_PORT:-55432}
REDIS_PORT=${REDIS_PORT:-6391}
BASE_PORT=${BASE_PORT:-28580}
OUT=${OUT:-$(mktemp -d /tmp/waitroom-capacity.XXXXXX)}
DB=waitroom_capacity
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
ADMIN_KEY=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
CLIENT_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
export WAITROOM_BENCH_ADMIN_KEY=$ADMIN_KEY WAITROOM_BENCH_CLIENT_SECRET=$CLIENT_SECRET

log() { echo "[capacity.sh] $*" >&2; }

# The snapshot hook, run by waitroom-bench: capacity.sh snapshot FILE start|end.
if [ "${1:-}" = snapshot ]; then
	file=$2.$3
	{
		redis-cli -p "$REDIS_PORT" info commandstats | tr -d '\r' |
			awk -F'[:=,]' '/^cmdstat_/ {n += $3; if ($1 ~ /^cmdstat_(eval|evalsha)$/) e += $3} END {print "redis_commands", n; print "redis_evals", e}'
		redis-cli -p "$REDIS_PORT" info stats | tr -d '\r' |
			awk -F: '$1 == "total_net_input_bytes" {print "redis_bytes_in", $2} $1 == "total_net_output_bytes" {print "redis_bytes_out", $2}'
		psql -qtA -F' ' -h 127.0.0.1 -p "$PG_PORT" -U postgres "$DB" -c "
			SELECT 'pg_statements', coalesce(sum(calls), 0) FROM pg_stat_statements
				WHERE query !~* '^\s*(BEGIN|COMMIT|ROLLBACK|SET|SHOW|DEALLOCATE|DISCARD)'
			UNION ALL SELECT 'pg_commits', xact_commit FROM pg_stat_database WHERE datname = current_database()
			UNION ALL SELECT 'pg_rows_written', tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = current_database()
			UNION ALL SELECT 'pg_wal_bytes', wal_bytes::bigint FROM pg_stat_wal"
		ticks=0
		for pid in $(cat "$SERVER_PIDS_FILE"); do
			ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
		done
		echo "server_cpu_ticks $ticks"
	} >"$file"
	# The detail: calls per Redis command and per PostgreSQL statement.
	redis-cli -p "$REDIS_PORT" info commandstats | tr -d '\r' | awk -F'[:=,]' '/^cmdstat_/ {sub(/^cmdstat_/, "", $1); print $1 "\t" $3}' >"$file.redis"
	psql -qtA -F$'\t' -h 127.0.0.1 -p "$PG_PORT" -U postgres "$DB" -c "
		SELECT queryid, calls, regexp_replace(left(query, 90), '\s+', ' ', 'g') FROM pg_stat_statements
			WHERE query !~* '^\s*(BEGIN|COMMIT|ROLLBACK|SET|SHOW|DEALLOCATE|DISCARD)'" >"$file.pg"
	exit 0
fi

command -v jq >/dev/null || { log "needs jq (apt-get install jq)"; exit 1; }
# report: the table, from the snapshots and results in OUT.
report() {
	local replicas when
	replicas=$(find "$OUT/results" -name 'enqueue-[0-9]*.json' | wc -l)
	when=$(jq -r '.[0].started' "$OUT/results/enqueue-0.json" | cut -c1-16 | tr T ' ')
	value() { awk -v k="$2" '$1 == k {print $2}' "$1"; }
	delta() { echo $(($(value "$1.end" "$2") - $(value "$1.start" "$2"))); }
	{
	printf 'Measured %s with `cmd/waitroom-bench/capacity.sh` (%s replicas, %s windows, open loop). Machine: %s cores, %s memory. Per request, less the idle servers'"'"' own work over the same time:\n\n' \
		"$when UTC" "$replicas" "$DURATION" "$(nproc)" "$(free -h | awk '/^Mem:/ {print $2}')"
	printf '| request | completed | errors | Redis commands | of which EVAL/EVALSHA | Redis bytes in / out | PostgreSQL statements | commits | rows written | WAL bytes | server CPU µs |\n'
	printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
	for name in enqueue poll lookup room-status token oidc-flow userinfo enqueue-busy oidc-flow-busy; do
		done_n=$(jq -s 'map(.[0].completed) | add' "$OUT"/results/"$name"-[0-9]*.json)
		errs=$(jq -s 'map(.[0].errors) | add' "$OUT"/results/"$name"-[0-9]*.json)
		row=$(awk -v n="$done_n" -v hz="$(getconf CLK_TCK)" \
			-v rc="$(delta "$OUT/snap/$name" redis_commands)" -v ic="$(delta "$OUT/snap/idle" redis_commands)" \
			-v re="$(delta "$OUT/snap/$name" redis_evals)" -v ie="$(delta "$OUT/snap/idle" redis_evals)" \
			-v bi="$(delta "$OUT/snap/$name" redis_bytes_in)" -v ibi="$(delta "$OUT/snap/idle" redis_bytes_in)" \
			-v bo="$(delta "$OUT/snap/$name" redis_bytes_out)" -v ibo="$(delta "$OUT/snap/idle" redis_bytes_out)" \
			-v ps="$(delta "$OUT/snap/$name" pg_statements)" -v ips="$(delta "$OUT/snap/idle" pg_statements)" \
			-v pc="$(delta "$OUT/snap/$name" pg_commits)" -v ipc="$(delta "$OUT/snap/idle" pg_commits)" \
			-v pr="$(delta "$OUT/snap/$name" pg_rows_written)" -v ipr="$(delta "$OUT/snap/idle" pg_rows_written)" \
			-v pw="$(delta "$OUT/snap/$name" pg_wal_bytes)" -v ipw="$(delta "$OUT/snap/idle" pg_wal_bytes)" \
			-v ct="$(delta "$OUT/snap/$name" server_cpu_ticks)" -v ict="$(delta "$OUT/snap/idle" server_cpu_ticks)" \
			'function per(x, i) { v = (x - i) / n; return v < 0 ? 0 : v }
			BEGIN { printf "%.2f | %.2f | %.0f / %.0f | %.2f | %.2f | %.2f | %.0f | %.0f", per(rc, ic), per(re, ie), per(bi, ibi), per(bo, ibo), per(ps, ips), per(pc, ipc), per(pr, ipr), per(pw, ipw), 1e6 * per(ct, ict) / hz }')
		printf '| %s | %s | %s | %s |\n' "$name" "$done_n" "$errs" "$row"
	done
	printf '\nIdle servers over one %s window: ' "$DURATION"
	printf '%s Redis commands, %s PostgreSQL statements, %s commits.\n' \
		"$(delta "$OUT/snap/idle" redis_commands)" "$(delta "$OUT/snap/idle" pg_statements)" "$(delta "$OUT/snap/idle" pg_commits)"

	# breakdown NAME: what one request of NAME ran, per command/statement.
	for name in enqueue token oidc-flow userinfo; do
		done_n=$(jq -s 'map(.[0].completed) | add' "$OUT"/results/"$name"-[0-9]*.json)
		printf '\n%s, per request:\n\n' "$name"
		printf -- '- Redis: %s\n' "$(awk -F'\t' -v n="$done_n" 'NR == FNR {a[$1] = $2; next} {d = ($2 - a[$1]) / n; if (d >= 0.05) printf "%s%s %.2f", sep, $1, d; if (d >= 0.05) sep = ", "}' \
			"$OUT/snap/$name.start.redis" "$OUT/snap/$name.end.redis")"
		printf -- '- PostgreSQL:\n'
		awk -F'\t' -v n="$done_n" 'NR == FNR {a[$1] = $2; next} {d = ($2 - a[$1]) / n; if (d >= 0.05) printf "  - %.2f × `%s`\n", d, $3}' \
			"$OUT/snap/$name.start.pg" "$OUT/snap/$name.end.pg"
	done
	cat "$OUT/fill.md" "$OUT/tables.md"
	} >"$OUT/capacity.md"
	cat "$OUT/capacity.md"
}

# capacity.sh report DIR: the table again from an earlier run's files.
if [ "${1:-}" = report ]; then
	OUT=$2
	report
	exit 0
fi
[ -x "$PGBIN/initdb" ] || { log "needs PostgreSQL's server binaries in /usr/lib/postgresql"; exit 1; }
mkdir -p "$OUT/results" "$OUT/snap"
chmod 755 "$OUT"
log "results in $OUT"

PIDS=()
SERVER_PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
	if [ -f "$OUT/pg/postmaster.pid" ]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$OUT/pg" -m fast stop >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

# PostgreSQL of its own, as the postgres user (initdb refuses root).
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
mkdir -p "$OUT/pg"
[ "$(id -u)" = 0 ] && chown postgres "$OUT/pg"
as_pg "$PGBIN/initdb" -D "$OUT/pg" -U postgres --auth=trust >"$OUT/initdb.log"
as_pg "$PGBIN/pg_ctl" -D "$OUT/pg" -l "$OUT/pg/server.log" -w -o \
	"-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c max_connections=200" start >/dev/null
psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres postgres -c "CREATE DATABASE $DB"
psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres "$DB" -c "CREATE EXTENSION pg_stat_statements"
redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --logfile "$OUT/redis.log"
for _ in $(seq 1 50); do [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done

go build -o "$OUT/waitroom" ./cmd/waitroom
go build -o "$OUT/waitroom-bench" ./cmd/waitroom-bench

SERVER_PIDS_FILE=$OUT/server-pids
export SERVER_PIDS_FILE REDIS_PORT PG_PORT DB
for i in $(seq 0 $((REPLICAS - 1))); do
	pub=127.0.0.1:$((BASE_PORT + 2 * i)) adm=127.0.0.1:$((BASE_PORT + 2 * i + 1))
	cat >"$OUT/server-$i.yaml" <<EOF
http_addr: $pub
admin_addr: $adm
issuer: http://127.0.0.1:$BASE_PORT
database_url: postgresql://postgres@127.0.0.1:$PG_PORT/$DB?sslmode=disable
redis_url: redis://127.0.0.1:$REDIS_PORT/0
admin_key_hashes: ["$(printf '%s' "$ADMIN_KEY" | sha256sum | cut -d' ' -f1)"]
secret_key: "$(printf 'capacity-secret-%s' "$CLIENT_SECRET" | sha256sum | cut -d' ' -f1)"
assign_rate_limit: 0
log_level: warn
signing_algorithm: ES256
demo: false
rooms:
  - {id: bench, name: Benchmark}
  - {id: bench-oidc, name: Benchmark OpenID, expiry_enabled: false}
  - {id: fill-a, name: Fill A}
  - {id: fill-b, name: Fill B}
  - {id: fill-c, name: Fill C}
clients:
  - id: bench
    secret: "$CLIENT_SECRET"
    room: bench-oidc
    redirect_uris: ["http://127.0.0.1:9999/callback"]
EOF
	"$OUT/waitroom" serve -config "$OUT/server-$i.yaml" >"$OUT/server-$i.log" 2>&1 &
	PIDS+=($!)
	SERVER_PIDS+=($!)
	for _ in $(seq 1 150); do
		curl -fsS "http://$pub/readyz" >/dev/null 2>&1 && break
		sleep 0.2
	done
done
echo "${SERVER_PIDS[*]}" >"$SERVER_PIDS_FILE"
log "$REPLICAS replicas on PostgreSQL :$PG_PORT and Redis :$REDIS_PORT"

HOOK="$(pwd)/cmd/waitroom-bench/capacity.sh snapshot"

# measure NAME TOTAL_RATE ARGS...: one generator per replica, rate split,
# the first one snapshotting the window.
measure() {
	local name=$1 rate=$2 i pub adm hook
	shift 2
	log "$name at $rate/s over $REPLICAS replicas"
	local gens=()
	for i in $(seq 0 $((REPLICAS - 1))); do
		pub=127.0.0.1:$((BASE_PORT + 2 * i)) adm=127.0.0.1:$((BASE_PORT + 2 * i + 1))
		hook=()
		[ "$i" = 0 ] && hook=(-window-cmd "$HOOK $OUT/snap/$name")
		"$OUT/waitroom-bench" -target "http://$pub" -admin "http://$adm" -issuer "http://127.0.0.1:$BASE_PORT" \
			-mode open -rate "$(awk -v r="$rate" -v n="$REPLICAS" 'BEGIN {print r / n}')" -c 200 \
			-duration "$DURATION" -warmup "$WARMUP" -q -json "$OUT/results/$name-$i.json" "${hook[@]}" "$@" 2>>"$OUT/bench-$name.log" &
		gens+=($!)
	done
	for g in "${gens[@]}"; do wait "$g"; done
}

# idle: the servers' own background work over one window.
idle() {
	local w=${WARMUP%s} d=${DURATION%s}
	log "idle window"
	sleep "$w"
	$HOOK "$OUT/snap/idle" start
	sleep "$d"
	$HOOK "$OUT/snap/idle" end
}

idle
measure enqueue 400 -scenario enqueue
measure poll 2000 -scenario poll
measure lookup 1000 -scenario lookup -pool 20000
measure room-status 600 -scenario room-status
measure token 200 -scenario token -pool 5000
measure oidc-flow 100 -scenario oidc-flow
measure userinfo 800 -scenario userinfo
# The same under more load: group commits merge concurrent writes.
measure enqueue-busy 4000 -scenario enqueue
measure oidc-flow-busy 400 -scenario oidc-flow

# B7 with several rooms filling at once: three rooms take FILL_DEPTH
# tickets each through the public enqueue, together; the growth of the
# tickets table (heap and indexes, after VACUUM) per ticket.
FILL_DEPTH=${FILL_DEPTH:-100000}
tickets_size() {
	psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres "$DB" -c "VACUUM ANALYZE tickets" >/dev/null
	psql -qtA -h 127.0.0.1 -p "$PG_PORT" -U postgres "$DB" -c "SELECT pg_total_relation_size('tickets')"
}
log "three rooms filling at once, $FILL_DEPTH tickets each"
size0=$(tickets_size)
fills=()
for room in fill-a fill-b fill-c; do
	"$OUT/waitroom-bench" -target "http://127.0.0.1:$BASE_PORT" -admin "http://127.0.0.1:$((BASE_PORT + 1))" \
		-room "$room" -scenario fill -depth "$FILL_DEPTH" -prefill-c 32 -q 2>>"$OUT/bench-fill.log" &
	fills+=($!)
done
for f in "${fills[@]}"; do wait "$f"; done
size1=$(tickets_size)
printf '\nB7, three rooms filling at once through the public enqueue (%s tickets each): the tickets table grew %s bytes, **%s bytes per ticket** (heap and indexes, after VACUUM).\n' \
	"$FILL_DEPTH" "$((size1 - size0))" "$(awk -v d="$((size1 - size0))" -v n="$((3 * FILL_DEPTH))" 'BEGIN {printf "%.1f", d / n}')" >"$OUT/fill.md"

# What the stores hold at the end.
{
	printf '\nPostgreSQL tables at the end (after VACUUM ANALYZE), Redis memory:\n\n| table | rows | bytes | bytes per row |\n|---|---|---|---|\n'
	psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres "$DB" -c "VACUUM ANALYZE" >/dev/null
	psql -qtA -F' ' -h 127.0.0.1 -p "$PG_PORT" -U postgres "$DB" -c "
		SELECT relname, n_live_tup, pg_total_relation_size(relid) FROM pg_stat_user_tables WHERE n_live_tup > 0 ORDER BY 3 DESC" |
		awk '{printf "| %s | %d | %d | %.0f |\n", $1, $2, $3, $3 / $2}'
	printf '\nRedis `used_memory`: %s bytes.\n' "$(redis-cli -p "$REDIS_PORT" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" {print $2}')"
} >"$OUT/tables.md"
report

