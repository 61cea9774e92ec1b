#!/bin/bash
# Regex matches longer than --max-len: both engines report the same matches (Vectorscan
# used to report only the last --max-len bytes of a+b, and nothing at all for a{5000,}b,
# whose every match is longer than the default --max-len of 4096).
set -u
M=${MEMLENS:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
command -v python3 >/dev/null || { echo "SKIP: python3 is needed to build the image"; exit 77; }
cd "$T"
# a run of 1.2 MB of 'a' (longer than a search window) then 'b'; a run of 10,000 then 'b'
python3 -c "open('img','wb').write(b'x'*100 + b'a'*1200000 + b'b' + b'x'*4096 + b'a'*10000 + b'b' + b'x'*100)"
if ! "$M" grep --engine vectorscan -q --raw -E 'xb' img 2>err && grep -q 'without Vectorscan\|cannot load' err; then
	echo "SKIP: no Vectorscan in this build: $(head -1 err)"
	exit 77
fi
fail=0
for re in 'a+b' 'a{5000,}b' '[ab]{3000,}' 'a+' 'xa+b'; do
	for eng in portable vectorscan; do
		"$M" grep --engine $eng --json --raw -E "$re" img 2>"$eng.err" |
			python3 -c 'import sys, json
for l in sys.stdin:
    j = json.loads(l)
    if j["type"] == "match":
        print(j["address"], j["length"])' >"$eng.out"
		echo "exit ${PIPESTATUS[0]}" >>"$eng.out"
	done
	n=$(($(wc -l <portable.out) - 1))
	if [ "$n" -ge 1 ] && cmp -s portable.out vectorscan.out; then
		echo "ok   $re: the same $n matches from both engines"
	else
		echo "FAIL $re: the engines differ ($n portable matches)"
		diff portable.out vectorscan.out | head -6
		fail=1
	fi
done
exit $fail
