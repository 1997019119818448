#!/usr/bin/env bash
# id_lab.sh - the lab of the ppscan-id suites (root): real servers from Debian packages in the
# target namespace of scripts/netlab.sh, each on its usual port and on an unexpected one, and a
# client namespace (tests/tls/tls_lab.sh client-up) from which ppscan-id connects.
#
#   id_lab.sh up LAB DIR      netlab + client namespace + certificate + every server (pids in DIR)
#   id_lab.sh down LAB DIR    stops the servers, removes the namespaces
#   id_lab.sh servers LAB DIR only the servers (the lab must be up)
#   id_lab.sh expect          the endpoints and what they must be identified as (TSV)
#
# Servers of i12 (addresses of 198.18.0.0/15 only; the AnyIP route of the target namespace
# lets each bind its own address):
#   198.18.0.20  OpenSSH sshd          22, 2200
#   198.18.0.21  nginx                 80, 9999 (HTTP/1.1), 443 (TLS, h2 by ALPN), 4433 (TLS),
#                                      8082 (HTTP/2 prior knowledge, h2c)
#   198.18.0.22  vsftpd                21 (AUTH TLS), 2221 (no TLS)
#   198.18.0.23  Postfix smtpd         25 (STARTTLS), 2526
#   198.18.0.24  Dovecot               143, 8143 (IMAP, STARTTLS), 993 (IMAPS), 110, 8110 (POP3,
#                                      STLS), 995 (POP3S)
#   198.18.0.25  openssl s_server -www 443, 7777
#   198.18.0.26  pseudo-services       9001 (accepts, closes at once), 9002 (accepts, silent)
# Other branches add servers in tests/id/servers_*.sh: each is sourced in a subshell and its
# functions `start LAB DIR` and `stop DIR` are called; their expectations come from its
# function `expect` (same TSV).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

die() { echo "id_lab: $*" >&2; exit 1; }

# launch NAME ADDR:PORT... -- CMD...: runs CMD in the target namespace, records its pid and the
# listeners to wait for.
launch() {
	local name=$1
	shift
	while [[ $1 != -- ]]; do WAIT+=("$1"); shift; done
	shift
	(
		# no descriptor of ours goes with the server: a lock file held by the caller
		# (flock /tmp/ppscan-lab.lock ...) must end with the caller, not live in a daemon
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			((fd > 2)) && eval "exec $fd>&-" 2>/dev/null || true
		done
		exec ip netns exec "$TGT" setsid "$@"
	) </dev/null >"$D/$name.log" 2>&1 &
	echo "$!" >>"$D/pids"
}

cert() {
	[[ -s $D/svc.crt ]] && return
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/svc.key" -out "$D/svc.crt" -days 3650 \
		-subj "/O=ppscan lab/CN=svc.lab.test" \
		-addext "subjectAltName=DNS:svc.lab.test,DNS:mail.lab.test" >/dev/null 2>&1
	chmod 644 "$D/svc.key"
}

srv_sshd() {
	ssh-keygen -q -t ed25519 -N '' -f "$D/ssh_host_ed25519_key" <<<y >/dev/null 2>&1 || true
	mkdir -p /run/sshd
	cat >"$D/sshd_config" <<EOF
ListenAddress 198.18.0.20:22
ListenAddress 198.18.0.20:2200
HostKey $D/ssh_host_ed25519_key
PidFile $D/sshd.pid
UsePAM no
PasswordAuthentication no
EOF
	launch sshd 198.18.0.20:22 198.18.0.20:2200 -- /usr/sbin/sshd -D -e -f "$D/sshd_config"
}

srv_nginx() {
	mkdir -p "$D/nginx-tmp"
	chmod 777 "$D/nginx-tmp"
	local page='"<html><head><title>ppscan lab nginx</title></head><body>lab</body></html>\n"'
	cat >"$D/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $D/nginx.pid;
error_log $D/nginx-error.log;
events { worker_connections 512; }
http {
	access_log off;
	client_body_temp_path $D/nginx-tmp/body;
	proxy_temp_path $D/nginx-tmp/proxy;
	fastcgi_temp_path $D/nginx-tmp/fastcgi;
	uwsgi_temp_path $D/nginx-tmp/uwsgi;
	scgi_temp_path $D/nginx-tmp/scgi;
	default_type text/html;
	ssl_certificate $D/svc.crt;
	ssl_certificate_key $D/svc.key;
	server {
		listen 198.18.0.21:80;
		listen 198.18.0.21:9999;
		listen 198.18.0.21:443 ssl http2;
		listen 198.18.0.21:4433 ssl;
		location / { return 200 $page; }
		location /old { return 301 /new; }
	}
	server {
		listen 198.18.0.21:8082 http2;
		location / { return 200 $page; }
	}
}
EOF
	launch nginx 198.18.0.21:80 198.18.0.21:9999 198.18.0.21:443 198.18.0.21:4433 \
		198.18.0.21:8082 -- /usr/sbin/nginx -c "$D/nginx.conf" -p "$D"
}

