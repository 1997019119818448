#!/usr/bin/env bash
# demo.sh - the main job on a fresh Debian 12 machine, as root: install what is missing,
# build, reserve hugepages, bring up the lab (scripts/netlab.sh) and run a real ppscan scan
# of it: 198.18.0.0/20 x 22,80,443,8080 through DPDK's af_packet PMD. Open ports go to
# stdout as CSV; the status line and summary go to stderr. The lab is removed at exit.
# Extra arguments are passed to ppscan as scan options (e.g. --output-closed, -O json).
set -euo pipefail
cd "$(dirname "$0")/.."

export PPS_LAB=${PPS_LAB:-ppsdemo}
scripts/install-deps.sh >&2
scripts/build.sh >&2
scripts/hugepages.sh 512 >&2
trap 'scripts/netlab.sh down >/dev/null 2>&1 || true' EXIT
scripts/netlab.sh up >&2
eval "$(scripts/netlab.sh env)"

echo "demo: scanning ${PPS_TARGETS} x ports ${PPS_PORTS} from ${PPS_SRC_IP} in namespace ${PPS_SCAN_NS}" >&2
BUILD=${PPS_BUILD_DIR:-build}
[[ $BUILD == /* ]] || BUILD=$PWD/$BUILD
ip netns exec "$PPS_SCAN_NS" "$BUILD/dpdk_app/ppscan" \
	--in-memory --no-telemetry --no-pci -l 0-1 --vdev "$PPS_VDEV" -- \
	-b "$PPS_BLOCKLIST" -S "$PPS_SRC_IP" --gateway-ip "$PPS_GW_IP" -p "$PPS_PORTS" -r 20000 -c 4 \
	"$@" "$PPS_TARGETS"
