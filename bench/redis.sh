#!/usr/bin/env bash
# redis.sh - results per second through the Redis sink (bench_redis: synthetic results
# pushed into the results ring, drained by the real monitor loop into the sink, counted when
# Redis has confirmed every one) beside redis-benchmark's pipelined XADD of the same entry
# shape on the same server, the ceiling. A private redis-server on a unix socket in a temp
# dir; nothing else is touched. Not a test: numbers depend on the machine.
#
# Usage: bench/redis.sh [BUILD_DIR]          (default build; writes bench/results/redis.txt)
# Environment:
#   N=1000000     results a run (bench_redis) and XADDs (redis-benchmark)
#   RUNS=3        runs of each, alternating; the best of each is reported
#   PIPELINE=64   redis-benchmark -P
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${1:-build}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
BIN=$BUILD/bench/bench_redis
N=${N:-1000000}
RUNS=${RUNS:-3}
PIPELINE=${PIPELINE:-64}
OUT=$ROOT/bench/results/redis.txt

[[ -x $BIN ]] || { echo "redis.sh: $BIN missing: build with Redis support (libhiredis-dev)" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "redis.sh: redis-benchmark missing (redis-tools)" >&2; exit 1; }

DIR=$(mktemp -d /tmp/ppscan-redisbench.XXXXXX)
SOCK=$DIR/redis.sock
cleanup() {
	redis-cli -s "$SOCK" shutdown nosave >/dev/null 2>&1 || true
	rm -rf "$DIR"
}
trap cleanup EXIT
redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 --dir "$DIR" --save '' \
	--appendonly no --daemonize yes --logfile "$DIR/redis.log" --pidfile "$DIR/redis.pid"
for _ in $(seq 50); do redis-cli -s "$SOCK" ping >/dev/null 2>&1 && break; sleep 0.1; done

best_sink=0 best_xadd=0 ratios=()
for run in $(seq "$RUNS"); do
	redis-cli -s "$SOCK" flushall >/dev/null
	line=$("$BIN" "unix://$SOCK" "$N" 2>/dev/null)
	sink=$(sed -n 's/.* = \([0-9]*\) results\/s.*/\1/p' <<<"$line")
	echo "run $run: sink $sink results/s   ($line)"
	redis-cli -s "$SOCK" flushall >/dev/null
	xadd=$(redis-benchmark -s "$SOCK" -n "$N" -P "$PIPELINE" -r 100000000 -q \
		XADD bench:xadd '*' ip 11.__rand_int__ port 80 status open ttl 64 ts 1764428184.123456 \
		2>/dev/null | tr '\r' '\n' | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -1)
	xadd=${xadd%.*}
	echo "run $run: redis-benchmark XADD -P $PIPELINE: $xadd requests/s"
	((sink > best_sink)) && best_sink=$sink
	((xadd > best_xadd)) && best_xadd=$xadd
	ratios+=($((100 * sink / (xadd > 0 ? xadd : 1))))
done
pct=$((100 * best_sink / (best_xadd > 0 ? best_xadd : 1)))
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
{
	echo "# bench/redis.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) CPU(s): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "# $(redis-server --version | cut -d' ' -f1-3), N=$N, best of $RUNS"
	echo "sink (MULTI batches, exactly once): $best_sink results/s"
	echo "redis-benchmark XADD -P $PIPELINE:       $best_xadd requests/s"
	echo "sink / redis-benchmark:             $pct% best/best, $median% median of the runs' pairs (${ratios[*]})"
	echo "goal: >= 500000 results/s and >= 50% of redis-benchmark"
} | tee "$OUT"
