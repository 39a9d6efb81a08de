#!/usr/bin/env python3
"""Control socket flood for tests/e2e/34-ctl-flood (standard library only).

  ctl_flood.py SOCKET VALID ATTACKERS

Connects VALID well-behaved clients first and keeps them; then ATTACKERS
clients connect at once, each sending malformed and oversized messages
(garbage, a header that lies about its length, another protocol version,
an unknown message type, a word without its NUL, 20000 bytes, an empty
datagram) and reading what comes back; meanwhile every valid client runs
`show status` 4 times.  Message layout from lib/ctl_proto.h (host order).
Prints one JSON line: what the valid clients got, how many attackers were
answered with errors, refused (too many clients) or cut off."""
import asyncio
import errno
import json
import os
import random
import socket
import struct
import sys

CMD, RECORD, DONE, ERROR = 1, 2, 3, 4
A_WORD, A_ERRNO = 1, 2


def attr(t, v):
    a = struct.pack("=HH", 4 + len(v), t) + v
    return a + b"\0" * (-len(a) % 4)


def msg(t, body, seq, ver=1, ln=None):
    return struct.pack("=IHBBI", 12 + len(body) if ln is None else ln, t, ver, 0, seq) + body


def cmd(seq, *words):
    return msg(CMD, b"".join(attr(A_WORD, w.encode() + b"\0") for w in words), seq)


def parse(d):
    if len(d) < 12:
        return None, None, None
    ln, t, ver, _, seq = struct.unpack("=IHBBI", d[:12])
    err = None
    if t == ERROR:
        off = 12
        while off + 4 <= len(d):
            al, at = struct.unpack("=HH", d[off:off + 4])
            if al < 4:
                break
            if at == A_ERRNO:
                err = struct.unpack("=I", d[off + 4:off + 8])[0]
            off += (al + 3) & ~3
    return t, seq, err


def bad_messages(rnd, seq):
    return [
        bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 200))),
        msg(CMD, attr(A_WORD, b"show\0"), seq, ln=300),       # length lies
        msg(CMD, attr(A_WORD, b"help\0"), seq, ver=9),        # other version
        msg(77, attr(A_WORD, b"help\0"), seq),                # unknown type
        msg(CMD, attr(A_WORD, b"help"), seq),                 # no NUL
        cmd(seq, *(["show"] * 1700)),                         # 20 kB: oversized
        cmd(seq, "show", "nosuchthing"),                      # parses, no command
    ]


async def recv(loop, s, timeout=20):
    return await asyncio.wait_for(loop.sock_recv(s, 65536), timeout)


async def attacker(loop, path, i, res):
    rnd = random.Random(i)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.setblocking(False)
    try:
        await asyncio.wait_for(loop.sock_connect(s, path), 20)
        msgs = bad_messages(rnd, 1000 + i)
        rnd.shuffle(msgs)
        for m in msgs:
            await loop.sock_sendall(s, m)
            d = await recv(loop, s)
            t, seq, err = parse(d)
            if d == b"":
                res["cut"] += 1
                return
            if t == ERROR and err == errno.EUSERS:
                res["refused"] += 1
                return
            if t != ERROR:
                res["unexpected"].append("attacker %d: type %r" % (i, t))
                return
            res["errors"] += 1
        res["done"] += 1
    except (ConnectionError, OSError, asyncio.TimeoutError) as e:
        # Refused as one client too many: the daemon sent its EUSERS error
        # and closed, maybe before our first send; it is still queued.
        try:
            t, _, err = parse(s.recv(65536))
        except OSError:
            t = err = None
        if t == ERROR and err == errno.EUSERS:
            res["refused"] += 1
            return
        res["cut"] += 1
        res["why"][type(e).__name__] = res["why"].get(type(e).__name__, 0) + 1
    finally:
        s.close()


async def valid(loop, s, i, res):
    for k in range(4):
        seq = i * 10 + k
        await loop.sock_sendall(s, cmd(seq, "show", "status"))
        recs = 0
        while True:
            d = await recv(loop, s)
            t, rseq, err = parse(d)
            if t is None or rseq != seq:
                res["valid_bad"].append("client %d: %r seq %r" % (i, t, rseq))
                return
            if t == RECORD:
                recs += 1
                continue
            if t == DONE and recs >= 1:
                res["valid_ok"] += 1
            else:
                res["valid_bad"].append("client %d: type %r err %r" % (i, t, err))
            break
        await asyncio.sleep(0.05)


async def main(path, nvalid, nattack):
    loop = asyncio.get_running_loop()
    res = {"valid_ok": 0, "valid_bad": [], "errors": 0, "done": 0, "refused": 0,
           "cut": 0, "why": {}, "unexpected": []}
    vs = []
    for _ in range(nvalid):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.setblocking(False)
        await loop.sock_connect(s, path)
        vs.append(s)
    tasks = [asyncio.create_task(attacker(loop, path, i, res)) for i in range(nattack)]
    tasks += [asyncio.create_task(valid(loop, s, i, res)) for i, s in enumerate(vs)]
    await asyncio.gather(*tasks)
    for s in vs:
        s.close()
    res["valid_bad"] = res["valid_bad"][:10]
    res["unexpected"] = res["unexpected"][:10]
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
