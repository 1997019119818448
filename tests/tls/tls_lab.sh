#!/usr/bin/env bash
# tls_lab.sh - the TLS side of the lab for the ppscan-tls suites (root).
#
#   tls_lab.sh certs DIR          test CA and server certificates into DIR (fixed dates/serials)
#   tls_lab.sh client-up LAB      namespace LAB-cli with a kernel address, joined to LAB-tgt
#   tls_lab.sh client-down LAB    removes it (and whatever still runs in it)
#   tls_lab.sh servers LAB DIR    starts the servers below in LAB-tgt (pids in DIR/pids)
#   tls_lab.sh stop DIR           stops the servers recorded in DIR/pids
#
# The scanner namespace of netlab.sh has no kernel address (DPDK owns its veth), but
# ppscan-tls uses the kernel's TCP stack. So the client gets its own namespace and veth:
#
#   LAB-cli: LABc 198.19.1.2/24 <-- veth --> LABk 198.19.1.1/24 :LAB-tgt
#            route 198.18.0.0/20 via 198.19.1.1 (no default route: nothing leaves the lab)
#
# Servers (target namespace; the AnyIP route lets them bind single lab addresses):
#   198.18.0.10:8443  openssl s_server -tls1_3, RSA-2048 self-signed   CN=tls13.lab.test
#   198.18.0.11:8443  openssl s_server -tls1_2, ECDSA P-256 by the CA   CN=tls12.lab.test (+ CA)
#   198.18.0.12:8443  openssl s_server, RSA-2048 by the CA, expired     CN=expired.lab.test
#   198.18.0.13:8443  openssl s_server -alpn h2 (cert of .10)
#   198.18.0.14:8022  socat: "SSH-2.0-OpenSSH_9.2\r\n", then silence (plaintext)
#   198.18.0.15:8444  socat: accepts and never writes (stall)
#   198.18.0.16:8443  openssl s_server at security level 0: TLS 1.0 to 1.3 (cert of .10)
# Only addresses of 198.18.0.0/15 are used.
set -euo pipefail

die() { echo "tls_lab: $*" >&2; exit 1; }
((EUID == 0)) || die "must run as root"

# One certificate through `openssl ca` (fixed dates and serial). $1 name, $2 serial (hex),
# $3 start, $4 end, $5 self|ca.
sign() {
	local name=$1 serial=$2 start=$3 end=$4 how=$5
	echo "$serial" >"$D/db/serial"
	if [[ $how == self ]]; then
		openssl ca -batch -config "$D/ca.cnf" -selfsign -keyfile "$D/$name.key" \
			-in "$D/$name.csr" -out "$D/$name.crt" -startdate "$start" -enddate "$end" \
			-notext -preserveDN >/dev/null 2>&1
	else
		openssl ca -batch -config "$D/ca.cnf" -cert "$D/ca.crt" -keyfile "$D/ca.key" \
			-in "$D/$name.csr" -out "$D/$name.crt" -startdate "$start" -enddate "$end" \
			-notext -preserveDN >/dev/null 2>&1
	fi
}

cmd_certs() {
	D=$1
	mkdir -p "$D/db"
	: >"$D/db/index.txt"
	cat >"$D/ca.cnf" <<EOF
[ca]
default_ca = lab
[lab]
database = $D/db/index.txt
new_certs_dir = $D/db
serial = $D/db/serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[any]
countryName = optional
organizationName = optional
commonName = supplied
EOF
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/ca.key" -out "$D/ca.crt" \
		-days 3650 -subj "/O=ppscan lab/CN=ppscan lab CA" >/dev/null 2>&1
	# TLS 1.3 server: RSA-2048, self-signed
	openssl req -new -newkey rsa:2048 -nodes -keyout "$D/tls13.key" -out "$D/tls13.csr" \
		-subj "/C=XX/O=ppscan lab/CN=tls13.lab.test" \
		-addext "subjectAltName=DNS:tls13.lab.test,IP:198.18.0.10" >/dev/null 2>&1
	sign tls13 1001 20250101000000Z 20350101000000Z self
	# TLS 1.2 server: ECDSA P-256, signed by the test CA
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/tls12.key" \
		-out "$D/tls12.csr" -subj "/O=ppscan lab/CN=tls12.lab.test" \
		-addext "subjectAltName=DNS:tls12.lab.test,DNS:www.tls12.lab.test" >/dev/null 2>&1
	sign tls12 2002 20250201000000Z 20350201000000Z ca
	# expired: RSA-2048, signed by the test CA, valid 2020 only
	openssl req -new -newkey rsa:2048 -nodes -keyout "$D/expired.key" -out "$D/expired.csr" \
		-subj "/CN=expired.lab.test" -addext "subjectAltName=DNS:expired.lab.test" >/dev/null 2>&1
	sign expired 3003 20200101000000Z 20210101000000Z ca
	printf 'SSH-2.0-OpenSSH_9.2\r\n' >"$D/banner.txt"
	for c in ca tls13 tls12 expired; do
		[[ -s $D/$c.crt ]] || die "certificate $c was not created"
	done
}

