#!/usr/bin/env python3
"""Prints "WIDTH HEIGHT DISTINCT TAB10 COLOURED" for an 8-bit RGB/RGBA/grey
PNG: its size, its number of distinct colours, how many of matplotlib's ten
tab10 colours (the scatter plot's label colours) cover at least 5 pixels
each, and how many pixels are coloured rather than grey (channels more than
40 apart). Standard library only (no numpy, no PIL), for the shell tests.

usage: python3 tests/png_colours.py FILE.png
"""
import struct
import sys
import zlib

TAB10 = [(0x1f, 0x77, 0xb4), (0xff, 0x7f, 0x0e), (0x2c, 0xa0, 0x2c), (0xd6, 0x27, 0x28),
         (0x94, 0x67, 0xbd), (0x8c, 0x56, 0x4b), (0xe3, 0x77, 0xc2), (0x7f, 0x7f, 0x7f),
         (0xbc, 0xbd, 0x22), (0x17, 0xbe, 0xcf)]


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, w = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or interlace != 0 or ctype not in (0, 2, 4, 6):
                raise ValueError("unsupported PNG: depth %d, colour type %d, interlace %d"
                                 % (depth, ctype, interlace))
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + n
    if w is None:
        raise ValueError("no IHDR")
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        elif f != 0:
            raise ValueError("bad filter %d" % f)
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def main():
    w, h, bpp, rows = read_png(sys.argv[1])
    counts = {}
    for line in rows:
        if bpp >= 3:
            px = zip(line[0::bpp], line[1::bpp], line[2::bpp])
        else:
            px = ((g, g, g) for g in line[0::bpp])
        for p in px:
            counts[p] = counts.get(p, 0) + 1
    tab10 = sum(1 for c in TAB10 if counts.get(c, 0) >= 5)
    coloured = sum(n for c, n in counts.items() if max(c) - min(c) > 40)
    print(w, h, len(counts), tab10, coloured)


if __name__ == "__main__":
    main()
