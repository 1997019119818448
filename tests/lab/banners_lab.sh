#!/usr/bin/env bash
# banners_lab.sh - --banners end to end (root): the real servers of the identification lab
# (tests/id/id_lab.sh: OpenSSH, nginx, vsftpd, Postfix, Dovecot, openssl s_server, socat
# pseudo-services; every other address of 198.18.0.0/22 closed, dropped or reset) scanned with
# --banners at 50, 100 and 200 kpps (PPS_BANNERS_RATES) by ppscan-pcap and by ppscan on
# net_af_packet and net_af_xdp. Checks:
# every plain endpoint's first bytes name its protocol as the identification stage's truth
# says (implicit TLS: "tls" from the ServerHello); nothing forged gets in (the unit suite
# test_banners forges the segments); no connection is left established or half-open in the
# target namespace after the scan (ss) and no retransmission storm (the namespace's
# RetransSegs), the silent one reset after the cooldown (no_data); no answer is recorded
# from an address without a server (precision);
# a pseudo-service address (nftables sends every port of 198.18.0.27 to one listener that
# never sends: LZR's middlebox case) is no_data on every port and marked a middlebox, and no
# other address is; refusals are one line and exit 2.
#
# ppscan-id then reads ppscan-pcap's --banners CSV: one record per endpoint (the SYN-ACK rows
# wait for their follow-up), the protocol the first bytes named is the protocol ppscan-id
# names, a no_data endpoint skips the greeting wait, every record valid against the schema.
#
# Usage: banners_lab.sh PPSCAN PPSCAN_PCAP [PPSCAN_ID]   (meson test --suite lab runs it)
set -euo pipefail
cd "$(dirname "$0")/../.."
PPSCAN=$1
PCAP=$2
PPSCAN_ID=${3:-}
LAB=${PPS_LAB_BANNERS:-ppsbn}
D=$(mktemp -d /tmp/ppscan-banners-XXXXXX)
chmod 755 "$D" # the servers drop privileges and must reach $D/srv
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
MBPID=
cleanup() {
	[[ -z $MBPID ]] || { pkill -P "$MBPID" 2>/dev/null; kill "$MBPID" 2>/dev/null; } || true
	tests/id/id_lab.sh down "$LAB" "$D/srv" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# the identification lab's own servers only (ID_LAB_EXTRA=0: not those of tests/id/servers_*.sh)
ID_LAB_EXTRA=0 tests/id/id_lab.sh up "$LAB" "$D/srv" >"$D/up.log" 2>&1 || { tail -20 "$D/up.log"; exit 1; }
# the i12 servers (198.18.0.20-26), their ports and protocols
tests/id/id_lab.sh expect | awk -F'\t' '$1 ~ /^198\.18\.0\.2[0-6]$/' >"$D/expect.tsv"
PORTS=$(cut -f2 "$D/expect.tsv" | sort -un | paste -sd,)
NPORTS=$(cut -f2 "$D/expect.tsv" | sort -un | wc -l)
# the pseudo-service: every TCP port of 198.18.0.27 to one silent listener (DNAT keeps the
# address; conntrack maps the SYN-ACKs and our RSTs back)
ip netns exec "$LAB-tgt" nft -f - <<'NFT'
table ip ppsbn_middlebox {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr 198.18.0.27 tcp dport != 9003 dnat to 198.18.0.27:9003
	}
}
NFT
ip netns exec "$LAB-tgt" socat TCP-LISTEN:9003,bind=198.18.0.27,reuseaddr,fork,backlog=256 \
	"SYSTEM:exec sleep 120" &
MBPID=$!
for _ in $(seq 50); do
	ip netns exec "$LAB-tgt" ss -Htln '( sport = 9003 )' | grep -q . && break
	sleep 0.1
done
FIELDS=saddr,sport,classification,protocol,product,version,middlebox,data_len,data_text
RATES=${PPS_BANNERS_RATES:-50000 100000 200000}
# 198.18.0.0/22 x the ports: the servers at .20-.27, every other address closed (kernel RST),
# 198.18.1.0/24 dropped, 198.18.2.0/25 reset by nftables (scripts/netlab.sh)
SPACE=198.18.0.0/22
OPTS=(-S 198.19.0.2 --gateway-ip 198.19.0.1 -b scripts/lab-blocklist.conf -p "$PORTS"
	-c 3 -q --banners --sni svc.lab.test -f "$FIELDS")
EAL=(--no-huge -m 256 --no-shconf --no-telemetry --no-pci -l 0-1)
# net_af_xdp loads its XDP program through the BPF filesystem
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true

