#!/usr/bin/env bash
# redis-consumer.sh - follow a ppscan scan in Redis while it runs: read the results stream
# {prefix}:{scan}:results in a consumer group (XREADGROUP), print each result as a line
# "ip,port,status,ttl,ts", acknowledge (XACK) only after printing, and stop when the meta
# hash {prefix}:{scan}:meta says the scan is done (or interrupted) and nothing is left.
# A consumer restarted under the same name first re-reads what it had received but not
# acknowledged, so nothing is lost; several consumers in one group share the results.
#
# Usage: scripts/redis-consumer.sh [-r URL] [-p PREFIX] [-g GROUP] [-c CONSUMER] SCAN_ID
#   -r URL       as ppscan --redis takes it: redis://[:password@]host[:port][/db] or
#                unix:///path/to/redis.sock[?db=N]   (default redis://127.0.0.1:6379)
#   -p PREFIX    ppscan --redis-prefix (default ppscan)
#   -g GROUP     consumer group, created at the stream's start if missing (default consumers)
#   -c CONSUMER  this consumer's name (default: host name and pid)
# Example, beside a running scan:
#   ppscan ... --redis unix:///run/redis/redis.sock --scan-id s1 198.18.0.0/20 &
#   scripts/redis-consumer.sh -r unix:///run/redis/redis.sock s1 | your-pipeline
set -euo pipefail

url=redis://127.0.0.1:6379 prefix=ppscan group=consumers consumer="$(hostname)-$$"
while getopts r:p:g:c:h o; do
	case $o in
	r) url=$OPTARG ;;
	p) prefix=$OPTARG ;;
	g) group=$OPTARG ;;
	c) consumer=$OPTARG ;;
	*) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
(($# == 1)) || { echo "redis-consumer: give one SCAN_ID (see -h)" >&2; exit 2; }
scan=$1
stream=$prefix:$scan:results meta=$prefix:$scan:meta

# redis-cli arguments from the URL (redis-cli -u knows redis:// only)
cli=(redis-cli --no-auth-warning)
case $url in
unix://*)
	rest=${url#unix://}
	if [[ $rest == *@/* ]]; then
		pass=${rest%%@/*}; pass=${pass#*:}; cli+=(-a "$pass"); rest=/${rest#*@/}
	fi
	[[ $rest == *'?db='* ]] && cli+=(-n "${rest##*\?db=}")
	cli+=(-s "${rest%%\?*}") ;;
redis://*) cli+=(-u "$url") ;;
*) echo "redis-consumer: unsupported URL '$url': expected redis:// or unix://" >&2; exit 2 ;;
esac
r() { "${cli[@]}" "$@"; }

out=$(r XGROUP CREATE "$stream" "$group" 0 MKSTREAM 2>&1 || true)
[[ $out == OK || $out == *BUSYGROUP* ]] || { echo "redis-consumer: $out" >&2; exit 1; }

# One XREADGROUP: prints the entries as CSV, acknowledges them, returns 1 if there were none.
# With --raw the reply is flat: the stream name, then per entry its id and 5 field/value pairs.
read_once() { # $1: id ("0": my pending entries, ">": new ones), $2: wait up to ms (optional)
	local raw ids block=()
	[[ -n ${2:-} ]] && block=(BLOCK "$2")
	raw=$(r --raw XREADGROUP GROUP "$group" "$consumer" COUNT 1000 "${block[@]}" \
		STREAMS "$stream" "$1") || return 1
	[[ -n $raw ]] || return 1
	ids=$(awk 'NR > 1 && /^[0-9]+-[0-9]+$/ { print }' <<<"$raw")
	[[ -n $ids ]] || return 1
	awk 'NR == 1 { next }
	     /^[0-9]+-[0-9]+$/ { if (id) print line; id = $0; line = ""; k = ""; n = 0; next }
	     k == "" { k = $0; next }
	     { v[k] = $0; k = ""; if (++n == 5) line = v["ip"] "," v["port"] "," v["status"] "," v["ttl"] "," v["ts"] }
	     END { if (id && line != "") print line }' <<<"$raw"
	# shellcheck disable=SC2086
	r XACK "$stream" "$group" $ids >/dev/null
	return 0
}

while read_once 0; do :; done # what this consumer had received before a restart
while :; do
	if ! read_once '>' 1000; then
		state=$(r HGET "$meta" state)
		if [[ $state == done || $state == interrupted ]]; then
			# the state is set after the last result: one more read drains the stream
			while read_once '>'; do :; done
			exit 0
		fi
	fi
done
