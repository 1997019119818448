#!/usr/bin/env bash
# netlab.sh - build / tear down the isolated test network ("the lab") for ppscan.
#
# Usage: scripts/netlab.sh up|down|status|truth|env
#
# Topology (everything lives in two network namespaces, nothing on the host):
#
#   ns ${PPS_LAB}-scan                      ns ${PPS_LAB}-tgt
#   +--------------------------+            +----------------------------------+
#   | ${PPS_LAB}s  (no IPv4,   |<-- veth -->| ${PPS_LAB}t  198.19.0.1/24       |
#   |  no IPv6, no routes,     |            | lo: local route 198.18.0.0/20    |
#   |  arp off; owned by DPDK  |            |     (AnyIP: answers all 4096)    |
#   |  af_packet, which uses   |            | listeners on 22,80,443 (python)  |
#   |  src IP 198.19.0.2 and   |            | nft table inet ppslab (filters)  |
#   |  answers ARP itself)     |            |                                  |
#   +--------------------------+            +----------------------------------+
#
# The scanner source IP 198.19.0.2 is deliberately NOT configured in the kernel
# of the scan namespace: if it were, the kernel would answer our SYN-ACKs with
# RSTs and would compete with the DPDK application for ARP.
#
# Environment (with defaults):
#   PPS_LAB=ppslab      name prefix for namespaces, veths and the state dir
#   PPS_LAB_TARGETS=198.18.0.0/20
#                       the block the target namespace answers for (and `truth` covers);
#                       must lie inside 198.18.0.0/15 and contain the nft rule blocks
#                       (198.18.0.0/20 or larger: bench/ uses 198.18.0.0/16)
#
# Only addresses from the benchmarking range 198.18.0.0/15 are used.
#
# Self-check of the lab without DPDK (reference scan vs. `truth`):
#   scripts/netlab.sh truth > /tmp/truth.csv
#   ip netns exec ppslab-scan /usr/bin/python3 scripts/lab_selftest.py \
#       --iface ppslabs --truth /tmp/truth.csv >/dev/null

set -euo pipefail

# ---------------------------------------------------------------------------
# Configuration.  The rule constants below are the ONE place that defines the
# lab behaviour: they feed both the nftables ruleset (cmd_up) and the expected
# result (cmd_truth).
# ---------------------------------------------------------------------------
PPS_LAB=${PPS_LAB:-ppslab}

LAB_TARGETS=${PPS_LAB_TARGETS:-198.18.0.0/20} # AnyIP local route in the target ns = scan range
LAB_PORTS=22,80,443,8080         # ports the reference scan probes
LAB_OPEN_PORTS=22,80,443         # ports with a listener (others: kernel RST)
LAB_GW_IP=198.19.0.1             # target-side veth address = scanner's gateway
LAB_GW_PREFIX=24
LAB_SRC_IP=198.19.0.2            # scanner source IP (NOT configured in kernel)
LAB_DROP_NET=198.18.1.0/24       # nft: drop everything            -> filtered
LAB_RESET_NET=198.18.2.0/25      # nft: SYN -> tcp reset            -> closed
LAB_PORTDROP_NET=198.18.3.0/24   # nft: drop dport LAB_PORTDROP_PORT -> filtered
LAB_PORTDROP_PORT=443

# Derived names.
SCAN_NS="${PPS_LAB}-scan"
TGT_NS="${PPS_LAB}-tgt"
SCAN_IF="${PPS_LAB}s"
TGT_IF="${PPS_LAB}t"
NFT_TABLE=ppslab
STATE_DIR="/run/ppscan-lab/${PPS_LAB}"
PIDFILE="${STATE_DIR}/listener.pid"
LOGFILE="${STATE_DIR}/listener.log"

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
PYTHON=/usr/bin/python3
LISTENER="${SCRIPT_DIR}/lab_listener.py"

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
log()  { printf 'netlab: %s\n' "$*" >&2; }
die()  { log "error: $*"; exit 1; }

usage() {
    cat >&2 <<EOF
Usage: $(basename "$0") up|down|status|truth|env

  up      (re)create the lab (tears down a stale lab of the same name first)
  down    remove namespaces, listeners and state dir (never fails if absent)
  status  show what currently exists
  truth   print the expected SYN-scan result as CSV lines ip,port,status
  env     print shell-sourceable PPS_* variables describing the lab

Environment: PPS_LAB (default ppslab) - name prefix, at most 14 characters;
PPS_LAB_TARGETS (default 198.18.0.0/20) - the answered block, 198.18.0.0/20 to /15.
EOF
    exit 2
}

