#!/usr/bin/env bash
# Check deploy/waitroom.service with systemd's own tools:
#   systemd-analyze verify             (syntax, directives, ExecStart executable)
#   systemd-analyze security --offline (sandbox exposure score)
#
# verify insists that ExecStart's binary exists, and the unit names
# /usr/local/bin/waitroom. Rather than install anything on this machine, the
# check runs against a throw-away root: the unit in its etc/systemd/system,
# a freshly built waitroom at usr/local/bin/waitroom, and a copy of this
# machine's system units (verify resolves sysinit.target and the other
# targets the unit depends on inside that root). The unit file itself is
# checked byte for byte as committed.
#
# Any warning counts as a failure: verify exits 0 on an unknown directive.
#
#   deploy/systemd-verify.sh            (needs systemd-analyze, go)
#   MAX_EXPOSURE=2.0 deploy/systemd-verify.sh
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}
unit=deploy/waitroom.service

log() { echo "[systemd-verify] $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

if ! command -v systemd-analyze >/dev/null; then
	[ "$(id -u)" = 0 ] || fail "systemd-analyze is needed (apt-get install systemd)"
	log "installing systemd (for systemd-analyze)"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null
fi
command -v go >/dev/null || export PATH=$PATH:/usr/local/go/bin
units=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /usr/lib/systemd/system)
[ -e "$units/sysinit.target" ] || units=/lib/systemd/system
[ -e "$units/sysinit.target" ] || fail "no system units found (looked for sysinit.target in $units)"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/etc/systemd/system" "$root/usr/lib/systemd"
ln -s usr/lib "$root/lib"
cp -a "$units" "$root/usr/lib/systemd/system"
cp "$unit" "$root/etc/systemd/system/waitroom.service"
CGO_ENABLED=0 go build -trimpath -o "$root/usr/local/bin/waitroom" ./cmd/waitroom

out=$(systemd-analyze verify --root="$root" waitroom.service 2>&1) || { echo "$out" >&2; fail "systemd-analyze verify"; }
[ -z "$out" ] || { echo "$out" >&2; fail "systemd-analyze verify printed warnings"; }
log "systemd-analyze verify: ok"

report=$(systemd-analyze security --offline=yes --root="$root" --threshold="$(awk -v m="$MAX_EXPOSURE" 'BEGIN { print int(m * 10) }')" waitroom.service 2>&1) \
	|| { echo "$report" >&2; fail "exposure above $MAX_EXPOSURE"; }
log "$(echo "$report" | grep 'Overall exposure level')"
