#!/usr/bin/env bash
# A Redis Cluster of 3 masters and 3 replicas on loopback, for the tests:
#
#   .ci/redis-cluster.sh start    reuse a healthy cluster, or (re)create it
#   .ci/redis-cluster.sh stop     stop its servers and remove their data
#   .ci/redis-cluster.sh status   exit 0 when the cluster is healthy
#   .ci/redis-cluster.sh addrs    print the seed list for WAITROOM_TEST_REDIS_CLUSTER
#
# Ports come from WAITROOM_CLUSTER_PORT (first port, default 7101) and the
# five after it; data lives in WAITROOM_CLUSTER_DIR (default
# ${TMPDIR:-/tmp}/waitroom-redis-cluster-<first port>). No persistence, and
# a short cluster-node-timeout (2000 ms) so that a failover takes seconds;
# replicas synchronise at once (no diskless-sync delay).
set -euo pipefail

first=${WAITROOM_CLUSTER_PORT:-7101}
ports=$(seq "$first" $((first + 5)))
dir=${WAITROOM_CLUSTER_DIR:-${TMPDIR:-/tmp}/waitroom-redis-cluster-$first}
log() { echo "[redis-cluster] $*" >&2; }

cli() { redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }

addrs() {
	local out=()
	for p in $ports; do out+=("127.0.0.1:$p"); done
	(IFS=,; echo "${out[*]}")
}

# healthy: every node answers, the cluster state is ok with 16384 slots
# served, there are 3 masters each with a replica, and every replica has
# synchronised with its master (a replica that never did cannot take over).
healthy() {
	local p info
	for p in $ports; do
		[ "$(cli "$p" ping 2>/dev/null)" = PONG ] || return 1
	done
	info=$(cli "$first" cluster info 2>/dev/null) || return 1
	grep -q '^cluster_state:ok' <<<"$info" || return 1
	grep -q '^cluster_slots_ok:16384' <<<"$info" || return 1
	grep -q '^cluster_known_nodes:6' <<<"$info" || return 1
	[ "$(cli "$first" cluster nodes 2>/dev/null | grep -c ' slave ')" = 3 ] || return 1
	for p in $ports; do
		info=$(cli "$p" info replication 2>/dev/null) || return 1
		if grep -q '^role:slave' <<<"$info"; then
			grep -q '^master_link_status:up' <<<"$info" || return 1
		fi
	done
}

stop() {
	local p
	for p in $ports; do
		cli "$p" shutdown nosave >/dev/null 2>&1 || true
	done
	for p in $ports; do
		for _ in $(seq 1 50); do
			cli "$p" ping >/dev/null 2>&1 || break
			sleep 0.1
		done
	done
	rm -rf "$dir"
}

start_node() {
	local p=$1
	mkdir -p "$dir/$p"
	redis-server --daemonize yes --bind 127.0.0.1 --port "$p" --dir "$dir/$p" \
		--cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
		--save "" --appendonly no --maxmemory-policy noeviction --repl-diskless-sync-delay 0 \
		--logfile "$dir/$p/redis.log" --pidfile "$dir/$p/redis.pid" >/dev/null
}

start() {
	if healthy; then
		log "reusing the healthy cluster on ports $first-$((first + 5))"
		return 0
	fi
	log "creating a cluster on ports $first-$((first + 5)) in $dir"
	stop
	local p
	for p in $ports; do start_node "$p"; done
	for p in $ports; do
		for _ in $(seq 1 50); do
			[ "$(cli "$p" ping 2>/dev/null)" = PONG ] && break
			sleep 0.1
		done
	done
	local nodes=()
	for p in $ports; do nodes+=("127.0.0.1:$p"); done
	redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 || {
		cat "$dir/create.log" >&2
		return 1
	}
	for _ in $(seq 1 100); do
		if healthy; then return 0; fi
		sleep 0.2
	done
	log "the cluster did not become healthy"
	cli "$first" cluster info >&2 || true
	return 1
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) healthy ;;
addrs) addrs ;;
*)
	echo "usage: $0 start|stop|status|addrs" >&2
	exit 2
	;;
esac
