#!/usr/bin/env python3
"""Snapshot and core mutation campaign (on demand, not in CI; docs/reliability.md).

  MEMLENS=build-asan/tools/memlens python3 tests/stress/snapshot_mutation.py \
      [-n MUTANTS] [-s SEED] [-j JOBS] [--readers N] [--minutes M] [--only I] \
      [--make ML_PAGES] SNAPSHOT

With --make (the path of the tests/helpers/ml_pages test child, best from a build without
sanitizers, whose shadow mappings would make the snapshot huge) it first writes SNAPSHOT:
a dump with 64 KiB chunks of that child holding written, read-faulted (zero), untouched,
sparse, PROT_NONE and file-backed pages.

From one sealed snapshot it makes four originals: the snapshot itself, the same memory
imported back with zstd and with zlib chunks (`core expand` then `core import`), and its
gzip export (`core export`, 64 KiB members). Mutant I (of MUTANTS, cycling over the four)
is a damaged copy of one of them, chosen by a generator seeded with SEED and I alone, so
`--only I` makes exactly the same mutant again. Kinds: bit flips in every part (ELF and
program headers, header padding, data, notes, index header and entries; an export's member
headers, deflate data and trailers), truncations, inserted, removed, appended, zeroed and
swapped bytes, whole export members swapped, dropped or repeated, and header field edits
(ELF, program header, index, index entry, mapping record and note fields; export member
size fields) after which every CRC-32 is recomputed ("refixed"), a third of those also
with the seal recomputed ("resealed").

Each mutant, at the same path as its original's baseline, goes through: core verify, core
info, core expand, maps, info, pagemap, grep, and read of three mappings (every mapping
when verify accepted it), each with a timeout. Bad:
  - a signal, a hang, a sanitizer report, an exit status other than 0/1/2, an exit 1 or 2
    with nothing on stderr;
  - silent wrong data: a command that exits 0 with an output (the expanded core for
    expand) other than the original's; a partial read (exit 1) whose bytes are not a
    prefix of the original's; a grep that finds nothing (exit 1) and says nothing. For a
    refixed or resealed mutant, whose checksums are right by construction, only verify
    promises that: a refixed mutant must fail verify, and any mutant that verify accepts
    must give the original's output everywhere. A resealed one may verify with other
    contents (the format documents that only a signature could prevent it).
Prints "N tried, N ok, N bad", the counts by kind and by exit status, and each bad case;
bad mutants are kept as mlmut-bad-I.* in the current directory.
"""
import argparse
import collections
import hashlib
import multiprocessing
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'support'))
import snaptool  # noqa: E402

M = os.environ.get('MEMLENS', 'memlens')
TIMEOUT = 10
NEEDLE = 'PATH='
ENV = dict(os.environ,
           ASAN_OPTIONS='exitcode=86:detect_leaks=1:abort_on_error=0:allocator_may_return_null=1',
           UBSAN_OPTIONS='halt_on_error=1:exitcode=87:print_stacktrace=1',
           LC_ALL='C')
REFORMAT = b'gzip-compressed: decompressed once'
SAN = (b'AddressSanitizer', b'LeakSanitizer', b'UndefinedBehaviorSanitizer', b'runtime error:')


def run(args, outfile=None):
    """(exit status or 'hang', stdout, stderr); stdout is the file's SHA-256 when outfile."""
    try:
        p = subprocess.run([M] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT, env=ENV)
    except subprocess.TimeoutExpired:
        return 'hang', b'', b''
    out = p.stdout
    if outfile is not None:
        out = b''
        if p.returncode == 0 and os.path.exists(outfile):
            h = hashlib.sha256()
            with open(outfile, 'rb') as f:
                for blk in iter(lambda: f.read(1 << 20), b''):
                    h.update(blk)
            out = h.digest()
        if os.path.exists(outfile):
            os.unlink(outfile)
    return p.returncode, out, p.stderr


# --- where things are -----------------------------------------------------------------

