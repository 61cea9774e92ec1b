#!/usr/bin/env bash
# Benchmark of the maps/smaps readers and `memlens maps` against cat, pmap -X and psutil on a
# workload child with ~2000 mappings, 1 GiB of touched heap and a 1 GiB sparse region.
# Usage: tests/bench/maps_bench.sh [BUILD_DIR] [RUNS]     (results: medians in microseconds)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
runs=${2:-21}
tmp=$(mktemp -d)
trap 'kill "${W_PID:-}" 2>/dev/null; rm -rf "$tmp"' EXIT
cc -O2 -std=c11 -I"$src/include" "$src/tests/bench/maps_bench.c" "$build/lib/libmemlens.a" $(pkg-config --libs libelf zlib liblz4 libzstd) -pthread -o "$tmp/maps_bench"

coproc W { exec "$build/tests/helpers/ml_mapper"; }
W_PID=$W_PID
cmd() { echo "$*" >&"${W[1]}"; read -r ans <&"${W[0]}"; case $ans in ok*) ;; *) echo "child: $* -> $ans" >&2; exit 1;; esac; }
read -r ready <&"${W[0]}"
pid=${ready#*pid=}
cmd fill 2000
cmd map 0x40000000 rw; heap=${ans#*addr=}
cmd touch "$heap" 0x40000000 4096
cmd map 0x40000000 rw; sparse=${ans#*addr=}
cmd touch "$sparse" 0x40000000 0x100000

echo "# pid $pid, $(nproc) cpus, $(uname -r), runs=$runs, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# name                         wall_us     cpu_us   (medians)"
"$tmp/maps_bench" "$pid" "$runs" "$build/tools/memlens"
# psutil: in-process call, median over the same number of runs
/usr/bin/python3 - "$pid" "$runs" <<'PY'
import psutil, statistics, sys, time
p = psutil.Process(int(sys.argv[1]))
t, c = [], []
for _ in range(int(sys.argv[2])):
    t0, c0 = time.perf_counter(), time.process_time()
    p.memory_maps(grouped=False)
    t.append((time.perf_counter() - t0) * 1e6); c.append((time.process_time() - c0) * 1e6)
print("%-28s %10.1f %10.1f" % ("psutil_memory_maps", statistics.median(t), statistics.median(c)))
PY
