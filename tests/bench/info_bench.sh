#!/usr/bin/env bash
# Process-information reads side by side: libmemlens vs psutil (Debian's /usr/bin/python3)
# on the same child (ml_infochild with THREADS threads and FDS extra descriptors).
#   bash tests/bench/info_bench.sh [build-dir] [iterations]
set -euo pipefail
cd "$(dirname "$0")/../.."
bdir=${1:-build}
n=${2:-2000}
cc -O2 -D_GNU_SOURCE -Iinclude tests/bench/info_bench.c "$bdir/lib/libmemlens.a" \
  $(pkg-config --libs libelf zlib liblz4 libzstd) -lpthread -o "$bdir/info_bench"
coproc CH { exec "$bdir/tests/helpers/ml_infochild"; }
read -r _ pidkv <&"${CH[0]}"
pid=${pidkv#pid=}
trap 'kill -9 "$pid" 2>/dev/null || true' EXIT
say() { echo "$*" >&"${CH[1]}"; read -r _ <&"${CH[0]}"; }
say threads "${THREADS:-32}"
for _ in $(seq "${FDS:-64}"); do say open /etc/hostname; done
say map 67108864
echo "child $pid: $(ls /proc/$pid/task | wc -l) threads, $(ls /proc/$pid/fd | wc -l) fds; $n iterations"
for mode in all status rawstatus parse stat rawstat fdcount fds tasks; do
  printf '%-8s memlens  ' "$mode"; "$bdir/info_bench" "$pid" "$n" "$mode"
done
/usr/bin/python3 - "$pid" "$n" <<'PY'
import psutil, sys, time
pid, n = int(sys.argv[1]), int(sys.argv[2])
p = psutil.Process(pid)
def bench(name, fn):
    t = time.perf_counter()
    for _ in range(n):
        fn()
    print("%-8s psutil   %.1f us/iter" % (name, (time.perf_counter() - t) / n * 1e6))
def all_():
    with p.oneshot():
        p.memory_info(); p.num_threads(); p.cmdline(); p.rlimit(psutil.RLIMIT_NOFILE)
        p.exe(); p.cwd(); p.num_fds(); p.status(); p.ppid(); p.uids()
bench("all", all_)
bench("status", lambda: p.status() if False else p.uids())
bench("stat", lambda: p.cpu_times())
bench("fdcount", p.num_fds)
bench("fds", p.open_files)
bench("tasks", p.threads)
PY
