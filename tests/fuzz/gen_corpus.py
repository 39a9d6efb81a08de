#!/usr/bin/env python3
"""Write the seed corpora for the fuzz harnesses.

tests/fuzz/corpus/pkt/     inner IPv4/IPv6 packets (pkt_parse)
tests/fuzz/corpus/geneve/  GWLB GENEVE datagrams (geneve_decode), most of
                           them wrapping one of the inner packets above
tests/fuzz/corpus/gso/     a virtio_net_hdr (little-endian: x86's host order)
                           and a packet as a TUN queue with offloads reads
                           them (gso_begin/gso_next)

Everything is laid out by hand from RFC 791/8200/792/4443/8926 with the
standard library only (no scapy, no project code), so the seeds are
independent of the code under test.  Deterministic: rerunning rewrites
the same bytes.  Usage: tests/fuzz/gen_corpus.py [OUTDIR]
(default: the corpus/ directory next to this script).
"""
import os
import struct
import sys

ENI = 0x076bc493b822cd32f
ATT = 0x0123456789abcdef
COOKIE = 0xdeadbeef


def ip4(proto, payload, src=b"\xc0\x00\x02\x01", dst=b"\xc6\x33\x64\x02",
        opts=b"", flags_frag=0x4000, ident=0x1234):
    ihl = 5 + len(opts) // 4
    tot = ihl * 4 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot, ident, flags_frag,
                      64, proto, 0, src, dst)
    return hdr + opts + payload


V6_SRC = bytes.fromhex("20010db8000000000000000000000001")
V6_DST = bytes.fromhex("20010db8000000000000000000000002")


def ip6(nh, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64,
                       V6_SRC, V6_DST) + payload


def udp(sport=12345, dport=53, data=b"hello"):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def tcp(sport=40000, dport=80, flags=0x02):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags,
                       65535, 0, 0)


def icmp(typ, code, rest, data=b""):
    return struct.pack("!BBH", typ, code, 0) + rest + data


def pkt_seeds():
    s = {}
    s["v4_udp"] = ip4(17, udp())
    s["v4_tcp_syn"] = ip4(6, tcp())
    s["v4_sctp"] = ip4(132, struct.pack("!HHI", 5000, 6000, 0) + b"\0" * 4)
    s["v4_gre"] = ip4(47, b"\x00\x00\x08\x00")
    s["v4_ip_options"] = ip4(17, udp(), opts=b"\x01\x01\x01\x00")
    s["v4_icmp_echo"] = ip4(1, icmp(8, 0, struct.pack("!HH", 0x4242, 1),
                                    b"ping"))
    quoted = ip4(17, udp(53, 12345), src=b"\xc6\x33\x64\x02",
                 dst=b"\xc0\x00\x02\x01")
    s["v4_icmp_unreach"] = ip4(1, icmp(3, 3, b"\0\0\0\0", quoted[:28]))
    s["v4_icmp_frag_needed"] = ip4(1, icmp(3, 4, struct.pack("!HH", 0, 1400),
                                           quoted[:28]))
    s["v4_frag_first"] = ip4(17, udp(data=b"x" * 16), flags_frag=0x2000,
                             ident=7)
    s["v4_frag_later"] = ip4(17, b"y" * 16, flags_frag=0x0003, ident=7)
    s["v6_udp"] = ip6(17, udp())
    s["v6_tcp"] = ip6(6, tcp(dport=443))
    s["v6_icmp6_echo"] = ip6(58, icmp(128, 0, struct.pack("!HH", 0x99, 1),
                                      b"ping"))
    q6 = ip6(17, udp(53, 12345))
    s["v6_icmp6_unreach"] = ip6(58, icmp(1, 4, b"\0\0\0\0", q6))
    s["v6_icmp6_too_big"] = ip6(58, icmp(2, 0, struct.pack("!I", 1280), q6))
    # hop-by-hop (PadN) -> destination options -> UDP
    hbh = bytes([60, 0, 1, 4, 0, 0, 0, 0])
    dst = bytes([17, 0, 1, 4, 0, 0, 0, 0])
    s["v6_ext_chain"] = ip6(0, hbh + dst + udp())
    # routing header type 0 with no addresses, then TCP
    rh = bytes([6, 0, 0, 0, 0, 0, 0, 0])
    s["v6_routing"] = ip6(43, rh + tcp())
    # fragment headers: first (offset 0, M=1) and later (offset 8)
    s["v6_frag_first"] = ip6(44, struct.pack("!BBHI", 17, 0, 0x0001, 99) +
                             udp(data=b"z" * 16))
    s["v6_frag_later"] = ip6(44, struct.pack("!BBHI", 17, 0, 0x0040, 99) +
                             b"w" * 16)
    s["v6_no_next"] = ip6(59, b"")
    return s


