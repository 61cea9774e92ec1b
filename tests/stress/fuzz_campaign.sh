#!/usr/bin/env bash
# Cumulative fuzzing: every libFuzzer target in turn for a number of CPU seconds, at nice 19,
# one process each; new inputs are minimised into tests/fuzz/corpus/TARGET/ (-merge=1) and
# every target's run appends one line to tests/fuzz/ledger.tsv, so the total fuzzing a target
# has had is the sum of its ledger lines (--totals prints it).
#
#   tests/stress/fuzz_campaign.sh [-s CPU_SECONDS] [-r ROUNDS] [-u MINUTES] [TARGET...]
#   tests/stress/fuzz_campaign.sh --totals
#
#   -s  CPU seconds per target per round (default 300); the time is CPU time (user + system)
#       measured for the fuzzer, not wall time: on a busy machine at nice 19 a round takes
#       longer than that on the clock
#   -r  rounds over the targets (default 1)
#   -u  start no new target after MINUTES of wall time (default: no limit)
#   TARGET  names as in tests/fuzz/fuzz_NAME.c (default: every target)
#
# The targets are built with ASan+UBSan into $ML_BUILD_DIR (default build-fuzz, clang).
# A crash stops that target's round, keeps its input as tests/fuzz/crash-TARGET-KIND-* (git ignores them), is
# counted in the ledger, and makes the script exit 1: fix it, then add the input to the
# target's corpus (CI replays the corpora).
set -euo pipefail
cd "$(dirname "$0")/../.."
ledger=tests/fuzz/ledger.tsv

totals() {
	[ -f "$ledger" ] || { echo "no ledger yet ($ledger)"; return; }
	awk -F'\t' 'NR > 1 { cpu[$2] += $3; ex[$2] += $4; nf[$2] += $5; cr[$2] += $6 }
		END { printf "%-14s %10s %14s %6s %8s\n", "target", "cpu_s", "execs", "new", "crashes";
		      for (t in cpu) printf "%-14s %10d %14d %6d %8d\n", t, cpu[t], ex[t], nf[t], cr[t] }' \
		"$ledger" | { read -r h; echo "$h"; sort; }
}

secs=300 rounds=1 minutes=0
while [ $# -gt 0 ]; do
	case $1 in
	--totals) totals; exit 0 ;;
	-s) secs=$2; shift 2 ;;
	-r) rounds=$2; shift 2 ;;
	-u) minutes=$2; shift 2 ;;
	-h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "fuzz_campaign: unknown option $1" >&2; exit 64 ;;
	*) break ;;
	esac
done
case "$secs$rounds$minutes" in *[!0-9]*) echo "fuzz_campaign: -s, -r and -u take whole numbers" >&2; exit 64 ;; esac
command -v clang >/dev/null || { echo "fuzz_campaign: clang not found (scripts/deps.sh installs it)" >&2; exit 2; }

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do t=$(basename "$f" .c); targets+=("${t#fuzz_}"); done
fi
for t in "${targets[@]}"; do
	[ -f "tests/fuzz/fuzz_$t.c" ] || { echo "fuzz_campaign: no target $t (tests/fuzz/fuzz_$t.c)" >&2; exit 64; }
done

bdir=${ML_BUILD_DIR:-build-fuzz}
CC=clang nice -n 19 cmake -S . -B "$bdir" -DMEMLENS_FUZZ=ON -DMEMLENS_SANITIZE=address,undefined \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON >/dev/null
nice -n 19 cmake --build "$bdir" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null

[ -f "$ledger" ] || printf 'date\ttarget\tcpu_seconds\texecs\tnew_corpus_files\tcrashes\tcommit\n' >"$ledger"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
work=$(mktemp -d "${TMPDIR:-/tmp}/memlens-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
status=0

# One target for $secs CPU seconds: repeated fuzzer runs (each limited in wall time to the CPU
# time still owed) until the CPU time measured for them reaches $secs.
fuzz_one() {
	local t=$1 bin=$bdir/tests/fuzz/fuzz_$1 corpus=tests/fuzz/corpus/$1
	local scratch=$work/$1 cpu=0 execs=0 crashes=0 before after left used n
	mkdir -p "$scratch" "$corpus"
	before=$(find "$corpus" -type f | wc -l)
	while [ "$cpu" -lt "$secs" ]; do
		left=$((secs - cpu))
		[ "$left" -lt 5 ] && left=5
		# GNU time prints the CPU seconds of the fuzzer (and its children) on fd 3
		/usr/bin/time -f '%U %S' -o "$work/time" nice -n 19 "$bin" -max_total_time="$left" \
			-print_final_stats=1 -artifact_prefix="tests/fuzz/crash-$t-" \
			"$scratch" "$corpus" >"$work/log" 2>&1 || true
		used=$(awk 'END { printf "%d", $1 + $2 + 0.5 }' "$work/time")
		n=$(awk '/^stat::number_of_executed_units/ { print $NF }' "$work/log" | tail -n 1)
		cpu=$((cpu + used)) execs=$((execs + ${n:-0}))
		if grep -q -E 'Test unit written to .*-(crash|leak|timeout|oom)-' "$work/log"; then
			crashes=$((crashes + 1))
			echo "fuzz $t: CRASH after ${cpu} s:" >&2
			grep -E 'ERROR|runtime error|Test unit written' "$work/log" | head -n 5 >&2
			status=1
			break
		fi
		[ "$used" -eq 0 ] && [ "${n:-0}" -eq 0 ] && { echo "fuzz $t: the fuzzer did not run:" >&2; tail -n 5 "$work/log" >&2; status=2; break; }
	done
	# keep only what adds coverage to the committed corpus
	if [ -n "$(ls -A "$scratch")" ]; then
		nice -n 19 "$bin" -merge=1 "$corpus" "$scratch" >"$work/merge.log" 2>&1 ||
			{ echo "fuzz $t: merge failed:" >&2; tail -n 5 "$work/merge.log" >&2; status=2; }
	fi
	rm -rf "$scratch"
	after=$(find "$corpus" -type f | wc -l)
	printf '%s\t%s\t%d\t%d\t%d\t%d\t%s\n' "$(date -u +%FT%TZ)" "$t" "$cpu" "$execs" \
		"$((after - before))" "$crashes" "$commit" >>"$ledger"
	echo "fuzz $t: ${cpu} CPU s, $execs execs, $((after - before)) new corpus files ($(du -sk "$corpus" | cut -f1) KiB), $crashes crashes"
}

for ((r = 1; r <= rounds; r++)); do
	for t in "${targets[@]}"; do
		if [ "$minutes" -gt 0 ] && [ $(($(date +%s) - start)) -ge $((minutes * 60)) ]; then
			echo "fuzz_campaign: the $minutes minutes are up"
			break 2
		fi
		fuzz_one "$t"
	done
done
totals
exit $status
