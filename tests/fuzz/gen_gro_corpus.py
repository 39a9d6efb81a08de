#!/usr/bin/env python3
"""Seed corpus for fuzz_gro (tests/fuzz/corpus/gro/): batches of inner TCP
segments in fuzz_gro.c's framing (a control byte, then records of
[length: 2][domain | tag << 2: 1][packet]).  Standard library only, packets
laid out by hand from RFC 791/793/8200; deterministic output."""
import os, struct, sys

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def seg(fam=4, seq=0, ident=0, n=16, flags=0x10, ts=None, sport=1234, ext=False, bad=False,
        ttl=64):
    src4, dst4 = bytes([192, 0, 2, 1]), bytes([198, 51, 100, 2])
    src6 = bytes([0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [1])
    dst6 = bytes([0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [2])
    opts = b"" if ts is None else b"\x01\x01\x08\x0a" + struct.pack("!II", ts, 1)
    pay = bytes((seq + i) * 13 & 0xff for i in range(n))
    th = struct.pack("!HHIIBBHHH", sport, 80, seq, 77, (20 + len(opts)) // 4 << 4, flags,
                     500, 0, 0) + opts + pay
    if fam == 4:
        ph = src4 + dst4 + struct.pack("!BBH", 0, 6, len(th))
    else:
        ph = src6 + dst6 + struct.pack("!IxxxB", len(th), 6)
    th = th[:16] + struct.pack("!H", csum(ph + th)) + th[18:]
    if bad:
        th = th[:-1] + bytes([th[-1] ^ 1])
    if fam == 4:
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(th), ident, 0x4000, ttl, 6, 0,
                        src4, dst4)
        return h[:10] + struct.pack("!H", csum(h)) + h[12:] + th
    if ext:
        hbh = bytes([6, 0, 1, 4, 0, 0, 0, 0])
        return struct.pack("!IHBB16s16s", 6 << 28, len(th) + 8, 0, ttl, src6, dst6) + hbh + th
    return struct.pack("!IHBB16s16s", 6 << 28, len(th), 6, ttl, src6, dst6) + th

def batch(ctl, recs):
    out = bytes([ctl])
    for sel, p in recs:
        out += struct.pack("!HB", len(p), sel) + p
    return out

def run(fam, n, size, seq=0, ident=0, sel=0, **kw):
    return [(sel, seg(fam, seq + i * size, (ident + i) & 0xffff, size, **kw)) for i in range(n)]

seeds = {
    "v4_run": batch(0, run(4, 5, 16)),
    "v4_run_ts_last_small_psh": batch(0, run(4, 3, 24, ts=5) +
                                      [(0, seg(4, 72, 3, 8, 0x18, ts=5))]),
    "v6_run_then_ext": batch(0, run(6, 3, 20) + [(0, seg(6, 60, n=20, ext=True))] +
                             [(0, seg(6, 80, n=20))]),
    "flows_enis_tags": batch(0, [x for i in range(3) for x in (
        (0, seg(4, i * 10, i, 10)), (1, seg(4, i * 10, i, 10)),
        (4, seg(4, 500 + i * 10, 9 + i, 10, sport=999)), (12, seg(4, i * 10, i, 10)))]),
    "reorder_gap_bad": batch(0, [(0, seg(4, 0, 0, 10)), (0, seg(4, 20, 2, 10)),
                                 (0, seg(4, 10, 1, 10)), (0, seg(4, 30, 3, 10, bad=True)),
                                 (0, seg(4, 40, 4, 10)), (0, seg(4, 50, 5, 10))]),
    "flags_and_fields": batch(0, [(0, seg(4, 0, 0, 8)), (0, seg(4, 8, 1, 8, 0x11)),
                                  (0, seg(4, 16, 2, 8)), (0, seg(4, 24, 3, 8, ttl=3)),
                                  (0, seg(4, 32, 4, 8, 0x14)), (0, seg(4, 40, 5, 0))]),
    "fix_checksums": batch(1, run(4, 4, 12, bad=True) + run(6, 3, 12, seq=100)),
    "full_segs": batch(0, run(4, 70, 4)),
}
d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "gro")
os.makedirs(d, exist_ok=True)
for name, data in sorted(seeds.items()):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
print("wrote %d seeds to %s" % (len(seeds), d))
