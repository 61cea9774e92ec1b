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

# Edges of work units (64 MiB, at absolute addresses) and windows: the same image at bases
# that put a unit boundary inside long runs, searched with 1 and 2 threads, must give the
# same matches (offsets from the image's start) as the oracle: regex chains go on across a
# unit's start (a{10}, a{2000} over a run straddling it), anchors and lookahead hold only
# where memory really ends or changes (c+\z, c+\b, c+$ over a 2 MiB run that goes on with
# 'd'), a regex with a NUL byte from -f is searched whole by both engines, [0] jumps.
python3 - <<'PY'
import random, re
random.seed(7)
n = 0x400000
buf = bytearray(random.randbytes(n))
buf[0xfe000:0x102400] = b'a' * 0x4400           # across 0x100000 and 0x100123
buf[0x103000:0x1a0000] = b'e' * 0x9d000         # across 0x180000 and 0x180123
buf[0x1a0000] = ord('f')
buf[0x1c0000:0x3c0000] = b'c' * 0x200000        # 2 MiB, goes on with 'd'
buf[0x3c0000] = ord('d')
buf[n - 4:] = b' ccc'
for off in (0x7fff0, 0x17fffe, 0x3fff00):
    buf[off:off + 4] = b'xyzw'
buf[0x80001:0x80004] = b'QJ\x00'
for off in (0x7ffff, 0x17ffff, 0x180122):
    buf[off:off + 2] = b'AB'
# a start whose match runs past a window's buffer and fails there (a stray Q, then no Z
# before the next Q, a or c or e) must not hide a match after it: before two 256 KiB edges
# in random bytes, Q, 64 KiB of zeros holding a key, then Q
for edge in (0x40000, 0xc0000):
    q = edge - 0x1000
    buf[q:q + 0x10000] = bytes(0x10000)
    buf[q] = ord('Q')
    buf[q + 0x800:q + 0x814] = b'AKIA0123456789BDFGHJ'
    buf[q + 0x10000] = ord('Q')
open('edge.bin', 'wb').write(buf)
open('nul.pat', 'wb').write(b'QJ\x00|xyzw\n')
mem = bytes(buf)
def rx(p, show=None):
    return {(m.start(), show or p.decode()) for m in re.finditer(p, mem)}
def word(c):
    return chr(c).isalnum() and c < 128 or c == ord('_')
# c+\b: a run of c is one match when what follows it is not a word character
cb = {(m.start(), r'c+\b') for m in re.finditer(rb'c+', mem) if m.end() == n or not word(mem[m.end()])}
cases = [
    ('chain10', ['-E', 'a{10}'], rx(rb'a{10}')),
    ('chain2000', ['-E', 'a{2000}'], rx(rb'a{2000}')),
    ('end_z', ['-E', r'c+\z'], {(n - 3, r'c+\z')}),
    ('end_dollar', ['-E', 'c+$'], {(n - 3, 'c+$')}),
    # the a run goes on past where a unit's context ends: no end of memory there
    ('dollar_unit', ['-E', '-e', 'a+$', '-e', 'c+$'], {(n - 3, 'c+$')}),
    ('boundary', ['-E', r'c+\b'], cb),
    ('lookahead', ['-E', '-e', 'e{5}(?=f)', '-e', 'e+(?=g)'], rx(rb'e{5}(?=f)') |
     {(m.start(), 'e+(?=g)') for m in re.finditer(rb'e+', mem) if m.end() < n and mem[m.end()] == ord('g')}),
    ('nul_file', ['-E', '-f', 'nul.pat'], rx(rb'QJ\x00|xyzw', r'QJ\x00|xyzw')),
    ('jump0', ['-x', '41 [0] 42'], rx(rb'AB', '41 [0] 42')),
    ('partial_later', ['-E', 'Q[^Qace]*Z|AKIA[0-9A-Z]{16}'], rx(rb'Q[^Qace]*Z|AKIA[0-9A-Z]{16}')),
]
with open('edge.cases', 'w') as f:
    for name, args, hits in cases:
        f.write(name + '\t' + '\x1f'.join(args) + '\n')
        with open('want.' + name, 'w') as w:
            for off, p in sorted(hits):
                w.write('0x%x %s\n' % (off, p))
PY
while IFS=$'\t' read -r name args; do
	IFS=$'\x1f' read -r -a A <<<"$args"
	sort -u "want.$name" > want
	nw=$(wc -l < want)
	for eng in portable vectorscan; do
		"$M" grep --engine $eng -q x --raw "$T/empty" 2>/dev/null
		[ $? = 2 ] && continue
		for base in 0 0x3f00000 0x3effedd; do
			for j in 1 2; do
				"$M" grep --engine $eng -j $j --raw --base $base -o "${A[@]}" edge.bin 2>err |
					sed -E 's/^edge\.bin:(0x[0-9a-f]+):edge\.bin\+(0x[0-9a-f]+):(.*): .*$/\2 \3/' |
					sed 's/\\\\/\\/g' | sort -u > got
				if cmp -s got want && [ "$nw" -gt 0 ] && [ ! -s err ]; then
					echo "ok   $eng base $base -j$j $name: $nw hits"
				else
					echo "FAIL $eng base $base -j$j $name: $(wc -l < got) hits, oracle $nw"
					diff want got | head -6
					cat err
					fail=1
				fi
			done
		done
	done
done < edge.cases
exit $fail