srv_vsftpd() {
	mkdir -p "$D/ftp" /var/run/vsftpd/empty
	local port tls
	for port in 21 2221; do
		tls=NO
		[[ $port == 21 ]] && tls=YES
		cat >"$D/vsftpd-$port.conf" <<EOF
listen=YES
listen_address=198.18.0.22
listen_port=$port
background=NO
anonymous_enable=YES
local_enable=NO
anon_root=$D/ftp
secure_chroot_dir=/var/run/vsftpd/empty
seccomp_sandbox=NO
ssl_enable=$tls
allow_anon_ssl=YES
force_local_logins_ssl=NO
force_local_data_ssl=NO
rsa_cert_file=$D/svc.crt
rsa_private_key_file=$D/svc.key
xferlog_enable=NO
EOF
		launch "vsftpd-$port" "198.18.0.22:$port" -- /usr/sbin/vsftpd "$D/vsftpd-$port.conf"
	done
}

srv_postfix() {
	local pf=$D/postfix
	mkdir -p "$pf/etc" "$pf/queue" "$pf/data"
	chown postfix "$pf/data"
	cat >"$pf/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
# all: Postfix checks that a listed address is on an interface (the lab's AnyIP route is
# not); master.cf binds each smtpd to 198.18.0.23 itself
inet_interfaces = all
inet_protocols = ipv4
myhostname = mail.lab.test
mydestination =
relay_domains =
smtpd_banner = \$myhostname ESMTP \$mail_name (Debian/GNU)
smtpd_tls_cert_file = $D/svc.crt
smtpd_tls_key_file = $D/svc.key
smtpd_tls_security_level = may
maillog_file = /dev/stdout
EOF
	cat >"$pf/etc/master.cf" <<EOF
198.18.0.23:25 inet n - n - - smtpd
198.18.0.23:2526 inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
EOF
	postfix -c "$pf/etc" set-permissions >/dev/null 2>&1 || true
	launch postfix 198.18.0.23:25 198.18.0.23:2526 -- /usr/sbin/postfix -c "$pf/etc" start-fg
}

srv_dovecot() {
	mkdir -p "$D/dovecot-run" "$D/dovecot-state"
	cat >"$D/dovecot.conf" <<EOF
base_dir = $D/dovecot-run
state_dir = $D/dovecot-state
protocols = imap pop3
listen = 198.18.0.24
log_path = $D/dovecot-mail.log
ssl = yes
ssl_cert = <$D/svc.crt
ssl_key = <$D/svc.key
default_login_user = dovenull
default_internal_user = dovecot
mail_location = mbox:/nonexistent
passdb {
	driver = static
	args = password=nopass-lab
}
userdb {
	driver = static
	args = uid=nobody gid=nogroup home=/nonexistent
}
service imap-login {
	inet_listener imap {
		port = 143
	}
	inet_listener imap_alt {
		port = 8143
	}
	inet_listener imaps {
		port = 993
		ssl = yes
	}
}
service pop3-login {
	inet_listener pop3 {
		port = 110
	}
	inet_listener pop3_alt {
		port = 8110
	}
	inet_listener pop3s {
		port = 995
		ssl = yes
	}
}
EOF
	launch dovecot 198.18.0.24:143 198.18.0.24:8143 198.18.0.24:993 198.18.0.24:110 \
		198.18.0.24:8110 198.18.0.24:995 -- /usr/sbin/dovecot -F -c "$D/dovecot.conf"
}

srv_openssl() {
	local port
	for port in 443 7777; do
		launch "s_server-$port" "198.18.0.25:$port" -- openssl s_server -quiet -www \
			-accept "198.18.0.25:$port" -cert "$D/svc.crt" -key "$D/svc.key"
	done
}

srv_pseudo() {
	launch pseudo-close 198.18.0.26:9001 -- socat TCP-LISTEN:9001,bind=198.18.0.26,reuseaddr,fork SYSTEM:true
	launch pseudo-silent 198.18.0.26:9002 -- socat TCP-LISTEN:9002,bind=198.18.0.26,reuseaddr,fork \
		"SYSTEM:exec sleep 120"
}

