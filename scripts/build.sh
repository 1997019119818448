#!/usr/bin/env bash
# build.sh - configure (once) and build ppscan into ${PPS_BUILD_DIR:-build}.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${PPS_BUILD_DIR:-build}
if [[ ! -f $BUILD/build.ninja ]]; then
	meson setup "$BUILD" --buildtype=release -Ddpdk=enabled -Dtests=enabled "$@"
fi
ninja -C "$BUILD"
