#!/usr/bin/env python3
"""Reads and damages memlens snapshots and gzip exports on purpose, for the tests and the
stress campaigns (docs/snapshot-format.md is the layout). Standard library only.

  snaptool.py chunks FILE             data entries: index addr len offset stored codec
  snaptool.py corrupt FILE ADDR       flips a byte of the stored chunk holding ADDR;
                                      prints the chunk's range "0xLO 0xHI"
  snaptool.py members FILE            gzip members: index offset size usize
  snaptool.py gz-corrupt FILE ADDR    flips a byte in the deflate data of the export's member
                                      holding ADDR; prints that member's addresses "0xLO 0xHI"
  snaptool.py gz-swap FILE I          swaps members I and I+1 of an export (the size
                                      fields still tile the file)
  snaptool.py refix FILE              recomputes every CRC-32 of a snapshot after an edit
"""
import struct
import sys
import zlib


def segs(b):
    phoff, = struct.unpack_from('<Q', b, 32)
    phnum, = struct.unpack_from('<H', b, 56)
    out = {}
    for i in range(phnum):
        t, _f, off, _v, _p, fsz = struct.unpack_from('<IIQQQQ', b, phoff + 56 * i)
        out[{4: 'note', 0x6d6c0001: 'data', 0x6d6c0002: 'index'}.get(t, t)] = (off, fsz)
    return out


def entries(b):
    s = segs(b)
    off, size = s['index']
    n, = struct.unpack_from('<Q', b, off + 24)
    for i in range(n):
        a, ln, o, cs, crc, kind, codec = struct.unpack_from('<QQQIIBB', b, off + 80 + 40 * i)
        yield i, a, ln, o, cs, crc, kind, codec


def refix(b):
    s = segs(b)
    ioff, isz = s['index']
    noff, nsz = s['note']
    doff, _ = s['data']
    struct.pack_into('<I', b, ioff + 48, zlib.crc32(bytes(b[ioff + 80:ioff + isz])))
    struct.pack_into('<I', b, ioff + 52, zlib.crc32(bytes(b[noff:noff + nsz])))
    struct.pack_into('<I', b, ioff + 60, zlib.crc32(bytes(b[0:doff])))
    struct.pack_into('<I', b, ioff + 76, zlib.crc32(bytes(b[ioff:ioff + 76])))


def members(b):
    pos, us, i = 0, 0, 0
    while pos < len(b):
        xlen, = struct.unpack_from('<H', b, pos + 10)
        cs, uz = struct.unpack_from('<II', b, pos + 16)
        yield i, pos, cs, uz, us, 12 + xlen
        pos += cs
        us += uz
        i += 1


def loads(core_head):
    """PT_LOADs (vaddr, memsz, offset, filesz) of an expanded core's first bytes."""
    phoff, = struct.unpack_from('<Q', core_head, 32)
    phnum, = struct.unpack_from('<H', core_head, 56)
    for i in range(phnum):
        t, _f, off, va, _p, fsz, msz = struct.unpack_from('<IIQQQQQ', core_head, phoff + 56 * i)
        if t == 1:
            yield va, msz, off, fsz


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    b = bytearray(open(path, 'rb').read())
    if cmd == 'chunks':
        for i, a, ln, o, cs, _crc, kind, codec in entries(b):
            if kind == 0:
                print(i, hex(a), ln, o, cs, codec)
    elif cmd == 'corrupt':
        addr = int(sys.argv[3], 16)
        for i, a, ln, o, cs, _crc, kind, _codec in entries(b):
            if kind == 0 and a <= addr < a + ln:
                b[o + cs // 2] ^= 0x5a
                open(path, 'wb').write(b)
                print(hex(a), hex(a + ln))
                return 0
        print('no data chunk holds that address', file=sys.stderr)
        return 1
    elif cmd == 'members':
        for i, pos, cs, uz, _us, _h in members(b):
            print(i, pos, cs, uz)
    elif cmd == 'gz-corrupt':
        addr = int(sys.argv[3], 16)
        ms = list(members(b))
        head = zlib.decompressobj(31).decompress(bytes(b[:ms[0][2]]))
        for va, msz, off, fsz in loads(head):
            if va <= addr < va + fsz:
                coff = off + addr - va
                for i, pos, cs, uz, us, hl in ms:
                    if us <= coff < us + uz:
                        b[pos + hl + (cs - hl - 8) // 2] ^= 0x5a
                        open(path, 'wb').write(b)
                        lo, hi = max(us, off), min(us + uz, off + fsz)
                        print(hex(va + lo - off), hex(va + hi - off))
                        return 0
        print('no stored byte of the export holds that address', file=sys.stderr)
        return 1
    elif cmd == 'gz-swap':
        i = int(sys.argv[3])
        ms = list(members(b))
        _, pa, ca, _, _, _ = ms[i]
        _, pc, cc, _, _, _ = ms[i + 1]
        b[pa:pc + cc] = b[pc:pc + cc] + b[pa:pa + ca]
        open(path, 'wb').write(b)
    elif cmd == 'refix':
        refix(b)
        open(path, 'wb').write(b)
    else:
        print(__doc__, file=sys.stderr)
        return 64
    return 0


if __name__ == '__main__':
    sys.exit(main())
