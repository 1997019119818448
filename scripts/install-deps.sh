#!/usr/bin/env bash
# install-deps.sh - install the Debian 12 packages ppscan needs to build, test and demo.
# Usage: scripts/install-deps.sh [--bench]   (--bench adds zmap, masscan, hyperfine, nginx,
# matplotlib, nmap and the servers bench/id_bench.sh measures)
# Idempotent: runs apt-get only when something is missing.
set -euo pipefail

PKGS=(
	build-essential pkg-config meson ninja-build clang
	dpdk-dev libdpdk-dev libpcap-dev libhiredis-dev libcriterion-dev libjansson-dev
	redis-server nftables iproute2 ethtool socat tcpdump procps
	python3 python3-scapy
	libssl-dev openssl ca-certificates
	# UDP servers for the lab (tests/lab/udp_lab.sh; their daemons are never started on the host)
	dnsmasq-base chrony snmpd memcached coturn tftpd-hpa rpcbind kamailio libcoap3-bin
	openbsd-inetd
	dpkg-dev debhelper fakeroot lintian man-db groff-base bash-completion
	prometheus
)
# ppscan-id (issue 12): PCRE2 for fingerprints, nghttp2 for HTTP/2 frames, jsonschema for the
# record schema in tests, and the real servers its lab identifies
ID_PKGS=(libpcre2-dev libnghttp2-dev python3-jsonschema nginx openssh-server vsftpd postfix
	dovecot-imapd dovecot-pop3d)
PKGS+=("${ID_PKGS[@]}")
# ppscan-id lab servers of tests/id/servers_b.sh (Telnet ... XMPP; daemons kept off the host)
ID_B_PKGS=(inetutils-telnetd unbound memcached mosquitto postgresql mariadb-server slapd
	rsync samba xrdp tigervnc-standalone-server prosody kamailio gir1.2-gst-rtsp-server-1.0
	python3-gi gstreamer1.0-plugins-base gstreamer1.0-plugins-good python3-bson
	python3-jsonschema jq)
PKGS+=("${ID_B_PKGS[@]}")
# ppscan-id's benchmark (bench/id_bench.sh): Debian's nmap -sV beside it, and the servers
ID_C_BENCH_PKGS=(nmap nginx openssh-server redis-server memcached)
# ppscan-id lab servers of the AMQP, ZooKeeper, IRC, NNTP, SOCKS, Modbus, IPP, RMI and X11
# modules (tests/id/servers_d.sh; pymodbus imports python3-serial and python3-serial-asyncio)
ID_D_PKGS=(rabbitmq-server zookeeper default-jre-headless ngircd inn2 dante-server python3-pymodbus
	python3-serial python3-serial-asyncio cups-daemon xvfb)
PKGS+=("${ID_D_PKGS[@]}")
if [[ ${1:-} == --bench ]]; then
	PKGS+=(zmap masscan hyperfine valgrind nginx time python3-matplotlib)
	PKGS+=("${ID_C_BENCH_PKGS[@]}")
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
# the lab's servers run in namespaces only: keep their packages from starting daemons here
policy=
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	policy=1
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}" || {
	# inn2's postinst stops when the host name does not resolve to a domain: give INN one
	# (the lab's servers never use it) and finish the configuration
	[[ -f /etc/news/inn.conf ]] && ! grep -q '^domain:' /etc/news/inn.conf || exit 1
	sed -i 's/^#\?domain:.*/domain:                      lab.test/' /etc/news/inn.conf
	dpkg --configure -a
}
[[ -z $policy ]] || rm -f /usr/sbin/policy-rc.d
# the tests start their own prometheus in a lab namespace: none on the host
if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
	systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi
