#!/usr/bin/env bash
# Build the container image from ./Dockerfile with podman and start it.
#
# Base images cannot always be pulled (CI machines without a registry), so
# the Dockerfile's "build" stage is replaced by a directory prepared here:
# the binary compiled on this machine with the same command and flags as in
# that stage, the CA bundle and an empty data folder. podman's
# --build-context build=DIR stands in for the stage of that name and the
# unused golang stage is skipped, so nothing is pulled. Everything after it
# (scratch, user, files, ENV, VOLUME, HEALTHCHECK, ENTRYPOINT) is the
# Dockerfile's own final stage.
#
# Then it checks the image's metadata, runs it on the embedded store (health,
# readiness, public API, non-root, key file in /data, version, the image's
# HEALTHCHECK, graceful stop), with TLS from mounted certificate files
# (HTTP/2, HSTS, HEALTHCHECK over https), and, when PostgreSQL (127.0.0.1:5432,
# database "test") and Redis (127.0.0.1:6379) answer, once more on them in a
# schema and key prefix of its own.
#
#   deploy/image-test.sh              (make image runs it)
#   KEEP_IMAGE=1 deploy/image-test.sh keep localhost/waitroom:test afterwards
#   FULL=1 deploy/image-test.sh       build the whole Dockerfile instead, where
#                                     the golang base image can be had
#
# Needs root (or a working rootless podman), podman and go; installs podman
# and runc with apt-get when missing and running as root.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/waitroom:test}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
COMMIT=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || true)}
DATE=${DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
PORT=${PORT:-18480}
ADMIN_PORT=${ADMIN_PORT:-18481}
PG_URL=${WAITROOM_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
REDIS_URL=${WAITROOM_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}

log() { echo "[image-test] $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
start=$(date +%s)
step() { log "$(($(date +%s) - start))s: $*"; }

if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
	[ "$(id -u)" = 0 ] || fail "podman and runc are needed (apt-get install podman runc)"
	step "installing podman and runc"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc >/dev/null
fi
command -v go >/dev/null || export PATH=$PATH:/usr/local/go/bin

# podman's defaults can fail on a host like a CI VM:
# - crun refuses a cgroup v1 host that also mounts cgroup2 ("cgroups in
#   hybrid mode not supported"); runc runs there.
# - the default rlimits (nofile 1048576) exceed the hard limit of a root
#   without CAP_SYS_RESOURCE; ask for what this shell may give.
# - podman schedules HEALTHCHECK runs with systemd timers, absent in a
#   container or CI VM without systemd; this script runs the check itself,
#   and podman's complaints about the missing timers are filtered out.
run_flags=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096 --health-interval disable)
# As compose.yaml runs it: read-only root, no capabilities.
run_flags+=(--read-only --cap-drop ALL --security-opt no-new-privileges)
podman_cmd=(podman)
if [ -z "${PODMAN_RUNTIME:-}" ] && grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/mounts; then
	PODMAN_RUNTIME=runc
fi
[ -n "${PODMAN_RUNTIME:-}" ] && podman_cmd+=(--runtime "$PODMAN_RUNTIME")
podman() {
	command podman "$@" 2> >(grep -v 'unable to get systemd connection' >&2)
}

work=$(mktemp -d)
containers=()
cleanup() {
	for c in "${containers[@]}"; do podman rm -f -v "$c" >/dev/null 2>&1 || true; done
	if [ -n "${schema:-}" ]; then psql -qc "DROP SCHEMA IF EXISTS $schema CASCADE" "$PG_URL" >/dev/null 2>&1 || true; fi
	[ -n "${KEEP_IMAGE:-}" ] || podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

if [ -n "${FULL:-}" ]; then
	# --- the whole Dockerfile, golang stage included ---------------------------
	# Needs the golang base image (pulled, or loaded with podman load) and
	# the Go module proxy. RUN steps need the same runtime choice as podman
	# run.
	step "podman build (whole ./Dockerfile, FULL=1)"
	build_runtime=()
	[ -n "${PODMAN_RUNTIME:-}" ] && build_runtime=(--runtime "$PODMAN_RUNTIME")
	podman build "${build_runtime[@]}" --pull=missing --format docker \
		--build-arg "VERSION=$VERSION" --build-arg "COMMIT=$COMMIT" --build-arg "DATE=$DATE" \
		-t "$IMAGE" -f Dockerfile . >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; fail "podman build"; }
else
	# --- the "build" stage, done on this machine -------------------------------
	step "compiling the static binary (version $VERSION)"
	# The directory stands for the stage's root file system: its out/ is the
	# stage's /out.
	out=$work/build/out
	mkdir -p "$out/data"
	CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
		-o "$out/waitroom" ./cmd/waitroom
	cp /etc/ssl/certs/ca-certificates.crt "$out/ca-certificates.crt"

	# --- the final stage, from the Dockerfile ---------------------------------
	# --format docker keeps HEALTHCHECK (the OCI image format has no such field).
	# --layers=false: the binary changes every time, so a layer cache would
	# only leave intermediate images behind.
	step "podman build (final stage of ./Dockerfile)"
	podman build --pull=never --format docker --layers=false --target runtime \
		--build-context "build=$work/build" \
		--build-arg "VERSION=$VERSION" --build-arg "COMMIT=$COMMIT" --build-arg "DATE=$DATE" \
		-t "$IMAGE" -f Dockerfile . >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; fail "podman build"; }
fi

inspect() { podman image inspect --format "$1" "$IMAGE"; }
[ "$(inspect '{{.Config.User}}')" = "65532:65532" ] || fail "image user is $(inspect '{{.Config.User}}')"
grep -q '"/waitroom","healthcheck"' <<<"$(inspect '{{json .Config.Healthcheck.Test}}')" || fail "no HEALTHCHECK in the image"
grep -q 8081 <<<"$(inspect '{{json .Config.ExposedPorts}}')" || fail "8081 not exposed"
grep -q '/data' <<<"$(inspect '{{json .Config.Volumes}}')" || fail "/data is not a volume"
size=$(inspect '{{.Size}}')
step "image $IMAGE: $((size / 1024 / 1024)) MB, user 65532, HEALTHCHECK, /data volume"

# wait_http URL: poll up to 30 s for a 200.
wait_http() {
	for _ in $(seq 1 60); do
		if curl -fsS -m 2 -o /dev/null "$1" 2>/dev/null; then return 0; fi
		sleep 0.5
	done
	return 1
}

# stop_clean NAME: SIGTERM, then the container must have exited 0.
stop_clean() {
	podman stop -t 20 "$1" >/dev/null
	code=$(podman inspect --format '{{.State.ExitCode}}' "$1")
	[ "$code" = 0 ] || { podman logs "$1" >&2; fail "$1 exited $code after SIGTERM"; }
	grep -q 'msg=stopped' <<<"$(podman logs "$1" 2>&1)" || { podman logs "$1" >&2; fail "$1: no graceful shutdown in the log"; }
}

# --- run 1: embedded store, published ports ---------------------------------
step "run on the embedded store (-p 127.0.0.1:$PORT:8080)"
c=waitroom-image-test-$$
containers+=("$c")
"${podman_cmd[@]}" run -d --name "$c" "${run_flags[@]}" \
	-p "127.0.0.1:$PORT:8080" -p "127.0.0.1:$ADMIN_PORT:8081" \
	"$IMAGE" >/dev/null
wait_http "http://127.0.0.1:$PORT/healthz" || { podman logs "$c" >&2; fail "/healthz does not answer"; }
curl -fsS -m 5 "http://127.0.0.1:$PORT/readyz" >/dev/null || fail "/readyz"
curl -fsS -m 5 "http://127.0.0.1:$ADMIN_PORT/healthz" >/dev/null || fail "admin /healthz (published 8081)"
grep -q serving_counter <<<"$(curl -fsS -m 5 "http://127.0.0.1:$PORT/serving_num?event_id=demo")" || fail "/serving_num"
pid=$(podman inspect --format '{{.State.Pid}}' "$c")
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$uid" = 65532 ] || fail "process runs as uid $uid"
version_line=$(podman exec "$c" /waitroom version)
grep -q "waitroom $VERSION (commit $COMMIT, built $DATE" <<<"$version_line" || fail "version inside the image: $version_line"
[ "$(inspect '{{index .Config.Labels "org.opencontainers.image.revision"}}')" = "$COMMIT" ] || fail "revision label"
mnt=$(podman inspect --format '{{range .Mounts}}{{if eq .Destination "/data"}}{{.Source}}{{end}}{{end}}' "$c")
[ -s "$mnt/keys.json" ] || fail "no signing keys in the /data volume ($mnt)"
[ "$(stat -c %u "$mnt/keys.json")" = 65532 ] || fail "keys.json not owned by 65532"
# The image's HEALTHCHECK runs "/waitroom healthcheck" (podman runs it on
# request here: its timers need systemd, see run_flags).
podman healthcheck run "$c" >/dev/null || { podman exec "$c" /waitroom healthcheck >&2 || true; fail "HEALTHCHECK (/waitroom healthcheck) reports unhealthy"; }
step "HEALTHCHECK: healthy"
stop_clean "$c"
step "embedded store: /healthz, /readyz, API, uid 65532, /data/keys.json, clean stop: ok"

# --- run 2: TLS from mounted certificate files ------------------------------
step "run with TLS (a certificate made now, mounted read-only at /tls)"
mkdir -p "$work/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	-keyout "$work/tls/key.pem" -out "$work/tls/cert.pem" 2>/dev/null
# The image runs as 65532: the key must be readable by that user.
chown 65532:65532 "$work/tls/key.pem" "$work/tls/cert.pem"
c3=waitroom-image-test-tls-$$
containers+=("$c3")
"${podman_cmd[@]}" run -d --name "$c3" "${run_flags[@]}" \
	-p "127.0.0.1:$PORT:8080" -v "$work/tls:/tls:ro" \
	-e WAITROOM_TLS_CERT_FILE=/tls/cert.pem -e WAITROOM_TLS_KEY_FILE=/tls/key.pem \
	"$IMAGE" >/dev/null
tls_get() { curl -fsS -m 5 --cacert "$work/tls/cert.pem" "$@"; }
for _ in $(seq 1 60); do tls_get -o /dev/null "https://localhost:$PORT/healthz" 2>/dev/null && break; sleep 0.5; done
proto=$(tls_get -o /dev/null -w '%{http_version}' "https://localhost:$PORT/healthz") || { podman logs "$c3" >&2; fail "https /healthz"; }
[ "$proto" = 2 ] || fail "HTTP/$proto over TLS, want HTTP/2"
grep -qi '^strict-transport-security: max-age=63072000' <<<"$(tls_get -D - -o /dev/null "https://localhost:$PORT/healthz")" || fail "no HSTS over https"
podman healthcheck run "$c3" >/dev/null || fail "HEALTHCHECK over https"
stop_clean "$c3"
step "TLS: https /healthz over HTTP/2 with HSTS, HEALTHCHECK over https: ok"

# --- run 3: Redis + PostgreSQL on this machine ------------------------------
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && [ "$(redis-cli -h 127.0.0.1 ping 2>/dev/null)" = PONG ]; then
	schema=image_test_$$
	psql -qc "CREATE SCHEMA $schema" "$PG_URL" >/dev/null
	case $PG_URL in *\?*) db_url="$PG_URL&search_path=$schema" ;; *) db_url="$PG_URL?search_path=$schema" ;; esac
	step "run on Redis + PostgreSQL (--network host, schema $schema)"
	c2=waitroom-image-test-pg-$$
	containers+=("$c2")
	"${podman_cmd[@]}" run -d --name "$c2" "${run_flags[@]}" --network host \
		-e "WAITROOM_HTTP_ADDR=127.0.0.1:$PORT" -e "WAITROOM_ADMIN_ADDR=127.0.0.1:$ADMIN_PORT" \
		-e "WAITROOM_DATABASE_URL=$db_url" -e "WAITROOM_REDIS_URL=$REDIS_URL" \
		-e "WAITROOM_REDIS_KEY_PREFIX=$schema:" -e WAITROOM_DEMO=true \
		-e "WAITROOM_SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
		"$IMAGE" >/dev/null
	wait_http "http://127.0.0.1:$PORT/readyz" || { podman logs "$c2" >&2; fail "/readyz on Redis + PostgreSQL"; }
	podman healthcheck run "$c2" >/dev/null || fail "HEALTHCHECK on Redis + PostgreSQL"
	grep -q queue_number <<<"$(curl -fsS -m 5 -XPOST "http://127.0.0.1:$PORT/assign_queue_num" -d '{"event_id":"demo"}')" || fail "enqueue"
	[ "$(psql -tAc "SELECT count(*) FROM $schema.tickets" "$PG_URL")" = 1 ] || fail "the ticket is not in PostgreSQL"
	stop_clean "$c2"
	redis-cli -h 127.0.0.1 --scan --pattern "$schema:*" | xargs -r redis-cli -h 127.0.0.1 del >/dev/null
	step "Redis + PostgreSQL: migrations, /readyz, HEALTHCHECK, enqueue stored, clean stop: ok"
else
	step "skipped the Redis + PostgreSQL run (127.0.0.1:5432 or :6379 not answering)"
fi

step "image test passed"
