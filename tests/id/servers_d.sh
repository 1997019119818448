#!/usr/bin/env bash
# servers_d.sh - lab servers for the AMQP, ZooKeeper, Kafka, CQL, IRC, NNTP, SOCKS,
# Modbus/TCP, IPP, Java RMI and X11 modules of ppscan-id (root).
#
#   servers_d.sh start LAB DIR   starts every server below in LAB-tgt (state, logs, pids in DIR/d)
#   servers_d.sh stop DIR        stops what `start` recorded
#   servers_d.sh expect          the endpoints and what they must be identified as: TSV
#                                "ip port protocol product version tls_mode port_kind"
#                                (- = not checked; port_kind: usual or unexpected)
#
# Sourced (tests/id/id_lab.sh does, in a subshell), it defines start, stop and expect with the
# same arguments.
#
# Each server runs in the lab's target namespace, bound to its own lab address, on its usual
# port and on an unexpected one. Real servers from Debian packages where Debian has one:
#   198.18.13.10  RabbitMQ (rabbitmq-server, AMQP 0-9-1)        5672 and 8080
#   198.18.13.12  Apache ZooKeeper (zookeeper)                    2181 and 1883 (redirect)
#   198.18.13.15  ngIRCd (ngircd)                                 6667 and 2525
#   198.18.13.16  INN's nnrpd (inn2), standalone                  119 and 4119
#   198.18.13.17  Dante (dante-server), SOCKS4 and SOCKS5         1080 and 8000
#   198.18.13.18  pymodbus 3.0 server (python3-pymodbus)          502 and 4840
#   198.18.13.19  CUPS cupsd (cups-daemon)                        631 and 9100
#   198.18.13.20  rmiregistry (default-jre-headless)              1099 and 7000
#   198.18.13.21  Xvfb -listen tcp (xvfb), display :0             6000 and 5000
# Debian 12 packages no Kafka and no Cassandra server; for those two the lab runs a
# responder written from the protocol specification (tests/id/spec_responder.py: Kafka
# ApiVersions, CQL v4 OPTIONS/STARTUP), documented as such:
#   198.18.13.11  Kafka ApiVersions responder                     9092 and 5432
#   198.18.13.13  CQL native protocol responder                   9042 and 3306
# rmiregistry and Xvfb bind every address of the namespace (neither has a bind option): an
# nftables table of our own (inet ppsd) resets their ports on every other address, so the
# rest of the lab keeps its ground truth. An X server listens only on 6000 + display, so the
# unexpected X11 port is the kernel's redirect of 198.18.13.21:5000 to its 6000, and
# ZooKeeper's 1883 a redirect to its one client port 2181 (the bytes are still the real
# servers'). Erlang's epmd and RabbitMQ's distribution port stay on the
# namespace's loopback.
# Start-up: every server is started at once (the JVMs and the Erlang VM take seconds), then
# the script waits for all listeners (at most 60 s).
set -euo pipefail

SD_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
SD_PY=/usr/bin/python3 # Debian's interpreter (python3-pymodbus lives there)

sd_die() { echo "servers_d: $*" >&2; exit 1; }

# The endpoints and their truth (versions: those of Debian 12's packages). IPP is HTTP: away
# from 631 the HTTP module, tried first everywhere, names CUPS's answer to its GET as http
# (product CUPS); only where the port puts IPP first does the POST of Get-Printer-Attributes
# name it ipp.
servers_d_expect() {
	cat <<'EOF'
198.18.13.10	5672	amqp	RabbitMQ	3.10.8	-	usual
198.18.13.10	8080	amqp	RabbitMQ	3.10.8	-	unexpected
198.18.13.11	9092	kafka	-	-	-	usual
198.18.13.11	5432	kafka	-	-	-	unexpected
198.18.13.12	2181	zookeeper	Apache ZooKeeper	3.8.0	-	usual
198.18.13.12	1883	zookeeper	Apache ZooKeeper	3.8.0	-	unexpected
198.18.13.13	9042	cql	-	-	-	usual
198.18.13.13	3306	cql	-	-	-	unexpected
198.18.13.15	6667	irc	ngIRCd	26.1	-	usual
198.18.13.15	2525	irc	ngIRCd	26.1	-	unexpected
198.18.13.16	119	nntp	INN	2.7.1	-	usual
198.18.13.16	4119	nntp	INN	2.7.1	-	unexpected
198.18.13.17	1080	socks	-	-	-	usual
198.18.13.17	8000	socks	-	-	-	unexpected
198.18.13.18	502	modbus	Pymodbus	3.0.0	-	usual
198.18.13.18	4840	modbus	Pymodbus	3.0.0	-	unexpected
198.18.13.19	631	ipp	CUPS	2.4	-	usual
198.18.13.19	9100	http	CUPS	2.4	-	unexpected
198.18.13.20	1099	rmi	-	-	-	usual
198.18.13.20	7000	rmi	-	-	-	unexpected
198.18.13.21	6000	x11	X.Org	21.1.7	-	usual
198.18.13.21	5000	x11	X.Org	21.1.7	-	unexpected
EOF
}

