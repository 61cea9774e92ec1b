#!/bin/bash
# memlens grep vs yara on the same PID, side by side, plus the raw read ceiling.
# Usage: tests/bench/grep_bench.sh [BUILD_DIR] [FIXTURE_MIB]   (run from the source tree)
# Starts the ml_needles child with a FIXTURE_MIB (default 1024) pseudo-random fixture, runs
# each search REPS times (default 3), and prints the best wall time and CPU time (user+sys,
# from getrusage) of each, the throughput over the populated bytes, and the ratios.
set -u
B=${1:-build}
MIB=${2:-1024}
REPS=${REPS:-3}
M=$B/tools/memlens
H=$B/tests/helpers/ml_needles
W=$(mktemp -d)
trap 'kill $CPID 2>/dev/null; rm -rf "$W"' EXIT
cc -O2 -pthread tests/bench/grep_rawread.c -o "$W/rawread" || exit 2
JOBS=$(nproc)

coproc CH { "$H"; }
CPID=$CH_PID
read -r -u "${CH[0]}" l
PID=${l#*pid=}
echo "fill $((MIB << 20)) $W/needles" >&"${CH[1]}"
read -r -u "${CH[0]}" l
echo "fixture: pid $PID, $MIB MiB: $l"
POP=$(awk '/^Rss:/ {s += $2} END {printf "%d", s * 1024}' /proc/$PID/smaps)

# rules and pattern files
echo 'rule one { strings: $a = "ZqXsecretNeedle" condition: $a }' > "$W/one.yar"
WORDS="ZqXsecretNeedle password= Authorization: BEGIN_RSA_KEY api_key_live session_token aws_secret_access refresh_token client_secret zQxSECRETneedle"
{
	echo 'rule ten { strings:'
	i=0; for w in $WORDS; do echo "  \$s$i = \"$w\" ascii wide"; i=$((i + 1)); done
	echo 'condition: any of them }'
} > "$W/ten.yar"
python3 - "$W" <<'PY'
import random, sys
w = sys.argv[1]
random.seed(7)
words = [''.join(random.choice('abcdefghijklmnopqrstuvwxyz0123456789_') for _ in range(random.randint(8, 20))) for _ in range(999)]
words.append('ZqXsecretNeedle')
open(w + '/thousand.txt', 'w').write('\n'.join(words) + '\n')
with open(w + '/thousand.yar', 'w') as f:
    f.write('rule thousand { strings:\n')
    for i, x in enumerate(words):
        f.write('  $s%d = "%s"\n' % (i, x))
    f.write('condition: any of them }\n')
PY
EMAIL='[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}'
printf 'rule email { strings: $e = /%s/ condition: $e }\n' "$EMAIL" > "$W/email.yar"
TEN_ARGS=""
for w in $WORDS; do TEN_ARGS="$TEN_ARGS -e $w"; done

# best-of-REPS wall and CPU time of a command, to the millisecond: prints "WALL CPU"
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

printf '\n%-28s %9s %9s %10s | %9s %9s %10s | %8s %8s\n' case "memlens" "cpu" "GB/s" "yara" "cpu" "GB/s" "x wall" "x cpu"
row() {
	local name=$1; shift
	local yr=$1; shift
	read -r mw mc < <(best "$M" grep -c "$@" "$PID")
	if [ -n "$yr" ]; then
		read -r yw yc < <(best yara "$yr" "$PID")
	else
		yw=0; yc=0
	fi
	printf '%-28s %8.3fs %8.3fs %10.2f | %8.3fs %8.3fs %10.2f | %8.1f %8.1f\n' "$name" "$mw" "$mc" \
		"$(echo "$POP / $mw / 1000000000" | bc -l)" "$yw" "$yc" "$( [ "$yw" != 0 ] && echo "$POP / $yw / 1000000000" | bc -l || echo 0)" \
		"$( [ "$yw" != 0 ] && echo "$yw / $mw" | bc -l || echo 0)" "$( [ "$yc" != 0 ] && echo "$yc / $mc" | bc -l || echo 0)"
}
echo "populated bytes: $POP; memlens -j$JOBS; best of $REPS"
read -r rw1 rc1 < <(best "$W/rawread" "$PID" 1)
read -r rwn rcn < <(best "$W/rawread" "$PID" "$JOBS")
printf 'raw read (process_vm_readv): 1 thread %.3fs (%.2f GB/s), %d threads %.3fs (%.2f GB/s)\n' "$rw1" \
	"$(echo "$POP / $rw1 / 1000000000" | bc -l)" "$JOBS" "$rwn" "$(echo "$POP / $rwn / 1000000000" | bc -l)"
row "1 literal" "$W/one.yar" ZqXsecretNeedle
row "1 literal (portable)" "" --engine portable ZqXsecretNeedle
row "10 literals ascii+utf16" "$W/ten.yar" --encoding both $TEN_ARGS
row "10 literals (portable)" "" --engine portable --encoding both $TEN_ARGS
row "1000 literals" "$W/thousand.yar" -f "$W/thousand.txt"
row "1000 literals (portable)" "" --engine portable -f "$W/thousand.txt"
row "e-mail regex" "$W/email.yar" -E "$EMAIL"
row "e-mail regex (portable)" "" --engine portable -E "$EMAIL"
read -r m1w m1c < <(best "$M" grep -j1 -c ZqXsecretNeedle "$PID")
printf '1 literal, -j1: %.3fs = %.0f%% of the 1-thread raw read (wall), cpu %.3fs vs %.3fs\n' "$m1w" \
	"$(echo "100 * $rw1 / $m1w" | bc -l)" "$m1c" "$rc1"
printf '1 literal, -j%d: %.0f%% of the %d-thread raw read (wall)\n' "$JOBS" \
	"$(echo "100 * $rwn / $(best "$M" grep -c ZqXsecretNeedle "$PID" | cut -d' ' -f1)" | bc -l)" "$JOBS"

echo "exit 0" >&"${CH[1]}"
wait "$CPID" 2>/dev/null

# sparse: a fresh child with a 16 GiB mapping of which 64 MiB are populated
coproc SP { "$H"; }
CPID=$SP_PID
read -r -u "${SP[0]}" l
SPID=${l#*pid=}
echo "sparse $((16 << 30)) 64 $W/sparse" >&"${SP[1]}"
read -r -u "${SP[0]}" l
rss0=$(awk '/VmRSS/ {print $2}' /proc/$SPID/status)
PID=$SPID
read -r sw sc < <(best "$M" grep -c ZqXsecretNeedle "$SPID")
rss1=$(awk '/VmRSS/ {print $2}' /proc/$SPID/status)
printf 'sparse 16 GiB mapping, 64 MiB populated: memlens %.3fs wall, %.3fs cpu (target RSS %s -> %s kB)\n' "$sw" "$sc" "$rss0" "$rss1"
if [ "${SPARSE_YARA:-1}" = 1 ]; then
	/usr/bin/time -f "%e" -o "$W/t" timeout 600 yara "$W/one.yar" "$SPID" >/dev/null 2>&1
	rss2=$(awk '/VmRSS/ {print $2}' /proc/$SPID/status)
	printf 'yara on the same: %ss (target RSS after: %s kB)\n' "$(tail -1 "$W/t")" "$rss2"
fi
echo "exit 0" >&"${SP[1]}"
