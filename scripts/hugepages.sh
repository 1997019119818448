#!/usr/bin/env bash
# hugepages.sh - make sure DPDK has 2 MiB hugepages available.
#
# Usage: scripts/hugepages.sh [N]      (default N=512, i.e. 1 GiB)
#
# * Ensures at least N 2 MiB hugepages are reserved (never shrinks an
#   existing larger reservation, which someone else may be using).
# * Mounts hugetlbfs at /dev/hugepages unless something hugetlbfs is
#   already mounted there.
# Idempotent; prints what it did.  Exits non-zero if fewer than N pages could
# be reserved (e.g. fragmented memory) or the mount failed.

set -euo pipefail

N=${1:-${PPS_HUGEPAGES:-512}}
SYSFS=/sys/kernel/mm/hugepages/hugepages-2048kB
MNT=/dev/hugepages

log() { printf 'hugepages: %s\n' "$*"; }
die() { printf 'hugepages: error: %s\n' "$*" >&2; exit 1; }

[[ $N =~ ^[0-9]+$ ]] || die "N must be a non-negative integer, got '$N'"
((EUID == 0)) || die "must run as root"
[[ -w $SYSFS/nr_hugepages ]] || die "$SYSFS/nr_hugepages not writable (no 2 MiB hugepage support?)"

# --- reserve ---------------------------------------------------------------
cur=$(<"$SYSFS/nr_hugepages")
if ((cur >= N)); then
    log "already $cur x 2MiB pages reserved (wanted >= $N), unchanged"
else
    echo "$N" >"$SYSFS/nr_hugepages"
    got=$(<"$SYSFS/nr_hugepages")
    log "reserved 2MiB pages: $cur -> $got (requested $N)"
    ((got >= N)) || die "kernel only granted $got of $N pages"
fi
log "free 2MiB pages: $(<"$SYSFS/free_hugepages") of $(<"$SYSFS/nr_hugepages")"

# --- mount -----------------------------------------------------------------
if awk -v m="$MNT" '$2 == m && $3 == "hugetlbfs" {found=1} END {exit !found}' /proc/mounts; then
    log "hugetlbfs already mounted at $MNT"
else
    mkdir -p "$MNT"
    mount -t hugetlbfs -o pagesize=2M nodev "$MNT"
    log "mounted hugetlbfs (pagesize=2M) at $MNT"
fi
