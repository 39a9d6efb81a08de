#!/usr/bin/env python3
"""Seed corpus for fuzz_ctl (corpus/ctl/): control protocol datagrams laid
out by hand from lib/ctl_proto.h (12-byte header: len u32, type u16,
version u8, flags u8, seq u32, host byte order = little-endian here;
then netlink attributes: len u16, type u16, value, padded to 4).  One
CMD per daemon command (valid words, abbreviations, bad values), records,
DONE and ERROR messages, and broken headers.  Deterministic; standard
library only.  Run from anywhere: writes next to itself."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "ctl")
CMD, RECORD, DONE, ERROR = 1, 2, 3, 4
A_WORD, A_ERRNO, A_ERRTEXT, A_REC = 1, 2, 3, 4
RA_TYPE, RA_FIELD = 1, 2
FA_NAME, FA_U64, FA_S64, FA_STR, FA_BOOL = 1, 2, 3, 4, 5


def attr(t, v):
    a = struct.pack("<HH", 4 + len(v), t) + v
    return a + b"\0" * (-len(a) % 4)


def s(x):
    return x.encode() + b"\0"


def msg(t, body, seq=7, ver=1, flags=0, fix_len=None):
    ln = 12 + len(body) if fix_len is None else fix_len
    return struct.pack("<IHBBI", ln, t, ver, flags, seq) + body


def cmd(*words, **kw):
    return msg(CMD, b"".join(attr(A_WORD, s(w)) for w in words), **kw)


def field(name, t, v):
    return attr(RA_FIELD | 0x8000, attr(FA_NAME, s(name)) + attr(t, v))


COMMANDS = [
    ["show", "status"], ["show", "enis"], ["show", "eni", "076bc493b822cd32f"],
    ["show", "flows", "eni", "vpce-076bc493b822cd32f", "limit", "10"],
    ["show", "drops"], ["show", "workers"], ["show", "routes"], ["show", "config"],
    ["route", "add", "192.0.2.0/24", "eni", "any", "dev", "out", "table", "eni"],
    ["route", "add", "2001:db8::/32", "eni", "076bc493b822cd32f", "dev", "in",
     "via", "2001:db8::1", "table", "100", "metric", "5"],
    ["route", "del", "198.51.100.0/24", "eni", "any", "dev", "out"],
    ["rule", "add", "iif", "in", "table", "eni", "eni", "any"],
    ["rule", "del", "iif", "out", "table", "7"],
    ["eni", "destroy", "gwi-e8WXgsTQDkf"], ["flows", "flush"],
    ["log", "control", "debug"], ["log", "all", "info"],
    ["counters", "reset"], ["help"], ["quit"],
    ["sh", "st"], ["s", "e"], ["show"], [], ["show", "flows", "limit", "0"],
    ["route", "add", "192.0.2.1/24"], ["show", "eni", "zz"], ["x" * 70],
    ["show", "status", "extra"] + ["w"] * 20,
]


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = {}
    for i, w in enumerate(COMMANDS):
        seeds["cmd-%02d" % i] = cmd(*w, seq=i)
    rec = attr(A_REC | 0x8000, attr(RA_TYPE, s("status")) + field("pid", FA_U64, struct.pack("<Q", 42))
               + field("skew", FA_S64, struct.pack("<q", -1)) + field("mode", FA_STR, s("return"))
               + field("healthy", FA_BOOL, b"\1"))
    seeds["record"] = msg(RECORD, rec + rec)
    seeds["done"] = msg(DONE, b"")
    seeds["error"] = msg(ERROR, attr(A_ERRNO, struct.pack("<I", 22)) + attr(A_ERRTEXT, s("bad")))
    seeds["bad-version"] = cmd("show", "status", ver=2)
    seeds["bad-type"] = msg(99, attr(A_WORD, s("help")))
    seeds["bad-len"] = cmd("show", "status", fix_len=200)
    seeds["short"] = b"\x0c\0\0\0\x01\0"
    seeds["unknown-attr"] = msg(CMD, attr(A_WORD, s("show")) + attr(9, b"abcd") + attr(A_WORD, s("status")))
    seeds["word-no-nul"] = msg(CMD, attr(A_WORD, b"help"))
    seeds["oversized"] = cmd(*(["show"] * 2000))
    for name, data in sorted(seeds.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
