#!/usr/bin/env bash
# udp_lab.sh - real UDP servers from Debian packages and UDP filter rules in the target
# namespace of a lab that scripts/netlab.sh brought up, and the ground truth of a UDP scan.
#
# Usage: tests/lab/udp_lab.sh LAB up|down|truth|ports|block
#
# Each server listens on its usual port on an address of its own in 198.18.4.0/24 (added to
# lo in the target namespace, so replies leave from it); every other address and port of the
# scan block 198.18.4.0/22 has no socket and the kernel answers with ICMP port unreachable
# (rate limit lifted). nftables (table ppsudp) drops UDP to 198.18.6.0/25 (silence), answers
# UDP to 198.18.6.128/25 port 161 with ICMP host unreachable (another unreachable: filtered)
# and drops UDP to 198.18.7.0/24 port 53 (silence).
#   truth   the expected results, "ip,port,open|closed|filtered" (silent targets omitted)
#   ports   the scanned ports (for -p)      block   the scanned block
set -euo pipefail

LAB=${1:?usage: udp_lab.sh LAB up|down|truth|ports|block}
CMD=${2:?usage: udp_lab.sh LAB up|down|truth|ports|block}
NS="${LAB}-tgt"
STATE="/run/ppscan-lab/${LAB}/udp"
BLOCK=198.18.4.0/22
# name address port: the servers (each checked to answer before the lab counts as up)
SERVERS="dnsmasq 198.18.4.1 53
chronyd 198.18.4.2 123
snmpd 198.18.4.3 161
memcached 198.18.4.4 11211
turnserver 198.18.4.5 3478
tftpd 198.18.4.6 69
rpcbind 198.18.4.7 111
kamailio 198.18.4.8 5060
coap-server 198.18.4.9 5683
inetd 198.18.4.10 7"
# closed everywhere (no server): 9999 (empty payload), 1900 (SSDP), 5353 (mDNS)
PORTS=7,53,69,111,123,161,1900,3478,5060,5353,5683,9999,11211

in_ns() { ip netns exec "$NS" "$@"; }
log() { printf 'udp_lab: %s\n' "$*" >&2; }

# Runs "$@" with no descriptor but stdio: a server must not hold the caller's files open (the
# lab lock that flock(1) passes down would stay locked for as long as the server runs).
CLOSEFDS=(/usr/bin/python3 -c 'import os, sys; os.closerange(3, 1 << 16); os.execvp(sys.argv[1], sys.argv[1:])')

start() { # name logfile command...: detached, its pid recorded
	local name=$1 logf=$2
	shift 2
	in_ns setsid "${CLOSEFDS[@]}" "$@" </dev/null >"$logf" 2>&1 &
	echo $! >"$STATE/$name.pid"
}