# sd_run NAME CMD...: runs CMD in the target namespace in its own session, records its pid.
sd_run() {
	local name=$1
	shift
	ip netns exec "$SD_TGT" setsid "$@" </dev/null >"$SD_D/$name.log" 2>&1 &
	echo "$!" >>"$SD_D/pids"
}

sd_rabbitmq() {
	local d=$SD_D/rabbitmq
	mkdir -p "$d/mnesia" "$d/log"
	chown -R rabbitmq:rabbitmq "$d" 2>/dev/null || true
	cat >"$d/rabbitmq.conf" <<EOF
listeners.tcp.1 = 198.18.13.10:5672
listeners.tcp.2 = 198.18.13.10:8080
cluster_name = rabbit@lab
log.console = true
log.file = false
EOF
	echo '[].' >"$d/enabled_plugins"
	sd_run rabbitmq env HOME="$d" RABBITMQ_NODENAME=rabbit@localhost \
		RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" RABBITMQ_MNESIA_BASE="$d/mnesia" \
		RABBITMQ_LOG_BASE="$d/log" RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" \
		RABBITMQ_PID_FILE="$d/rabbit.pid" ERL_EPMD_ADDRESS=127.0.0.1 \
		RABBITMQ_DIST_PORT=25672 \
		RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
		/usr/lib/rabbitmq/bin/rabbitmq-server
}

