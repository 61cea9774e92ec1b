#!/bin/bash
# grep -E -f with thousands of regexes: Vectorscan compiles them in groups (several
# databases scanned side by side) and leaves to PCRE2 those it refuses; every engine must
# find exactly the planted matches, at their addresses, whatever the group they fell in.
set -u
M=${MEMLENS:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
command -v python3 >/dev/null || { echo "SKIP: python3 is needed to plant the matches"; exit 77; }
cd "$T"
# 4,500 regexes (three groups of at most 2,000), among them PCRE2-only ones (a
# backreference, a lookbehind) early, in the middle and last; a 2 MiB image with one
# planted match for every 97th regex and for each PCRE2-only one; the expected hits, sorted
python3 - <<'PY'
import random
random.seed(19)
n = 4500
pcre_only = {3: (r'(qz)\1w', b'qzqzw'), 2100: (r'(?<=Lb)hind7', b'Lbhind7'), n - 1: (r'(rk)\1v', b'rkrkv')}
pats, want = [], []
img = bytearray(bytes(random.getrandbits(8) & 0x0f for _ in range(2 << 20)))  # no letters
pos = 4096
for i in range(n):
    if i in pcre_only:
        p, text = pcre_only[i]
    else:
        p, text = 'tk%05d[a-z]{3}x' % i, b'tk%05dabcx' % i
    pats.append(p)
    if i % 97 == 0 or i in pcre_only:
        start = pos + (2 if i == 2100 else 0)  # the lookbehind's match starts after "Lb"
        img[pos:pos + len(text)] = text
        want.append('%#x %s' % (start, p.replace('\\', '\\\\')))  # the output escapes backslashes
        pos += 4099
open('pats', 'w').write('\n'.join(pats) + '\n')
open('img', 'wb').write(img)
open('want', 'w').write('\n'.join(sorted(want, key=lambda l: int(l.split()[0], 16))) + '\n')
PY
fail=0
for eng in portable vectorscan; do
	timeout 300 "$M" grep --engine $eng --raw -E -f pats img >out 2>err; rc=$?
	if [ $eng = vectorscan ] && grep -q 'without Vectorscan\|cannot load' err; then
		echo "ok   vectorscan: not in this build ($(head -1 err))"
		continue
	fi
	# source:address:region+offset:pattern: text
	awk -F: '{print $2, $4}' out >got
	if [ $rc = 0 ] && cmp -s got want; then
		echo "ok   $eng: $(wc -l <want) planted matches of 4500 regexes, exactly"
	else
		echo "FAIL $eng: exit $rc, $(wc -l <got) hits, want $(wc -l <want)"
		diff got want | head -5
		head -3 err
		fail=1
	fi
done
exit $fail
