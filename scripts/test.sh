#!/usr/bin/env bash
# test.sh - every test suite on a fresh Debian 12 machine, as root: installs packages, starts
# Redis (unix socket in a temp dir), reserves hugepages, builds, and runs `meson test`
# (unit suites, then the lab end-to-end suites, which build their own network namespaces),
# then the Debian packages (built once, installed, used, removed: tests/test_packages.sh),
# the unit suites under sanitizers, the fuzzer, and warning-free builds (gcc, clang).
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
	tests/lab/udp_lab.sh ppsu1 down >/dev/null 2>&1 || true
	for lab in ppstlab ppst7t ppsr4 ppsp3 ppsp3b ppsu1 ppsid ppsidb ppsd ppsidh ppsdeb; do
		tests/tls/tls_lab.sh client-down "$lab" >/dev/null 2>&1 || true
		PPS_LAB=$lab scripts/netlab.sh down >/dev/null 2>&1 || true
	done
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
meson test -C "$BUILD" --num-processes 1 --print-errorlogs -v --no-suite lab_d
rc=$?
# The Debian packages as a user installs them: dpkg-buildpackage -b (once per source tree),
# lintian, apt install ./*.deb, the installed binaries, man pages, config file and a lab scan,
# then apt-get purge.
pkg_rc=0
PPS_LAB=ppsdeb tests/test_packages.sh || pkg_rc=1
((pkg_rc == 0)) || rc=1
# The unit suites again under AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer
# (UB aborts), then the libFuzzer
# targets (the receive path, core/fingerprint, every ppscan-id module) for a bounded time each
# (scripts/fuzz.sh; a crash input goes to tests/fuzz/regress*/).
ASAN_BUILD=${PPS_ASAN_BUILD_DIR:-build-asan}
if [[ ! -f $ASAN_BUILD/build.ninja ]]; then
	meson setup "$ASAN_BUILD" --buildtype=debug -Ddpdk=disabled -Dtests=enabled \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C "$ASAN_BUILD" >/dev/null &&
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C "$ASAN_BUILD" --suite unit --print-errorlogs || rc=1
fuzz_rc=0
scripts/fuzz.sh "${PPS_FUZZ_SECONDS:-40}" || fuzz_rc=1
((fuzz_rc == 0)) || rc=1
# Every target again with -Dwerror=true at warning level 2, under gcc and under clang: a
# warning either compiler gives is a failure.
werror_rc=
for cc in gcc clang; do
	dir=${PPS_WERROR_BUILD_DIR:-build-werror}-$cc
	[[ -f $dir/build.ninja ]] || CC=$cc meson setup "$dir" -Dwerror=true -Dwarning_level=2 \
		-Ddpdk=enabled -Dtests=enabled >/dev/null
	if ninja -C "$dir" >"$dir/werror.log" 2>&1; then werror_rc+=0; else werror_rc+=1; rc=1; cat "$dir/werror.log"; fi
done
set -e
PKG_RC=$pkg_rc FUZZ_RC=$fuzz_rc WERROR_RC=$werror_rc python3 - "$BUILD/meson-logs/testlog.json" "$ASAN_BUILD/meson-logs/testlog.json" <<'PY'
import json, os, sys
ok = fail = skip = 0
for line in (l for path in sys.argv[1:] if os.path.exists(path) for l in open(path)):
    r = json.loads(line)
    if r["result"] in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r["result"] == "SKIP": skip += 1
    else: fail += 1
for code in os.environ["PKG_RC"] + os.environ["FUZZ_RC"] + os.environ["WERROR_RC"]:  # packages, fuzzing, werror gcc, clang
    if code == "0": ok += 1
    else: fail += 1
print(f"meson: {ok} passed, {fail} failed" + (f", {skip} skipped" if skip else ""))
PY
exit $rc
