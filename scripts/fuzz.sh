#!/usr/bin/env bash
# fuzz.sh - builds the libFuzzer targets with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs each for a bounded time from its seeds:
#   fuzz_parse        the receive path (tests/fuzz/corpus: real SYN-ACK, RST, ICMP, ARP and
#                     truncated frames)
#   fuzz_fingerprint  core/fingerprint: matching (seeds: tests/fuzz/replies, raw bytes real and
#                     hostile servers sent in the lab) and the file parser (seeds: every
#                     data/fingerprints/*.conf)
#   fuzz_id_modules   every ppscan-id protocol module (seeds: tests/fuzz/replies, driven as a
#                     greeting, a reply to the module's request, a reply to another's, in TLS)
# Usage: scripts/fuzz.sh [SECONDS [TARGET...]]   (SECONDS per target, default
# ${PPS_FUZZ_SECONDS:-60}; all targets by default; build dir ${PPS_FUZZ_BUILD_DIR:-build-fuzz}).
# Exits non-zero on a crash and says where the input is: copy it into tests/fuzz/regress/
# (fuzz_parse), regress_fp/ or regress_id/, where the unit tests fuzz_regress* replay it for good.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-${PPS_FUZZ_SECONDS:-60}}
shift || true
TARGETS=("$@")
BUILD=${PPS_FUZZ_BUILD_DIR:-build-fuzz}
((${#TARGETS[@]})) || TARGETS=(fuzz_parse fuzz_fingerprint fuzz_id_modules)

command -v clang >/dev/null || { echo "fuzz: clang missing (scripts/install-deps.sh)" >&2; exit 1; }
if [[ ! -f $BUILD/build.ninja ]]; then
	CC=clang meson setup "$BUILD" --buildtype=debugoptimized -Dfuzz=true -Ddpdk=disabled \
		-Dtests=disabled -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link >/dev/null ||
		{ echo "fuzz: meson setup of $BUILD failed" >&2; exit 1; }
fi
if ! ninja -C "$BUILD" "${TARGETS[@]/#/tests/fuzz/}" >"$BUILD/fuzz-build.log" 2>&1; then
	tail -n 30 "$BUILD/fuzz-build.log" >&2
	echo "fuzz: FAILED to build ${TARGETS[*]} (log: $BUILD/fuzz-build.log)" >&2
	exit 1
fi

work=$(mktemp -d /tmp/ppscan-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$BUILD/fuzz-artifacts"
# seed NAME HEX FILE...: copies of the files with the bytes HEX in front, into $work/NAME
seed() {
	local dir=$work/$1 hex=$2 f
	shift 2
	mkdir -p "$dir"
	for f in "$@"; do
		[[ -f $f ]] || continue
		{ printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")"; cat "$f"; } >"$dir/$hex-$(basename "$f")"
	done
}
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
failed=()
for t in "${TARGETS[@]}"; do
	case $t in
	fuzz_parse)
		mkdir -p "$work/$t" && cp tests/fuzz/corpus/* "$work/$t/"
		extra=(tests/fuzz/regress) max_len=1600 ;;
	fuzz_fingerprint)
		seed "$t" 00 tests/fuzz/replies/*
		seed "$t" 07 tests/fuzz/replies/*
		seed "$t" 80 data/fingerprints/*.conf
		extra=(tests/fuzz/regress_fp) max_len=20000 ;;
	fuzz_id_modules)
		for h in ff00 ff01 ff02 ff03 ff05 ff0d; do seed "$t" "$h" tests/fuzz/replies/*; done
		extra=(tests/fuzz/regress_id) max_len=24000 ;;
	*) echo "fuzz: unknown target '$t' (fuzz_parse, fuzz_fingerprint, fuzz_id_modules)" >&2; exit 2 ;;
	esac
	echo "fuzz: $t for ${SECS} s from $(ls "$work/$t" | wc -l) seeds" >&2
	set +e
	"$BUILD/tests/fuzz/$t" -max_total_time="$SECS" -max_len="$max_len" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$BUILD/fuzz-artifacts/$t-" \
		"$work/$t" "${extra[@]}" 2>"$work/$t.log"
	rc=$?
	set -e
	grep -E '^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+ *DONE)' "$work/$t.log" >&2 || true
	if ((rc != 0)); then
		tail -n 40 "$work/$t.log" >&2
		echo "fuzz: $t FAILED: crash input(s) in $BUILD/fuzz-artifacts/$t-*" >&2
		failed+=("$t")
	fi
done
if ((${#failed[@]})); then
	echo "fuzz: FAILED: ${failed[*]}; add the inputs to tests/fuzz/regress*/" >&2
	exit 1
fi
echo "fuzz: no crash in ${SECS} s each (${TARGETS[*]})" >&2
