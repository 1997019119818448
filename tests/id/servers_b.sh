#!/usr/bin/env bash
# servers_b.sh - real servers (Debian packages) for the ppscan-id modules Telnet, DNS, Redis,
# memcached, MQTT, PostgreSQL, MariaDB, LDAP, rsync, MongoDB, SMB, RDP, VNC, RTSP, SIP, XMPP,
# each in the lab's target namespace, on its usual port AND on an unexpected one (root).
#
#   servers_b.sh start LAB DIR   starts them all in LAB-tgt (state, logs and pids in
#                                /tmp/ppscan-servers_b.*, linked as DIR/servers_b) and
#                                waits for every listener
#   servers_b.sh stop DIR        stops what DIR/servers_b/pids lists (the NAT table goes
#                                with the lab's namespace)
#   servers_b.sh list            all 32 endpoints: "ip port protocol" per line, the usual
#                                port first (tests/id/b/test_id_b_lab.py checks them all)
#   servers_b.sh expect          TSV "ip port protocol product version tls_mode" of the
#                                usual ports, which ppscan-id names in its first handshake
#
# tests/id/id_lab.sh sources this file and calls its functions start, stop and expect. The
# unexpected ports are left out of `expect` there: that lab runs ppscan-id with the default
# --max-handshakes 5, and a server that says nothing to HTTP, TLS, RDP, SMB and DNS requests
# (Mosquitto, slapd, PostgreSQL, ...) on a port that hints at nothing is only reached later
# in the order; test_id_b_lab.py checks those with --max-handshakes 40.
#
# Each server has an address of its own in 198.18.6.0/24 (the target namespace answers the
# whole 198.18.0.0/20 through its AnyIP route) and is configured from files in DIR only:
# nothing under /etc is changed, no daemon runs on the host. Where a server listens on two
# ports natively it does (Unbound, memcached, Mosquitto, MariaDB extra_port, slapd, rsync
# twice, Samba "smb ports", Kamailio, Prosody, the RTSP server); PostgreSQL, xrdp and Xvnc
# listen on one port only, so an nftables DNAT rule in the target namespace (table ip
# ppsidb) maps their unexpected port to the real one (the server still answers itself).
#
# MongoDB has no Debian package: tests/id/mongo_responder.py answers from the MongoDB wire
# protocol specification (with python3-bson, the BSON library of Debian's pymongo), not
# from our module's code. The RTSP server is GStreamer's gst-rtsp-server (Debian
# gir1.2-gst-rtsp-server-1.0) in tests/id/rtsp_server.py.
set -euo pipefail

die() { echo "servers_b: $*" >&2; exit 1; }
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
NET=198.18.6

# ip usual unexpected protocol | product | version: "pkg:NAME" = the upstream version of the
# installed Debian package NAME (what the server reports), "-" = not revealed | tls_mode
ENDPOINTS="
$NET.1	23	40001	telnet	GNU inetutils telnetd	-	-
$NET.2	53	40002	dns	Unbound	pkg:unbound	-
$NET.3	6379	40003	redis	Redis	pkg:redis-server	-
$NET.4	11211	40004	memcached	memcached	pkg:memcached	-
$NET.5	1883	40005	mqtt	Mosquitto	pkg:mosquitto	-
$NET.6	5432	40006	postgresql	PostgreSQL	-	starttls
$NET.7	3306	40007	mysql	MariaDB	pkg:mariadb-server	-
$NET.8	389	40008	ldap	OpenLDAP	-	-
$NET.9	873	40009	rsync	rsync	-	-
$NET.10	27017	40010	mongodb	MongoDB	7.0.14	-
$NET.11	445	40011	smb	-	-	-
$NET.12	3389	40012	rdp	-	-	-
$NET.13	5900	40013	vnc	-	-	-
$NET.14	554	40014	rtsp	GStreamer RTSP Server	-	-
$NET.15	5060	40015	sip	Kamailio	pkg:kamailio	-
$NET.16	5222	40016	xmpp	-	-	starttls
"

