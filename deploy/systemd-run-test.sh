#!/usr/bin/env bash
# Run deploy/waitroom.service under a real systemd, sandbox and all.
#
# systemd-analyze verify (deploy/systemd-verify.sh) checks the file; only a
# running systemd shows that the binary still works with no capabilities,
# the system-call filter, MemoryDenyWriteExecute, a dynamic user and a
# read-only file system. This script boots Debian's systemd as PID 1 in a
# podman container (a Debian bookworm root file system made with mmdebstrap
# from the Debian mirror, kept as a local image for the next run), installs
# the unit as its header says, and checks:
#   - /healthz and /readyz answer; on Redis + PostgreSQL (127.0.0.1, own
#     schema and key prefix) when they answer here, else on the embedded store
#   - the process runs as a non-root dynamic user with no capabilities,
#     no_new_privs and a seccomp filter
#   - the embedded store's key file lands in /var/lib/waitroom (embedded run)
#   - check-config as the unit's header says; the banner says the demo is on
#   - systemctl stop ends it cleanly (status 0); SIGKILL restarts it;
#     a configuration error (status 2) does not
#
# Needs root, podman, runc, mmdebstrap (installed with apt-get when missing)
# and the Debian mirror for the first run (about 3 minutes); later runs take
# about half a minute. Not part of CI. EMBEDDED=1 runs the embedded store
# even where Redis and PostgreSQL answer.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/waitroom-systemd-test:bookworm-dbus}
PG_URL=${WAITROOM_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
REDIS_URL=${WAITROOM_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}
PORT=${PORT:-18680}
ADMIN_PORT=${ADMIN_PORT:-18681}

log() { echo "[systemd-run-test] $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
start=$(date +%s)
step() { log "$(($(date +%s) - start))s: $*"; }

[ "$(id -u)" = 0 ] || fail "run as root (systemd in a privileged container)"
missing=()
for tool in podman runc mmdebstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
	step "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || export PATH=$PATH:/usr/local/go/bin
podman() { command podman "$@" 2> >(grep -v 'unable to get systemd connection' >&2); }

work=$(mktemp -d)
c=waitroom-systemd-test-$$
schema=""
cleanup() {
	podman rm -f "$c" >/dev/null 2>&1 || true
	if [ -n "$schema" ]; then
		psql -qc "DROP SCHEMA IF EXISTS $schema CASCADE" "$PG_URL" >/dev/null 2>&1 || true
		redis-cli -h 127.0.0.1 --scan --pattern "$schema:*" | xargs -r redis-cli -h 127.0.0.1 del >/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

if ! podman image exists "$IMAGE"; then
	step "making a Debian bookworm root file system with systemd (mmdebstrap)"
	# dbus: systemd-run (the unit header's check-config line) needs the bus.
	mmdebstrap --quiet --variant=minbase --include=systemd,systemd-sysv,dbus,curl,ca-certificates \
		bookworm "$work/rootfs.tar" http://deb.debian.org/debian
	podman import --change 'CMD ["/sbin/init"]' "$work/rootfs.tar" "$IMAGE" >/dev/null
	rm -f "$work/rootfs.tar"
fi

step "compiling the static binary"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/waitroom" ./cmd/waitroom
cp deploy/waitroom.service "$work/"

admin_key=systemd-run-test-$$
{
	echo "WAITROOM_HTTP_ADDR=127.0.0.1:$PORT"
	echo "WAITROOM_ADMIN_ADDR=127.0.0.1:$ADMIN_PORT"
	echo "WAITROOM_ADMIN_KEY_HASHES=$(printf '%s' "$admin_key" | sha256sum | cut -d' ' -f1)"
	# The demo room is what the checks below enqueue in; it is off by
	# default on Redis + PostgreSQL.
	echo "WAITROOM_DEMO=true"
	# Not as a LoadCredential file (the unit's commented example): under
	# systemd 252 in a podman container the credentials directory stays
	# empty (SetCredential= too), so that path is not tried here.
	echo "WAITROOM_SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
} >"$work/waitroom.env"
backend="embedded store"
if [ -z "${EMBEDDED:-}" ] && pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && [ "$(redis-cli -h 127.0.0.1 ping 2>/dev/null)" = PONG ]; then
	schema=systemd_test_$$
	psql -qc "CREATE SCHEMA $schema" "$PG_URL" >/dev/null
	case $PG_URL in *\?*) db_url="$PG_URL&search_path=$schema" ;; *) db_url="$PG_URL?search_path=$schema" ;; esac
	echo "WAITROOM_DATABASE_URL=$db_url" >>"$work/waitroom.env"
	echo "WAITROOM_REDIS_URL=$REDIS_URL" >>"$work/waitroom.env"
	echo "WAITROOM_REDIS_KEY_PREFIX=$schema:" >>"$work/waitroom.env"
	backend="Redis + PostgreSQL (schema $schema)"
fi

step "booting systemd in a container (--network host)"
# runc rather than crun (crun refuses hybrid cgroup hosts); ulimits within
# the caller's hard limits (podman's defaults need CAP_SYS_RESOURCE).
podman --runtime runc run -d --name "$c" --privileged --systemd=always --network host \
	--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096 \
	-v "$work:/mnt/unit:ro" "$IMAGE" >/dev/null
inside() { podman exec "$c" sh -c "$1"; }
for _ in $(seq 1 30); do
	state=$(inside 'systemctl is-system-running' 2>/dev/null || true)
	case $state in running | degraded) break ;; esac
	sleep 1
