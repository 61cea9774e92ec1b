#!/usr/bin/env bash
# Runs the swap tests of build dir $1 (integration_swap, cli_swapped) again with a 64 MiB
# swap file on the build directory's file system, so that the swapped side is tested
# where the machine has no swap of its own (without swap, MADV_PAGEOUT leaves pages
# resident, and the tests assert that side). The swap file is switched off and removed on
# exit, also after a failure or an interrupt. Needs root and a file system that takes
# swap files (ext4, xfs; not tmpfs or overlayfs); where swapon refuses, it says why and
# runs nothing (exit 0).
set -euo pipefail
bdir=${1:-build}
sw=$(cd "$bdir" && pwd)/ml-swapfile
cleanup() {
	swapoff "$sw" 2>/dev/null || true
	rm -f "$sw"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! command -v mkswap >/dev/null || ! command -v swapon >/dev/null; then
	echo "swap-pass: SKIP: mkswap/swapon not found (util-linux)"
	exit 0
fi
rm -f "$sw"
dd if=/dev/zero of="$sw" bs=1M count=64 status=none
chmod 600 "$sw"
mkswap -q "$sw" >/dev/null
if ! err=$(swapon "$sw" 2>&1); then
	echo "swap-pass: SKIP: swapon $sw refused ($err): $(stat -f -c %T "$sw") or no privilege; the swap tests ran without swap only"
	exit 0
fi
echo "swap-pass: $(grep -c . /proc/swaps) lines in /proc/swaps, with $sw"
ctest --test-dir "$bdir" --output-on-failure -R '^(integration_swap|cli_swapped)$'