# '5:7.0.15-1~deb12u10' -> '7.0.15'
upstream() {
	local v
	v=$(dpkg-query -W -f '${Version}' "$1")
	v=${v#*:}
	v=${v%%-*}
	echo "${v%%+*}"
}

cmd_list() {
	local ip usual unexp proto _
	while IFS=$'\t' read -r ip usual unexp proto _; do
		[[ -n $ip ]] || continue
		echo "$ip $usual $proto"
		echo "$ip $unexp $proto"
	done <<<"$ENDPOINTS"
}

cmd_expect() {
	local ip usual unexp proto product version mode
	while IFS=$'\t' read -r ip usual unexp proto product version mode; do
		[[ -n $ip ]] || continue
		[[ $version == pkg:* ]] && version=$(upstream "${version#pkg:}")
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$ip" "$usual" "$proto" "$product" "$version" "$mode"
	done <<<"$ENDPOINTS"
}

# run NAME CMD...: CMD in the target namespace, output in DIR/NAME.log, pid in DIR/pids.
run() {
	local name=$1
	shift
	(
		drop_fds
		exec ip netns exec "$TGT" setsid "$@"
	) </dev/null >"$D/$name.log" 2>&1 &
	echo "$!" >>"$D/pids"
}

# drop_fds: closes every descriptor above 2 of this (sub)shell, so that a daemon keeps no lock
# file its caller holds (flock /tmp/ppscan-lab.lock ...) beyond the caller's life.
drop_fds() {
	local fd
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
	done
}

# as USER CMD...: run() as an unprivileged user (servers that refuse root or drop to it).
as() {
	local user=$1 name=$2
	shift 2
	run "$name" setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
}

srv_telnet() {
	# inetutils telnetd is an inetd service: systemd-socket-activate passes it each connection
	run telnet systemd-socket-activate --inetd -a -l "$NET.1:23" -l "$NET.1:40001" /usr/sbin/telnetd
}

srv_dns() {
	cat >"$D/unbound.conf" <<EOF
server:
	interface: $NET.2@53
	interface: $NET.2@40002
	do-ip6: no
	do-udp: yes
	access-control: 0.0.0.0/0 allow
	chroot: ""
	username: ""
	directory: "$D"
	pidfile: "$D/unbound.pid"
	use-syslog: no
	logfile: ""
	do-daemonize: no
	num-threads: 1
	hide-version: no
	local-zone: "lab.test." static
remote-control:
	control-enable: no
EOF
	run unbound unbound -d -c "$D/unbound.conf"
}

srv_redis() {
	local port
	for port in 6379 40003; do
		run "redis-$port" redis-server --bind "$NET.3" --port "$port" --protected-mode no \
			--save '' --appendonly no --dir "$D" --daemonize no \
			--pidfile "$D/redis-$port.pid" --logfile ''
	done
}

srv_memcached() {
	run memcached memcached -u nobody -U 0 -m 16 -l "$NET.4:11211,$NET.4:40004"
}

srv_mqtt() {
	cat >"$D/mosquitto.conf" <<EOF
listener 1883 $NET.5
listener 40005 $NET.5
allow_anonymous true
persistence false
log_dest stderr
EOF
	run mosquitto mosquitto -c "$D/mosquitto.conf"
}

srv_postgresql() {
	local bin
	bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
	mkdir -p "$D/pg"
	chown postgres "$D/pg"
	setpriv --reuid=postgres --regid=postgres --init-groups -- "$bin/initdb" -D "$D/pg/data" -U postgres --auth=trust \
		--no-sync >"$D/pg-initdb.log" 2>&1 || die "initdb failed (see $D/pg-initdb.log)"
	echo "host all all 0.0.0.0/0 trust" >"$D/pg/data/pg_hba.conf"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/pg/server.key" -out "$D/pg/server.crt" \
		-days 3650 -subj "/CN=postgresql.lab.test" >/dev/null 2>&1
	chown postgres "$D/pg/server.key" "$D/pg/server.crt"
	chmod 600 "$D/pg/server.key"
	as postgres postgresql "$bin/postgres" -D "$D/pg/data" -h "$NET.6" -p 5432 -k "$D/pg" \
		-c ssl=on -c "ssl_cert_file=$D/pg/server.crt" -c "ssl_key_file=$D/pg/server.key" \
		-c logging_collector=off -c fsync=off
	NAT+=("ip daddr $NET.6 tcp dport 40006 dnat to $NET.6:5432")
}

srv_mysql() {
	mkdir -p "$D/mysql"
	chown mysql "$D/mysql"
	mariadb-install-db --no-defaults --datadir="$D/mysql/data" --user=mysql \
		--auth-root-authentication-method=socket --skip-test-db >"$D/mysql-install.log" 2>&1 ||
		die "mariadb-install-db failed (see $D/mysql-install.log)"
	# a server that accepts remote clients has a user for them (else it refuses with 1130)
	echo "CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'lab-only-password';" >"$D/mysql/init.sql"
	chown mysql "$D/mysql/init.sql"
	run mariadb mariadbd --no-defaults --datadir="$D/mysql/data" --user=mysql \
		--socket="$D/mysql/mysql.sock" --pid-file="$D/mysql/mysql.pid" \
		--bind-address="$NET.7" --port=3306 --extra-port=40007 --skip-name-resolve \
		--init-file="$D/mysql/init.sql" --innodb-buffer-pool-size=16M --log-error="$D/mysql.err"
}

srv_ldap() {
	mkdir -p "$D/ldap/db"
	cat >"$D/ldap/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
pidfile $D/ldap/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
suffix "dc=lab,dc=test"
rootdn "cn=admin,dc=lab,dc=test"
directory $D/ldap/db
maxsize 16777216
EOF
	run slapd slapd -d 0 -f "$D/ldap/slapd.conf" -h "ldap://$NET.8:389/ ldap://$NET.8:40008/"
}

srv_rsync() {
	local port
	mkdir -p "$D/rsync/pub"
	echo "lab file" >"$D/rsync/pub/README"
	cat >"$D/rsync/rsyncd.conf" <<EOF
use chroot = no
[pub]
	path = $D/rsync/pub
	comment = lab files
	read only = yes
EOF
	for port in 873 40009; do
		run "rsync-$port" rsync --daemon --no-detach --config="$D/rsync/rsyncd.conf" \
			--address="$NET.9" --port="$port"
	done
}

srv_mongodb() {
	run mongodb /usr/bin/python3 "$HERE/mongo_responder.py" "$NET.10" 27017 40010
}

srv_smb() {
	# Samba binds only addresses it finds on an interface; the AnyIP route is not one
	ip -n "$TGT" addr replace "$NET.11/32" dev lo
	mkdir -p "$D/smb/private" "$D/smb/lock" "$D/smb/state" "$D/smb/cache" "$D/smb/share"
	cat >"$D/smb/smb.conf" <<EOF
[global]
	interfaces = $NET.11
	bind interfaces only = yes
	smb ports = 445 40011
	disable netbios = yes
	server role = standalone server
	private dir = $D/smb/private
	lock directory = $D/smb/lock
	state directory = $D/smb/state
	cache directory = $D/smb/cache
	pid directory = $D/smb
	ncalrpc dir = $D/smb/ncalrpc
	log file = $D/smb/log.%m
	load printers = no
	printcap name = /dev/null
	disable spoolss = yes
[share]
	path = $D/smb/share
	read only = yes
EOF
	run smbd smbd --foreground --no-process-group --debug-stdout -s "$D/smb/smb.conf"
}

srv_rdp() {
	sed -e "s|^port=3389|port=tcp://$NET.12:3389|" -e "s|^certificate=$|certificate=$D/rdp.crt|" \
		-e "s|^key_file=$|key_file=$D/rdp.key|" /etc/xrdp/xrdp.ini >"$D/xrdp.ini"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/rdp.key" -out "$D/rdp.crt" \
		-days 3650 -subj "/CN=rdp.lab.test" >/dev/null 2>&1
	run xrdp xrdp --nodaemon --config "$D/xrdp.ini"
	NAT+=("ip daddr $NET.12 tcp dport 40012 dnat to $NET.12:3389")
}

srv_vnc() {
	local n=60
	# the X display number is host-wide (its lock file is in /tmp): take a free one
	while [[ -e /tmp/.X$n-lock || -e /tmp/.X11-unix/X$n ]]; do n=$((n + 1)); done
	run xvnc Xvnc ":$n" -rfbport 5900 -interface "$NET.13" -SecurityTypes None -nolisten tcp \
		-geometry 640x480 -depth 24
	NAT+=("ip daddr $NET.13 tcp dport 40013 dnat to $NET.13:5900")
}

srv_rtsp() {
	run rtsp /usr/bin/python3 "$HERE/rtsp_server.py" "$NET.14" 554 40014
}

srv_sip() {
	local mpath
	mpath=$(ls -d /usr/lib/*/kamailio/modules | head -1)
	cat >"$D/kamailio.cfg" <<EOF
#!KAMAILIO
debug=1
log_stderror=yes
children=1
tcp_children=1
disable_tcp=no
listen=tcp:$NET.15:5060
listen=tcp:$NET.15:40015
mpath="$mpath/"
loadmodule "sl.so"
request_route {
	if (method == "OPTIONS") {
		sl_send_reply("200", "OK");
		exit;
	}
	sl_send_reply("404", "Not Found");
}
EOF
	run kamailio kamailio -f "$D/kamailio.cfg" -DD -E -P "$D/kamailio.pid" -Y "$D" -u root -g root
}

srv_xmpp() {
	mkdir -p "$D/xmpp/data"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/xmpp/xmpp.key" -out "$D/xmpp/xmpp.crt" \
		-days 3650 -subj "/CN=$NET.16" >/dev/null 2>&1
	cat >"$D/xmpp/prosody.cfg.lua" <<EOF
pidfile = "$D/xmpp/prosody.pid"
data_path = "$D/xmpp/data"
log = { { levels = { min = "warn" }, to = "console" } }
c2s_ports = { 5222, 40016 }
c2s_interfaces = { "$NET.16" }
s2s_ports = { }
c2s_require_encryption = true
modules_enabled = { "tls", "saslauth", "disco", "ping", "dialback" }
modules_disabled = { "s2s" }
ssl = { key = "$D/xmpp/xmpp.key", certificate = "$D/xmpp/xmpp.crt" }
authentication = "internal_hashed"
VirtualHost "$NET.16"
EOF
	chown -R prosody "$D/xmpp"
	as prosody prosody prosody -F --config "$D/xmpp/prosody.cfg.lua"
}

cmd_start() {
	local lab=$1 s w _ rule
	# a directory of our own that the servers which drop root (postgres, prosody, mysql) can
	# reach whatever the caller's DIR allows; DIR/servers_b names it
	mkdir -p "$2"
	D=$(mktemp -d /tmp/ppscan-servers_b.XXXXXX)
	chmod 755 "$D"
	ln -sfn "$D" "$2/servers_b"
	TGT=$lab-tgt
	NAT=()
	ip netns list | awk '{print $1}' | grep -qxF "$TGT" || die "lab $lab is not up"
	: >"$D/pids"
	for s in telnet dns redis memcached mqtt postgresql mysql ldap rsync mongodb smb rdp vnc \
		rtsp sip xmpp; do
		"srv_$s"
	done
	ip netns exec "$TGT" nft delete table ip ppsidb 2>/dev/null || true
	{
		echo "table ip ppsidb {"
		echo "  chain pre { type nat hook prerouting priority -100;"
		for rule in "${NAT[@]}"; do echo "    $rule"; done
		echo "  }"
		echo "}"
	} | ip netns exec "$TGT" nft -f -
	while read -r w _; do
		[[ -n $w ]] || continue
		for _ in $(seq 300); do
			ip netns exec "$TGT" ss -Hltn "src $w" | grep -q . && continue 2
			sleep 0.1
		done
		die "no listener on $w (see $D/*.log)"
	done < <(cmd_list | awk '{print $1":"$2}' | while read -r e; do
		# the DNAT ports have no listener of their own: wait for the real one
		case $e in $NET.6:40006 | $NET.12:40012 | $NET.13:40013) continue ;; esac
		echo "$e"
	done)
}

cmd_stop() {
	local D=$1/servers_b pid
	[[ -f $D/pids ]] || return 0
	while read -r pid; do
		[[ $pid =~ ^[0-9]+$ ]] || continue
		# setsid made each server a process group leader: end the group (forked workers)
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	done <"$D/pids"
	rm -f "$D/pids"
	sleep 0.5 # let the servers leave their files before they go
	rm -rf "$(readlink -f "$D")" "$1/servers_b"
}

# the interface tests/id/id_lab.sh calls after sourcing this file
start() { cmd_start "$@"; }
stop() { cmd_stop "$@"; }
expect() { cmd_expect; }

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	case ${1:-} in
	start) ((EUID == 0)) || die "must run as root"; cmd_start "$2" "$3" ;;
	stop) cmd_stop "$2" ;;
	list) cmd_list ;;
	expect) cmd_expect ;;
	*) die "usage: servers_b.sh start LAB DIR | stop DIR | list | expect" ;;
	esac
fi
