#!/bin/bash
# memlens grep against an independent oracle (Python) on a raw image dense with planted
# patterns: literals in every case and encoding, overlapping, across window boundaries; hex
# patterns with wildcards and jumps; regexes. Both engines must print exactly the oracle's hits.
set -u
M=${MEMLENS:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
command -v python3 >/dev/null || { echo "SKIP: python3 is needed for the oracle"; exit 77; }
cd "$T"
python3 - <<'PY'
import random, re
random.seed(2024)
n = 9 << 20
buf = bytearray(random.randbytes(n))
words = [b'needle', b'NeedleX', b'aaaa', b'token=', b'ab']
def plant(off, b):
    buf[off:off + len(b)] = b
for i in range(3000):
    w = random.choice(words)
    if random.random() < 0.3:
        w = bytes(c ^ 0x20 if 65 <= (c | 0x20) - 0 <= 122 and chr(c).isalpha() and random.random() < 0.5 else c for c in w)
    if random.random() < 0.3:
        w = b''.join(bytes([c, 0]) for c in w)
    if random.random() < 0.5:
        off = random.randrange(1, 9) * (1 << 20) - random.randrange(0, 2 * len(w) + 1)  # across 1 MiB edges (windows are 4 MiB)
    else:
        off = random.randrange(0, n - 64)
    plant(off, w)
    if random.random() < 0.1:
        plant(random.randrange(0, n - 64), b'x' + b'a' * random.randrange(2, 12) + b'y')  # overlapping aaaa
    if random.random() < 0.2:
        plant(random.randrange(0, n - 64), b' bob%d@mail%d.com ' % (i, i % 7))
    if random.random() < 0.2:
        plant(random.randrange(0, n - 64), bytes([0x4d, 0x45, random.getrandbits(8), 0x4c, random.getrandbits(4) << 4 | 5]) + bytes(random.randrange(0, 9)) + b'\x2d')
# anchors and unbounded repeats: ^ and $ hold at the ends of the image only, never at the
# ends of a window or buffer inside it (a long run of 0x01 bytes in the middle, over
# window edges, must not match \x01+$), and repeats run over window edges (no letters:
# the backtracking oracle of the other regexes would be quadratic on long letter runs)
plant(0, b'START123')
for k in (100, 3000):  # below --max-len (4096): longer matches are not defined alike
    for edge in (1 << 20, 3 << 20, 5 << 20):
        plant(edge - k // 2 + 2 * k, b'V' * k + b'U')
plant((2 << 20) - 150000, b'\x01' * 300000)
plant(n - 1000, b'\x01' * 1000)
open('mem.bin', 'wb').write(buf)
mem = bytes(buf)

def lits(pats, icase, encs):
    hits = set()
    hay = mem.lower() if icase else mem
    for p in pats:
        for enc in encs:
            v = p if enc == 'ascii' else b''.join(bytes([c, 0]) for c in p)
            if icase:
                v = v.lower()
            i = hay.find(v)
            while i >= 0:
                hits.add((i, p.decode() + ('(utf16le)' if enc == 'utf16le' else '')))
                i = hay.find(v, i + 1)
    return hits
def regex(pats, flags=0):
    hits = set()
    for p in pats:
        for m in re.finditer(p.encode(), mem, flags):
            hits.add((m.start(), p))
    return hits
def hexpat(p, rx):
    hits = set()
    for m in re.finditer(b'(?=' + rx + b')', mem, re.S):
        hits.add((m.start(), p))
    return hits
cases = [
    ('lit1', ['needle'], lits([b'needle'], False, ['ascii'])),
    ('lit1i', ['-i', 'needle'], lits([b'needle'], True, ['ascii'])),
    ('both', ['-i', '--encoding', 'both', '-e', 'needle', '-e', 'token='], lits([b'needle', b'token='], True, ['ascii', 'utf16le'])),
    ('overlap', ['aaaa'], lits([b'aaaa'], False, ['ascii'])),
    ('short', ['-e', 'ab', '-e', 'needlex'], lits([b'ab', b'needlex'], False, ['ascii'])),
    ('many', ['-i', '--encoding', 'both'] + sum([['-e', w] for w in ['needle', 'NeedleX', 'aaaa', 'token=', 'ab', 'zzzzq', 'qqq']], []),
     lits([b'needle', b'NeedleX', b'aaaa', b'token=', b'ab', b'zzzzq', b'qqq'], True, ['ascii', 'utf16le'])),
    ('regex', ['-E', r'[a-z]+[0-9]*@[a-z]+[0-9]\.com'], regex([r'[a-z]+[0-9]*@[a-z]+[0-9]\.com'])),
    ('regexi', ['-E', '-i', r'NEEDLE[a-z]?'], regex([r'NEEDLE[a-z]?'], re.I)),
    # thousands of matches everywhere, some at the ends of Vectorscan's chunks (where 5.4.9
    # can lose one, depending on alignment) and across windows
    ('dense', ['-E', r'A[^\x00:]{1,40}B'], regex([r'A[^\x00:]{1,40}B'])),
    ('mixed', ['-E', '-e', r'to+ken=', '-e', r'ne+dle', '-x', '4d 45 ?? 4c ?5 [0-8] 2d'],
     regex([r'to+ken=', r'ne+dle']) | hexpat('4d 45 ?? 4c ?5 [0-8] 2d', rb'\x4d\x45.\x4c[\x05\x15\x25\x35\x45\x55\x65\x75\x85\x95\xa5\xb5\xc5\xd5\xe5\xf5].{0,8}?\x2d')),
    ('anchor_start', ['-E', '^START[0-9]+'], regex([r'^START[0-9]+'])),
    # the tail run, found directly: a backtracking oracle is quadratic on the long run
    ('anchor_end', ['-E', r'\x01+$'], {(len(mem.rstrip(b'\x01')), r'\x01+$')}),
    ('repeat', ['-E', '-e', 'VV+U', '-e', 'START[0-9]*'], regex([r'VV+U', r'START[0-9]*'])),
    ('hex', ['-x', '6e ?5 65 [1-2] 6c', '-x', '?? 61 61 61'], hexpat('6e ?5 65 [1-2] 6c', rb'\x6e[\x05\x15\x25\x35\x45\x55\x65\x75\x85\x95\xa5\xb5\xc5\xd5\xe5\xf5]\x65.{1,2}?\x6c') | hexpat('?? 61 61 61', rb'.\x61\x61\x61')),
]
with open('cases', 'w') as f:
    for name, args, hits in cases:
        f.write(name + '\t' + '\x1f'.join(args) + '\n')
        with open('want.' + name, 'w') as w:
            for off, p in sorted(hits):
                w.write('0x%x %s\n' % (off, p))
PY
fail=0
: >"$T/empty" # an empty image: exit 1 (no match) with Vectorscan, 2 without it
while IFS=$'\t' read -r name args; do
	IFS=$'\x1f' read -r -a A <<<"$args"
	for eng in portable vectorscan; do
		"$M" grep --engine $eng -q x --raw "$T/empty" 2>/dev/null
		[ $? = 2 ] && continue
		"$M" grep --engine $eng --raw -o "${A[@]}" mem.bin 2>err | sed -E 's/^mem\.bin:(0x[0-9a-f]+):mem\.bin\+0x[0-9a-f]+:(.*): .*$/\1 \2/' |
			sed 's/\\\\/\\/g' | sort -u > got
		sort -u "want.$name" > want
		nw=$(wc -l < want)
		if cmp -s got want && [ "$nw" -gt 0 ]; then
			echo "ok   $eng $name: $nw hits"
		else
			echo "FAIL $eng $name: $(wc -l < got) hits, oracle $nw"
			diff want got | head -10
			cat err
			fail=1
		fi
	done
done < cases
exit $fail