# the target namespace's TCP retransmissions so far (RFC 4022 tcpRetransSegs)
retrans() {
	ip netns exec "$LAB-tgt" awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 }
		else print $c["RetransSegs"] }' /proc/net/snmp
}

# check TAG CSV: each endpoint's answer against the truth, then the target's sockets
check() {
	local tag=$1 csv=$2 ip port proto tls want got cls named=0 total=0 left
	while IFS=$'\t' read -r ip port proto _ _ tls; do
		case $proto in
		no_service) want=- ;;
		http2) want=http2 ;; # h2c: its SETTINGS preface answers GET /
		*) want=$proto ;;
		esac
		[[ $tls == implicit ]] && want=tls
		cls=$(awk -F, -v a="$ip" -v p="$port" '$1 == a && $2 == p && $3 != "synack" {print $3; exit}' "$csv")
		got=$(awk -F, -v a="$ip" -v p="$port" '$1 == a && $2 == p && $3 == "data" {print $4; exit}' "$csv")
		[[ $want == - ]] && { echo "$tag $ip:$port $proto -> ${cls:-none} ${got:-}"; continue; }
		total=$((total + 1))
		if [[ $got == "$want" ]]; then
			named=$((named + 1))
		else
			fail "$tag $ip:$port: expected $want, got '${got}' (${cls:-no answer})"
		fi
	done <"$D/expect.tsv"
	echo "$tag: $named of $total endpoints named from their first bytes"
	# precision: no answer after our ACK from anything but the servers (198.18.0.20-27)
	local stray
	stray=$(awk -F, 'NR > 1 && $3 != "synack" && $1 !~ /^198\.18\.0\.2[0-7]$/ {print $1 ":" $2 " " $3}' "$csv" | head -5)
	[[ -z $stray ]] || fail "$tag: answers recorded from endpoints without a server: $stray"
	grep -q ',data,' "$csv" || fail "$tag: no data results"
	# 9001 accepts and closes: fin (or a RST)
	grep -Eq '^198\.18\.0\.26,9001,(fin|rst_on_data)' "$csv" ||
		fail "$tag: 198.18.0.26:9001 (closes at once) not classified fin"
	# 9002 accepts and says nothing: no_data, reset after a cooldown
	grep -Eq '^198\.18\.0\.26,9002,no_data' "$csv" ||
		fail "$tag: 198.18.0.26:9002 (silent) not classified no_data"
	# the pseudo-service address: no_data on every probed port, each follow-up marked
	local mb_nodata mb_marked mb_other
	mb_nodata=$(awk -F, '$1 == "198.18.0.27" && $3 == "no_data"' "$csv" | wc -l)
	mb_marked=$(awk -F, '$1 == "198.18.0.27" && $3 == "no_data" && $7 == "1"' "$csv" | wc -l)
	mb_other=$(awk -F, '$1 != "198.18.0.27" && $7 == "1" {print $1}' "$csv" | sort -u | paste -sd' ')
	((mb_nodata == NPORTS)) ||
		fail "$tag: 198.18.0.27 (pseudo-service): $mb_nodata of $NPORTS ports no_data"
	((mb_marked == NPORTS)) ||
		fail "$tag: 198.18.0.27 (pseudo-service): $mb_marked of $NPORTS no_data results marked middlebox"
	[[ -z $mb_other ]] || fail "$tag: other addresses marked middlebox: $mb_other"
	echo "$tag: 198.18.0.27 (pseudo-service): $mb_nodata of $NPORTS ports no_data, $mb_marked marked middlebox"
	sleep 1
	left=$(ip netns exec "$LAB-tgt" ss -Htan state established state syn-recv \
		'( src 198.18.0.0/22 )' || true)
	[[ -z $left ]] || fail "$tag: connections left on the targets: $left"
}

# scan TAG RATE OUT: one --banners scan of $SPACE by backend TAG at RATE pps into OUT
scan() {
	local tag=$1 rate=$2 out=$3 before
	before=$(retrans)
	case $tag in
	pcap) ip netns exec "$LAB-scan" "$PCAP" -i "${LAB}s" "${OPTS[@]}" -r "$rate" -o "$out" \
		"$SPACE" 2>"$out.err" ;;
	af_packet | af_xdp) ip netns exec "$LAB-scan" "$PPSCAN" "${EAL[@]}" \
		--vdev "net_${tag}0,iface=${LAB}s" -- "${OPTS[@]}" -r "$rate" -o "$out" "$SPACE" \
		2>"$out.err" ;;
	esac || { tail -5 "$out.err"; fail "$tag --banners at $rate pps exited"; }
	grep -E -- '--banners|middlebox|send phase' "$out.err" || true
	grep -q '1 address(es) answered' "$out.err" || fail "$tag: the summary does not count one middlebox"
	check "$tag@$rate" "$out"
	# the targets answered each handshake once: no SYN-ACK or data retransmission storm
	# (the servers' own retransmissions: at most one per 10 open endpoints)
	local re=$(($(retrans) - before)) open
	open=$(awk -F, '$3 == "synack"' "$out" | wc -l)
	echo "$tag@$rate: $re TCP retransmissions in the target namespace for $open open endpoints"
	((re * 10 <= open)) || fail "$tag@$rate: $re retransmissions for $open open endpoints"
}

