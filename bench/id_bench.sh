#!/usr/bin/env bash
# id_bench.sh - ppscan-id beside Debian's nmap -sV (default intensity) on the same lab
# endpoints, in one run: agreement per endpoint (protocol, product, version), endpoints
# identified per second, endpoints per CPU-second (plaintext) and TLS handshakes per
# CPU-second, memory per connection at concurrency 100, 1,000 and 10,000.
#
# Usage (root, under the lab lock): flock /tmp/ppscan-lab.lock bench/id_bench.sh [BUILD_DIR]
#   (default build; ppscan-id from BUILD_DIR/id/ppscan-id; a release build measures best:
#   meson setup build-rel --buildtype=release)
# Environment:
#   PPS_LAB=ppsidc       lab name (netlab.sh), removed at the end
#   NMAP_HOSTS=64        addresses nmap -sV and ppscan-id both identify (x 5 ports)
#   ID_ADDRS=3072        addresses of ppscan-id's throughput runs (x 5 ports: 15,360 endpoints)
#   ID_CONCURRENCY=5000  ppscan-id -c for the throughput runs
#   RUNS=3               throughput runs of ppscan-id (the median is reported)
#   LEVELS="100 1000 10000"  concurrency levels of the memory measurement
# Writes bench/results/id_bench.json, bench/results/id_agreement.csv and the ppscan-id
# section of BENCHMARKS.md (bench/id_bench.py). Needs `scripts/install-deps.sh --bench`
# (nmap, nginx, openssh-server, redis-server, memcached).
#
# Setup: netlab.sh builds the lab (the target namespace answers for 198.18.0.0/20 through an
# AnyIP route); tests/tls/tls_lab.sh client-up adds the client namespace (198.19.1.2) where
# both nmap and ppscan-id run; bench/id_servers.sh starts the real servers on 0.0.0.0 in the
# target namespace, so each of 198.18.4.0-198.18.15.255 (no nftables rule there) is one more
# endpoint of the same five services; tests/id/hostile_lab.sh silent adds silent listeners on
# 7001-7004 (and, once the servers are stopped, on 4443, 8443, 9443, 10443) for the memory
# measurement. Everything stays inside the lab (198.18.0.0/15).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${1:-build}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
BIN=$BUILD/id/ppscan-id
export PPS_LAB=${PPS_LAB:-ppsidc}
CLI=$PPS_LAB-cli

((EUID == 0)) || { echo "id_bench: must run as root" >&2; exit 1; }
[[ -x $BIN ]] || { echo "id_bench: $BIN not built" >&2; exit 1; }
command -v nmap >/dev/null || { echo "id_bench: nmap missing (scripts/install-deps.sh --bench)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"

WORK=$(mktemp -d /tmp/ppscan-id-bench.XXXXXX)
cleanup() {
	bench/id_servers.sh stop "$WORK/srv" || true
	tests/id/hostile_lab.sh stop "$WORK" >/dev/null 2>&1 || true
	tests/tls/tls_lab.sh client-down "$PPS_LAB" >/dev/null 2>&1 || true
	scripts/netlab.sh down >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

scripts/netlab.sh up >/dev/null 2>&1
tests/tls/tls_lab.sh client-up "$PPS_LAB"
ip netns exec "$CLI" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
bench/id_servers.sh start "$PPS_LAB" "$WORK/srv"
tests/id/hostile_lab.sh silent "$PPS_LAB" "$WORK" 7001 7002 7003 7004
/usr/bin/python3 bench/id_bench.py "$BIN" "$CLI" "$WORK" "$PPS_LAB"
