#!/usr/bin/env bash
# ab.sh - before/after of two builds, interleaved run by run (the machine is shared and noisy:
# compare medians of alternating runs, never a run against an old number). Per round: ppscan
# on net_null (no-rx=1, one TX lcore, bench/bench.py's ceiling command) for A then B, then
# dpdk-testpmd txonly on the same vdev, then bench_core (ns per probe and per response) for
# A and B; once at the end, callgrind instructions per probe and per response of each
# bench_core (exact, so one run is enough).
#
# Usage (root, hugepages reserved, under the lab lock):
#   flock /tmp/ppscan-lab.lock bench/ab.sh BUILD_A BUILD_B [ROUNDS]
# Builds are release builds with DPDK: meson setup DIR --buildtype=release -Ddpdk=enabled
# (an old commit: git worktree add /tmp/old REV && meson setup DIR /tmp/old ...).
# Prints one line per measurement and the medians; nothing is written elsewhere.
set -euo pipefail
A=${1:?build A}
B=${2:?build B}
ROUNDS=${3:-5}
PROBES=${PPS_AB_PROBES:-40000000}

null_run() { # BUILD -> probes/s of the send phase
	"$1/dpdk_app/ppscan" --in-memory --no-pci --no-telemetry --vdev net_null0,no-rx=1 -l 0-1 -- \
		-G 02:00:00:00:00:01 -S 198.19.0.2 -b /dev/null -p 22,80,443,8080 -r 0 -c 0 -q \
		--seed 1 -n "$PROBES" -T 1 -o /dev/null 10.0.0.0/8 2>&1 |
		sed -n 's/.*send phase [0-9.]* s, [0-9]* probes, \([0-9.]*\) probes.s/\1/p' || true
}
testpmd_run() { # -> median Tx-pps of the once-a-second samples
	timeout -s INT 6 dpdk-testpmd --in-memory --no-pci --no-telemetry -l 0-1 \
		--vdev net_null0,no-rx=1 -- --forward-mode=txonly --nb-cores=1 --stats-period 1 \
		--auto-start 2>/dev/null | grep -o 'Tx-pps: *[0-9]*' | awk '{print $2}' |
		sed -n '2,4p' | sort -n | sed -n 2p || true # timeout(1) ends it: exit 124
}
core_run() { # BUILD -> "gen_ns val_ns"
	"$1/bench/bench_core" 10000000 4000000 |
		sed -n 's/.*gen_ns=\([0-9.]*\) val_ns=\([0-9.]*\).*/\1 \2/p' || true
}
callgrind_run() { # BUILD -> "Ir/probe Ir/response"
	local out
	out=$(mktemp /tmp/ppscan-ab-cg.XXXXXX)
	valgrind --tool=callgrind --callgrind-out-file="$out" "$1/bench/bench_core" 200000 200000 \
		>/dev/null 2>&1
	callgrind_annotate --inclusive=yes "$out" | awk '
		/bench_generate[.a-z0-9]* \[/ && !g { gsub(",", "", $1); g = $1 / 200000 }
		/bench_validate \[/ && !v { gsub(",", "", $1); v = $1 / 200000 }
		END { printf "%.1f %.1f\n", g, v }'
	rm -f "$out"
}
median() { sort -g | awk '{ a[NR] = $1 } END { printf "%.3f\n", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

T=$(mktemp -d /tmp/ppscan-ab.XXXXXX)
trap 'rm -rf "$T"' EXIT
for r in $(seq "$ROUNDS"); do
	na=$(null_run "$A"); nb=$(null_run "$B"); tp=$(testpmd_run)
	read -r ga va <<<"$(core_run "$A")"
	read -r gb vb <<<"$(core_run "$B")"
	echo "round $r: null A $na B $nb testpmd $tp | gen_ns A $ga B $gb | val_ns A $va B $vb"
	echo "$na" >>"$T/na"; echo "$nb" >>"$T/nb"; echo "$tp" >>"$T/tp"
	echo "$ga" >>"$T/ga"; echo "$gb" >>"$T/gb"; echo "$va" >>"$T/va"; echo "$vb" >>"$T/vb"
done
read -r ia ja <<<"$(callgrind_run "$A")"
read -r ib jb <<<"$(callgrind_run "$B")"
tp=$(median <"$T/tp")
for s in a b; do
	n=$(median <"$T/n$s")
	[[ $s = a ]] && name="A $A" ir="$ia Ir/probe, $ja Ir/response" || name="B $B" ir="$ib Ir/probe, $jb Ir/response"
	awk -v name="$name" -v n="$n" -v tp="$tp" -v g="$(median <"$T/g$s")" -v v="$(median <"$T/v$s")" -v ir="$ir" \
		'BEGIN { printf "%s: net_null %.2f Mpps (%.2f x testpmd txonly %.2f Mpps), %s ns/probe, %s ns/response, %s\n", name, n / 1e6, n / tp, tp / 1e6, g, v, ir }'
done