cmd_up() {
	ip netns list | awk '{print $1}' | grep -qxF "$NS" || { log "no namespace $NS"; exit 1; }
	mkdir -p "$STATE"
	in_ns sysctl -q -w net.ipv4.icmp_ratelimit=0
	in_ns sysctl -q -w net.ipv4.icmp_msgs_per_sec=1000000 2>/dev/null || true
	in_ns sysctl -q -w net.ipv4.icmp_msgs_burst=1000000 2>/dev/null || true
	in_ns nft -f - <<EOF
table ip ppsudp {
    chain input {
        type filter hook input priority -1; policy accept;
        ip daddr 198.18.6.0/25 meta l4proto udp drop
        ip daddr 198.18.6.128/25 udp dport 161 reject with icmp type host-unreachable
        ip daddr 198.18.7.0/24 udp dport 53 drop
    }
}
EOF
	local name addr port
	while read -r name addr port; do
		in_ns ip addr add "$addr/32" dev lo
	done <<<"$SERVERS"
	local d=$STATE
	mkdir -p "$d/tftp" "$d/snmp"
	start dnsmasq "$d/dnsmasq.log" dnsmasq --keep-in-foreground --no-daemon --port=53 \
		--listen-address=198.18.4.1 --bind-interfaces --no-resolv --no-hosts \
		--user=root --group=root --pid-file="$d/dnsmasq.pidf" --conf-file=/dev/null
	cat >"$d/chrony.conf" <<EOF
bindaddress 198.18.4.2
port 123
cmdport 0
allow all
local stratum 10
pidfile $d/chronyd.pidf
driftfile $d/chrony.drift
EOF
	start chronyd "$d/chronyd.log" chronyd -d -x -f "$d/chrony.conf"
	cat >"$d/snmpd.conf" <<EOF
rocommunity public default
sysDescr ppscan lab snmpd
EOF
	start snmpd "$d/snmpd.log" snmpd -f -Lo -C -c "$d/snmpd.conf" -p "$d/snmpd.pidf" \
		-M /usr/share/snmp/mibs -m '' -Dnone udp:198.18.4.3:161
	start memcached "$d/memcached.log" memcached -u root -l 198.18.4.4 -p 0 -U 11211
	start turnserver "$d/turnserver.log" turnserver -n -S --listening-ip=198.18.4.5 \
		--listening-port=3478 --no-tls --no-dtls --no-cli --log-file=stdout \
		--pidfile="$d/turnserver.pidf" --simple-log
	start tftpd "$d/tftpd.log" in.tftpd -L -a 198.18.4.6:69 -s "$d/tftp"
	# rpcbind and inetd keep lock and pid files in /run: each lab gets a /run of its own
	# (ip netns exec gave the command a mount namespace of its own, slave to the host's)
	start rpcbind "$d/rpcbind.log" sh -c 'mount -t tmpfs tmpfs /run && exec rpcbind -f -h 198.18.4.7' 
	cat >"$d/kamailio.cfg" <<'EOF'
#!KAMAILIO
listen=udp:198.18.4.8:5060
children=1
log_stderror=yes
loadmodule "sl.so"
request_route {
	sl_send_reply("200", "OK");
	exit;
}
EOF
	start kamailio "$d/kamailio.log" kamailio -DD -E -f "$d/kamailio.cfg" -P "$d/kamailio.pidf" \
		-Y "$d" -m 32 -M 8
	start coap-server "$d/coap.log" coap-server-notls -A 198.18.4.9 -p 5683
	printf '198.18.4.10:echo dgram udp wait root internal\n' >"$d/inetd.conf"
	# (its configuration, under /run too, stays open on descriptor 3)
	start inetd "$d/inetd.log" sh -c 'exec 3<"$1" && mount -t tmpfs tmpfs /run && exec inetd -d /dev/fd/3' _ "$d/inetd.conf"
	# every server answers before the lab counts as up
	local ok=0
	for _ in $(seq 100); do
		ok=1
		while read -r name addr port; do
			in_ns ss -Hlun "src $addr:$port" | grep -q . || { ok=0; break; }
		done <<<"$SERVERS"
		((ok)) && break
		sleep 0.1
	done
	if ((!ok)); then
		log "server $name ($addr:$port) did not start:"
		cat "$d/$name.log" >&2 || true
		exit 1
	fi
	log "up: $(wc -l <<<"$SERVERS") servers in $NS"
}

cmd_down() {
	local f pid
	for f in "$STATE"/*.pid; do
		[[ -f $f ]] || continue
		pid=$(<"$f")
		# the setsid child's process group holds the server (and its workers)
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	done
	sleep 0.3
	for f in "$STATE"/*.pid; do
		[[ -f $f ]] || continue
		pid=$(<"$f")
		kill -KILL -- "-$pid" 2>/dev/null || true
		rm -f "$f"
	done
	rm -rf "$STATE"
}

cmd_truth() {
	SERVERS=$SERVERS PORTS=$PORTS BLOCK=$BLOCK python3 - <<'EOF'
import ipaddress, os
servers = {(l.split()[1], int(l.split()[2])) for l in os.environ["SERVERS"].splitlines()}
ports = sorted(int(p) for p in os.environ["PORTS"].split(","))
drop = ipaddress.ip_network("198.18.6.0/25")
hostunr = ipaddress.ip_network("198.18.6.128/25")
dns_drop = ipaddress.ip_network("198.18.7.0/24")
for ip in ipaddress.ip_network(os.environ["BLOCK"]):
    for port in ports:
        if ip in drop or (ip in dns_drop and port == 53):
            continue
        if ip in hostunr and port == 161:
            st = "filtered"
        elif (str(ip), port) in servers:
            st = "open"
        else:
            st = "closed"
        print(f"{ip},{port},{st}")
EOF
}

case $CMD in
up) cmd_up ;;
down) cmd_down ;;
truth) cmd_truth ;;
ports) echo "$PORTS" ;;
block) echo "$BLOCK" ;;
*) echo "usage: udp_lab.sh LAB up|down|truth|ports|block" >&2; exit 2 ;;
esac
