#!/usr/bin/env bash
# package.sh - the Debian binary packages (debian/): ppscan, ppscan-pcap, ppscan-id and
# ppscan-common, built with `dpkg-buildpackage -b` from a copy of the source tree, then
# checked with lintian (any error fails). The .debs land in ${PPS_DEB_DIR:-build-deb}/.
# Built once per source tree: when the tree's files have not changed since the last build,
# the packages there are reused.
# Usage: scripts/package.sh          (prints the .deb paths, one a line, on stdout)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${PPS_DEB_DIR:-build-deb}
[[ $OUT == /* ]] || OUT=$ROOT/$OUT
VERSION=$(dpkg-parsechangelog -S Version)

# the files of the tree (tracked and new, not ignored; outside git: all but build*/), and
# their content's hash
list_files() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard
	else
		find . -type f -not -path './build*' -not -path './.git/*' -printf '%P\0'
	fi
}
mapfile -d '' files < <(list_files | while IFS= read -r -d '' f; do [[ -f $f ]] && printf '%s\0' "$f"; done)
hash=$( (printf '%s\0' "${files[@]}" | xargs -0 sha256sum; echo "$VERSION") | sha256sum | cut -c1-16)
debs() { ls "$OUT"/*_"$VERSION"_*.deb; }
if [[ -f $OUT/.tree-hash && $(cat "$OUT/.tree-hash") == "$hash" ]] && debs >/dev/null 2>&1; then
	echo "package: reusing the packages of this tree ($hash) in $OUT" >&2
	debs
	exit 0
fi

rm -rf "$OUT"
src=$OUT/src/ppscan-$VERSION
mkdir -p "$src"
printf '%s\0' "${files[@]}" | xargs -0 cp --parents -t "$src"
echo "package: dpkg-buildpackage -b in $src" >&2
(cd "$src" && DEB_BUILD_OPTIONS="parallel=${PPS_JOBS:-2} noautodbgsym ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -b -us -uc >"$OUT/build.log" 2>&1) || {
	tail -40 "$OUT/build.log" >&2
	echo "package: dpkg-buildpackage failed (log: $OUT/build.log)" >&2
	exit 1
}
mv "$OUT"/src/*.deb "$OUT"/src/*.changes "$OUT"/src/*.buildinfo "$OUT"/
rm -rf "$OUT/src"
# lintian: errors fail the build; warnings are printed
changes=$(ls "$OUT"/*.changes)
if ! lintian --fail-on error --suppress-tags-from-file /dev/null "$changes" >"$OUT/lintian.txt" 2>&1; then
	cat "$OUT/lintian.txt" >&2
	echo "package: lintian found errors" >&2
	exit 1
fi
echo "package: lintian: $(grep -c '^E:' "$OUT/lintian.txt" || true) errors, $(grep -c '^W:' "$OUT/lintian.txt" || true) warnings" >&2
echo "$hash" >"$OUT/.tree-hash"
debs
