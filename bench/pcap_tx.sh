#!/usr/bin/env bash
# pcap_tx.sh - ppscan-pcap's send paths compared: --send-method ring (PACKET_TX_RING, one
# send() per burst of 64), mmsg (sendmmsg of 64) and inject (pcap_inject, a call per probe),
# at -r 0 with 1 and 2 sender threads, on two devices inside a private namespace:
#   null  an ifb device (drops every frame in its xmit: the cost of the send path alone)
#   veth  a veth pair whose peer namespace's IP stack receives and drops each probe
# Usage (root): bench/pcap_tx.sh [BUILD_DIR] [RUNS]   (defaults: build, 3)
# Prints one line per method, device and thread count: the median send rate (from the status
# line's "done (... avg)") and the scanner's CPU seconds per million probes (user + sys).
# Only namespaces it creates (ppsbtx, ppsbtxp); both are removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
RUNS=${2:-3}
BIN=$(realpath -m "$BUILD")/fallback/ppscan-pcap
NS=ppsbtx
PEER=ppsbtxp
[[ -x $BIN ]] || { echo "pcap_tx: $BIN missing (ninja -C $BUILD)" >&2; exit 1; }
((EUID == 0)) || { echo "pcap_tx: must run as root" >&2; exit 1; }

cleanup() { ip netns del "$NS" 2>/dev/null || true; ip netns del "$PEER" 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add "$NS"
ip netns add "$PEER"
for n in "$NS" "$PEER"; do ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
ip -n "$NS" link add btxnull type ifb
ip -n "$NS" link add btxveth type veth peer name btxpeer netns "$PEER"
ip -n "$NS" link set btxnull up
ip -n "$NS" link set btxveth up
ip -n "$PEER" link set btxpeer up

# 198.18.0.0/16 x 32 ports = 2,097,152 probes; -b /dev/null: the lab range is not blocked.
OPTS=(-b /dev/null -S 198.19.0.2 -G 02:00:00:00:00:01 -p 1-32 -r 0 -c 1.5 --seed 1 -o /dev/null)
PROBES=2097152
printf '%-7s %-5s %2s  %12s  %14s\n' method dev T 'Mpps(median)' 'CPU s/Mprobe'
for dev in null veth; do
	for T in 1 2; do
		for m in ring mmsg inject; do
			rates=() cpus=()
			for _ in $(seq "$RUNS"); do
				out=$( { /usr/bin/time -f 'cpu %U %S' ip netns exec "$NS" "$BIN" -i "btx$dev" \
					"${OPTS[@]}" --send-method "$m" -T "$T" 198.18.0.0/16; } 2>&1) ||
					echo "pcap_tx: $m $dev T=$T failed: $(tail -1 <<<"$out")" >&2
				rate=$(grep -o 'done ([0-9.]* [KMG]p/s avg)' <<<"$out" | tail -1 |
					awk '{v=substr($2,2); u=$3; f=(u ~ /^M/)?1:(u ~ /^K/)?0.001:1000; printf "%.3f", v*f}')
				cpu=$(awk '/^cpu /{printf "%.2f", ($2+$3)*1e6/'"$PROBES"'}' <<<"$out")
				rates+=("${rate:-0}") cpus+=("${cpu:-0}")
			done
			med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
			printf '%-7s %-5s %2s  %12s  %14s\n' "$m" "$dev" "$T" "$(med "${rates[@]}")" "$(med "${cpus[@]}")"
		done
	done
done