def mlcore_parts(b):
    s = snaptool.segs(b)
    doff, dsz = s['data']
    noff, nsz = s['note']
    ioff, isz = s['index']
    parts = {'elf': (0, 64 + 3 * 56), 'pad': (64 + 3 * 56, doff), 'data': (doff, doff + dsz),
             'note': (noff, noff + nsz), 'ihead': (ioff, ioff + 80), 'ientry': (ioff + 80, ioff + isz)}
    return {k: v for k, v in parts.items() if v[1] > v[0]}


def notes(b):
    """(offset of the note header, namesz, descsz, type, offset of the descriptor, name)."""
    s = snaptool.segs(b)
    off, sz = s['note']
    pos, end = off, off + sz
    while pos + 12 <= end:
        nsz, dsz, typ = struct.unpack_from('<III', b, pos)
        name = bytes(b[pos + 12:pos + 12 + nsz]).rstrip(b'\0')
        d = pos + 12 + ((nsz + 3) & ~3)
        yield pos, nsz, dsz, typ, d, name
        pos = d + ((dsz + 3) & ~3)


def fields(b):
    """Every integer field of a snapshot that a reader interprets: (offset, size, what)."""
    f = [(o, sz, 'ehdr+%d' % o) for o, sz in ((16, 2), (18, 2), (20, 4), (24, 8), (32, 8), (40, 8), (48, 4),
                                                (52, 2), (54, 2), (56, 2), (58, 2), (60, 2), (62, 2))]
    f += [(i, 1, 'e_ident[%d]' % i) for i in range(4, 16)]
    for p in range(3):
        base = 64 + 56 * p
        f += [(base + o, sz, 'phdr%d+%d' % (p, o)) for o, sz in ((0, 4), (4, 4), (8, 8), (16, 8), (24, 8),
                                                                 (32, 8), (40, 8), (48, 8))]
    ioff, isz = snaptool.segs(b)['index']
    f += [(ioff + o, sz, 'ihead+%d' % o) for o, sz in ((8, 4), (12, 4), (16, 4), (20, 4), (24, 8), (32, 8),
                                                         (40, 8), (56, 4), (64, 4), (68, 4), (72, 4))]
    for i in range((isz - 80) // 40):
        e = ioff + 80 + 40 * i
        f += [(e + o, sz, 'entry%d+%d' % (i, o)) for o, sz in ((0, 8), (8, 8), (16, 8), (24, 4), (28, 4),
                                                               (32, 1), (33, 1), (34, 1), (39, 1))]
    for pos, nsz, dsz, typ, d, name in notes(b):
        f += [(pos, 4, 'namesz %x' % typ), (pos + 4, 4, 'descsz %x' % typ), (pos + 8, 4, 'type %x' % typ)]
        if name == b'MEMLENS' and typ == 0x4d4c0002:
            f += [(d, 4, 'maptab version'), (d + 4, 4, 'maptab recsize'), (d + 8, 8, 'maptab count')]
            n, = struct.unpack_from('<Q', b, d + 8)
            r = d + 16
            for k in range(min(n, 4096)):
                if r + 104 > d + dsz:
                    break
                nl, = struct.unpack_from('<I', b, r + 60)
                f += [(r + o, sz, 'map%d+%d' % (k, o)) for o, sz in ((0, 8), (8, 8), (16, 8), (24, 8), (32, 8),
                                                                     (48, 4), (52, 4), (56, 4), (60, 4), (64, 1),
                                                                     (65, 1), (66, 1), (100, 1))]
                if nl:
                    f.append((r + 104, 1, 'map%d name' % k))
                r += 104 + ((nl + 7) & ~7)
        elif name == b'MEMLENS' and typ in (0x4d4c0001, 0x4d4c0003) and dsz:
            f.append((d + dsz // 2, 1, 'note %x text' % typ))
        elif dsz >= 8:
            f.append((d, 8, 'note %x desc' % typ))
    return f


def refix(b, s):
    """Recomputes every CRC-32 over the layout S of the original (an edit may have broken
    the program headers that tell it)."""
    doff, _ = s['data']
    noff, nsz = s['note']
    ioff, isz = s['index']
    struct.pack_into('<I', b, ioff + 48, zlib.crc32(bytes(b[ioff + 80:ioff + isz])))
    struct.pack_into('<I', b, ioff + 52, zlib.crc32(bytes(b[noff:noff + nsz])))
    struct.pack_into('<I', b, ioff + 60, zlib.crc32(bytes(b[0:doff])))
    struct.pack_into('<I', b, ioff + 76, zlib.crc32(bytes(b[ioff:ioff + 76])))


def reseal(b, s, seal):
    """Recomputes the CRC-32s and then the seal (at SEAL, the offset of its 32 bytes), as a
    tool that edits on purpose would."""
    refix(b, s)
    doff, _ = s['data']
    noff, nsz = s['note']
    ioff, isz = s['index']
    d = seal
    idx = bytearray(b[ioff:ioff + isz])
    idx[52:56] = bytes(4)
    idx[76:80] = bytes(4)
    h = hashlib.sha256(bytes(b[:doff]) + bytes(b[noff:d]) + bytes(b[d + 32:noff + nsz]) + bytes(idx)).digest()
    b[d:d + 32] = h
    struct.pack_into('<I', b, ioff + 52, zlib.crc32(bytes(b[noff:noff + nsz])))
    struct.pack_into('<I', b, ioff + 76, zlib.crc32(bytes(b[ioff:ioff + 76])))


# --- mutations ------------------------------------------------------------------------

def interesting(rng, old, size):
    """A value that readers might mishandle, never OLD itself."""
    top = (1 << (8 * size)) - 1
    while True:
        v = pick_value(rng, old, size, top)
        if v != old:
            return v


def pick_value(rng, old, size, top):
    return rng.choice([0, 1, top, top >> 1, (top >> 1) + 1, (old + 1) & top, (old - 1) & top,
                       (old << 1) & top, old >> 1, (old + 4096) & top, (old - 4096) & top,
                       old ^ (1 << rng.randrange(8 * size)), rng.getrandbits(8 * size),
                       0xfffffffffffff000 & top, 4096 & top])


def flip(b, rng, lo, hi):
    for _ in range(rng.choice([1, 1, 1, 2, 8])):
        i = rng.randrange(lo, hi)
        b[i] ^= 1 << rng.randrange(8)


def mutate_mlcore(b, rng):
    n = len(b)
    parts = mlcore_parts(b)
    kind = rng.choice(['flip'] * 6 + ['field'] * 5 + ['truncate', 'insert', 'remove', 'append', 'zero', 'swap'])
    if kind == 'flip':
        part = rng.choice(sorted(parts))
        flip(b, rng, *parts[part])
        return b, 'flip ' + part, 'raw'
    if kind == 'field':
        layout = snaptool.segs(b)
        seal = [n[4] for n in notes(b) if n[5] == b'MEMLENS' and n[3] == 0x4d4c0004][0]
        off, size, what = rng.choice(fields(b))
        old = int.from_bytes(b[off:off + size], 'little')
        new = interesting(rng, old, size)
        b[off:off + size] = new.to_bytes(size, 'little')
        mode = rng.choice(['refixed', 'refixed', 'resealed'])
        if mode == 'refixed':
            refix(b, layout)
        else:
            reseal(b, layout, seal)
        return b, 'field %s %#x->%#x' % (what, old, new), mode
    return generic(b, rng, kind, n), kind, 'raw'


def generic(b, rng, kind, n):
    if kind == 'truncate':
        del b[rng.randrange(n):]
    elif kind == 'insert':
        i = rng.randrange(n + 1)
        k = rng.choice([1, 3, 8, 40, 4096])
        b[i:i] = bytes(rng.getrandbits(8) for _ in range(k)) if rng.random() < .5 else bytes(k)
    elif kind == 'remove':
        i = rng.randrange(n)
        del b[i:i + rng.choice([1, 3, 8, 40, 4096])]
    elif kind == 'append':
        b += bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 7, 100, 5000])))
    elif kind == 'zero':
        i = rng.randrange(n)
        k = min(n - i, rng.choice([1, 8, 64, 4096, 70000]))
        b[i:i + k] = bytes(k)
    else:
        k = rng.choice([4, 8, 40, 512, 4096])
        i, j = rng.randrange(max(1, n - k)), rng.randrange(max(1, n - k))
        if abs(i - j) < k:
            j = (i + k) % max(1, n - k)
        x, y = bytes(b[i:i + k]), bytes(b[j:j + k])
        b[i:i + k], b[j:j + k] = y, x
    return b


