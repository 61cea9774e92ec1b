#!/usr/bin/env bash
# memlens dump --freeze=cow SIGKILLed at random moments: the target must run on, untraced,
# with no process of its own left running 2 s later, no SIGCHLD and no foreign pid logged.
# Usage: tests/stress/cow_kill.sh [RUNS] [BUILD_DIR]   (default 60 runs, build/)
set -u
RUNS=${1:-60}
BUILD=${2:-build}
MEMLENS=$BUILD/tools/memlens
HELPER=$BUILD/tests/helpers/ml_cowee
[ -x "$MEMLENS" ] && [ -x "$HELPER" ] || { echo "build first: $MEMLENS, $HELPER"; exit 2; }
TMP=$(mktemp -d /tmp/ml-cowkill-XXXXXX)
trap 'kill -9 $TP 2>/dev/null; rm -rf "$TMP"' EXIT

coproc T { exec "$HELPER"; }
TP=$T_PID
ask() { echo "$1" >&"${T[1]}"; local l; read -r -t 10 l <&"${T[0]}" || { echo "target does not answer"; return 1; }; echo "$l"; }
read -r -t 5 ready <&"${T[0]}"
ask setup >/dev/null
ask run >/dev/null
# How long a whole dump takes here: the kills are spread over 0-120 % of it, so that they
# land before, during and after the fork, during the read and during the final reaping.
t0=$(date +%s%N)
"$MEMLENS" dump -q --freeze=cow -o "$TMP/full.mlcore" "$TP" || { echo "a cow dump fails here"; exit 2; }
FULL_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
rm -f "$TMP/full.mlcore"
SPAN=$(( FULL_MS * 12 / 10 + 1 ))

children() { # live and zombie children of $TP
	local live=0 zomb=0 s
	for s in /proc/[0-9]*/stat; do
		{ read -r line <"$s"; } 2>/dev/null || continue
		rest=${line##*) }
		set -- $rest
		[ "$2" = "$TP" ] || continue
		if [ "$1" = Z ]; then zomb=$((zomb + 1)); else live=$((live + 1)); fi
	done
	echo "$live $zomb"
}

ok=0 bad=0 completed=0
for i in $(seq 1 "$RUNS"); do
	out=$TMP/d$i.mlcore
	"$MEMLENS" dump -q --freeze=cow -o "$out" "$TP" 2>"$TMP/err" &
	MP=$!
	d=$(( (RANDOM * 32768 + RANDOM) % SPAN ))
	sleep "$((d / 1000)).$(printf '%03d' $((d % 1000)))"
	kill -9 $MP 2>/dev/null
	wait $MP 2>/dev/null
	rc=$?
	[ $rc -eq 0 ] && completed=$((completed + 1))
	sleep 2
	state=$(awk '{print $3}' /proc/$TP/stat 2>/dev/null)
	tracer=$(awk '/^TracerPid/{print $2}' /proc/$TP/status 2>/dev/null)
	read -r live zomb < <(children)
	st=$(ask stats) || st=""
	sig=$(sed -n 's/.*sigchld=\([0-9]*\).*/\1/p' <<<"$st")
	other=$(sed -n 's/.*otherpid=\([0-9]*\).*/\1/p' <<<"$st")
	# A file at the output path must be complete (killed after publishing it is fine).
	if [ -n "$st" ] && [ "$state" != T ] && [ "$state" != t ] && [ "$tracer" = 0 ] && [ "$live" = 0 ] &&
	   [ "$sig" = 0 ] && [ "$other" = 0 ] && { [ ! -e "$out" ] || "$MEMLENS" core verify "$out" >/dev/null 2>&1; }; then
		ok=$((ok + 1))
	else
		bad=$((bad + 1))
		echo "run $i: BAD state=$state tracer=$tracer live=$live zombies=$zomb stats='$st' rc=$rc file=$([ -e "$out" ] && echo yes || echo no)"
	fi
	rm -f "$out"
done
read -r live zomb < <(children)
# The copies of killed dumps stay zombies of the target until a later cow dump reaps them
# (they are known by their marks): one more dump must leave the target no child at all.
"$MEMLENS" dump -q --freeze=cow -o "$TMP/last.mlcore" "$TP" || { echo "the last cow dump failed"; bad=$((bad + 1)); }
read -r live2 zomb2 < <(children)
st=$(ask stats) || st=""
if [ "$live2" != 0 ] || [ "$zomb2" != 0 ] || ! grep -q 'sigchld=0 otherpid=0' <<<"$st"; then
	echo "after the last dump: BAD live=$live2 zombies=$zomb2 stats='$st'"
	bad=$((bad + 1))
fi
echo "cow_kill: $RUNS tried, $ok ok, $bad bad (a whole dump took $FULL_MS ms; kills at 0-$SPAN ms; $completed dumps finished before the kill; $zomb zombies of the target left by killed dumps, $zomb2 after one more cow dump)"
[ $bad -eq 0 ]
