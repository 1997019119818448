#!/usr/bin/env bash
# fuzz.sh - builds the receive path's libFuzzer target (tests/fuzz/fuzz_parse.c) with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer, and runs it for a bounded time from the
# seed corpus (tests/fuzz/corpus: real SYN-ACK, RST, ICMP, ARP and truncated frames).
# Usage: scripts/fuzz.sh [SECONDS]   (default ${PPS_FUZZ_SECONDS:-60}; build dir
# ${PPS_FUZZ_BUILD_DIR:-build-fuzz}). Exits non-zero on a crash and says where the input is:
# copy it into tests/fuzz/regress/, where the unit test fuzz_regress replays it for good.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-${PPS_FUZZ_SECONDS:-60}}
BUILD=${PPS_FUZZ_BUILD_DIR:-build-fuzz}

command -v clang >/dev/null || { echo "fuzz: clang missing (scripts/install-deps.sh)" >&2; exit 1; }
if [[ ! -f $BUILD/build.ninja ]]; then
	CC=clang meson setup "$BUILD" --buildtype=debugoptimized -Dfuzz=true -Ddpdk=disabled \
		-Dtests=disabled -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link >/dev/null ||
		{ echo "fuzz: meson setup of $BUILD failed" >&2; exit 1; }
fi
if ! ninja -C "$BUILD" tests/fuzz/fuzz_parse >"$BUILD/fuzz-build.log" 2>&1; then
	tail -n 30 "$BUILD/fuzz-build.log" >&2
	echo "fuzz: FAILED to build the target (log: $BUILD/fuzz-build.log)" >&2
	exit 1
fi

work=$(mktemp -d /tmp/ppscan-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$BUILD/fuzz-artifacts"
cp tests/fuzz/corpus/* "$work/corpus/"
echo "fuzz: fuzz_parse for ${SECS} s from $(ls tests/fuzz/corpus | wc -l) seeds" >&2
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
set +e
"$BUILD/tests/fuzz/fuzz_parse" -max_total_time="$SECS" -max_len=1600 -timeout=10 \
	-print_final_stats=1 -artifact_prefix="$BUILD/fuzz-artifacts/" \
	"$work/corpus" tests/fuzz/regress 2>"$work/log"
rc=$?
set -e
grep -E '^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+ *DONE)' "$work/log" >&2 || true
if ((rc != 0)); then
	tail -n 40 "$work/log" >&2
	echo "fuzz: FAILED: crash input(s) in $BUILD/fuzz-artifacts/; add them to tests/fuzz/regress/" >&2
	exit 1
fi
echo "fuzz: no crash in ${SECS} s" >&2