def mutate_gz(b, rng):
    n = len(b)
    ms = list(snaptool.members(b))
    kind = rng.choice(['flip'] * 6 + ['field'] * 3 + ['mswap', 'mdrop', 'mdup'] +
                      ['truncate', 'insert', 'remove', 'append', 'zero', 'swap'])
    if kind == 'flip':
        i, pos, cs, uz, us, hl = rng.choice(ms)
        part = rng.choice(['header', 'deflate', 'trailer'])
        lo, hi = {'header': (pos, pos + hl), 'deflate': (pos + hl, pos + cs - 8), 'trailer': (pos + cs - 8, pos + cs)}[part]
        if hi <= lo:
            lo, hi = pos, pos + cs
        flip(b, rng, lo, hi)
        return b, 'flip member %d %s' % (i, part), 'raw'
    if kind == 'field':
        i, pos, cs, uz, us, hl = rng.choice(ms)
        off, size = rng.choice([(pos + 10, 2), (pos + 12, 1), (pos + 13, 1), (pos + 14, 2), (pos + 16, 4),
                                (pos + 20, 4), (pos + 3, 1), (pos + cs - 4, 4), (pos + cs - 8, 4)]
                               + [(pos + 12 + k, 1) for k in range(max(0, hl - 12))])
        old = int.from_bytes(b[off:off + size], 'little')
        new = interesting(rng, old, size)
        b[off:off + size] = new.to_bytes(size, 'little')
        return b, 'field member %d +%d %#x->%#x' % (i, off - pos, old, new), 'raw'
    if kind in ('mswap', 'mdrop', 'mdup') and len(ms) > 1:
        k = rng.randrange(len(ms) - 1) if kind == 'mswap' else rng.randrange(len(ms))
        _, p, c, _, _, _ = ms[k]
        if kind == 'mswap':
            _, p2, c2, _, _, _ = ms[k + 1]
            b[p:p2 + c2] = b[p2:p2 + c2] + b[p:p + c]
        elif kind == 'mdrop':
            del b[p:p + c]
        else:
            b[p:p] = b[p:p + c]
        return b, '%s member %d' % (kind, k), 'raw'
    if kind in ('mswap', 'mdrop', 'mdup'):
        kind = 'truncate'
    return generic(b, rng, kind, n), kind, 'raw'


