#!/usr/bin/env python3
"""A stand-in for systemd's notification socket (sd_notify(3)), for
tests/e2e/70-ops-sd-notify.  Binds a Unix datagram socket at PATH and
writes one JSON line per datagram to OUT: the monotonic time it arrived
(microseconds, CLOCK_MONOTONIC as MONOTONIC_USEC uses), its NAME=VALUE
fields, and, for a datagram with READY=1, what was true the moment it
arrived: the GENEVE port bound, the health port and the control socket
accepting.  Runs in the daemon's network namespace; ends after SECS or on
SIGTERM."""
import argparse
import errno
import json
import os
import signal
import socket
import sys
import time


def udp_bound(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("0.0.0.0", port))
    except OSError as e:
        return e.errno == errno.EADDRINUSE
    finally:
        s.close()
    return False


def connects(family, kind, addr):
    s = socket.socket(family, kind)
    s.settimeout(1)
    try:
        s.connect(addr)
        return True
    except OSError as e:
        return str(e)
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("out")
    ap.add_argument("--geneve-port", type=int, default=6081)
    ap.add_argument("--health-port", type=int, required=True)
    ap.add_argument("--control", required=True)
    ap.add_argument("--secs", type=float, default=120)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        os.unlink(a.path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(a.path)
    os.chmod(a.path, 0o777)     # as systemd's: services of any user may send
    end = time.monotonic() + a.secs
    with open(a.out, "w", buffering=1) as out:
        out.write(json.dumps({"listening": True}) + "\n")
        while time.monotonic() < end:
            s.settimeout(max(0.01, end - time.monotonic()))
            try:
                data = s.recv(4096)
            except socket.timeout:
                break
            t = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
            fields = {}
            for line in data.decode("utf-8", "replace").split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    fields[k] = v
            rec = {"t_usec": t, "fields": fields}
            if fields.get("READY") == "1":
                rec["geneve_bound"] = udp_bound(a.geneve_port)
                rec["health_accepts"] = connects(socket.AF_INET, socket.SOCK_STREAM,
                                                 ("127.0.0.1", a.health_port))
                rec["control_accepts"] = connects(socket.AF_UNIX, socket.SOCK_SEQPACKET,
                                                  a.control)
            out.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
