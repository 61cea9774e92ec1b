#!/usr/bin/env bash
# Ordering rows: maps --top N (the N largest by RSS, or by --sort), --reverse; pagemap
# --sort COLUMN and --reverse, live and from a snapshot; unknown keys are usage errors.
set -uo pipefail
. "$ML_SOURCE_DIR/tests/support/cli.sh"
: "${MEMLENS:?}" "${ML_HELPERS:?}"
ML=$MEMLENS
PY=/usr/bin/python3
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d)
cleanup() { [ -n "${M_PID:-}" ] && kill "$M_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
coproc M { exec "$ML_HELPERS/ml_mapper"; }
M_PID=$M_PID
cmd() { echo "$*" >&"${M[1]}"; read -r ans <&"${M[0]}"; case $ans in ok*) ;; *) fail "child: $* -> $ans";; esac; }
read -r ready <&"${M[0]}"
pid=${ready#*pid=}
# three anonymous mappings with 1, 3 and 2 MiB resident: a known order
for n in 1 3 2; do
  cmd map 0x400000 rw; a=${ans#*addr=}
  cmd touch "$a" $((n << 20)) 4096
done
"$ML" dump -q -o "$T/s.mlcore" "$pid" || fail "dump exit $?"

# stdin: START-END hex ranges, one a line; true when the starts only go down (as numbers:
# the address column is not padded to one width)
addr_desc() {
  $PY -c '
import sys
v = [int(l.split("-")[0], 16) for l in sys.stdin if l.strip()]
sys.exit(0 if v == sorted(v, reverse=True) and len(set(v)) == len(v) else 1)'
}
# maps: a column of the rows (N = 1-based field), rows only
col() { grep -E '^[0-9a-f]+-[0-9a-f]+ ' "$T/o" | awk -v n="$1" '{print $n}'; }
# --top 2: the two largest RSS of the whole listing. Usually the 3 and 2 MiB regions, but
# not always (a sanitizer's own regions under THP "always" can be larger, and khugepaged
# can change them between two runs), so it is compared with listings taken just before and
# after, when those two agree.
top2() { awk '/^[0-9a-f]+-/ {print $7}' "$1" | sort -n -r | head -n 2 | tr '\n' ' '; }
stable=
for try in 1 2 3 4 5; do
  "$ML" maps --bytes "$pid" >"$T/all" || fail "maps exit $?"
  "$ML" maps --bytes --top 2 "$pid" >"$T/o" || fail "maps --top 2 exit $?"
  "$ML" maps --bytes "$pid" >"$T/all2" || fail "maps exit $?"
  [ "$(ml_rows_rss "$T/all")" = "$(ml_rows_rss "$T/all2")" ] || continue
  [ "$(col 7 | wc -l)" -eq 2 ] || fail "--top 2 printed $(col 7 | wc -l) rows"
  [ "$(col 7 | tr '\n' ' ')" = "$(top2 "$T/all")" ] ||
    fail "--top 2 is not the two largest RSS: $(col 7 | tr '\n' ' '), the listing's: $(top2 "$T/all")"
  stable=1; break
done
[ -n "$stable" ] || fail "the child's mappings changed between every two listings of 5 tries"
awk '/^[0-9a-f]+-/ && $6 == 4194304 && $7 == $9 && ($7 == 3145728 || $7 == 2097152) {n[$7]++}
     END {exit !(n[3145728] && n[2097152])}' "$T/all" || fail "the 3 and 2 MiB regions are not in the listing"
grep -q '^total .* 2 mappings$' "$T/o" || fail "--top 2: the totals are not those of the rows: $(tail -n 1 "$T/o")"
"$ML" maps --bytes --top 1 --sort size "$pid" >"$T/o" || fail "maps --top 1 --sort size"
[ "$(col 6)" = "$(awk '/^[0-9a-f]+-/ {print $6}' "$T/all" | sort -n | tail -n 1)" ] || fail "--top 1 --sort size is not the largest"
"$ML" maps --bytes --sort rss --reverse "$pid" >"$T/o" || fail "maps --sort rss --reverse"
col 7 | sort -n -c || fail "--sort rss --reverse is not ascending"
"$ML" maps --bytes -r "$pid" >"$T/o" || fail "maps -r exit $?"
# (the child's own mappings may change between two runs, e.g. under a sanitizer's allocator:
# each output is checked on its own)
col 1 | addr_desc || fail "maps -r is not by address, highest first: $(col 1 | tr '\n' ' ')"
[ "$(col 1 | wc -l)" -gt 3 ] || fail "maps -r lost rows"
for bad in 0 -1 x; do
  "$ML" maps --top "$bad" "$pid" >/dev/null 2>&1; [ $? -eq 64 ] || fail "--top $bad must exit 64"
done

# pagemap --sort: by any column, largest first; --reverse; the totals are the rows'
"$ML" pagemap --bytes "$pid" >"$T/pall" || fail "pagemap exit $?"
"$ML" pagemap --bytes --sort present "$pid" >"$T/o" || fail "pagemap --sort present exit $?"
col 4 | sort -n -r -c || fail "pagemap --sort present is not descending: $(col 4 | tr '\n' ' ')"
"$ML" pagemap --bytes --sort present --json "$pid" | $PY -c '
import json, sys
d = json.load(sys.stdin)
v = [m["present"] for m in d["mappings"]]
assert v == sorted(v, reverse=True), v
assert d["totals"]["present"] == sum(v), "the totals are not the rows"' || fail "pagemap --sort present --json"
"$ML" pagemap --bytes --sort PRESENT --reverse "$pid" >"$T/o" || fail "pagemap --sort PRESENT --reverse"
col 4 | sort -n -c || fail "pagemap --sort present --reverse is not ascending"
"$ML" pagemap --json --sort mapped "$pid" | $PY -c '
import json, sys
v = [m["mapped"] for m in json.load(sys.stdin)["mappings"]]
assert v == sorted(v, reverse=True), v' || fail "pagemap --json --sort mapped is not by size"
"$ML" pagemap --bytes --reverse "$pid" >"$T/o" || fail "pagemap --reverse"
col 1 | addr_desc || fail "pagemap --reverse is not by address, highest first"
"$ML" pagemap --bytes --sort data "$T/s.mlcore" >"$T/o" || fail "pagemap --sort data (snapshot) exit $?"
col 4 | sort -n -r -c || fail "snapshot --sort data is not descending"
"$ML" pagemap --sort bogus "$pid" 2>"$T/e" >/dev/null; rc=$?
[ $rc -eq 64 ] && grep -q "no column 'bogus'" "$T/e" || fail "pagemap --sort bogus: exit $rc $(cat "$T/e")"
"$ML" pagemap --sort thp "$T/s.mlcore" 2>"$T/e" >/dev/null; rc=$?
[ $rc -eq 64 ] && grep -q "in a snapshot" "$T/e" || fail "pagemap --sort thp on a snapshot: exit $rc"
echo ok
