#!/bin/bash
# memlens grep on a target killed mid-scan: the hits found before stand (exit 0), the stderr says
# the result is partial.
. "$ML_SOURCE_DIR/tests/support/grep_needles.sh" || { echo "FAIL: tests/support/grep_needles.sh cannot be read"; exit 1; }

start
ask fill $((256 << 20)) "$T/exitn"
[[ $reply == ok* ]] || fail "fill: $reply"
# a slow regex on one thread keeps the scan busy long after the heap hit is printed
mkfifo "$T/g"
"$M" grep -j1 --engine portable -E -e ZqXsecretNeedle -e '[^\x00]{1,64}QQQZ' "$cpid" >"$T/g" 2>"$T/err" &
gpid=$!
exec {gr}<"$T/g"
read -r first <&"$gr" || fail "no first hit"
kill -9 "$cpid"; wait "$cpid" 2>/dev/null
more=0
while read -r line <&"$gr"; do more=$((more + 1)); done
wait "$gpid"; rc=$?
[ $rc -eq 0 ] || fail "exits mid-scan: exit $rc (it matched before the process went away)"
grep -q "exited during the scan: partial result" "$T/err" || fail "exits mid-scan: stderr: $(cat "$T/err")"
[ $((1 + more)) -lt "$(count "$T/exitn" ascii)" ] || fail "exits mid-scan: every needle was still found"

echo ok
