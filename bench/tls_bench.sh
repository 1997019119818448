#!/usr/bin/env bash
# tls_bench.sh - TLS handshakes per second of ppscan-tls against one local TLS server in the
# lab, at several concurrency levels, beside `openssl s_time` on the same server (reference).
#
# Usage (root): bench/tls_bench.sh [BUILD_DIR]   (default build)
# Writes bench/results/tls_bench_SERVER_KEY.txt and prints the same table.
# Environment:
#   PPS_LAB=ppst7b           lab name (netlab.sh), removed at the end
#   LEVELS="1 10 100 1000"   ppscan-tls --concurrency values
#   N=5000                   handshakes a level (endpoints: N lab addresses x port 8443)
#   STIME_SECS=10            duration of each s_time run
#   REPEAT=3                 runs of each measurement; the best is reported (the machine is shared)
#   SERVER=s_server|nginx    the server (nginx: install-deps.sh --bench; one worker process)
#   KEY=rsa|ec               server key: RSA-2048 or ECDSA P-256 (default rsa)
#
# Setup: netlab.sh builds the lab; tests/tls/tls_lab.sh client-up adds a client namespace with
# a kernel address (198.19.1.2) routed to the target namespace. The server listens on
# 0.0.0.0:8443 in the target namespace, so with the lab's AnyIP route every address of
# 198.18.0.0/20 reaches it; endpoints are taken from 198.18.4.0-198.18.15.255 (no nftables
# rule there) so the per-address cap never binds. Each level is a fresh ppscan-tls run with
# --rate 0 (no pacing), --alpn none, and its own summary line gives handshakes/s.
# Everything stays inside the lab's namespaces (198.18.0.0/15).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${1:-build}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
TLS_BIN=$BUILD/tls/ppscan-tls
export PPS_LAB=${PPS_LAB:-ppst7b}
LEVELS=${LEVELS:-1 10 100 1000}
N=${N:-5000}
STIME_SECS=${STIME_SECS:-10}
REPEAT=${REPEAT:-3}
SERVER=${SERVER:-s_server}
KEY=${KEY:-rsa}
TGT=$PPS_LAB-tgt
CLI=$PPS_LAB-cli

((EUID == 0)) || { echo "tls_bench: must run as root" >&2; exit 1; }
[[ -x $TLS_BIN ]] || { echo "tls_bench: $TLS_BIN not built" >&2; exit 1; }

WORK=$(mktemp -d /tmp/ppscan-tls-bench.XXXXXX)
SERVER_PID=
cleanup() {
	[[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null || true
	[[ -f $WORK/nginx.pid ]] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
	tests/tls/tls_lab.sh client-down "$PPS_LAB" >/dev/null 2>&1 || true
	scripts/netlab.sh down >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

scripts/netlab.sh up >/dev/null 2>&1
tests/tls/tls_lab.sh client-up "$PPS_LAB"

if [[ $KEY == ec ]]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/k.pem" \
		-out "$WORK/c.pem" -days 30 -subj "/CN=bench.lab.test" >/dev/null 2>&1
else
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/k.pem" -out "$WORK/c.pem" \
		-days 30 -subj "/CN=bench.lab.test" >/dev/null 2>&1
fi

case $SERVER in
s_server)
	ip netns exec "$TGT" openssl s_server -quiet -www -accept 8443 \
		-cert "$WORK/c.pem" -key "$WORK/k.pem" </dev/null >"$WORK/server.log" 2>&1 &
	SERVER_PID=$!
	;;
nginx)
	command -v nginx >/dev/null || { echo "tls_bench: nginx not installed" >&2; exit 1; }
	cat >"$WORK/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 4096; }
http {
	access_log off;
	server {
		listen 8443 ssl backlog=4096;
		ssl_certificate $WORK/c.pem;
		ssl_certificate_key $WORK/k.pem;
		ssl_session_cache off;
		ssl_session_tickets off;
		location / { return 204; }
	}
}
EOF
	ip netns exec "$TGT" nginx -c "$WORK/nginx.conf" -e "$WORK/nginx.err"
	;;
*) echo "tls_bench: SERVER is s_server or nginx" >&2; exit 1 ;;
esac
for _ in $(seq 100); do
	ip netns exec "$TGT" ss -Hltn "sport = :8443" | grep -q . && break
	sleep 0.05