sd_zookeeper() {
	local d=$SD_D/zookeeper cp
	mkdir -p "$d/data"
	cat >"$d/zoo.cfg" <<EOF
tickTime=2000
dataDir=$d/data
clientPortAddress=198.18.13.12
clientPort=2181
admin.enableServer=false
4lw.commands.whitelist=srvr
EOF
	cp=/etc/zookeeper/conf:$(ls /usr/share/java/zookeeper.jar /usr/share/java/*.jar 2>/dev/null | tr '\n' ':')
	sd_run zookeeper java -Xmx128m -XX:TieredStopAtLevel=1 -cp "$cp" \
		-Dzookeeper.log.dir="$d" -Dzookeeper.root.logger=INFO,CONSOLE \
		org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/zoo.cfg"
	# the second port: a second server on the same data would be a second node, so the
	# kernel redirects 1883 of this address to 2181 (the bytes are the real ZooKeeper's)
}

sd_ngircd() {
	local d=$SD_D/ngircd
	mkdir -p "$d"
	echo "ppscan lab IRC" >"$d/motd"
	cat >"$d/ngircd.conf" <<EOF
[Global]
	Name = irc.lab.test
	Info = ppscan lab IRC server
	Listen = 198.18.13.15
	Ports = 6667, 2525
	MotdFile = $d/motd
	PidFile = $d/ngircd.pid
	ServerUID = nobody
	ServerGID = nogroup
[Limits]
	ConnectRetry = 60
[Options]
	DNS = no
	Ident = no
	PAM = no
EOF
	sd_run ngircd /usr/sbin/ngircd --nodaemon --config "$d/ngircd.conf"
}

sd_nnrpd() {
	local d=$SD_D/nntp port
	mkdir -p "$d"
	cat >"$d/readers.conf" <<'EOF'
auth "lab" {
    hosts: "198.19.0.0/16"
    default: "<lab>"
}
access "lab" {
    users: "<lab>"
    newsgroups: "*"
    access: Rp
}
EOF
	chmod 644 "$d/readers.conf"
	# nnrpd -D writes its pid file into INN's pathrun, which inn2's service creates at start
	install -d -o news -g news /run/news
	for port in 119 4119; do
		sd_run "nnrpd-$port" /usr/lib/news/bin/nnrpd -D -f -b 198.18.13.16 -p "$port" \
			-c "$d/readers.conf"
	done
}

sd_dante() {
	local d=$SD_D/dante
	mkdir -p "$d"
	cat >"$d/danted.conf" <<'EOF'
logoutput: stderr
internal: 198.18.13.17 port = 1080
internal: 198.18.13.17 port = 8000
external: 198.18.13.17
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
	from: 0.0.0.0/0 to: 0.0.0.0/0
}
socks block {
	from: 0.0.0.0/0 to: 0.0.0.0/0
}
EOF
	sd_run dante /usr/sbin/danted -f "$d/danted.conf" -p "$d/danted.pid"
}

sd_modbus() {
	local port
	for port in 502 4840; do
		sd_run "modbus-$port" "$SD_PY" "$SD_DIR/modbus_server.py" 198.18.13.18 "$port"
	done
}

sd_cups() {
	local d=$SD_D/cups
	mkdir -p "$d/cache" "$d/spool/tmp" "$d/state/certs" "$d/log" "$d/ppd"
	cat >"$d/cupsd.conf" <<'EOF'
Listen 198.18.13.19:631
Listen 198.18.13.19:9100
# a numeric name: no resolver lookup of the host's name (the lab has no DNS, and a lookup
# that is never answered held cupsd's start-up past a minute)
ServerName 198.18.13.19
ServerAlias *
Browsing No
DefaultAuthType None
WebInterface No
LogLevel warn
<Location />
  Order allow,deny
  Allow all
</Location>
EOF
	cat >"$d/cups-files.conf" <<EOF
ServerRoot $d
CacheDir $d/cache
RequestRoot $d/spool
StateDir $d/state
TempDir $d/spool/tmp
ErrorLog $d/log/error_log
AccessLog $d/log/access_log
PageLog $d/log/page_log
SystemGroup root
Printcap $d/printcap
EOF
	chmod 755 "$d" "$d"/*
	# not in a session of its own: cupsd -f started by setsid never opens its listeners
	ip netns exec "$SD_TGT" /usr/sbin/cupsd -f -c "$d/cupsd.conf" -s "$d/cups-files.conf" \
		</dev/null >"$SD_D/cups.log" 2>&1 &
	echo "$!" >>"$SD_D/pids"
}

sd_rmi() {
	local port
	for port in 1099 7000; do
		sd_run "rmi-$port" rmiregistry -J-Xmx64m -J-XX:TieredStopAtLevel=1 \
			-J-Djava.net.preferIPv4Stack=true "$port"
	done
}

sd_xvfb() {
	# -nolock: /tmp/.X0-lock is the host's, another X server's display 0 must not matter
	sd_run xvfb Xvfb :0 -nolock -listen tcp -ac -nolisten unix -screen 0 1280x1024x24
}

sd_spec() {
	sd_run kafka "$SD_PY" "$SD_DIR/spec_responder.py" kafka 198.18.13.11 9092 5432
	sd_run cql "$SD_PY" "$SD_DIR/spec_responder.py" cql 198.18.13.13 9042 3306
}

# nftables table inet ppsd in the target namespace: the redirects and the resets above.
sd_nft() {
	ip netns exec "$SD_TGT" nft -f - <<'EOF'
table inet ppsd
delete table inet ppsd
table inet ppsd {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr 198.18.13.21 tcp dport 5000 redirect to :6000
		ip daddr 198.18.13.12 tcp dport 1883 redirect to :2181
	}
	chain in {
		type filter hook input priority filter; policy accept;
		ip daddr != 198.18.13.20 tcp dport { 1099, 7000 } reject with tcp reset
		ip daddr != 198.18.13.21 tcp dport 6000 reject with tcp reset
	}
}
EOF
}

servers_d_start() {
	local lab=$1 proto ip port _ n
	SD_D=$2/d
	SD_TGT=$lab-tgt
	((EUID == 0)) || sd_die "must run as root"
	ip netns list | awk '{print $1}' | grep -qxF "$SD_TGT" || sd_die "lab $lab is not up"
	mkdir -p "$SD_D"
	# servers that drop privileges (ngIRCd and Dante as nobody, nnrpd as news, cupsd as lp)
	# read their files here
	chmod 755 "$2" "$SD_D"
	: >"$SD_D/pids"
	sd_nft
	sd_rabbitmq
	sd_zookeeper
	sd_rmi
	sd_xvfb
	sd_ngircd
	sd_nnrpd
	sd_dante
	sd_modbus
	sd_cups
	sd_spec
	while read -r ip port proto _; do
		[[ $proto == x11 && $port == 5000 ]] && port=6000 # redirected
		[[ $proto == zookeeper && $port == 1883 ]] && port=2181
		for n in $(seq 600); do
			ip netns exec "$SD_TGT" ss -Hltn "sport = :$port" | grep -q . && continue 2
			sleep 0.1
		done
		tail -n 5 "$SD_D"/*.log "$SD_D"/cups/log/error_log >&2 2>/dev/null || true
		sd_die "no $proto listener on $ip:$port after 60 s (logs: $SD_D)"
	done < <(servers_d_expect)
}

servers_d_stop() {
	local d=$1/d pid
	[[ -f $d/pids ]] || return 0
	while read -r pid; do
		[[ $pid =~ ^[0-9]+$ ]] || continue
		# each server runs in its own session: end the whole session (JVM, Erlang VM, epmd)
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	done <"$d/pids"
	sleep 0.5
	while read -r pid; do
		[[ $pid =~ ^[0-9]+$ ]] && kill -KILL -- "-$pid" 2>/dev/null || true
	done <"$d/pids"
	rm -f "$d/pids"
}

start() { servers_d_start "$@"; }
stop() { servers_d_stop "$@"; }
# id_lab.sh's suite runs ppscan-id with its defaults (5 client-first handshakes): the rows it
# checks are the usual ports; test_servers_d.py checks the unexpected ones with every handshake
expect() { servers_d_expect | awk -F'\t' '$7 == "usual"'; }

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	case ${1:-} in
	start) servers_d_start "$2" "$3" ;;
	stop) servers_d_stop "$2" ;;
	expect) servers_d_expect ;;
	*) sd_die "usage: servers_d.sh start LAB DIR | stop DIR | expect" ;;
	esac
fi
