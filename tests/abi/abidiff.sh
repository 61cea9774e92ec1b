#!/usr/bin/env bash
# The library's ABI against the committed baseline (tests/abi/libmemlens.abi): fails when
# an exported function is removed or changes its signature, or a type it uses changes
# layout. Added functions are allowed (they go in a new version node). After an intended
# change, regenerate the baseline with scripts/abi-baseline.sh and say why in CHANGES.
# usage: abidiff.sh LIBRARY.so BASELINE.abi
# (The baseline holds only the public types; handles stay opaque, so their structs may change.)
set -uo pipefail
so=$1 baseline=$2
if ! command -v abidiff >/dev/null || ! command -v abidw >/dev/null; then
  echo "SKIP: abidiff/abidw not installed (Debian package abigail-tools; scripts/deps.sh installs it)"
  exit 77
fi
if ! readelf -S "$so" | grep -q '\.debug_info'; then
  echo "SKIP: $so has no DWARF debug information (a Release build); the ABI is compared in builds with -g"
  exit 77
fi
abidiff --no-added-syms "$baseline" "$so"
rc=$?
# abidiff's status is a bit mask: 1 tool error, 2 usage, 4 ABI change, 8 incompatible change.
if [ "$rc" -ne 0 ]; then
  echo "abidiff exit status $rc: the ABI of $(basename "$so") differs from $baseline"
  echo "(intended? regenerate with scripts/abi-baseline.sh and list the change in CHANGES)"
  exit 1
fi
echo "ABI of $(basename "$so") matches $baseline"
