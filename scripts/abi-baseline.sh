#!/usr/bin/env bash
# Writes tests/abi/libmemlens.abi, the ABI baseline the abi_abidiff test compares the
# library with, from a build with debug information (default build/). Run it only for an
# intended ABI change, and list the change in CHANGES.
set -euo pipefail
cd "$(dirname "$0")/.."
bdir=${ML_BUILD_DIR:-build}
so=$(readlink -f "$bdir/lib/libmemlens.so")
readelf -S "$so" | grep -q '\.debug_info' || { echo "abi-baseline: $so has no debug information" >&2; exit 2; }
abidw --headers-dir include/memlens --drop-private-types --drop-undefined-syms --no-corpus-path \
  --no-comp-dir-path --no-show-locs --type-id-style hash "$so" > tests/abi/libmemlens.abi
echo "abi-baseline: tests/abi/libmemlens.abi from $so"
