#!/usr/bin/env python3
"""Seed corpora of the text parsers' fuzz harnesses, deterministic,
standard library only; writes next to itself:
  corpus/http_req/   requests to the health check port (fuzz_http_req)
  corpus/ctl_words/  gwlbctl command lines (fuzz_ctl_words)
  corpus/conf/       configuration files (fuzz_conf)
The command lines and settings are those of gwlbctl(8) and
gwlbtund.conf(5); the requests those of GWLB, Prometheus and curl."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

HTTP = {
    "gwlb": b"GET / HTTP/1.1\r\nHost: 198.18.0.2:8182\r\nUser-Agent: ELB-HealthChecker/2.0\r\n"
            b"Accept-Encoding: gzip, compressed\r\nConnection: close\r\n\r\n",
    "metrics": b"GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: Prometheus/2.45.0\r\n"
               b"Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4\r\n\r\n",
    "curl-head": b"HEAD / HTTP/1.1\r\nHost: 127.0.0.1:8182\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
    "post": b"POST /metrics?x=1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
    "lf-only": b"GET /health HTTP/1.0\n\n",
    "http09": b"GET /\r\n\r\n",
    "half": b"GET / HTTP/1.1\r\nHost: x\r\n",
    "bad-method": b"G(T / HTTP/1.1\r\n\r\n",
    "nul": b"GET /\0 HTTP/1.1\r\n\r\n",
    "pipelined": b"GET / HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n",
    "long-header": b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 4100 + b"\r\n\r\n",
}

WORDS = [
    "show status", "show enis", "show eni 076bc493b822cd32f", "show eni gwi-e8WXgsTQDkf",
    "show flows eni vpce-076bc493b822cd32f limit 10", "show drops", "show workers",
    "show routes", "show config",
    "route add 0.0.0.0/0 eni any dev out table eni",
    "route add 2001:db8::/32 eni 076bc493b822cd32f dev in via 2001:db8::1 table 100 metric 5",
    "route del 198.51.100.0/24 eni any dev out", "rule add iif in table eni eni any",
    "rule del iif out table 7 eni 0x1", "eni destroy 0ffffffffffffffff", "flows flush",
    "log control debug", "log all info", "counters reset", "help", "quit",
    "sh st", "s e", "sh fl l 5", "# a comment", "   \t ", "show", "show eni",
    "route add 192.0.2.1/24 eni any dev out", "show flows limit 0",
    "show flows limit 4294967296", "log nosuch debug", "show " + "x" * 80,
    " ".join(["show"] * 20),
]

CONF = {
    "full": """# gwlbtund.conf(5) example
udpthreads 2
tunthreads 2
port 8182
json on
max-enis 64
idle 300
timeout 10
udpaffinity 0-1
tunaffinity 1
table-range 1000-1999
allowed-origin 198.18.0.0/15
allowed-origin 10.0.0.0/8
max-flows 100000
mtu 8500
hook-timeout 30
no-return off
offload on
logging all=info,control=debug
route 0.0.0.0/0 eni any dev out table eni
route ::/0 eni any dev out table eni
rule iif in table eni
forwarding on
""",
    "empty-comments": "# nothing\n\n   # still nothing\n",
    "bad-keyword": "nosuch 1\n",
    "two-values": "port 1 2\n",
    "bad-route": "route 192.0.2.1/24 eni any dev out\n",
    "no-newline": "port 8182",
    "crlf": "port 8182\r\njson off\r\n",
    "too-many-words": "route " + " ".join(["x"] * 20) + "\n",
    "long-line": "port " + "9" * 1100 + "\n",
}


def write(sub, items):
    d = os.path.join(HERE, "corpus", sub)
    os.makedirs(d, exist_ok=True)
    for name, data in items:
        with open(os.path.join(d, name), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())


def main():
    write("http_req", sorted(HTTP.items()))
    write("ctl_words", [("line-%02d" % i, w + "\n") for i, w in enumerate(WORDS)])
    write("conf", sorted(CONF.items()))


if __name__ == "__main__":
    main()