validate_name() {
    [[ $PPS_LAB =~ ^[A-Za-z0-9_-]+$ ]] ||
        die "PPS_LAB='$PPS_LAB' may only contain [A-Za-z0-9_-]"
    # Interface names are limited to 15 characters (IFNAMSIZ - 1).
    ((${#SCAN_IF} <= 15 && ${#TGT_IF} <= 15)) ||
        die "PPS_LAB='$PPS_LAB' too long (max 14 chars so '${PPS_LAB}s' fits IFNAMSIZ)"
    "$PYTHON" -c 'import ipaddress, sys
n = ipaddress.ip_network(sys.argv[1])
sys.exit(not (n.subnet_of(ipaddress.ip_network("198.18.0.0/15")) and
              n.supernet_of(ipaddress.ip_network("198.18.0.0/20")) if n.prefixlen <= 20 else False))' \
        "$LAB_TARGETS" 2>/dev/null ||
        die "PPS_LAB_TARGETS='$LAB_TARGETS' must be a block of 198.18.0.0/15 containing 198.18.0.0/20"
}

need_root() {
    ((EUID == 0)) || die "must run as root"
}

ns_exists() {
    ip netns list 2>/dev/null | awk '{print $1}' | grep -qxF -- "$1"
}

# Run a command inside a namespace.
in_scan() { ip netns exec "$SCAN_NS" "$@"; }
in_tgt()  { ip netns exec "$TGT_NS" "$@"; }

# Set a sysctl inside the target / scan namespace; failure is fatal unless
# the caller appends "|| true".
sysctl_ns() {
    local ns=$1 key=$2 val=$3
    ip netns exec "$ns" sysctl -q -w "${key}=${val}" >/dev/null
}

# Disable all offloads so frames seen by af_packet carry complete checksums
# and the receiving kernel verifies the checksums of what DPDK transmits.
disable_offloads() {
    local ns=$1 dev=$2
    command -v ethtool >/dev/null || die "ethtool missing (apt-get install -y ethtool)"
    ip netns exec "$ns" ethtool -K "$dev" tx off rx off gso off gro off tso off \
        >/dev/null 2>&1 || true
    # Check that the checksum offloads really are off (those matter most).
    local feat
    feat=$(ip netns exec "$ns" ethtool -k "$dev")
    if grep -Eq '^(tx-checksumming|rx-checksumming): on' <<<"$feat"; then
        die "could not disable checksum offload on $dev"
    fi
}

# Is $1 a running lab_listener process?
is_listener_pid() {
    local pid=$1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'lab_listener\.py'
}

# ---------------------------------------------------------------------------
# down
# ---------------------------------------------------------------------------
cmd_down() {
    need_root
    local pid ns _

    # 1. Stop the listener recorded in the state dir.
    if [[ -f $PIDFILE ]]; then
        pid=$(<"$PIDFILE")
        if is_listener_pid "$pid"; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 20); do
                is_listener_pid "$pid" || break
                sleep 0.1
            done
            if is_listener_pid "$pid"; then
                kill -KILL "$pid" 2>/dev/null || true
            fi
            log "stopped listener pid $pid"
        fi
    fi

    # 2. Anything else still running inside our namespaces (e.g. an aborted
    #    scanner) would keep the namespace alive after 'ip netns del'.
    for ns in "$SCAN_NS" "$TGT_NS"; do
        ns_exists "$ns" || continue
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            log "terminating leftover pid $pid in $ns"
            kill -TERM "$pid" 2>/dev/null || true
        done
    done

    # 3. Delete namespaces (this also destroys the veth pair, the routes and
    #    the nftables table living inside them).
    for ns in "$SCAN_NS" "$TGT_NS"; do
        if ns_exists "$ns"; then
            ip netns del "$ns"
            log "deleted netns $ns"
        fi
    done

    # 4. State dir.
    if [[ -d $STATE_DIR ]]; then
        rm -rf -- "$STATE_DIR"
        log "removed $STATE_DIR"
    fi
    rmdir /run/ppscan-lab 2>/dev/null || true
}

# ---------------------------------------------------------------------------
# up
# ---------------------------------------------------------------------------
nft_ruleset() {
    cat <<EOF
table inet ${NFT_TABLE} {
    chain input {
        type filter hook input priority filter; policy accept;
        # filtered: every packet to this subnet silently dropped
        ip daddr ${LAB_DROP_NET} drop
        # closed on every port (even the listening ones)
        ip daddr ${LAB_RESET_NET} tcp flags syn reject with tcp reset
        # filtered on one port only
        ip daddr ${LAB_PORTDROP_NET} tcp dport ${LAB_PORTDROP_PORT} drop
    }
}
EOF
}

cmd_up() {
    need_root
    command -v nft >/dev/null || die "nft missing (apt-get install -y nftables)"
    [[ -x $PYTHON ]] || die "$PYTHON missing"
    [[ -f $LISTENER ]] || die "$LISTENER missing"

    # Idempotent: remove any stale lab of the same name first.
    if ns_exists "$SCAN_NS" || ns_exists "$TGT_NS" || [[ -d $STATE_DIR ]]; then
        log "removing stale lab '${PPS_LAB}' first"
        cmd_down
    fi

    mkdir -p -- "$STATE_DIR"

    # --- namespaces -------------------------------------------------------
    ip netns add "$SCAN_NS"
    ip netns add "$TGT_NS"

    # Disable IPv6 by default in both namespaces *before* the veth exists, so
    # no link-local address, DAD, router solicitation or MLD ever goes out.
    local ns
    for ns in "$SCAN_NS" "$TGT_NS"; do
        sysctl_ns "$ns" net.ipv6.conf.all.disable_ipv6 1
        sysctl_ns "$ns" net.ipv6.conf.default.disable_ipv6 1
    done

    # --- veth pair, created directly inside the namespaces ----------------
    ip link add "$SCAN_IF" netns "$SCAN_NS" type veth peer name "$TGT_IF" netns "$TGT_NS"
    sysctl_ns "$SCAN_NS" "net.ipv6.conf.${SCAN_IF}.disable_ipv6" 1
    sysctl_ns "$TGT_NS" "net.ipv6.conf.${TGT_IF}.disable_ipv6" 1
    disable_offloads "$SCAN_NS" "$SCAN_IF"
    disable_offloads "$TGT_NS" "$TGT_IF"

    # --- scan side: link up, nothing else ---------------------------------
    # No IPv4 address, no routes (lo stays down too, so the routing tables are
    # completely empty), ARP off: the DPDK app answers ARP for LAB_SRC_IP.
    ip -n "$SCAN_NS" link set "$SCAN_IF" arp off multicast off
    ip -n "$SCAN_NS" link set "$SCAN_IF" up

    # --- target side ------------------------------------------------------
    ip -n "$TGT_NS" link set lo up
    ip -n "$TGT_NS" addr add "${LAB_GW_IP}/${LAB_GW_PREFIX}" dev "$TGT_IF"
    ip -n "$TGT_NS" link set "$TGT_IF" up
    # AnyIP: the whole target range is local, the TCP stack answers for it.
    ip -n "$TGT_NS" route add local "$LAB_TARGETS" dev lo

    sysctl_ns "$TGT_NS" net.ipv4.tcp_syncookies 1
    sysctl_ns "$TGT_NS" net.ipv4.tcp_max_syn_backlog 65536
    sysctl_ns "$TGT_NS" net.core.somaxconn 65535 ||
        log "warning: net.core.somaxconn not settable in netns"
    # One SYN-ACK retransmission, so the scanner's de-duplication is exercised.
    sysctl_ns "$TGT_NS" net.ipv4.tcp_synack_retries 1
    local key
    for key in all default lo "$TGT_IF"; do
        sysctl_ns "$TGT_NS" "net.ipv4.conf.${key}.rp_filter" 0
    done

    # --- nftables filters -------------------------------------------------
    nft_ruleset | in_tgt nft -f -

    # --- listeners --------------------------------------------------------
    # Fully detached (own session, no inherited stdio) so callers capturing
    # our output are not held open.  The listener writes its own pid file
    # once all ports are listening.
    # Its descriptors closed first: the lab lock that flock(1) hands down would otherwise
    # stay held for as long as the listener runs.
    in_tgt setsid "$PYTHON" -c 'import os, sys; os.closerange(3, 1 << 16); os.execv(sys.executable, [sys.executable] + sys.argv[1:])' \
        "$LISTENER" --ports "$LAB_OPEN_PORTS" \
        --backlog 65535 --pidfile "$PIDFILE" \
        </dev/null >"$LOGFILE" 2>&1 &

    local _
    for _ in $(seq 50); do
        [[ -s $PIDFILE ]] && break
        sleep 0.1
    done
    [[ -s $PIDFILE ]] || { cat "$LOGFILE" >&2 || true; die "listener did not start"; }

    log "lab '${PPS_LAB}' up: $SCAN_NS/$SCAN_IF <-> $TGT_NS/$TGT_IF," \
        "gw $LAB_GW_IP, src $LAB_SRC_IP, targets $LAB_TARGETS," \
        "listener pid $(<"$PIDFILE")"
}

# ---------------------------------------------------------------------------
# status
# ---------------------------------------------------------------------------
cmd_status() {
    need_root
    local ns rc=0
    echo "== lab '${PPS_LAB}' (state dir $STATE_DIR)"
    for ns in "$SCAN_NS" "$TGT_NS"; do
        if ns_exists "$ns"; then
            echo "== netns $ns: present"
            echo "-- links"
            ip -n "$ns" -br link
            echo "-- addresses"
            ip -n "$ns" -br addr
            echo "-- routes (all tables)"
            ip -n "$ns" route show table all
            ip -n "$ns" -6 route show table all 2>/dev/null || true
        else
            echo "== netns $ns: absent"
            rc=1
        fi
    done
    if ns_exists "$TGT_NS"; then
        echo "-- nftables ($TGT_NS)"
        in_tgt nft list ruleset
        echo "-- listening sockets ($TGT_NS)"
        in_tgt ss -Hltn
    fi
    if [[ -f $PIDFILE ]] && is_listener_pid "$(<"$PIDFILE")"; then
        echo "== listener: running, pid $(<"$PIDFILE")"
    else
        echo "== listener: not running"
        rc=1
    fi
    if ((rc == 0)); then echo "== lab is UP"; else echo "== lab is DOWN or incomplete"; fi
    return "$rc"
}

# ---------------------------------------------------------------------------
# truth: expected result of a SYN scan of LAB_TARGETS x LAB_PORTS
# ---------------------------------------------------------------------------
cmd_truth() {
    LAB_TARGETS=$LAB_TARGETS LAB_PORTS=$LAB_PORTS LAB_OPEN_PORTS=$LAB_OPEN_PORTS \
    LAB_DROP_NET=$LAB_DROP_NET LAB_RESET_NET=$LAB_RESET_NET \
    LAB_PORTDROP_NET=$LAB_PORTDROP_NET LAB_PORTDROP_PORT=$LAB_PORTDROP_PORT \
    "$PYTHON" - <<'EOF'
# Mirrors the nftables rules of netlab.sh (same order: first match wins).
import ipaddress
import os
import sys

env = os.environ
targets = ipaddress.ip_network(env["LAB_TARGETS"])
ports = sorted({int(p) for p in env["LAB_PORTS"].split(",")})
open_ports = {int(p) for p in env["LAB_OPEN_PORTS"].split(",")}
drop_net = ipaddress.ip_network(env["LAB_DROP_NET"])
reset_net = ipaddress.ip_network(env["LAB_RESET_NET"])
portdrop_net = ipaddress.ip_network(env["LAB_PORTDROP_NET"])
portdrop_port = int(env["LAB_PORTDROP_PORT"])

out = []
for ip in targets:                 # every address, incl. .0 and .255
    for port in ports:
        if ip in drop_net:
            continue               # filtered: no answer
        if ip in reset_net:
            status = "closed"      # nft reject with tcp reset
        elif ip in portdrop_net and port == portdrop_port:
            continue               # filtered on this port
        elif port in open_ports:
            status = "open"        # listener -> SYN-ACK
        else:
            status = "closed"      # no listener -> kernel RST
        out.append(f"{ip},{port},{status}\n")
sys.stdout.writelines(out)
EOF
}

# ---------------------------------------------------------------------------
# env
# ---------------------------------------------------------------------------
cmd_env() {
    cat <<EOF
PPS_LAB=${PPS_LAB}
PPS_SCAN_NS=${SCAN_NS}
PPS_TGT_NS=${TGT_NS}
PPS_SCAN_IF=${SCAN_IF}
PPS_TGT_IF=${TGT_IF}
PPS_SRC_IP=${LAB_SRC_IP}
PPS_GW_IP=${LAB_GW_IP}
PPS_TARGETS=${LAB_TARGETS}
PPS_PORTS=${LAB_PORTS}
PPS_VDEV=net_af_packet0,iface=${SCAN_IF}
PPS_BLOCKLIST=${SCRIPT_DIR}/lab-blocklist.conf
PPS_STATE_DIR=${STATE_DIR}
EOF
}

# ---------------------------------------------------------------------------
main() {
    (($# == 1)) || usage
    validate_name
    case $1 in
        up)     cmd_up ;;
        down)   cmd_down ;;
        status) cmd_status ;;
        truth)  cmd_truth ;;
        env)    cmd_env ;;
        -h|--help|help) usage ;;
        *)      usage ;;
    esac
}

main "$@"
