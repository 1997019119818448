#!/usr/bin/env bash
# join.sh - one planned scan of the lab (198.18.0.0/20 x {22,80,443,8080}, 16,384 probes,
# --output-closed) across 1, 2 and 3 ppscan-pcap workers (--join), beside the same scan
# by one plain ppscan-pcap --redis run: wall time, total probe rate, and the Redis commands
# the coordination adds (the workers' own count, and the server's total_commands_processed
# against the results' batches). A private redis-server on a unix socket, the lab "ppsbj".
# The workers share the lab's scan namespace, each with its own source address; this
# machine has 2 cores shared by every worker, so read the numbers as the cost of the
# coordination (claims, beats, per-shard cooldowns), not as scaling.
#
# Usage: flock /tmp/ppscan-lab.lock bench/join.sh [BUILD_DIR]   (root; writes
#        bench/results/join.csv and prints medians)
# Environment: RUNS=3, SHARDS=8, RATE=4000 (pps a shard), COOLDOWN=1
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${1:-build}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
BIN=$BUILD/fallback/ppscan-pcap
RUNS=${RUNS:-3}
SHARDS=${SHARDS:-8}
RATE=${RATE:-4000}
COOLDOWN=${COOLDOWN:-1}
LAB=ppsbj
OUT=$ROOT/bench/results/join.csv
((EUID == 0)) || { echo "join.sh: needs root (network namespaces)" >&2; exit 1; }
[[ -x $BIN ]] || { echo "join.sh: $BIN missing" >&2; exit 1; }

DIR=$(mktemp -d /tmp/ppscan-joinbench.XXXXXX)
SOCK=$DIR/redis.sock
cleanup() {
	redis-cli -s "$SOCK" shutdown nosave >/dev/null 2>&1 || true
	PPS_LAB=$LAB scripts/netlab.sh down >/dev/null 2>&1 || true
	rm -rf "$DIR"
}
trap cleanup EXIT
redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 --dir "$DIR" --save '' \
	--appendonly no --daemonize yes --logfile "$DIR/redis.log" --pidfile "$DIR/redis.pid"
for _ in $(seq 50); do redis-cli -s "$SOCK" ping >/dev/null 2>&1 && break; sleep 0.1; done
PPS_LAB=$LAB scripts/netlab.sh up >/dev/null 2>&1
URL=unix://$SOCK
SCAN=(-b "$ROOT/scripts/lab-blocklist.conf" -p 22,80,443,8080 --output-closed -c "$COOLDOWN"
	-e 11 198.18.0.0/20)
cmds() { redis-cli -s "$SOCK" info stats | sed -n 's/^total_commands_processed:\([0-9]*\).*/\1/p'; }

echo "mode,workers,run,wall_s,probes,rate_pps,results,redis_cmds,coord_cmds,coord_cmds_per_s" >"$OUT"
for run in $(seq "$RUNS"); do
	# the plain scan: one process, all of it at the total rate one worker has
	id=plain-$run
	c0=$(cmds)
	t0=$(date +%s.%N)
	ip netns exec $LAB-scan "$BIN" -i ${LAB}s -S 198.19.0.2 --gateway-ip 198.19.0.1 -q \
		--redis "$URL" --scan-id "$id" -r "$RATE" "${SCAN[@]}" 2>"$DIR/$id.err"
	t1=$(date +%s.%N)
	c1=$(cmds)
	res=$(redis-cli -s "$SOCK" hget "ppscan:$id:meta" results)
	echo "plain,1,$run,$(echo "$t1 - $t0" | bc),16384,$(echo "16384 / ($t1 - $t0)" | bc),$res,$((c1 - c0)),0,0" >>"$OUT"
	for w in 1 2 3; do
		id=join$w-$run
		"$BIN" --redis "$URL" --scan-id "$id" --plan --shards "$SHARDS" --lease 10 -r "$RATE" \
			"${SCAN[@]}" 2>/dev/null
		c0=$(cmds)
		t0=$(date +%s.%N)
		pids=()
		for k in $(seq "$w"); do
			ip netns exec $LAB-scan "$BIN" -i ${LAB}s -S 198.19.0.$((k + 1)) \
				--gateway-ip 198.19.0.1 -q --redis "$URL" --scan-id "$id" --join \
				--worker "w$k" 2>"$DIR/$id-w$k.err" &
			pids+=($!)
		done
		wait "${pids[@]}"
		t1=$(date +%s.%N)
		c1=$(cmds)
		res=$(redis-cli -s "$SOCK" hget "ppscan:$id:meta" results)
		coord=$(cat "$DIR/$id"-w*.err | sed -n 's/.* \([0-9]*\) coordination commands.*/\1/p' |
			awk '{ s += $1 } END { print s + 0 }')
		wall=$(echo "$t1 - $t0" | bc)
		echo "join,$w,$run,$wall,16384,$(echo "16384 / $wall" | bc),$res,$((c1 - c0)),$coord,$(echo "$coord / $wall" | bc)" >>"$OUT"
	done
done
echo "# medians of $RUNS runs ($(nproc) CPUs; $SHARDS shards at $RATE pps a shard, cooldown $COOLDOWN s a shard)"
awk -F, 'NR > 1 { k = $1 "," $2; wall[k] = wall[k] " " $4; rate[k] = rate[k] " " $6;
	red[k] = red[k] " " $8; co[k] = co[k] " " $10; res[k] = res[k] " " $7 }
	function med(s,   a, n) { n = split(s, a, " "); asort(a); return a[int((n + 1) / 2)] }
	END { printf "%-8s %-7s %8s %9s %10s %12s %14s\n", "mode", "workers", "wall_s", "rate_pps", "results",
		"redis_cmds", "coord_cmds/s";
	  for (k in wall) { split(k, p, ","); printf "%-8s %-7s %8.2f %9d %10d %12d %14d\n", p[1], p[2],
		med(wall[k]), med(rate[k]), med(res[k]), med(red[k]), med(co[k]) } }' "$OUT" | sort
