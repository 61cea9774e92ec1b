#!/usr/bin/env bash
# Builds and runs the pagemap/mem benchmark against the static library of a build tree.
#   tests/bench/pagemap_bench.sh [BUILD_DIR] [NMAPS] [thp]   (default build, 2000 mappings, 4 KiB heap pages)
# Needs about 2.3 GiB of free memory for the workload child, which it kills at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
bdir=${1:-build}
nmaps=${2:-2000}
thp=${3:-}
cmake --build "$bdir" --target memlens_static -j2 >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=gnu11 -Iinclude tests/bench/pagemap_bench.c "$bdir/lib/libmemlens.a" \
  $(pkg-config --libs libelf zlib liblz4 libzstd) -lpthread -o "$out/pagemap_bench"
echo "# $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ), load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$out/pagemap_bench" "$nmaps" $thp