# --- one original, one mutant ---------------------------------------------------------

def map_ranges(maps_out):
    r = []
    for line in maps_out.decode('utf-8', 'replace').splitlines():
        w = line.split()
        if w and '-' in w[0]:
            lo, _, hi = w[0].partition('-')
            try:
                r.append((int(lo, 16), int(hi, 16)))
            except ValueError:
                pass
    return r


READERS = ('core-info', 'expand', 'maps', 'info', 'pagemap', 'grep', 'read')


def commands(path, ranges, all_cmds, rng, i=0, per=0):
    """The commands run on PATH (relative to the worker's directory): all of them, or verify and
    PER readers taken in turn by mutant number I, with one read of a random mapping."""
    cmds = [('verify', ['core', 'verify', path], None), ('core-info', ['core', 'info', '--bytes', path], None),
            ('expand', ['core', 'expand', '-f', path, '-o', 'x.core'], 'x.core'), ('maps', ['maps', path], None),
            ('info', ['info', path], None), ('pagemap', ['pagemap', path], None),
            ('grep', ['grep', NEEDLE, path], None)]
    if all_cmds or not per:
        pick = ranges if all_cmds else rng.sample(ranges, min(3, len(ranges)))
    else:
        want = {'verify'} | {READERS[(i * per + k) % len(READERS)] for k in range(per)}
        cmds = [c for c in cmds if c[0] in want]
        pick = rng.sample(ranges, 1) if 'read' in want else []
    for lo, hi in pick:
        cmds.append(('read %x' % lo, ['read', '--raw', path, '%x' % lo, str(min(hi - lo, 1 << 20))], None))
    return cmds


