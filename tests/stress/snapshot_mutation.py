#!/usr/bin/env python3
"""Snapshot and core mutation campaign (on demand, not in CI; docs/reliability.md).

  MEMLENS=build/tools/memlens python3 tests/stress/snapshot_mutation.py [-n MUTANTS] [-s SEED] SNAPSHOT

Makes MUTANTS damaged copies of SNAPSHOT (a sealed .mlcore) and of its gzip export: bit
flips in every part (header area, data, notes, index; the export's member headers and
deflate data), truncations, appended garbage, zeroed ranges and swapped ranges. Runs
core verify, core info, maps, read (every mapping), grep and core expand on each, with a
10 s timeout, and counts as bad: a crash (signal), a hang, an exit status other than the
documented 0/1/2, or silent wrong data: a mutant that `core verify` accepts (exit 0)
whose reads differ from the original's. Prints "N tried, N ok, N bad" and each bad case.
"""
import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

M = os.environ.get('MEMLENS', 'memlens')
TIMEOUT = 10


def run(args, out=None):
    try:
        p = subprocess.run([M] + args, stdout=out or subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
        return p.returncode, p.stdout if out is None else b'', p.stderr
    except subprocess.TimeoutExpired:
        return 'hang', b'', b''


def mappings(path):
    rc, out, _ = run(['maps', '--bytes', path])
    maps = []
    for line in out.decode('utf-8', 'replace').splitlines():
        m = re.match(r'^([0-9a-f]+)-([0-9a-f]+) ', line) or re.match(r'^([0-9a-f]{8,})\s+([0-9a-f]{8,})\s', line)
        if m:
            maps.append((int(m.group(1), 16), int(m.group(2), 16)))
    return maps


def reads(path, maps):
    """The bytes of every mapping (at most 64 KiB of each), or None where read fails."""
    got = []
    for a, b in maps:
        rc, out, _ = run(['read', '--raw', path, '%x' % a, str(min(b - a, 65536))])
        got.append(out if rc == 0 else None)
    return got


def mutate(b, rng, segs):
    kind = rng.choice(['flip', 'flip', 'flip', 'truncate', 'append', 'zero', 'swap'])
    n = len(b)
    if kind == 'flip':
        lo, hi = segs[rng.randrange(len(segs))]
        for _ in range(rng.choice([1, 1, 2, 8])):
            i = rng.randrange(lo, hi)
            b[i] ^= 1 << rng.randrange(8)
        return b, 'flip in %d-%d' % (lo, hi)
    if kind == 'truncate':
        k = rng.randrange(n)
        return b[:k], 'truncate to %d' % k
    if kind == 'append':
        return b + bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 7, 100, 5000]))), 'append'
    if kind == 'zero':
        i = rng.randrange(n)
        k = min(n - i, rng.choice([1, 8, 64, 4096, 70000]))
        b[i:i + k] = bytes(k)
        return b, 'zero %d+%d' % (i, k)
    k = rng.choice([4, 8, 40, 512, 4096])
    i, j = rng.randrange(max(1, n - k)), rng.randrange(max(1, n - k))
    x, y = bytes(b[i:i + k]), bytes(b[j:j + k])
    b[i:i + k], b[j:j + k] = y, x
    return b, 'swap %d,%d+%d' % (i, j, k)


def parts(path, data):
    """Ranges that a flip should hit: each segment of a snapshot, or head and members of an export."""
    if data[:2] == b'\x1f\x8b':
        return [(0, min(len(data), 48)), (48, len(data))]
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'support'))
    import snaptool
    s = snaptool.segs(data)
    r = [(0, 64 + 168), (64 + 168, s['data'][0])]
    for k in ('data', 'note', 'index'):
        off, sz = s[k]
        if sz:
            r.append((off, off + sz))
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-n', type=int, default=10000)
    ap.add_argument('-s', type=int, default=1)
    ap.add_argument('snapshot')
    a = ap.parse_args()
    rng = random.Random(a.s)
    t = tempfile.mkdtemp(prefix='mlmut.')
    try:
        exp = os.path.join(t, 'orig.gz')
        rc, _, err = run(['core', 'export', a.snapshot, '-o', exp, '--member-size', '64K'])
        if rc != 0:
            print('export failed:', err.decode(), file=sys.stderr)
            return 2
        originals = []
        for path in (a.snapshot, exp):
            data = open(path, 'rb').read()
            maps = mappings(path)
            originals.append((path, data, maps, reads(path, maps), parts(path, data)))
        tried = ok = bad = 0
        for i in range(a.n):
            path, data, maps, want, segs = originals[i % 2]
            b, how = mutate(bytearray(data), rng, segs)
            mp = os.path.join(t, 'm' + ('.gz' if path.endswith('.gz') else '.mlcore'))
            open(mp, 'wb').write(b)
            tried += 1
            problems = []
            res = {}
            for name, args in (('verify', ['core', 'verify', mp]), ('info', ['core', 'info', mp]),
                               ('maps', ['maps', mp]), ('grep', ['grep', '-c', 'the', mp]),
                               ('expand', ['core', 'expand', '-f', mp, '-o', os.path.join(t, 'x.core')])):
                if name in ('verify', 'info', 'expand') and mp.endswith('.gz'):
                    continue  # the core subcommands take snapshots, not exports
                rc, _, _ = run(args)
                res[name] = rc
                if rc == 'hang':
                    problems.append(name + ' hung')
                elif rc < 0 or rc > 2:
                    problems.append('%s exit %s' % (name, rc))
            got = reads(mp, maps)
            if res.get('verify') == 0 and got != want:
                problems.append('verify accepted it but reads differ')
            if problems:
                bad += 1
                keep = os.path.join(os.getcwd(), 'mlmut-bad-%d%s' % (i, '.gz' if mp.endswith('.gz') else '.mlcore'))
                shutil.copy(mp, keep)
                print('bad %d (%s): %s; kept as %s' % (i, how, ', '.join(problems), keep), flush=True)
            else:
                ok += 1
        print('%d tried, %d ok, %d bad' % (tried, ok, bad))
        return 1 if bad else 0
    finally:
        shutil.rmtree(t, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