def opt(cls, typ, data):
    assert len(data) % 4 == 0 and len(data) <= 124
    return struct.pack("!HBB", cls, typ, len(data) // 4) + data


def aws_opts(order="eac"):
    o = {
        "e": opt(0x0108, 1, struct.pack("!Q", ENI)),
        "a": opt(0x0108, 2, struct.pack("!Q", ATT)),
        "c": opt(0x0108, 3, struct.pack("!I", COOKIE)),
    }
    return [o[ch] for ch in order]


def geneve(proto, inner, opts=None, flags=0, vni=0, ver=0):
    o = b"".join(opts if opts is not None else aws_opts())
    assert len(o) % 4 == 0 and len(o) <= 252
    return struct.pack("!BBHI", ver << 6 | len(o) // 4, flags, proto,
                       vni << 8) + o + inner


def geneve_seeds(pkts):
    s = {}
    for name, p in sorted(pkts.items()):
        proto = 0x0800 if p[0] >> 4 == 4 else 0x86DD
        s["gwlb_" + name] = geneve(proto, p)
    v4 = pkts["v4_udp"]
    v6 = pkts["v6_udp"]
    s["gwlb_v4_trailing"] = geneve(0x0800, v4 + b"\xaa" * 6)
    s["gwlb_v4_cookie_first"] = geneve(0x0800, v4, [
        aws_opts("c")[0], opt(0x0001, 0x05, b"\x11" * 12), aws_opts("a")[0],
        opt(0x0108, 0x04, b""), aws_opts("e")[0]])
    s["gwlb_v4_vni"] = geneve(0x0800, v4, vni=0xabcdef, flags=0x40)
    big = opt(0x7777, 0x42, b"\x5a" * 124)
    fill = opt(0xfffe, 0x7f, b"\xa5" * 88)
    s["gwlb_v6_max_options"] = geneve(0x86DD, v6, [big] + aws_opts() + [fill])
    # Rejected ones give the fuzzer every branch to start from.
    s["bad_control"] = geneve(0x0800, v4, flags=0x80)
    s["bad_version"] = geneve(0x0800, v4, ver=1)
    s["bad_critical"] = geneve(0x0800, v4, aws_opts() + [opt(0x1234, 0x80, b"")])
    s["bad_dup_cookie"] = geneve(0x0800, v4, aws_opts("eacc"))
    s["bad_no_eni"] = geneve(0x0800, v4, aws_opts("ac"))
    s["bad_proto"] = geneve(0x6558, v4)
    s["bad_inner_len"] = geneve(0x0800, v4[:-1])
    s["bad_short"] = geneve(0x0800, b"")[:7]
    # The last option claims 8 bytes where the datagram has 4 left.
    s["bad_tlv_at_end"] = geneve(0x0800, b"", aws_opts("ac") +
                                 [b"\x01\x08\x01\x02" + b"\x76\xbc\x49\x3b"])
    return s


def vnet(flags, gso_type, hdr_len, gso_size, csum_start, csum_offset):
    return struct.pack("<BBHHHH", flags, gso_type, hdr_len, gso_size,
                       csum_start, csum_offset)


def tcp_opts(seq, flags, opts=b""):
    doff = 5 + len(opts) // 4
    return struct.pack("!HHIIBBHHH", 5201, 40000, seq, 7, doff << 4, flags,
                       501, 0, 0) + opts


def gso_seeds():
    """Super-packets of a few segments (gso_size 100), plain packets with a
    checksum to finish, and a few headers that must be refused."""
    s = {}
    data = bytes((i * 7) & 0xff for i in range(350))
    NEEDS, TCPV4, TCPV6, UDP_L4, ECN = 1, 1, 4, 5, 0x80
    t4 = ip4(6, tcp_opts(0xfffffff0, 0x99) + data)       # FIN PSH ACK CWR
    s["tcp4_4seg"] = vnet(NEEDS, TCPV4, 60, 100, 20, 16) + t4
    s["tcp4_ecn"] = vnet(NEEDS, TCPV4 | ECN, 40, 100, 20, 16) + t4
    ts = b"\x01\x01\x08\x0a" + b"\x00\x00\x00\x01" + b"\x00\x00\x00\x02"
    t6 = ip6(6, tcp_opts(1, 0x18, ts) + data)
    s["tcp6_4seg_opts"] = vnet(NEEDS, TCPV6, 72, 100, 40, 16) + t6
    u4 = ip4(17, udp(40000, 4789, data))
    s["udp4_l4"] = vnet(NEEDS, UDP_L4, 28, 100, 20, 6) + u4
    u6 = ip6(17, udp(40000, 4789, data[:250]))
    s["udp6_l4"] = vnet(NEEDS, UDP_L4, 48, 120, 40, 6) + u6
    s["csum_tcp4"] = vnet(NEEDS, 0, 0, 0, 20, 16) + ip4(6, tcp_opts(5, 0x18) + data[:60])
    s["csum_udp6"] = vnet(NEEDS, 0, 0, 0, 40, 6) + ip6(17, udp(data=data[:61]))
    s["csum_udp4_opts"] = vnet(NEEDS, 0, 0, 0, 24, 6) + ip4(
        17, udp(data=data[:20]), opts=b"\x01\x01\x01\x00")
    s["plain"] = vnet(0, 0, 0, 0, 0, 0) + ip4(17, udp())
    s["bad_gso_size0"] = vnet(NEEDS, TCPV4, 40, 0, 20, 16) + t4
    s["bad_csum_offset"] = vnet(NEEDS, TCPV4, 40, 100, 20, 6) + t4
    s["bad_hdr_len"] = vnet(NEEDS, TCPV4, 4000, 100, 20, 16) + t4
    s["bad_type"] = vnet(NEEDS, 3, 28, 100, 20, 6) + u4
    return s


def write(outdir, sub, seeds):
    d = os.path.join(outdir, sub)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(f"{d}: {len(seeds)} files")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    pkts = pkt_seeds()
    write(outdir, "pkt", pkts)
    write(outdir, "geneve", geneve_seeds(pkts))
    write(outdir, "gso", gso_seeds())


if __name__ == "__main__":
    main()
