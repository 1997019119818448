#!/usr/bin/env bash
# install-deps.sh - install the Debian 12 packages ppscan needs to build, test and demo.
# Usage: scripts/install-deps.sh [--bench]   (--bench adds zmap, masscan, hyperfine, nginx, matplotlib)
# Idempotent: runs apt-get only when something is missing.
set -euo pipefail

PKGS=(
	build-essential pkg-config meson ninja-build clang
	dpdk-dev libdpdk-dev libpcap-dev libhiredis-dev libcriterion-dev libjansson-dev
	redis-server nftables iproute2 ethtool socat tcpdump procps
	python3 python3-scapy
	libssl-dev openssl ca-certificates
	prometheus
)
if [[ ${1:-} == --bench ]]; then
	PKGS+=(zmap masscan hyperfine valgrind nginx time python3-matplotlib)
fi

((EUID == 0)) || { echo "install-deps: must run as root" >&2; exit 1; }

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	echo "install-deps: all ${#PKGS[@]} packages present"
	exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
# the tests start their own prometheus in a lab namespace: none on the host
if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
	systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi
