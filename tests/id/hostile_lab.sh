#!/usr/bin/env bash
# hostile_lab.sh - hostile servers for the ppscan-id suites, in a lab's target namespace (root).
#
#   hostile_lab.sh certs DIR          a TLS chain of 50 certificates into DIR (openssl)
#   hostile_lab.sh start LAB DIR      starts the servers below in LAB-tgt; DIR/endpoints.csv
#                                     lists them (case,ip,port), the pids go to DIR/pids
#   hostile_lab.sh silent LAB DIR PORT...  silent listeners on 0.0.0.0:PORT in LAB-tgt: with
#                                     the AnyIP route every lab address answers there (the
#                                     memory-per-connection measurement's thousands of endpoints)
#   hostile_lab.sh stop DIR           stops what start and silent started, removes the nft table
#
# The lab comes from scripts/netlab.sh (LAB-tgt answers for 198.18.0.0/20 through an AnyIP
# route) and the client namespace from tests/tls/tls_lab.sh client-up. Endpoints, one
# address each (servers: tests/id/hostile_servers.py unless said otherwise):
#
#   198.18.0.64:9001  flood            10 MiB of text lines, then close
#   198.18.0.65:9002  flood_http       an HTTP/1.1 200 to a request, whose body is 10 MiB
#   198.18.0.66:9003  trickle          an SSH greeting at one byte a second
#   198.18.0.67:9004  noise            64 KiB of binary noise, then silence
#   198.18.0.68:9005  badutf8_ssh      SSH identification with invalid UTF-8
#   198.18.0.69:9006  badutf8_http     HTTP reply with invalid UTF-8 in Server and title
#   198.18.0.70:9007  nonewline        "220 mail.lab.test ESMTP" and never a newline
#   198.18.0.71:9008  nonewline_long   "SSH-2.0-" and 1 MiB without a newline
#   198.18.0.72:9009  rst              RST right after the handshake (SO_LINGER 0)
#   198.18.0.73:9010  halfclose        FIN at once, keeps reading
#   198.18.0.74:9011  halfclose_banner SSH greeting, then FIN, keeps reading
#   198.18.0.75:9012  silent           accepts, never sends (no_service)
#   198.18.0.76:9013  tlschain50       openssl s_server -www sending 50 certificates
#   198.18.0.77:1-65535 middlebox      nftables DNATs every port to one silent listener
#                                      (the host that answers SYNs on every port)
#   198.18.0.78:9014  memcached_offport  a real memcached on an unexpected port: the port
#                                      hint is useless, higher-weight requests come first and
#                                      draw its "ERROR" (the engine must then try memcached's
#                                      own request rather than five others)
# Only addresses of 198.18.0.0/15 are used.
set -euo pipefail

die() { echo "hostile_lab: $*" >&2; exit 1; }
((EUID == 0)) || die "must run as root"
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
NFT_TABLE=ppshostile
CHAIN_LEN=50

CASES=(
	"flood 198.18.0.64 9001"
	"flood_http 198.18.0.65 9002"
	"trickle 198.18.0.66 9003"
	"noise 198.18.0.67 9004"
	"badutf8_ssh 198.18.0.68 9005"
	"badutf8_http 198.18.0.69 9006"
	"nonewline 198.18.0.70 9007"
	"nonewline_long 198.18.0.71 9008"
	"rst 198.18.0.72 9009"
	"halfclose 198.18.0.73 9010"
	"halfclose_banner 198.18.0.74 9011"
	"silent 198.18.0.75 9012"
)
TLS_CASE="tlschain50 198.18.0.76 9013"
MBOX_IP=198.18.0.77
MBOX_PORT=9099 # where the middlebox's connections really land

# detached LOG CMD...: CMD in the background, in a session of its own, stdin /dev/null, output
# to LOG, and without any descriptor above 2 of ours: a daemon must not keep the lab lock
# (flock /tmp/ppscan-lab.lock ...) its caller holds beyond the caller's life. Its pid (the
# session's) is appended to $PIDS.
detached() {
	local log=$1 fd
	shift
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			((fd > 2)) && { eval "exec $fd>&-" 2>/dev/null || true; }
		done
		exec setsid "$@"
	) </dev/null >"$log" 2>&1 &
	echo "$!" >>"$PIDS"
}

