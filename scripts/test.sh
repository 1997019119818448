#!/usr/bin/env bash
# test.sh - every test suite on a fresh Debian 12 machine, as root: installs packages, starts
# Redis (unix socket in a temp dir), reserves hugepages, builds, and runs `meson test`
# (unit suites, then the lab end-to-end suites, which build their own network namespaces).
# Ends with the line "N passed, N failed"; exits non-zero if any test failed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${PPS_BUILD_DIR:-build}

((EUID == 0)) || { echo "test: must run as root (namespaces, hugepages)" >&2; exit 1; }
scripts/install-deps.sh

# Redis for the sink suites: private instance on a unix socket, stopped at exit.
REDIS_DIR=$(mktemp -d /tmp/ppscan-redis.XXXXXX)
export PPS_REDIS_SOCKET=$REDIS_DIR/redis.sock
cleanup() {
	redis-cli -s "$PPS_REDIS_SOCKET" shutdown nosave >/dev/null 2>&1 || true
	rm -rf "$REDIS_DIR"
	for lab in ppstlab; do PPS_LAB=$lab scripts/netlab.sh down >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
redis-server --port 0 --unixsocket "$PPS_REDIS_SOCKET" --unixsocketperm 700 \
	--dir "$REDIS_DIR" --save '' --appendonly no --daemonize yes \
	--logfile "$REDIS_DIR/redis.log" --pidfile "$REDIS_DIR/redis.pid"
for _ in $(seq 50); do redis-cli -s "$PPS_REDIS_SOCKET" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -s "$PPS_REDIS_SOCKET" ping

scripts/hugepages.sh 512
# the lab suites create and remove their own lab; check the script works here first
PPS_LAB=ppstlab scripts/netlab.sh down >/dev/null 2>&1 || true

scripts/build.sh
set +e
meson test -C "$BUILD" --num-processes 1 --print-errorlogs -v
rc=$?
set -e
python3 - "$BUILD/meson-logs/testlog.json" <<'PY'
import json, sys
ok = fail = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["result"] in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r["result"] == "SKIP": skip += 1
    else: fail += 1
print(f"meson: {ok} passed, {fail} failed" + (f", {skip} skipped" if skip else ""))
PY
exit $rc
