#!/bin/bash
# memlens grep prints the same hits (addresses, regions, text) on a live process and on a
# snapshot of it, in both engines.
set -u
M=${MEMLENS:?}
H=${ML_HELPERS:?}/ml_needles
if ! "$M" help 2>/dev/null | grep -q '^  dump '; then
	echo "SKIP: this memlens has no dump command (no snapshot writer): cannot make a snapshot"
	exit 77
fi
T=$(mktemp -d)
coproc CH { "$H"; }
trap 'kill $CH_PID 2>/dev/null; rm -rf "$T"' EXIT
read -r -u "${CH[0]}" l
PID=${l#*pid=}
echo "fill $((64 << 20)) $T/needles" >&"${CH[1]}"
read -r -u "${CH[0]}" l
case "$l" in ok*) ;; *) echo "FAIL: child: $l"; exit 1 ;; esac
# every mapping kind captured (the default coredump_filter leaves private file pages out)
if ! "$M" dump -q --filter 0x7f -o "$T/snap.mlcore" "$PID" 2>"$T/err"; then
	echo "FAIL: dump:"; cat "$T/err"; exit 1
fi
if ! "$M" grep -q x "$T/snap.mlcore" 2>"$T/err" && grep -q 'not supported\|Operation not supported' "$T/err"; then
	echo "SKIP: snapshot reading is not available yet: $(cat "$T/err")"
	exit 77
fi
fail=0
: >"$T/empty" # an empty image: exit 1 (no match) with Vectorscan, 2 without it
for eng in portable vectorscan; do
	"$M" grep --engine $eng -q x --raw "$T/empty" 2>/dev/null
	[ $? = 2 ] && continue
	for a in "-i --encoding both ZqXsecretNeedle" "-E '[a-z0-9._%+-]+@needle-mail\\.org'" \
		"-x '5a 71 58 ?3 65 [1] 72'" "--heap --json -i --encoding both --where ZqXsecretNeedle"; do
		# the label (PID or file) and the summary (timings, page states) may differ
		live=$(eval "\"$M\" grep --engine $eng $a $PID" 2>&1 | grep -v '"type":"summary"' |
			sed -e "s/^$PID:/SRC:/" -e 's/"source":"[^"]*",\("pid":[0-9]*,\)\?//')
		snap=$(eval "\"$M\" grep --engine $eng $a $T/snap.mlcore" 2>&1 | grep -v '"type":"summary"' |
			sed -e "s|^$T/snap.mlcore:|SRC:|" -e 's/"source":"[^"]*",\("pid":[0-9]*,\)\?//')
		n=$(printf '%s\n' "$live" | grep -c '0x')
		if [ "$live" != "$snap" ] || [ "$n" -lt 3 ]; then
			echo "FAIL $eng '$a': live and snapshot differ ($n lines)"
			diff <(printf '%s\n' "$live") <(printf '%s\n' "$snap") | head -20
			fail=1
		else
			echo "ok   $eng '$a': $n identical lines"
		fi
	done
done

# a core cut short: what is missing was not searched, which makes the result partial
# (exit 1 even with matches, "partial":true, the missing bytes failed, not skipped); with -q a
# match is still a certain answer
if "$M" core expand "$T/snap.mlcore" -o "$T/t.core" 2>"$T/err"; then
	truncate -s $(($(stat -c %s "$T/t.core") / 2)) "$T/t.core"
	"$M" grep --json -F ELF "$T/t.core" >"$T/out" 2>"$T/err"; rc=$?
	if [ $rc = 1 ] && grep -q "^memlens: $T/t.core: partial: the file is truncated" "$T/err" &&
		python3 - "$T/out" <<'PY'
import json, sys
s = [d for d in map(json.loads, open(sys.argv[1])) if d["type"] == "summary"][0]
assert s["matches"] > 0 and s["partial"], s
assert s["bytes_failed"]["unreadable"] > 0 and s["bytes_skipped"]["unreadable"] == 0, s
PY
	then
		echo "ok   truncated core: partial"
	else
		echo "FAIL truncated core: exit $rc"; cat "$T/err"; tail -1 "$T/out"; fail=1
	fi
	"$M" grep -q -F ELF "$T/t.core" 2>/dev/null; rc=$?
	[ $rc = 0 ] && echo "ok   truncated core, -q: a match" || { echo "FAIL truncated core -q: exit $rc"; fail=1; }
else
	echo "FAIL: core expand: $(cat "$T/err")"; fail=1
fi
echo "exit 0" >&"${CH[1]}"
exit $fail