done
case $state in running | degraded) ;; *) fail "systemd in the container: $state" ;; esac

step "installing the unit as its header says; backend: $backend"
inside 'install -m 0755 /mnt/unit/waitroom /usr/local/bin/waitroom
	install -d -m 0700 /etc/waitroom
	install -m 0600 /mnt/unit/waitroom.env /etc/waitroom/waitroom.env
	install -m 0644 /mnt/unit/waitroom.service /etc/systemd/system/
	systemctl daemon-reload && systemctl enable --now waitroom' 2>/dev/null
check=$(inside 'systemd-run --quiet --pipe --wait -p EnvironmentFile=/etc/waitroom/waitroom.env -E WAITROOM_DATA_DIR=/var/lib/waitroom /usr/local/bin/waitroom check-config' 2>&1) || fail "check-config as the unit header says: $check"
grep -q '^configuration OK' <<<"$check" || fail "check-config: $check"
step "check-config, as the unit's header says: OK"

wait_ready() {
	for _ in $(seq 1 60); do
		if curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null; then return 0; fi
		sleep 0.5
	done
	inside 'journalctl -u waitroom --no-pager | tail -20' >&2
	fail "/readyz does not answer"
}
wait_ready
curl -fsS -m 5 "http://127.0.0.1:$PORT/healthz" >/dev/null || fail "/healthz"
grep -q queue_number <<<"$(curl -fsS -m 5 -XPOST "http://127.0.0.1:$PORT/assign_queue_num" -d '{"event_id":"demo"}')" || fail "enqueue"
metrics=$(curl -fsS -m 5 -H "Authorization: Bearer $admin_key" "http://127.0.0.1:$ADMIN_PORT/metrics") || fail "/metrics"
grep -q '^process_start_time_seconds' <<<"$metrics" || fail "/metrics has no process_start_time_seconds"

status=$(inside 'cat /proc/$(systemctl show -p MainPID --value waitroom)/status')
uid=$(awk '/^Uid:/ {print $2}' <<<"$status")
[ "$uid" != 0 ] || fail "runs as root"
grep -q '^CapEff:[[:space:]]*0000000000000000$' <<<"$status" || fail "has capabilities"
grep -q '^NoNewPrivs:[[:space:]]*1$' <<<"$status" || fail "no_new_privs not set"
grep -q '^Seccomp:[[:space:]]*2$' <<<"$status" || fail "no seccomp filter"
journal=$(inside 'journalctl -u waitroom --no-pager')
if [ -n "$schema" ]; then
	# On Redis + PostgreSQL a missing secret key is warned about.
	! grep -q 'secret_key is not set' <<<"$journal" || fail "the secret key of the environment file was not read"
fi
grep -q 'Demo:        on (demo: true)' <<<"$journal" || fail "the banner does not say the demo is on and why"
step "serving: /healthz, /readyz, enqueue, /metrics; uid $uid, no capabilities, no_new_privs, seccomp; banner: demo on"
if [ -z "$schema" ]; then
	inside 'test -s /var/lib/waitroom/keys.json' || fail "no key file in the state directory"
	step "key file in /var/lib/waitroom"
fi

inside 'systemctl kill -s KILL waitroom'
sleep 3
wait_ready
[ "$(inside 'systemctl show -p NRestarts --value waitroom')" -ge 1 ] || fail "not restarted after SIGKILL"
inside 'systemctl stop waitroom'
[ "$(inside 'systemctl show -p ExecMainStatus --value waitroom')" = 0 ] || fail "stop: exit status not 0"
grep -q 'msg=stopped' <<<"$(inside 'journalctl -u waitroom --no-pager')" || fail "stop: no graceful shutdown in the log"
step "restarted after SIGKILL; systemctl stop: status 0, graceful"

inside 'echo WAITROOM_TRUSTED_PROXIES=not-an-address >>/etc/waitroom/waitroom.env; systemctl reset-failed waitroom; systemctl start waitroom' || true
sleep 5
[ "$(inside 'systemctl show -p ExecMainStatus --value waitroom')" = 2 ] || fail "bad configuration: exit status not 2"
# A manual start resets NRestarts; any automatic restart since would count.
[ "$(inside 'systemctl show -p ActiveState --value waitroom')" = failed ] || fail "not failed after a configuration error"
[ "$(inside 'systemctl show -p NRestarts --value waitroom')" = 0 ] || fail "restarted after a configuration error"
step "configuration error: status 2, not restarted"

step "systemd run test passed"