done

# N endpoints on distinct lab addresses (198.18.4.0 upwards, 3,072 addresses, then again)
python3 - "$N" >"$WORK/endpoints.csv" <<'EOF'
import sys
n = int(sys.argv[1])
print("saddr,sport,classification")
base = (198 << 24) | (18 << 16) | (4 << 8)
for i in range(n):
    a = base + i % 3072
    print(f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255},8443,synack")
EOF

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b > 0 ? a / b : 0) }'; }

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
OSSL=$(openssl version)
RESULTS=bench/results/tls_bench_${SERVER}_${KEY}.txt
mkdir -p bench/results
{
	echo "# ppscan-tls handshake benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# $(nproc) CPUs ($CPU), $OSSL, server $SERVER ($KEY key, TLS 1.3, full handshakes)"
	echo "# client and server share the machine; client in $CLI, server in $TGT"
	echo "# best of $REPEAT runs each; client CPU = user + system seconds of that run"
	printf "%-28s %12s %12s %10s %14s\n" "client" "handshakes" "seconds" "hs/s" "client CPU s"
} | tee "$RESULTS"

for c in $LEVELS; do
	best=
	for _ in $(seq "$REPEAT"); do
		/usr/bin/time -f "%U %S" -o "$WORK/cpu.txt" ip netns exec "$CLI" "$TLS_BIN" \
			-b "$ROOT/scripts/lab-blocklist.conf" -c "$c" -r 0 --alpn none -t 30 \
			--connect-timeout 30 -o "$WORK/out.json" "$WORK/endpoints.csv" 2>"$WORK/summary.txt"
		line=$(tail -1 "$WORK/summary.txt")
		hs=$(sed -E 's/.* ([0-9]+) handshakes.*/\1/' <<<"$line")
		secs=$(sed -E 's/.* endpoints in ([0-9.]+) s.*/\1/' <<<"$line")
		tls=$(grep -c '"classification":"tls"' "$WORK/out.json" || true)
		((tls == N)) || echo "# warning: $tls of $N endpoints completed at concurrency $c: $line"
		cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$WORK/cpu.txt")
		rm -f "$WORK/out.json"
		rate=$(ratio "$hs" "$secs")
		if [[ -z $best ]] || ((rate > ${best%% *})); then best="$rate $hs $secs $cpu"; fi
	done
	read -r rate hs secs cpu <<<"$best"
	printf "%-28s %12s %12s %10s %14s\n" "ppscan-tls -c $c" "$hs" "$secs" "$rate" "$cpu" |
		tee -a "$RESULTS"
done

# reference: openssl s_time, one connection at a time, full handshakes (-new); best of REPEAT
best=
for _ in $(seq "$REPEAT"); do
	out=$(/usr/bin/time -f "%U %S" -o "$WORK/cpu.txt" ip netns exec "$CLI" openssl s_time \
		-connect 198.18.4.1:8443 -new -time "$STIME_SECS" 2>&1)
	n=$(grep -m1 'connections in' <<<"$out" | sed -E 's/^([0-9]+) connections in.*/\1/')
	real=$(grep -m1 'real seconds' <<<"$out" | sed -E 's/.* in ([0-9]+) real seconds.*/\1/')
	cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$WORK/cpu.txt")
	rate=$(ratio "$n" "$real")
	if [[ -z $best ]] || ((rate > ${best%% *})); then best="$rate $n $real $cpu"; fi
done
read -r rate n real cpu <<<"$best"
printf "%-28s %12s %12s %10s %14s\n" "openssl s_time -new" "$n" "$real" "$rate" "$cpu" |
	tee -a "$RESULTS"