cmd_client_up() {
	local lab=$1 ns=$1-cli
	ip netns list | awk '{print $1}' | grep -qxF "$lab-tgt" || die "lab $lab is not up"
	cmd_client_down "$lab"
	ip netns add "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip link add "${lab}c" netns "$ns" type veth peer name "${lab}k" netns "$lab-tgt"
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add 198.19.1.2/24 dev "${lab}c"
	ip -n "$ns" link set "${lab}c" up
	ip -n "$lab-tgt" addr add 198.19.1.1/24 dev "${lab}k"
	ip -n "$lab-tgt" link set "${lab}k" up
	ip -n "$ns" route add 198.18.0.0/20 via 198.19.1.1
}

cmd_client_down() {
	local lab=$1 ns=$1-cli pid
	ip netns list | awk '{print $1}' | grep -qxF "$ns" || return 0
	for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
	ip netns del "$ns"
}

# start NAME ADDR:PORT CMD...: runs CMD in the target namespace, records its pid.
start() {
	local name=$1 where=$2
	shift 2
	ip netns exec "$TGT" setsid "$@" </dev/null >"$D/$name.log" 2>&1 &
	echo "$!" >>"$D/pids"
	WAIT+=("$where")
}

cmd_servers() {
	local lab=$1 w _
	D=$2
	TGT=$lab-tgt
	WAIT=()
	: >"$D/pids"
	start tls13 198.18.0.10:8443 openssl s_server -quiet -www -accept 198.18.0.10:8443 \
		-cert "$D/tls13.crt" -key "$D/tls13.key" -tls1_3
	start tls12 198.18.0.11:8443 openssl s_server -quiet -www -accept 198.18.0.11:8443 \
		-cert "$D/tls12.crt" -key "$D/tls12.key" -cert_chain "$D/ca.crt" -tls1_2
	start expired 198.18.0.12:8443 openssl s_server -quiet -www -accept 198.18.0.12:8443 \
		-cert "$D/expired.crt" -key "$D/expired.key"
	start alpn 198.18.0.13:8443 openssl s_server -quiet -www -accept 198.18.0.13:8443 \
		-cert "$D/tls13.crt" -key "$D/tls13.key" -alpn h2
	start ssh 198.18.0.14:8022 socat TCP-LISTEN:8022,bind=198.18.0.14,reuseaddr,fork \
		"SYSTEM:cat $D/banner.txt; exec sleep 60"
	start stall 198.18.0.15:8444 socat TCP-LISTEN:8444,bind=198.18.0.15,reuseaddr,fork \
		"SYSTEM:exec sleep 60"
	start legacy 198.18.0.16:8443 openssl s_server -quiet -www -accept 198.18.0.16:8443 \
		-cert "$D/tls13.crt" -key "$D/tls13.key" -cipher 'ALL:@SECLEVEL=0'
	for w in "${WAIT[@]}"; do
		for _ in $(seq 100); do
			ip netns exec "$TGT" ss -Hltn "src $w" | grep -q . && continue 2
			sleep 0.05
		done
		die "no listener on $w (see $D/*.log)"
	done
}

cmd_stop() {
	local D=$1 pid
	[[ -f $D/pids ]] || return 0
	while read -r pid; do
		[[ $pid =~ ^[0-9]+$ ]] && kill -TERM "$pid" 2>/dev/null || true
	done <"$D/pids"
	rm -f "$D/pids"
}

case ${1:-} in
certs) cmd_certs "$2" ;;
client-up) cmd_client_up "$2" ;;
client-down) cmd_client_down "$2" ;;
servers) cmd_servers "$2" "$3" ;;
stop) cmd_stop "$2" ;;
*) die "usage: tls_lab.sh certs DIR | client-up LAB | client-down LAB | servers LAB DIR | stop DIR" ;;
esac