def baseline(path, ranges):
    return {name: run(args, of)[:2] for name, args, of in commands(path, ranges, True, None)}


W = {}


def init_worker(originals, top, per, keep):
    W['t'] = tempfile.mkdtemp(prefix='w.', dir=top)
    os.chdir(W['t'])
    W['orig'] = originals
    W['per'] = per
    W['keep'] = keep


def one(job):
    seed, i = job
    rng = random.Random(seed * 1000003 + i)
    path, data, ranges, base = W['orig'][i % len(W['orig'])]
    b = bytearray(data)
    b, how, mode = (mutate_gz if path.endswith('.gz') else mutate_mlcore)(b, rng)
    with open(path, 'wb') as f:
        f.write(b)
    problems, statuses = [], []
    res = {}
    verified = False
    for name, args, of in commands(path, ranges, False, rng, i, W['per']):
        if name.startswith('read') and verified:
            break
        rc, out, err = run(args, of)
        res[name] = rc
        statuses.append('%s=%s' % (name.split()[0], rc))
        if name == 'verify' and rc == 0:
            verified = True
        check(name, rc, out, err, base[name], mode, verified, problems)
    if verified:   # every mapping must read back as the original
        for name, args, of in commands(path, ranges, True, rng):
            if name.startswith('read'):
                rc, out, err = run(args, of)
                check(name, rc, out, err, base[name], mode, True, problems)
    if mode == 'refixed' and verified:
        problems.append('verify accepted a refixed edit')
    keep = None
    if problems:
        keep = os.path.join(W['keep'], 'mlmut-bad-%d%s' % (i, os.path.splitext(path)[1]))
        shutil.copy(path, keep)
    with open(path, 'wb') as f:
        f.write(data)
    return i, how, mode, problems, statuses, keep


def check(name, rc, out, err, base, mode, verified, problems):
    brc, bout = base
    if rc == 'hang':
        problems.append(name + ' hung')
        return
    if rc < 0:
        problems.append('%s killed by signal %d' % (name, -rc))
    elif any(s in err for s in SAN):
        problems.append('%s sanitizer: %s' % (name, err.decode('utf-8', 'replace').strip().splitlines()[0][:200]))
    elif rc not in (0, 1, 2):
        problems.append('%s exit %d' % (name, rc))
    elif rc in (1, 2) and not err.strip():
        problems.append('%s exit %d without a message' % (name, rc))
    strict = mode == 'raw' or verified and mode != 'resealed'
    if REFORMAT in err and not name.startswith('read'):
        # a mutant that is still a valid gzip stream of the same core, but no longer an
        # export (its member index gone), is read as any gzip-compressed core: the same
        # bytes (read checks them) under the labels a plain core gives
        strict = False
    if not strict or not isinstance(rc, int) or rc < 0:
        return
    if rc == 0 and (out != bout or brc != 0):
        problems.append('%s exit 0 with output other than the original\'s' % name)
    if rc == 1 and name.startswith('read') and not bout.startswith(out):
        problems.append('%s partial read that is not the original\'s prefix' % name)