# certs DIR: root (self-signed) <- 48 intermediates <- leaf: 50 certificates. The server
# sends the leaf and DIR/chain50.pem (the other 49, nearest first). EC P-256 keeps it fast.
cmd_certs() {
	local D=$1 i prev
	mkdir -p "$D/chain"
	local C=$D/chain
	printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$C/ca.ext"
	printf 'basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:chain50.lab.test\n' >"$C/leaf.ext"
	for ((i = CHAIN_LEN - 1; i >= 0; i--)); do
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$C/$i.key" 2>/dev/null
	done
	# certificate 49 is the root, 1..48 intermediates, 0 the leaf
	openssl req -x509 -new -key "$C/49.key" -subj "/O=ppscan lab/CN=chain root 49" \
		-days 3650 -set_serial 4900 -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign -out "$C/49.crt" 2>/dev/null
	prev=49
	for ((i = CHAIN_LEN - 2; i >= 0; i--)); do
		local cn="chain intermediate $i" ext=$C/ca.ext
		((i == 0)) && cn=chain50.lab.test ext=$C/leaf.ext
		openssl req -new -key "$C/$i.key" -subj "/O=ppscan lab/CN=$cn" -out "$C/$i.csr" 2>/dev/null
		openssl x509 -req -in "$C/$i.csr" -CA "$C/$prev.crt" -CAkey "$C/$prev.key" \
			-set_serial $((4900 + i)) -days 3650 -sha256 -extfile "$ext" \
			-out "$C/$i.crt" 2>/dev/null
		prev=$i
	done
	cp "$C/0.crt" "$D/chain50-leaf.crt"
	cp "$C/0.key" "$D/chain50-leaf.key"
	cp "$C/49.crt" "$D/chain50-root.crt"
	: >"$D/chain50.pem"
	for ((i = 1; i < CHAIN_LEN; i++)); do cat "$C/$i.crt" >>"$D/chain50.pem"; done
	local n
	n=$(grep -c 'BEGIN CERTIFICATE' "$D/chain50.pem")
	((n == CHAIN_LEN - 1)) || die "chain50.pem has $n certificates, want $((CHAIN_LEN - 1))"
	openssl verify -CAfile "$D/chain50-root.crt" -untrusted "$D/chain50.pem" \
		"$D/chain50-leaf.crt" >/dev/null || die "the 50-certificate chain does not verify"
}

# wait_listen NS ADDR:PORT...: until each has a listener (5 s each at most)
wait_listen() {
	local ns=$1 w _
	shift
	for w in "$@"; do
		for _ in $(seq 100); do
			ip netns exec "$ns" ss -Hltn "src $w" | grep -q . && continue 2
			sleep 0.05
		done
		die "no listener on $w"
	done
}

cmd_start() {
	local lab=$1 D=$2 c mode ip port specs=() wait=()
	local tgt=$lab-tgt
	ip netns list | awk '{print $1}' | grep -qxF "$tgt" || die "lab $lab is not up"
	[[ -s $D/chain50.pem ]] || cmd_certs "$D"
	: >"$D/pids"
	echo "case,ip,port" >"$D/endpoints.csv"
	for c in "${CASES[@]}"; do
		read -r mode ip port <<<"$c"
		specs+=("$mode@$ip:$port")
		wait+=("$ip:$port")
		echo "$mode,$ip,$port" >>"$D/endpoints.csv"
	done
	specs+=("silent@$MBOX_IP:$MBOX_PORT")
	wait+=("$MBOX_IP:$MBOX_PORT")
	rm -f "$D/hostile.pid"
	PIDS=$D/pids
	detached "$D/hostile.log" ip netns exec "$tgt" "$PY" "$HERE/hostile_servers.py" \
		--pidfile "$D/hostile.pid" "${specs[@]}"
	read -r mode ip port <<<"$TLS_CASE"
	detached "$D/tlschain50.log" ip netns exec "$tgt" openssl s_server -quiet -www \
		-accept "$ip:$port" -cert "$D/chain50-leaf.crt" -key "$D/chain50-leaf.key" \
		-cert_chain "$D/chain50.pem"
	echo "$mode,$ip,$port" >>"$D/endpoints.csv"
	wait+=("$ip:$port")
	# the middlebox: every TCP port of MBOX_IP lands on the silent listener
	ip netns exec "$tgt" nft -f - <<EOF
table ip $NFT_TABLE {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr $MBOX_IP tcp dport != $MBOX_PORT dnat to $MBOX_IP:$MBOX_PORT
	}
}
EOF
	if [[ -x /usr/bin/memcached ]]; then
		detached "$D/memcached.log" ip netns exec "$tgt" /usr/bin/memcached -u root \
			-l 198.18.0.78 -p 9014 -U 0
		echo "memcached_offport,198.18.0.78,9014" >>"$D/endpoints.csv"
		wait+=("198.18.0.78:9014")
	fi
	echo "$lab" >"$D/lab"
	wait_listen "$tgt" "${wait[@]}"
}

cmd_silent() {
	local lab=$1 D=$2 p specs=() wait=()
	shift 2
	local tgt=$lab-tgt
	ip netns list | awk '{print $1}' | grep -qxF "$tgt" || die "lab $lab is not up"
	for p in "$@"; do
		specs+=("silent@0.0.0.0:$p")
		wait+=("0.0.0.0:$p")
	done
	ip netns exec "$tgt" sysctl -qw net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535
	PIDS=$D/pids
	detached "$D/silent.log" ip netns exec "$tgt" "$PY" "$HERE/hostile_servers.py" "${specs[@]}"
	wait_listen "$tgt" "${wait[@]}"
}

cmd_stop() {
	local D=$1 pid
	if [[ -f $D/pids ]]; then
		while read -r pid; do
			[[ $pid =~ ^[0-9]+$ ]] || continue
			kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
		done <"$D/pids"
		rm -f "$D/pids"
	fi
	if [[ -f $D/lab ]]; then
		ip netns exec "$(cat "$D/lab")-tgt" nft delete table ip $NFT_TABLE 2>/dev/null || true
		rm -f "$D/lab"
	fi
}

case ${1:-} in
certs) cmd_certs "${2:?DIR}" ;;
start) cmd_start "${2:?LAB}" "${3:?DIR}" ;;
silent) cmd_silent "${2:?LAB}" "${3:?DIR}" "${@:4}" ;;
stop) cmd_stop "${2:?DIR}" ;;
*) die "usage: hostile_lab.sh certs DIR | start LAB DIR | silent LAB DIR PORT... | stop DIR" ;;
esac
