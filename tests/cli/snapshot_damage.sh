#!/bin/bash
# Damaged snapshots and exports: grep skips exactly the damaged chunk (or gzip member) and
# names it, read prints the good prefix and names the first bad address; both exit 1.
set -u
M=${MEMLENS:?}
H=${ML_HELPERS:?}/ml_needles
ST=$(dirname "$0")/../support/snaptool.py
if ! "$M" help 2>/dev/null | grep -q '^  dump '; then
	echo "SKIP: this memlens has no dump command: cannot make a snapshot"
	exit 77
fi
T=$(mktemp -d)
coproc CH { "$H"; }
CHILD=$CH_PID
trap 'kill $CHILD 2>/dev/null; rm -rf "$T"' EXIT
read -r -u "${CH[0]}" l
PID=${l#*pid=}
echo "fill $((64 << 20)) $T/needles" >&"${CH[1]}"
read -r -u "${CH[0]}" l
case "$l" in ok*) ;; *) echo "FAIL: child: $l"; exit 1 ;; esac
"$M" dump -q --filter 0x7f --chunk-size 64K -o "$T/snap.mlcore" "$PID" || { echo "FAIL: dump"; exit 1; }
echo "exit 0" >&"${CH[1]}"
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

N=ZqXsecretNeedle
total=$("$M" grep -c $N "$T/snap.mlcore" | cut -d: -f3)
[ "$total" -gt 20 ] || bad "the snapshot holds $total needles"
# a needle well inside the anonymous region, away from its ends
X=$(awk '$1=="ascii" && $2=="anon" {print $3}' "$T/needles" | sed -n 5p)

# lost: the needles that overlap [lo, hi)
lost() {
	local lo=$(($1)) hi=$(($2)) n=0 a
	for a in $(awk '$1=="ascii" {print $3}' "$T/needles"); do
		a=$((a))
		[ $((a + 15)) -gt $lo ] && [ $a -lt $hi ] && n=$((n + 1))
	done
	echo $n
}

check_grep() { # FILE LO HI WHAT
	local f=$1 lo=$2 hi=$3 what=$4 out rc want
	want=$((total - $(lost "$lo" "$hi")))
	out=$(timeout 60 "$M" grep -c $N "$f" 2>"$T/err"); rc=$?
	if [ $rc = 1 ] && [ "$out" = "$f:$N:$want" ] &&
		grep -q "^memlens grep: $f: $lo-$hi not searched: damaged data: .*$what" "$T/err" &&
		grep -q "partial scan: $((hi - lo)) bytes not searched ($((hi - lo)) damaged" "$T/err"; then
		ok "grep skips exactly the damaged $what $lo-$hi: $want of $total hits"
	else
		bad "grep over a damaged $what $lo-$hi: exit $rc, '$out' (want $want hits)"; cat "$T/err"
	fi
	# the JSON summary counts it
	out=$(timeout 60 "$M" grep -c --json $N "$f" 2>/dev/null | tail -1)
	[[ $out == *"\"damaged\":$((hi - lo))},"*"\"partial\":true"* ]] \
		&& ok "grep --json counts the damaged bytes" || bad "grep --json summary of a damaged $what: $out"
}

check_read() { # FILE LO WHAT
	local f=$1 lo=$2 what=$3 rc
	"$M" read --raw "$f" $(printf %x $((lo - 100))) 200 >"$T/out" 2>"$T/err"; rc=$?
	"$M" read --raw "$T/snap.mlcore" $(printf %x $((lo - 100))) 100 >"$T/want"
	if [ $rc = 1 ] && cmp -s "$T/out" "$T/want" &&
		grep -q "^memlens: $f: stopped at $lo after 100 bytes: corrupt data: .*$what" "$T/err"; then
		ok "read prints the 100 good bytes before the damaged $what and names $lo"
	else
		bad "read across a damaged $what: exit $rc, $(wc -c <"$T/out") bytes"; cat "$T/err"
	fi
	"$M" read "$f" $(printf %x $((lo + 16))) 16 >/dev/null 2>"$T/err"; rc=$?
	[ $rc = 2 ] && grep -q "$what" "$T/err" && ok "read inside the damaged $what: exit 2, named" \
		|| { bad "read inside a damaged $what: exit $rc"; cat "$T/err"; }
}

# ---- a snapshot with one corrupt chunk
cp "$T/snap.mlcore" "$T/bad.mlcore"
read -r lo hi < <(python3 "$ST" corrupt "$T/bad.mlcore" "$X")
check_grep "$T/bad.mlcore" "$lo" "$hi" chunk
check_read "$T/bad.mlcore" "$lo" chunk
# -q: a match elsewhere still answers the question
timeout 60 "$M" grep -q $N "$T/bad.mlcore" 2>/dev/null && ok "grep -q: a match wins" || bad "grep -q over a damaged chunk"
# -q without a match over damaged data: "no match" (1), never 0, and stderr says the answer
# covers less than the file (the damaged range and the partial-scan summary)
timeout 60 "$M" grep -q NotInTheSnapshotAtAll "$T/bad.mlcore" >"$T/out" 2>"$T/err"; rc=$?
if [ $rc = 1 ] && [ ! -s "$T/out" ] && grep -q "^memlens grep: $T/bad.mlcore: $lo-$hi not searched: damaged data" "$T/err" &&
	grep -q "partial scan: $((hi - lo)) bytes not searched" "$T/err"; then
	ok "grep -q without a match over a damaged chunk: exit 1, the damage and the partial scan named"
