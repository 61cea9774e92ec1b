#!/bin/bash
# memlens grep over an ELF core file against a plain read of the same file, side by side.
# Usage: tests/bench/grep_core_bench.sh [BUILD_DIR] [FIXTURE_MIB]   (run from the source tree)
# Starts the ml_needles child with a FIXTURE_MIB (default 1024) pseudo-random fixture,
# writes its ELF core (memlens dump --format=elf, the kernel's layout), warms the page
# cache, then takes the best of REPS (default 5) wall and CPU times of: cat of the file,
# dd with 1 MiB blocks, memlens grep -c (one literal, -j1 and the default -j), and the same
# grep over the core compressed with zstd (decompressed once to a temporary file first).
set -u
B=${1:-build}
MIB=${2:-1024}
REPS=${REPS:-5}
M=$B/tools/memlens
H=$B/tests/helpers/ml_needles
W=$(mktemp -d)
trap 'kill $CPID 2>/dev/null; rm -rf "$W"' EXIT

coproc CH { "$H"; }
CPID=$CH_PID
read -r -u "${CH[0]}" l
PID=${l#*pid=}
echo "fill $((MIB << 20)) $W/needles" >&"${CH[1]}"
read -r -u "${CH[0]}" l
"$M" dump --format=elf -o "$W/c.core" "$PID" >/dev/null 2>&1 || { echo "dump failed"; exit 2; }
kill "$CPID" 2>/dev/null
SIZE=$(stat -c %s "$W/c.core")
DATA=$(readelf -lW "$W/c.core" | python3 -c 'import sys; print(sum(int(l.split()[4], 16) for l in sys.stdin if l.split()[:1] == ["LOAD"]))')
echo "core: $SIZE bytes, $DATA bytes in PT_LOAD segments; load $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$W/c.core" >/dev/null
echo "hits: $("$M" grep -c -F ZqXsecretNeedle "$W/c.core") (memlens grep -c, the needles planted)"

best() {
	python3 - "$REPS" "$@" <<'PY'
import resource, subprocess, sys, time
n, cmd = int(sys.argv[1]), sys.argv[2:]
bw = bc = float('inf')
for _ in range(n):
    r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t1, r1 = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    bw = min(bw, t1 - t0)
    bc = min(bc, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
print('%.4f %.4f' % (bw, bc))
PY
}
printf '%-34s %9s %9s %8s %8s\n' case wall cpu "GB/s" "% cat"
cw=
row() {
	local name=$1; shift
	read -r w c < <(best "$@")
	[ -n "$cw" ] || cw=$w  # the first row, cat, is the reference
	printf '%-34s %8.3fs %8.3fs %8.2f %7.0f%%\n' "$name" "$w" "$c" "$(echo "$SIZE / $w / 1000000000" | bc -l)" \
		"$(echo "100 * $cw / $w" | bc -l)"
}
row "cat FILE >/dev/null" cat "$W/c.core"
row "dd bs=1M" dd if="$W/c.core" of=/dev/null bs=1M
row "memlens grep -c -F (1 literal) -j1" "$M" grep -j1 -c -F ZqXsecretNeedle "$W/c.core"
row "memlens grep -c -F (1 literal)" "$M" grep -c -F ZqXsecretNeedle "$W/c.core"
if command -v zstd >/dev/null; then
	zstd -q -1 "$W/c.core" -o "$W/c.core.zst"
	row "zstd -dc FILE.zst >/dev/null" zstd -q -dc "$W/c.core.zst"
	row "memlens grep -c -F, core.zst" "$M" grep -c -F ZqXsecretNeedle "$W/c.core.zst"
fi
