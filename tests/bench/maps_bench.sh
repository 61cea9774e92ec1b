#!/usr/bin/env bash
# Benchmark of the maps/smaps readers and the everyday commands against what users run
# instead, side by side in one run (round-robin, medians): `memlens maps` against cat smaps,
# pmap -X and psutil; `memlens pagemap` (with and without kpageflags) against a pread loop
# over pagemap (with kpageflags/kpagecount by PFN run, as page-types reads them) and a raw
# PAGEMAP_SCAN count; `memlens --version` against cat /proc/self/stat and /bin/true;
# `memlens info` against ps and psutil. Workload: a child with ~2000 mappings, HEAP MiB of
# touched heap and SPARSE MiB with one page written per MiB.
# Usage: tests/bench/maps_bench.sh [BUILD_DIR] [RUNS] [HEAP_MIB] [SPARSE_MIB] [BASE_MEMLENS]
#        (defaults: build, 21, 256, 256; results: medians in microseconds). BASE_MEMLENS, the
#        memlens binary of another build, runs maps, pagemap and --version in the same rounds.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
runs=${2:-21}
heap_mib=${3:-256}
sparse_mib=${4:-256}
tmp=$(mktemp -d)
trap 'kill "${W_PID:-}" 2>/dev/null; rm -rf "$tmp"' EXIT
cc -O2 -std=c11 -I"$src/include" "$src/tests/bench/maps_bench.c" "$build/lib/libmemlens.a" $(pkg-config --libs libelf zlib liblz4 libzstd) -pthread -o "$tmp/maps_bench"
cc -O2 -std=gnu11 "$src/tests/bench/pm_anchor.c" -o "$tmp/pm_anchor"

coproc W { exec "$build/tests/helpers/ml_mapper"; }
W_PID=$W_PID
cmd() { echo "$*" >&"${W[1]}"; read -r ans <&"${W[0]}"; case $ans in ok*) ;; *) echo "child: $* -> $ans" >&2; exit 1;; esac; }
read -r ready <&"${W[0]}"
pid=${ready#*pid=}
cmd fill 2000
cmd map $((heap_mib << 20)) rw; heap=${ans#*addr=}
cmd touch "$heap" $((heap_mib << 20)) 4096
cmd map $((sparse_mib << 20)) rw; sparse=${ans#*addr=}
cmd touch "$sparse" $((sparse_mib << 20)) 0x100000

echo "# pid $pid, $(nproc) cpus, $(uname -r), runs=$runs, heap ${heap_mib} MiB, sparse ${sparse_mib} MiB, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# name                         wall_us     cpu_us   (medians)"
"$tmp/maps_bench" "$pid" "$runs" "$build/tools/memlens" "$tmp/pm_anchor" "${5:-}"
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
# what `memlens info` shows, as psutil gathers it
t, c = [], []
for _ in range(int(sys.argv[2])):
    t0, c0 = time.perf_counter(), time.process_time()
    p = psutil.Process(int(sys.argv[1]))
    with p.oneshot():
        p.as_dict(attrs=["pid", "ppid", "name", "exe", "cmdline", "cwd", "username", "uids", "gids",
                         "status", "create_time", "num_threads", "cpu_times", "memory_info",
                         "memory_full_info", "num_fds", "num_ctx_switches", "nice", "ionice",
                         "cpu_affinity", "terminal", "environ"])
    t.append((time.perf_counter() - t0) * 1e6); c.append((time.process_time() - c0) * 1e6)
print("%-28s %10.1f %10.1f" % ("psutil_process_as_dict", statistics.median(t), statistics.median(c)))
PY
# Output size and peak RSS of one run each. Measured by /usr/bin/time, whose own small
# image is what the child starts from (a child spawned by the benchmark would inherit the
# benchmark's larger peak).
echo "# name                         out_bytes  peak_rss_KiB"
M=$build/tools/memlens
for c in "memlens_maps:$M maps $pid" "memlens_pagemap:$M pagemap $pid" \
         "memlens_pagemap_nokpage:$M pagemap --no-kpage $pid" "memlens_version:$M --version" \
         "memlens_info:$M info $pid" "cat_smaps:cat /proc/$pid/smaps" "pmap_X:pmap -X $pid" \
         "anchor_pread_kpage:$tmp/pm_anchor pread-kpage $pid" "true:/bin/true"; do
  name=${c%%:*}
  # shellcheck disable=SC2086
  /usr/bin/time -f %M -o "$tmp/rss" ${c#*:} >"$tmp/out"
  printf '%-28s %10s %10s\n' "$name" "$(stat -c %s "$tmp/out")" "$(tail -1 "$tmp/rss")"
done
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