else
	bad "grep -q without a match over a damaged chunk: exit $rc"; cat "$T/err"
fi

# ---- a gzip export with one corrupt member
"$M" core export "$T/snap.mlcore" -o "$T/e.gz" || bad "export"
cp "$T/e.gz" "$T/bad.gz"
read -r lo hi < <(python3 "$ST" gz-corrupt "$T/bad.gz" "$X")
check_grep "$T/bad.gz" "$lo" "$hi" "gzip member"
check_read "$T/bad.gz" "$lo" "gzip member"

# ---- members reordered: every member says where it belongs, so the file is refused
# (it used to read another member's bytes with exit 0)
for f in swap.gz; do
	cp "$T/e.gz" "$T/$f"
	python3 "$ST" gz-swap "$T/$f" 2
	for c in "read --raw $T/$f $(printf %x "$X") 16" "grep -c $N $T/$f" "maps $T/$f"; do
		timeout 60 "$M" $c >/dev/null 2>"$T/err"; rc=$?
		[ $rc = 2 ] && grep -q "members are missing or out of order" "$T/err" \
			&& ok "${c%% *} refuses reordered members" || { bad "${c%% *} over reordered members: exit $rc"; cat "$T/err"; }
	done
done

# ---- damage in the first window of a 64 MiB unit that a regex's chain of matches crosses:
# a{10} over a run of a across 0x4000000, a damaged chunk (member) 256 KiB after it. The
# unit after the boundary goes on with the chain the unit before it leaves (it started
# afresh at 0x4000000: a match overlapping the one before and every later one shifted)
python3 - "$T/chain.core" <<'PY'
import struct, sys
img = bytearray(b'.' * (2 << 20))  # at 0x3f00000
img[0xfe003:0x102400] = b'a' * (0x102400 - 0xfe003)
note = 0x40 + 2 * 56
eh = b'\x7fELF\x02\x01\x01' + bytes(9) + struct.pack('<HHIQQQIHHHHHH', 4, 62, 1, 0, 0x40, 0, 0, 0x40, 56, 2, 64, 0, 0)
ph = struct.pack('<IIQQQQQQ', 4, 0, note, 0, 0, 0, 0, 4)
ph += struct.pack('<IIQQQQQQ', 1, 6, 0x1000, 0x3f00000, 0, len(img), len(img), 0x1000)
open(sys.argv[1], 'wb').write(eh + ph + bytes(0x1000 - note) + img)
PY
"$M" core import "$T/chain.core" -o "$T/chain.mlcore" 2>"$T/err" || bad "import of the chain core: $(cat "$T/err")"
"$M" core export --member-size 64K "$T/chain.mlcore" -o "$T/chain.gz" 2>"$T/err" || bad "export of the chain snapshot: $(cat "$T/err")"
cp "$T/chain.mlcore" "$T/chainbad.mlcore"
cp "$T/chain.gz" "$T/chainbad.gz"
read -r clo chi < <(python3 "$ST" corrupt "$T/chainbad.mlcore" 0x4040000)
read -r glo ghi < <(python3 "$ST" gz-corrupt "$T/chainbad.gz" 0x4040000)
python3 -c 'print("\n".join(hex(0x3ffe003 + 10 * k) for k in range(1740)))' >"$T/chain.want"
: >"$T/empty" # an empty image: exit 1 (no match) with Vectorscan, 2 without it
engines=portable
"$M" grep --engine vectorscan -q x --raw "$T/empty" 2>/dev/null
[ $? = 2 ] || engines="portable vectorscan"
for f in "chainbad.mlcore $clo $chi" "chainbad.gz $glo $ghi"; do
	read -r f lo hi <<<"$f"
	for eng in $engines; do
		for j in 1 2; do
			timeout 60 "$M" grep --engine $eng -j $j -o -E 'a{10}' "$T/$f" >"$T/out" 2>"$T/err"; rc=$?
			cut -d: -f2 "$T/out" >"$T/got"
			if [ $rc = 1 ] && cmp -s "$T/got" "$T/chain.want" &&
				[ "$(grep -c "^memlens grep: $T/$f: $lo-$hi not searched: damaged data" "$T/err")" = 1 ] &&
				grep -q "partial scan: $((hi - lo)) bytes not searched ($((hi - lo)) damaged" "$T/err"; then
				ok "$f $eng -j$j: a{10} goes on across the unit boundary before the damage, named once"
			else
				bad "$f $eng -j$j: exit $rc, $(wc -l <"$T/got") hits, $(diff "$T/chain.want" "$T/got" | grep -c '^>') not the chain's"
				diff "$T/chain.want" "$T/got" | head -4; cat "$T/err"
			fi
		done
	done
done
exit $fail
