#!/usr/bin/env python3
"""Decodes a PNG (8-bit grey/RGB/RGBA/palette, not interlaced) with zlib alone and prints
its size, its number of distinct colours and the count of each colour asked for:
pngcolours.py FILE [#rrggbb ...] -> 'W H NCOLOURS' then '#rrggbb N' per colour."""
import struct, sys, zlib

def decode(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    pos, idat, plte = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            plte = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if depth != 8 or interlace:
        raise SystemExit(f"{path}: depth {depth}, interlace {interlace}: not handled")
    bpp = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    raw, stride = zlib.decompress(idat), w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, ctype, bpp, rows, plte

def colours(path):
    w, h, ctype, bpp, rows, plte = decode(path)
    count = {}
    for r in rows:
        for x in range(0, len(r), bpp):
            px = r[x:x + bpp]
            if ctype == 3:
                px = plte[px[0] * 3:px[0] * 3 + 3]
            elif ctype in (0, 4):
                px = bytes([px[0]] * 3)
            elif ctype == 6 and px[3] == 0:
                continue  # transparent
            key = px[:3]
            count[key] = count.get(key, 0) + 1
    return w, h, count

if __name__ == "__main__":
    w, h, count = colours(sys.argv[1])
    print(w, h, len(count))
    for c in sys.argv[2:]:
        print(c, count.get(bytes.fromhex(c.lstrip("#")), 0))
