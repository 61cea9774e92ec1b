#!/usr/bin/env bash
# Builds and runs the file-page read benchmark against the static library of a build tree.
#   tests/bench/filepage_bench.sh [BUILD_DIR] [MIB] [CHUNK_KIB] [REPS]   (default build, 512 MiB, 1024 KiB, 7)
# Writes a MIB file in /tmp (deleted at once), which it keeps in the page cache.
set -euo pipefail
cd "$(dirname "$0")/../.."
bdir=${1:-build}
cmake --build "$bdir" --target memlens_static -j2 >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=gnu11 -Iinclude tests/bench/filepage_bench.c "$bdir/lib/libmemlens.a" \
  $(pkg-config --libs libelf zlib liblz4 libzstd) -lpthread -o "$out/filepage_bench"
echo "# $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ), load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$out/filepage_bench" "${2:-512}" "${3:-1024}" "${4:-7}"
