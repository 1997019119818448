#!/usr/bin/env bash
# run.sh - every benchmark in one command: ppscan beside ZMap, masscan and DPDK's
# own ceiling (dpdk-testpmd txonly) on this machine, in the same run. Writes BENCHMARKS.md
# (top level), bench/results/*.csv and bench/results/chart.png. About 15-25 minutes.
#
# Usage (root, from anywhere): bench/run.sh [bench.py options, e.g. --sections "ceiling cost"]
# Environment:
#   PPS_BENCH_BUILD=build-bench      release build directory (configured here if missing)
#   PPS_BENCH_RUNS=5                 runs of each rate / cost measurement (median, min, max)
#   PPS_BENCH_ACC_RUNS=3             runs of each accuracy cell
#   PPS_BENCH_RATES="25000 50000 100000 200000 0"   accuracy rates (0 = no limit)
#   PPS_BENCH_NULL_PROBES=40000000   probes per net_null run
#   PPS_BENCH_SECTIONS="ceiling scaling kernel accuracy cost memory"
# Needs: the packages of scripts/install-deps.sh --bench (installed here), hugepages
# (reserved here), root. Uses only namespaces named ppsb6* and removes them at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${PPS_BENCH_BUILD:-$ROOT/build-bench}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
((EUID == 0)) || { echo "bench/run.sh: must run as root" >&2; exit 1; }

scripts/install-deps.sh --bench
if [[ ! -f $BUILD/build.ninja ]]; then
	meson setup "$BUILD" --buildtype=release -Ddpdk=enabled -Dtests=disabled
fi
ninja -C "$BUILD"
scripts/hugepages.sh
# net_af_xdp wants the BPF filesystem for its program (libxdp warns without it)
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true

export PPS_BENCH_COMMAND="bench/run.sh${*:+ $*}  (PPS_BENCH_RUNS=${PPS_BENCH_RUNS:-5}, PPS_BENCH_ACC_RUNS=${PPS_BENCH_ACC_RUNS:-3})"
exec /usr/bin/python3 bench/bench.py --build "$BUILD" "$@"