def make_snapshot(helper, out):
    """Dumps the ml_pages child with every kind of page into OUT."""
    t = tempfile.mkdtemp(prefix='mlmut-make.')
    p = subprocess.Popen([helper], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        p.stdout.readline()

        def cmd(c):
            p.stdin.write(c + '\n')
            p.stdin.flush()
            r = p.stdout.readline().strip()
            if not r.startswith('ok'):
                raise RuntimeError('%s: %s' % (c, r))
            return r
        with open(os.path.join(t, 'f.bin'), 'wb') as f:
            f.write(random.Random(3).randbytes(8 * 4096))
        a = int(cmd('anon 64').split('addr=')[1], 0)
        cmd('write %#x 40' % a)
        cmd('readf %#x 8' % (a + 40 * 4096))
        cmd('alt 16')
        cmd('file %s 8' % os.path.join(t, 'f.bin'))
        cmd('protnone 2')
        rc, _, err = run(['dump', '-q', '--chunk-size=64K', '-o', out, str(p.pid)])
        if rc != 0:
            raise RuntimeError('dump: %s' % err.decode(errors='replace'))
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(t, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-n', type=int, default=10000)
    ap.add_argument('-s', type=int, default=1)
    ap.add_argument('-j', type=int, default=2)
    ap.add_argument('--readers', type=int, default=0,
                    help='run verify and this many readers per mutant, in turn (default: every command)')
    ap.add_argument('--only', type=int, action='append')
    ap.add_argument('--minutes', type=float, help='stop starting mutants after this long and report what ran')
    ap.add_argument('--make', metavar='ML_PAGES', help='first write SNAPSHOT from this test child')
    ap.add_argument('snapshot')
    a = ap.parse_args()
    if a.make:
        make_snapshot(a.make, a.snapshot)
    keep = os.getcwd()
    src = os.path.abspath(a.snapshot)
    t = tempfile.mkdtemp(prefix='mlmut.')
    try:
        os.chdir(t)
        shutil.copy(src, 'lz4.mlcore')
        steps = [['core', 'expand', 'lz4.mlcore', '-o', 'x.core']]
        for codec in ('zstd', 'zlib'):
            steps.append(['core', 'import', '--codec', codec, 'x.core', '-o', codec + '.mlcore'])
        steps.append(['core', 'export', '--member-size', '64K', 'lz4.mlcore', '-o', 'export.gz'])
        for s in steps:
            rc, _, err = run(s)
            if rc != 0:
                print('%s failed (%s): %s' % (' '.join(s), rc, err.decode(errors='replace')), file=sys.stderr)
                return 2
        os.unlink('x.core')
        origs = []
        for path in ('lz4.mlcore', 'zstd.mlcore', 'zlib.mlcore', 'export.gz'):
            ranges = map_ranges(run(['maps', path])[1])
            origs.append((path, open(path, 'rb').read(), ranges, baseline(path, ranges)))
            print('%s: %d bytes, %d mappings, baseline exits %s' % (
                path, len(origs[-1][1]), len(ranges),
                ' '.join(sorted(set('%s=%s' % (k.split()[0], v[0]) for k, v in origs[-1][3].items())))), flush=True)
        deadline = time.time() + 60 * a.minutes if a.minutes else None
        jobs = [(a.s, i) for i in (a.only or range(a.n))]
        tried = ok = bad = 0
        kinds, exits = collections.Counter(), collections.Counter()
        with multiprocessing.Pool(a.j, init_worker, (origs, t, a.readers, keep)) as pool:
            results = (r for k in range(0, len(jobs), 200) if not deadline or time.time() < deadline
                       for r in pool.imap_unordered(one, jobs[k:k + 200], chunksize=4))
            for i, how, mode, problems, statuses, kept in results:
                tried += 1
                kinds[how.split()[0] + ('' if mode == 'raw' else ' ' + mode)] += 1
                exits.update(statuses)
                if problems:
                    bad += 1
                    print('bad %d (%s, %s): %s; kept as %s' % (i, how, mode, '; '.join(problems), kept), flush=True)
                else:
                    ok += 1
                if tried % 500 == 0:
                    print('... %d tried, %d bad' % (tried, bad), flush=True)
        print('kinds: ' + ', '.join('%s %d' % kv for kv in sorted(kinds.items())))
        print('exits: ' + ', '.join('%s %d' % kv for kv in sorted(exits.items())))
        print('%d tried, %d ok, %d bad' % (tried, ok, bad))
        return 1 if bad else 0
    finally:
        os.chdir(keep)
        shutil.rmtree(t, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
