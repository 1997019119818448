#!/usr/bin/env bash
# test_packages.sh - the Debian packages as a user gets them (root; scripts/test.sh runs it):
# builds them once (scripts/package.sh: dpkg-buildpackage -b, lintian without errors),
# installs them with `apt install ./*.deb`, and from the installed paths checks the versions,
# `man -w` of every page, the bash completion, the data files, the default config file
# /etc/ppscan/ppscan.conf (read, overridden by the command line, skipped by --no-config),
# and a lab scan with the installed ppscan and ppscan-pcap against the lab's truth. The
# packages are removed (purged) at the end, whatever happened.
# --no-lab leaves the lab scan out (then no namespace is made and no lab lock is needed).
# Prints "test_packages: N checks passed" or the first failure, and exits 1 on a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
((EUID == 0)) || { echo "test_packages: must run as root" >&2; exit 1; }
PKGS=(ppscan-common ppscan ppscan-pcap ppscan-id)
LAB=1
[[ ${1:-} == --no-lab ]] && LAB=0
export PPS_LAB=${PPS_LAB:-ppsdeb}
TMP=$(mktemp -d /tmp/ppscan-pkg.XXXXXX)
checks=0

purge() { # the packages of ours that are installed (or left with their conffile)
	local present=()
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qv '^not-installed$' &&
			present+=("$p")
	done
	((${#present[@]})) || return 0
	flock /tmp/ppscan-apt.lock env DEBIAN_FRONTEND=noninteractive \
		apt-get purge -y -q "${present[@]}" >"$TMP/purge.log" 2>&1
}
cleanup() {
	scripts/netlab.sh down >/dev/null 2>&1 || true
	purge || cat "$TMP/purge.log" >&2
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "test_packages: FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); echo "test_packages: ok: $*"; }

mapfile -t debs < <(scripts/package.sh)
((${#debs[@]} == ${#PKGS[@]})) || fail "expected ${#PKGS[@]} packages, got: ${debs[*]}"
ok "built and lintian-clean: ${debs[*]##*/}"
# the dependencies are Debian's runtime packages (shlibs), already present here: no network
flock /tmp/ppscan-apt.lock env DEBIAN_FRONTEND=noninteractive \
	apt install -y -q --no-install-recommends "${debs[@]}" >"$TMP/install.log" 2>&1 ||
	{ cat "$TMP/install.log" >&2; fail "apt install ./*.deb"; }
ok "apt install ${debs[*]##*/}"
dpkg -s ppscan | grep -q '^Depends:.*librte-eal' || fail "ppscan does not depend on librte-eal"
dpkg -s ppscan-pcap | grep -q '^Depends:.*libpcap' || fail "ppscan-pcap does not depend on libpcap"
dpkg -s ppscan-id | grep -q "^Depends:.*libssl" || fail "ppscan-id does not depend on libssl"
ok "dependencies from shlibs: librte-eal, libpcap, libssl"

version=$(dpkg-parsechangelog -S Version)
for b in ppscan ppscan-pcap ppscan-id ppscan-tls; do
	[[ -x /usr/bin/$b ]] || fail "no /usr/bin/$b"
	got=$(/usr/bin/$b --version)
	[[ $got == "$b $version" ]] || fail "/usr/bin/$b --version: '$got'"
	# -a: a copy under /usr/local (meson install) may come first in the search order
	man -aw $b | grep -qx "/usr/share/man/man1/$b.1.gz" || fail "man -w $b: '$(man -aw $b)'"
	MANWIDTH=100 man -l /usr/share/man/man1/$b.1.gz 2>/dev/null | grep -q -- "--list-options" ||
		fail "man $b shows no options"
	# bash-completion loads the completion on demand, by the command's name
	bash -c "source /usr/share/bash-completion/bash_completion; _completion_loader $b;
		complete -p $b" | grep -q "_${b//-/_} $b" || fail "no bash completion for $b"
done
ok "--version, man -w, man and the completion of ppscan, ppscan-pcap, ppscan-id, ppscan-tls"
for f in blocklist.conf top-ports.txt; do
	cmp -s "/usr/share/ppscan/$f" "data/$f" || fail "/usr/share/ppscan/$f differs from data/$f"
done
ok "data files in /usr/share/ppscan"

# the default config file: a conffile, every line a comment, read when present
conf=/etc/ppscan/ppscan.conf
dpkg-query -W -f='${Conffiles}' ppscan-common | grep -q " $conf " || fail "$conf is no conffile"
! grep -v '^#' "$conf" | grep -q '[^[:space:]]' || fail "$conf sets something: $(grep -v '^#' "$conf")"
dump() { env -u PPSCAN_CONFIG /usr/bin/ppscan-pcap --dryrun -b /dev/null -p 80 "$@" \
	--dump-config 198.18.0.1; }
dump | grep -q '^probe-ttl' && fail "probe-ttl set without a config"
cp "$conf" "$TMP/conf.orig"
printf 'probe-ttl = 42\ncooldown = 3\n' >>"$conf"
dump | grep -qx 'probe-ttl = 42' || fail "the installed $conf is not read"
dump --probe-ttl 9 | grep -qx 'probe-ttl = 9' || fail "the command line does not win over $conf"
dump --probe-ttl 9 | grep -qx 'cooldown = 3' || fail "a key of $conf is lost beside the command line"
dump --no-config | grep -q '^probe-ttl' && fail "--no-config still reads $conf"
cp "$TMP/conf.orig" "$conf"
ok "$conf read, overridden by the command line, skipped by --no-config"

# a lab scan with each installed scanner: exactly the lab's truth
if ((LAB)); then
scripts/netlab.sh up >/dev/null
eval "$(scripts/netlab.sh env)"
scripts/netlab.sh truth | awk -F, '$3 == "open" { print $1 "," $2 }' | sort >"$TMP/truth"
common=(-b "$PPS_BLOCKLIST" -S "$PPS_SRC_IP" --gateway-ip "$PPS_GW_IP" -p "$PPS_PORTS"
	-r 20000 -c 2 -q -e 15 "$PPS_TARGETS")
ip netns exec "$PPS_SCAN_NS" env -u PPSCAN_CONFIG /usr/bin/ppscan --no-huge -m 256 \
	--no-shconf --no-pci --no-telemetry -l 0-1 --vdev "$PPS_VDEV" -- "${common[@]}" \
	>"$TMP/dpdk.csv" 2>"$TMP/dpdk.err" || { cat "$TMP/dpdk.err" >&2; fail "/usr/bin/ppscan lab scan"; }
ip netns exec "$PPS_SCAN_NS" env -u PPSCAN_CONFIG /usr/bin/ppscan-pcap -i "$PPS_SCAN_IF" \
	"${common[@]}" >"$TMP/pcap.csv" 2>"$TMP/pcap.err" ||
	{ cat "$TMP/pcap.err" >&2; fail "/usr/bin/ppscan-pcap lab scan"; }
for b in dpdk pcap; do
	tail -n +2 "$TMP/$b.csv" | cut -d, -f1,2 | sort >"$TMP/$b.got"
	cmp -s "$TMP/$b.got" "$TMP/truth" ||
		fail "$b: $(wc -l <"$TMP/$b.got") open ports, truth $(wc -l <"$TMP/truth"): $(diff "$TMP/truth" "$TMP/$b.got" | head -3)"
done
ok "lab scans with /usr/bin/ppscan and /usr/bin/ppscan-pcap: $(wc -l <"$TMP/truth") open ports each, exactly the truth"
scripts/netlab.sh down >/dev/null
fi

purge || { cat "$TMP/purge.log" >&2; fail "apt-get purge"; }
for p in /usr/bin/ppscan /usr/bin/ppscan-pcap /usr/bin/ppscan-id /usr/bin/ppscan-tls /etc/ppscan /usr/share/ppscan; do
	[[ ! -e $p ]] || fail "$p is still there after the purge"
done
ok "purged: no file left"
echo "test_packages: $checks checks passed"
