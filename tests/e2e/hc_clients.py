#!/usr/bin/env python3
"""Health-check clients for tests/e2e/60-health-flood (standard library only).

  hc_clients.py idle  PORT SRC N SECS [half]  N connections from SRC that send
                      nothing (or half a request), held SECS; prints
                      "open N" once all are connected, then at the end
                      "closed-by-server K" (K of them the daemon closed)
                      and "first-closed-after-ms T" (the first of them)
  hc_clients.py probe PORT N TIMEOUT [SRC]    N probes at once (GET /, each
                      with TIMEOUT s for the whole exchange); prints
                      "answered A of N max-latency-ms L"
  hc_clients.py trickle PORT SECS             one byte of a request every 0.5 s
                      for at most SECS; prints "closed-after-ms T" (or
                      "not-closed" when the daemon kept it for SECS)
Everything goes to 127.0.0.1 (the namespace's loopback).
"""
import asyncio
import socket
import sys
import time

HOST = "127.0.0.1"


async def idle(port, src, n, secs, half):
    conns = []
    for _ in range(n):
        r, w = await asyncio.open_connection(HOST, port, local_addr=(src, 0))
        if half:
            w.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
        conns.append((r, w))
    print("open", len(conns), flush=True)
    closed = 0
    t0 = time.monotonic()
    first = None

    async def watch(r):
        nonlocal closed, first
        try:
            if await r.read(1) != b"":
                return
        except (ConnectionError, OSError):
            pass
        closed += 1
        if first is None:
            first = time.monotonic() - t0

    tasks = [asyncio.create_task(watch(r)) for r, _ in conns]
    await asyncio.sleep(secs)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for _, w in conns:
        w.close()
    print("closed-by-server", closed, flush=True)
    print("first-closed-after-ms", int(first * 1000) if first is not None else -1, flush=True)


async def one_probe(port, timeout, src):
    t0 = time.monotonic()

    async def go():
        kw = {"local_addr": (src, 0)} if src else {}
        r, w = await asyncio.open_connection(HOST, port, **kw)
        w.write(b"GET / HTTP/1.1\r\nHost: gwlbtun\r\nUser-Agent: ELB-HealthChecker/2.0\r\n\r\n")
        data = await r.read()
        w.close()
        return data

    try:
        data = await asyncio.wait_for(go(), timeout)
    except asyncio.TimeoutError:
        return "timeout"
    except (ConnectionError, OSError) as e:
        return type(e).__name__
    if not data.startswith(b"HTTP/1.1 200 OK\r\n"):
        return "answer %r" % data[:40]
    return time.monotonic() - t0


async def probe(port, n, timeout, src):
    res = await asyncio.gather(*(one_probe(port, timeout, src) for _ in range(n)))
    ok = [t for t in res if isinstance(t, float)]
    bad = {}
    for t in res:
        if not isinstance(t, float):
            bad[t] = bad.get(t, 0) + 1
    print("answered", len(ok), "of", n, "max-latency-ms",
          int(max(ok) * 1000) if ok else -1,
          " ".join("%s:%d" % kv for kv in sorted(bad.items())), flush=True)


def trickle(port, secs):
    s = socket.create_connection((HOST, port))
    s.settimeout(0.5)
    req = b"GET / HTTP/1.1\r\nHost: gwlbtun\r\n" + b"X-Slow: " + b"a" * 200
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < secs:
        try:
            s.send(req[i % len(req):i % len(req) + 1])
            i += 1
            if s.recv(1) == b"":
                break
        except socket.timeout:
            continue
        except OSError:
            break
    else:
        print("not-closed", flush=True)
        return
    print("closed-after-ms", int((time.monotonic() - t0) * 1000), flush=True)


def main(a):
    if a[0] == "idle":
        asyncio.run(idle(int(a[1]), a[2], int(a[3]), float(a[4]), len(a) > 5))
    elif a[0] == "probe":
        asyncio.run(probe(int(a[1]), int(a[2]), float(a[3]), a[4] if len(a) > 4 else None))
    elif a[0] == "trickle":
        trickle(int(a[1]), float(a[2]))
    else:
        sys.exit("unknown command " + a[0])


if __name__ == "__main__":
    main(sys.argv[1:])