start=$SECONDS
for rate in $RATES; do
	for tag in pcap af_packet af_xdp; do
		scan "$tag" "$rate" "$D/$tag-$rate.csv"
	done
done
cp "$D/pcap-${RATES%% *}.csv" "$D/pcap.csv"

# ppscan-id from the --banners CSV (without the pseudo-service address: 20 silent endpoints
# of one address would only cost time here; id_lab covers no_service)
if [[ -n $PPSCAN_ID ]]; then
	grep -v '^198\.18\.0\.27,' "$D/pcap.csv" >"$D/id-in.csv"
	ip netns exec "$LAB-cli" "$PPSCAN_ID" -b scripts/lab-blocklist.conf "$D/id-in.csv" \
		>"$D/id.ndjson" 2>"$D/id.err" || { cat "$D/id.err"; fail "ppscan-id on the --banners CSV exited $?"; }
	tail -1 "$D/id.err"
	python3 - "$D/id-in.csv" "$D/id.ndjson" schema/service-record.schema.json <<'PY' || fail "ppscan-id on the --banners records"
import csv, json, sys
import jsonschema
rows = list(csv.DictReader(open(sys.argv[1])))
recs = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
schema = json.load(open(sys.argv[3]))
v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
bad = []
follow = {(r["saddr"], int(r["sport"])): r for r in rows if r["classification"] != "synack"}
by = {}
for rec in recs:
    for e in v.iter_errors(rec):
        bad.append(f"{rec['ip']}:{rec['port']} schema: {e.message}")
    k = (rec["ip"], rec["port"])
    if k in by:
        bad.append(f"{k}: two records")
    by[k] = rec
if set(by) != set(follow):
    bad.append(f"records for {sorted(set(by) ^ set(follow))} differ from the scan's endpoints")
named = 0
for k, row in follow.items():
    rec = by.get(k)
    if not rec:
        continue
    if rec.get("scan", {}).get("classification") != row["classification"]:
        bad.append(f"{k}: scan.classification {rec.get('scan')} for {row['classification']}")
    p = row["protocol"]
    if row["classification"] == "data" and p:
        ok = rec["tls"] is not None if p == "tls" else rec["protocol"] == p
        named += ok
        if not ok:
            bad.append(f"{k}: the scanner named {p}, ppscan-id {rec['protocol']}")
    if row["classification"] == "no_data":
        hs = rec["handshakes"]
        if not hs or hs[0].get("name") != "greeting" or hs[0].get("result") != "silent":
            bad.append(f"{k}: no_data endpoint did not start past the greeting: {hs[:1]}")
print(f"ppscan-id: {len(recs)} records for {len(follow)} endpoints, {named} agree with the protocol of the first bytes")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
fi

# refusals: one line, exit 2, before any packet
rc=0
ip netns exec "$LAB-tgt" "$PCAP" -i "${LAB}t" -S 198.19.0.1 --gateway-ip 198.19.0.2 \
	-b scripts/lab-blocklist.conf -p 80 --banners 198.18.0.21 2>"$D/own.err" >/dev/null || rc=$?
[[ $rc == 2 && $(wc -l <"$D/own.err") == 1 ]] && grep -q 'drop-kernel-rst' "$D/own.err" ||
	fail "--banners from the host's own address: exit $rc, $(cat "$D/own.err")"
rc=0
ip netns exec "$LAB-scan" "$PCAP" -i "${LAB}s" -S 198.19.0.2 --gateway-ip 198.19.0.1 -b scripts/lab-blocklist.conf -p 80 --banners --no-rst 198.18.0.21 2>"$D/norst.err" >/dev/null || rc=$?
[[ $rc == 2 ]] || fail "--banners --no-rst: exit $rc"
echo "banners_lab: $FAILS failures, $((SECONDS - start)) s of scans (files in $D)"
((FAILS == 0))
