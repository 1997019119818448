#!/usr/bin/env bash
# id_servers.sh - the real servers bench/id_bench.sh measures ppscan-id and nmap -sV against,
# in a lab's target namespace (root). Each listens on 0.0.0.0 in that namespace, so with the
# lab's AnyIP route (198.18.0.0/20 on lo) every lab address answers on its ports: thousands
# of endpoints from a handful of processes, which makes the measurement throughput-bound.
#
#   id_servers.sh start LAB DIR    starts them (config, keys and logs in DIR, pids in DIR/pids)
#   id_servers.sh stop DIR
#   id_servers.sh ports            prints "port service" lines
#
# Servers (Debian packages; ports chosen off the IANA ones on purpose, the port is a hint only):
#   2222   OpenSSH sshd (openssh-server), MaxStartups raised so no connection is refused
#   8080   nginx, plain HTTP
#   8443   nginx, HTTPS (RSA-2048, TLS 1.2/1.3)
#   6380   redis-server (protected mode off: a lab-only instance)
#   11212  memcached
# Only addresses of 198.18.0.0/15 are used; nothing listens in the host namespace.
set -euo pipefail
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true # 20000 here: no CAP_SYS_RESOURCE

die() { echo "id_servers: $*" >&2; exit 1; }

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

PORTS="2222 ssh
8080 http
8443 https
6380 redis
11212 memcached"

cmd_start() {
	local lab=$1 D=$2 tgt=$1-tgt
	((EUID == 0)) || die "must run as root"
	ip netns list | awk '{print $1}' | grep -qxF "$tgt" || die "lab $lab is not up"
	for b in /usr/sbin/sshd /usr/sbin/nginx /usr/bin/redis-server /usr/bin/memcached; do
		[[ -x $b ]] || die "$b missing (scripts/install-deps.sh --bench)"
	done
	mkdir -p "$D" /run/sshd
	: >"$D/pids"
	PIDS=$D/pids
	ip netns exec "$tgt" sysctl -qw net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535

	# sshd: its own host key and config; -D stays in the foreground, -e logs to stderr
	[[ -f $D/ssh_host_ed25519_key ]] || ssh-keygen -q -t ed25519 -N '' -f "$D/ssh_host_ed25519_key"
	cat >"$D/sshd_config" <<EOF
Port 2222
ListenAddress 0.0.0.0
HostKey $D/ssh_host_ed25519_key
PidFile $D/sshd.pid
MaxStartups 100000
PerSourceMaxStartups none
LoginGraceTime 30
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
EOF
	detached "$D/sshd.log" ip netns exec "$tgt" /usr/sbin/sshd -D -e -f "$D/sshd_config"

	# nginx: plain and TLS, two workers, room for every connection a bench run opens
	[[ -f $D/nginx.key ]] || openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/nginx.key" \
		-out "$D/nginx.crt" -days 3650 -subj "/O=ppscan lab/CN=www.lab.test" \
		-addext "subjectAltName=DNS:www.lab.test" >/dev/null 2>&1
	cat >"$D/nginx.conf" <<EOF
worker_processes 2;
worker_rlimit_nofile 20000;
pid $D/nginx.pid;
error_log $D/nginx.err;
daemon off;
events { worker_connections 19000; }
http {
	access_log off;
	server {
		listen 8080 backlog=65535;
		listen 8443 ssl backlog=65535;
		ssl_certificate $D/nginx.crt;
		ssl_certificate_key $D/nginx.key;
		ssl_session_cache off;
		ssl_session_tickets off;
		location / { default_type text/html; return 200 "<html><head><title>lab</title></head></html>\n"; }
	}
}
EOF
	detached "$D/nginx.log" ip netns exec "$tgt" /usr/sbin/nginx -c "$D/nginx.conf" \
		-e "$D/nginx.err"

	detached "$D/redis.log" ip netns exec "$tgt" /usr/bin/redis-server --port 6380 \
		--bind 0.0.0.0 --protected-mode no --save '' --appendonly no --maxclients 15000 \
		--dir "$D" --tcp-backlog 65535

	detached "$D/memcached.log" ip netns exec "$tgt" /usr/bin/memcached -u root -l 0.0.0.0 \
		-p 11212 -U 0 -c 15000 -b 65535 -t 2

	local port _
	while read -r port _; do
		for _ in $(seq 100); do
			ip netns exec "$tgt" ss -Hltn "sport = :$port" | grep -q . && continue 2
			sleep 0.05
		done
		die "no listener on port $port (logs in $D)"
	done <<<"$PORTS"
}

cmd_stop() {
	local D=$1 pid
	[[ -f $D/pids ]] || return 0
	while read -r pid; do
		[[ $pid =~ ^[0-9]+$ ]] || continue
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	done <"$D/pids"
	rm -f "$D/pids"
}

case ${1:-} in
start) cmd_start "${2:?LAB}" "${3:?DIR}" ;;
stop) cmd_stop "${2:?DIR}" ;;
ports) echo "$PORTS" ;;
*) die "usage: id_servers.sh start LAB DIR | stop DIR | ports" ;;
esac
