#!/bin/bash
# Benchmarks one memlens wss measurement against a wss.pl-style one (clear_refs 1 + full
# smaps parse in Perl) and against the floor (cat smaps + the clear alone), on touched
# heaps of the given sizes, and the target's write-rate slowdown while each runs.
# Usage: tests/bench/wss_bench.sh BUILD_DIR [GIB...]   (default sizes: 1 8; needs root)
# SWEEP=0: the target only holds its heap (times the measurement alone, no slowdown columns).
# REPS=N: repetitions (default 9).
set -eu
B=${1:?usage: wss_bench.sh BUILD_DIR [GIB...]}; shift
SIZES=${*:-1 8}
M=$B/tools/memlens
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
trap 'kill ${TP:-} 2>/dev/null; rm -rf "$TMP"' EXIT
cc -O2 -pthread -o "$TMP/target" "$HERE/wss_bench_target.c"
REPS=${REPS:-9}
RATIOS=
IV=0.01 # the window: short, so each run is mostly its own walk

ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

rate() { echo rate >&"${T[1]}"; read -r -u "${T[0]}" l; echo "$l"; }
# pages/s from an "ok pages=P ns=N" line
pps() { awk '{ split($2, p, "="); split($3, n, "="); printf "%.0f", p[2] / (n[2] / 1e9) }' <<<"$1"; }
# pages per second of the target thread's own CPU time (what the measurement costs it, net of
# the time it simply did not get a CPU on this shared machine)
ppc() { awk '{ split($2, p, "="); split($4, n, "="); printf "%.0f", n[2] > 0 ? p[2] / (n[2] / 1e9) : 0 }' <<<"$1"; }

printf "| heap | tool | clear + read, ms (median of %d) | clear, ms | read, ms | whole command minus window, ms | target write rate lost during the command: per wall second / per CPU second | target's longest stall, ms |\n" "$REPS"
printf "|---|---|---|---|---|---|---|---|\n"
for G in $SIZES; do
	if [ "${SWEEP:-1}" = 0 ]; then
		coproc T { exec "$TMP/target" "$G" idle; }
	else
		coproc T { exec "$TMP/target" "$G"; }
	fi
	TP=$T_PID
	read -r -u "${T[0]}" line
	rate >/dev/null; sleep 2; l=$(rate); BASE=$(pps "$l"); BASEC=$(ppc "$l")
	for tool in memlens wsspl floor; do
		for f in tot clr rd slow wall stall slowc; do : >"$TMP/$tool.$f"; done
	done
	# the tools take turns within each repetition, so a change in the machine's load hits all three
	for r in $(seq "$REPS"); do
		for tool in memlens wsspl floor; do
			rate >/dev/null
			w0=$EPOCHREALTIME
			case $tool in
			memlens)
				out=$("$M" wss --csv -i "${IV}s" "$TP" | tail -1)
				clr=$(cut -d, -f18 <<<"$out"); rd=$(cut -d, -f19 <<<"$out") ;;
			wsspl)
				out=$(perl "$HERE/wss_pl_style.pl" "$TP" "$IV")
				clr=$(sed 's/.*clear_ms=\([0-9.]*\).*/\1/' <<<"$out"); rd=$(sed 's/.*read_ms=\([0-9.]*\).*/\1/' <<<"$out") ;;
			floor)
				t0=$EPOCHREALTIME; echo 1 >"/proc/$TP/clear_refs"; t1=$EPOCHREALTIME
				sleep "$IV"
				t2=$EPOCHREALTIME; cat "/proc/$TP/smaps" >/dev/null; t3=$EPOCHREALTIME
				clr=$(ms "$t0" "$t1"); rd=$(ms "$t2" "$t3") ;;
			esac
			w1=$EPOCHREALTIME
			rl=$(rate)
			F=$TMP/$tool
			awk -v a="$w0" -v b="$w1" -v iv="$IV" 'BEGIN { printf "%.1f\n", (b - a - iv) * 1000 }' >>"$F.wall"
			sed 's/.*max_stall_ns=\([0-9]*\).*/\1/' <<<"$rl" | awk '{ printf "%.1f\n", $1 / 1e6 }' >>"$F.stall"
			echo "$clr" >>"$F.clr"; echo "$rd" >>"$F.rd"
			awk -v a="$clr" -v b="$rd" 'BEGIN { printf "%.1f\n", a + b }' >>"$F.tot"
			awk -v a="$(pps "$rl")" -v b="$BASE" 'BEGIN { if (b > 0) printf "%.1f\n", (1 - a / b) * 100; else print "-" }' >>"$F.slow"
			awk -v a="$(ppc "$rl")" -v b="$BASEC" 'BEGIN { if (b > 0) printf "%.1f\n", (1 - a / b) * 100; else print "-" }' >>"$F.slowc"
		done
	done
	for tool in memlens wsspl floor; do
		F=$TMP/$tool
		name=$tool; [ $tool = wsspl ] && name="wss.pl-style (Perl: clear 1 + smaps parse)"
		[ $tool = floor ] && name="floor: echo 1 > clear_refs + cat smaps"
		[ $tool = memlens ] && name="memlens wss (clear 1 + flush 4 + smaps)"
		printf "| %s GiB | %s | %s | %.1f | %.1f | %s | %s %% / %s %% | %s |\n" "$G" "$name" "$(median <"$F.tot")" \
			"$(median <"$F.clr")" "$(median <"$F.rd")" "$(median <"$F.wall")" \
			"$(median <"$F.slow")" "$(median <"$F.slowc")" "$(median <"$F.stall")"
	done
	# memlens's clear + read over the floor's, per repetition: the parse and flush overhead
	paste "$TMP/memlens.tot" "$TMP/floor.tot" | awk '{ print $1 / $2 }' | median >"$TMP/ratio"
	paste "$TMP/wsspl.tot" "$TMP/memlens.tot" | awk '{ print $1 / $2 }' | median >"$TMP/ratio2"
	RATIOS="$RATIOS$G GiB: memlens/floor $(cat "$TMP/ratio"), wss.pl-style/memlens $(cat "$TMP/ratio2"); "
	echo exit >&"${T[1]}"
	wait "$TP" 2>/dev/null || true
	TP=
done
echo
echo "Median ratios of clear + read per repetition: $RATIOS"
echo "Medians of $REPS runs. Rate lost = 1 - (target's pages written per second while the command ran)"
echo "/ (the same with nothing measuring it), per wall-clock second and per second of the target"
echo "thread's CPU time; the command includes its ${IV}s window and its own start-up. Longest"
echo "stall: the target's longest gap between two 1 MiB progress ticks."
