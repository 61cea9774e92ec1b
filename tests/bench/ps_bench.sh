#!/usr/bin/env bash
# memlens ps over every process, side by side with reading every /proc/PID/smaps_rollup with
# cat and with smem, in interleaved rounds (each once per round; medians of wall time and of
# CPU time, user + system, from /usr/bin/time). Run as root to read every process.
#   bash tests/bench/ps_bench.sh [build-dir] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
bdir=${1:-build}
rounds=${2:-7}
M="$bdir/tools/memlens"
command -v smem >/dev/null || { echo "smem is not installed (scripts/deps.sh)"; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed (Debian package time)"; exit 2; }
tf=$(mktemp)
trap 'rm -f "$tf"' EXIT
declare -A wall cpu
run() { # NAME CMD...
  local name=$1; shift
  /usr/bin/time -o "$tf" -f '%e %U %S' "$@" >/dev/null 2>&1 || true
  read -r e u s < <(tail -1 "$tf")
  wall[$name]+="$e "
  cpu[$name]+="$(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}') "
}
for _ in $(seq "$rounds"); do
  run memlens "$M" ps --bytes
  run cat sh -c 'cat /proc/[0-9]*/smaps_rollup'
  run smem smem -c "pid user command rss pss uss swap"
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
procs=$(cd /proc && echo [0-9]* | wc -w)
echo "processes: $procs; rounds: $rounds; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-46s %8s %8s\n' "" "wall s" "cpu s"
for n in memlens cat smem; do
  case $n in
    memlens) label="memlens ps --bytes" ;;
    cat) label="cat /proc/[0-9]*/smaps_rollup" ;;
    smem) label="smem -c 'pid user command rss pss uss swap'" ;;
  esac
  printf '%-46s %8s %8s\n' "$label" "$(median <<<"${wall[$n]}")" "$(median <<<"${cpu[$n]}")"
done
mw=$(median <<<"${wall[memlens]}"); cw=$(median <<<"${wall[cat]}"); sw=$(median <<<"${wall[smem]}")
mc=$(median <<<"${cpu[memlens]}"); cc=$(median <<<"${cpu[cat]}"); sc=$(median <<<"${cpu[smem]}")
awk -v mw="$mw" -v cw="$cw" -v sw="$sw" -v mc="$mc" -v cc="$cc" -v sc="$sc" 'BEGIN {
  printf "memlens / cat: %.2fx the wall time, %.2fx the CPU time (goal <= 1.5x)\n", mw / cw, (cc > 0 ? mc / cc : 0)
  printf "smem / memlens: %.1fx the wall time, %.1fx the CPU time (goal >= 5x)\n", sw / mw, (mc > 0 ? sc / mc : 0)
}'