# The servers of tests/id/servers_d.sh (AMQP ... X11) are not part of this lab until their own
# suite passes (INN's nnrpd answers 400 without innd; ZooKeeper and X11 on their redirected
# ports, ngIRCd's product): PPS_ID_LAB_D=1 adds them.
id_lab_wants() {
	[[ -f $1 ]] || return 1
	[[ ${1##*/} != servers_d.sh || ${PPS_ID_LAB_D:-0} == 1 ]]
}

cmd_servers() {
	local lab=$1 w _ f
	D=$2
	TGT=$lab-tgt
	WAIT=()
	: >"$D/pids"
	chmod 755 "$D" # servers drop privileges (postfix, dovecot, nginx workers) and must get in
	cert
	srv_sshd
	srv_nginx
	srv_vsftpd
	srv_postfix
	srv_dovecot
	srv_openssl
	srv_pseudo
	# ID_LAB_EXTRA=0: only the servers above (suites that need no others: lab_banners)
	for f in tests/id/servers_*.sh; do
		id_lab_wants "$f" || continue
		[[ ${ID_LAB_EXTRA:-1} != 0 ]] || continue
		(source "$f" && start "$lab" "$D") || die "$f: start failed"
	done
	for w in "${WAIT[@]}"; do
		for _ in $(seq 400); do
			ip netns exec "$TGT" ss -Hltn "src $w" | grep -q . && continue 2
			sleep 0.05
		done
		die "no listener on $w (see $D/*.log)"
	done
}

cmd_stop() {
	local D=$1 pid f
	for f in tests/id/servers_*.sh; do
		id_lab_wants "$f" || continue
		[[ -f $f ]] || continue
		(source "$f" && stop "$D") || true
	done
	[[ -f $D/postfix/etc/main.cf ]] && postfix -c "$D/postfix/etc" stop >/dev/null 2>&1 || true
	[[ -f $D/pids ]] || return 0
	while read -r pid; do
		[[ $pid =~ ^[0-9]+$ ]] && kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	done <"$D/pids"
	rm -f "$D/pids"
}

# ip port protocol product version(or -) tls_mode(or -)
cmd_expect() {
	cat <<'EOF'
198.18.0.20	22	ssh	OpenSSH	9.2p1	-
198.18.0.20	2200	ssh	OpenSSH	9.2p1	-
198.18.0.21	80	http	nginx	1.22.1	-
198.18.0.21	9999	http	nginx	1.22.1	-
198.18.0.21	443	http2	nginx	1.22.1	implicit
198.18.0.21	4433	http	nginx	1.22.1	implicit
198.18.0.21	8082	http2	nginx	1.22.1	-
198.18.0.22	21	ftp	vsftpd	3.0.3	starttls
198.18.0.22	2221	ftp	vsftpd	3.0.3	-
198.18.0.23	25	smtp	Postfix	-	starttls
198.18.0.23	2526	smtp	Postfix	-	starttls
198.18.0.24	143	imap	Dovecot imapd	-	starttls
198.18.0.24	8143	imap	Dovecot imapd	-	starttls
198.18.0.24	993	imap	Dovecot imapd	-	implicit
198.18.0.24	110	pop3	Dovecot pop3d	-	starttls
198.18.0.24	8110	pop3	Dovecot pop3d	-	starttls
198.18.0.24	995	pop3	Dovecot pop3d	-	implicit
198.18.0.25	443	http	-	-	implicit
198.18.0.25	7777	http	-	-	implicit
198.18.0.26	9001	no_service	-	-	-
198.18.0.26	9002	no_service	-	-	-
EOF
	local f
	for f in tests/id/servers_*.sh; do
		id_lab_wants "$f" || continue
		[[ -f $f ]] || continue
		(source "$f" && declare -F expect >/dev/null && expect) || true
	done
}

case ${1:-} in
up)
	((EUID == 0)) || die "must run as root"
	mkdir -p "$3"
	PPS_LAB=$2 scripts/netlab.sh up >/dev/null
	# real servers take ports 22, 80 and 443: the lab's accept-and-close listener (0.0.0.0) goes
	lpid=$(cat "/run/ppscan-lab/$2/listener.pid" 2>/dev/null || true)
	if [[ -n $lpid ]]; then
		kill "$lpid" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$lpid" 2>/dev/null || break; sleep 0.05; done
	fi
	tests/tls/tls_lab.sh client-up "$2"
	cmd_servers "$2" "$3"
	;;
down)
	cmd_stop "$3" || true
	tests/tls/tls_lab.sh client-down "$2" >/dev/null 2>&1 || true
	PPS_LAB=$2 scripts/netlab.sh down >/dev/null 2>&1 || true
	;;
servers) cmd_servers "$2" "$3" ;;
stop) cmd_stop "$2" ;;
expect) cmd_expect ;;
*) die "usage: id_lab.sh up LAB DIR | down LAB DIR | servers LAB DIR | stop DIR | expect" ;;
esac
