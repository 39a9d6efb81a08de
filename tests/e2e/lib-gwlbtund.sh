# tests/e2e/lib-gwlbtund.sh: what the scenarios that run gwlbtund share
# (2x receive path, 3x control, 4x return path, 5x netlink), on top of
# lib.sh, which it sources.  Not executable on purpose: tests/run runs only
# executable tests/e2e/[0-9]* files.  Source it first thing:
#
#	. "$(dirname "$0")/lib-gwlbtund.sh"
#
# It gives: gw_daemon (gwlbtund with its own control socket, a JSON health
# page, two workers of each kind unless told otherwise) and CTL (gwlbctl
# on that socket); health and /metrics snapshots read inside the appliance
# namespace (gw_health, gw_metrics) and their fields (gw_drop, gw_eni,
# gw_metric, gw_rx_drops); gwlbctl -j documents (gw_ctl_json, gw_status,
# gw_eni_json, gw_eni_table); the kernel's own RX counter of a link
# (gw_rx); the appliance namespace (appl); a test hook that records its
# argv and GWLB_* environment (gw_hook); the return-path helpers (warm_enis,
# onearm_enis, appliance_answers, answerer, total_out); and gwpkt.py: a
# small packet builder/sender/pcap reader in Python written from RFC 8926
# and the GWLB facts in REFERENCE.md, independent of lib/geneve.c and of
# gwlbsim, so the daemon is not only tested against our own codec.
#
# Every accessor fails loudly (lib.sh's fail) on a missing field, ENI,
# link or sample and on a failed command: none prints 0 for "not there".
# The list of drop reasons and their sides comes from the daemon
# (gwlbctl -j show drops), never from a copy here.

# shellcheck source=tests/e2e/lib.sh
[ -n "${E2E_MAIN_PID:-}" ] || . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# GWLB_E2E_CAPS=USER (tests/run's e2e-asan-caps pass): gwlbtund runs as USER
# with only CAP_NET_ADMIN and CAP_NET_RAW (tests/e2e/gwlbtund-caps), the
# scenario itself as root; its temporary directory belongs to USER, so the
# daemon can make its control socket there and hooks (which run as USER)
# can write their records.  gw_caps_skip REASON skips what needs more.
if [ -n "${GWLB_E2E_CAPS:-}" ]; then
	id -u "$GWLB_E2E_CAPS" >/dev/null 2>&1 || fail "GWLB_E2E_CAPS: no user '$GWLB_E2E_CAPS'"
	command -v setpriv >/dev/null || fail "GWLB_E2E_CAPS needs setpriv (util-linux)"
	export GWLB_E2E_CAPS GWLB_E2E_DAEMON=$DAEMON
	DAEMON=$E2E_TOP/tests/e2e/gwlbtund-caps
	[ -x "$GWLB_E2E_DAEMON" ] || fail "no $GWLB_E2E_DAEMON (build first, or set GWLB_BUILD)"
	e2e_tmp() {
		[ -z "$E2E_TMP" ] || return 0
		E2E_TMP=$(mktemp -d "/tmp/gwlb-e2e-${SCENARIO}.XXXXXX")
		chown "$GWLB_E2E_CAPS:" "$E2E_TMP"
	}
fi
# gw_dir DIR...: mkdir -p, and (GWLB_E2E_CAPS) give them to the daemon's
# user: directories hooks write to.
gw_dir() {
	mkdir -p "$@"
	[ -z "${GWLB_E2E_CAPS:-}" ] || chown "$GWLB_E2E_CAPS:" "$@"
}
gw_caps_skip() { [ -z "${GWLB_E2E_CAPS:-}" ] || skip "not as $GWLB_E2E_CAPS with CAP_NET_ADMIN and CAP_NET_RAW only: $*"; }

GW_HPORT=${GW_HPORT:-8182}
ENI0=076bc493b822cd32f		# gwlbsim's default first ENI

# appl CMD...: run CMD in the appliance namespace (not printed).
appl() { ip netns exec "$LAB_NS_APPLIANCE" "$@"; }

# gw_daemon ARGS...: start_daemon with what every scenario of the daemon
# wants; later arguments win (e.g. --udpthreads 1).  CTL (gwlbctl on its
# control socket) is set unless the scenario set it first.
gw_daemon() {
	local a
	GW_NO_RETURN=0
	for a in "$@"; do [ "$a" != --no-return ] || GW_NO_RETURN=1; done
	[ ${#CTL[@]} -gt 0 ] || CTL=("$GWLB_BUILD/cli/gwlbctl" -s "$E2E_TMP/ctl.sock")
	rm -f "$E2E_TMP/drop-sides.json"
	start_daemon --control-socket "$E2E_TMP/ctl.sock" -p "$GW_HPORT" -j \
		--udpthreads 2 --tunthreads 2 "$@"
	wait_tcp appliance "$GW_HPORT"
}
CTL=()

# gw_eval 'SHELL CODE': for wait_for, whose arguments are expanded once:
#	wait_for 5 "10 packets" gw_eval 'test "$(gw_rx gwi-X)" -ge 10'
gw_eval() { eval "$1"; }

daemon_alive() { [ -n "${BG_PID[gwlbtund]:-}" ] && kill -0 "${BG_PID[gwlbtund]}" 2>/dev/null; }

# gw_health NAME: the health JSON saved as $E2E_TMP/NAME.json (path printed).
gw_health() {
	local f=$E2E_TMP/$1.json
	appl curl -sf --max-time 5 "http://127.0.0.1:$GW_HPORT/" >"$f" ||
		fail "health page did not answer (curl exit $?)"
	echo "$f"
}

# gw_metrics NAME: /metrics, saved as $E2E_TMP/NAME.prom (path printed).
gw_metrics() {
	local f=$E2E_TMP/$1.prom
	appl curl -sf --max-time 5 "http://127.0.0.1:$GW_HPORT/metrics" >"$f" ||
		fail "/metrics did not answer (curl exit $?)"
	echo "$f"
}

# gw_metric FILE NAME [LABEL-SUBSTRING]: the value of a Prometheus sample
# (the first whose labels contain the substring); no such sample fails.
gw_metric() {
	local v
	v=$(awk -v n="$2" -v l="${3:-}" '
		$1 ~ "^" n "([{]|$)" && index($1, l) { print $2; exit }' "$1") ||
		fail "gw_metric: cannot read $1"
	[ -n "$v" ] || fail "gw_metric: no sample $2${3:+ with labels containing '$3'} in $1"
	echo "$v"
}

# gw_drop FILE REASON: one drop counter of a health snapshot.
gw_drop() { jget "$1" "drops.$2"; }

# gw_ctl_json NAME ARGS...: gwlbctl -j ARGS, which must exit 0 and print
# one JSON document; saved as $E2E_TMP/NAME.json (path printed).
gw_ctl_json() {
	local name=$1 rc=0 f; shift
	f=$E2E_TMP/$name.json
	printf '+ gwlbctl -j %s\n' "$*" >&2
	"${CTL[@]}" -j "$@" >"$f" 2>"$E2E_TMP/$name.err" || rc=$?
	[ $rc = 0 ] || { cat "$E2E_TMP/$name.err" >&2; fail "gwlbctl -j $*: exit $rc"; }
	"$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$f" ||
		fail "gwlbctl -j $*: not one JSON document: $(head -c 300 "$f")"
	echo "$f"
}

# gw_status FIELD: a field of gwlbctl show status.
gw_status() { jget "$(gw_ctl_json status show status)" "status.$1"; }

# gw_eni_json ENIHEX: gwlbctl -j show eni ENIHEX, saved (path printed).
gw_eni_json() { gw_ctl_json "eni-$1" show eni "$1"; }

# gw_eni_table ENI: the routing table `table eni` gave it.  An ENI gets its
# table when it comes up (0 while pending, which iproute2 would read as
# "every table"): waits up to 5 s for it, fails if it never comes.
gw_eni_table() {
	local t deadline=$((SECONDS + 5))
	while :; do
		t=$(jget "$(gw_eni_json "$1")" eni.table)
		[ "$t" != 0 ] && { echo "$t"; return; }
		[ $SECONDS -lt $deadline ] || fail "ENI $1 has no routing table after 5 s"
		sleep 0.05
	done
}

# gw_drop_sides: the daemon's own drop reasons and their sides, as a JSON
# object reason -> "receive"|"reply" in a file (path printed), read once
# per daemon run from gwlbctl -j show drops.
gw_drop_sides() {
	local f=$E2E_TMP/drop-sides.json
	if [ ! -s "$f" ]; then
		"$PY" - "$(gw_ctl_json drops-sides show drops)" >"$f.tmp" <<-'EOF' ||
		import json, sys
		recs = json.load(open(sys.argv[1]))["drop"]
		sides = {}
		for r in recs:
		    if r["side"] not in ("receive", "reply"):
		        sys.exit("show drops: side %r of %s" % (r["side"], r["reason"]))
		    sides[r["reason"]] = r["side"]
		if not sides:
		    sys.exit("show drops: no reason")
		json.dump(sides, sys.stdout)
		EOF
			fail "gw_drop_sides: gwlbctl -j show drops is not what it should be"
		mv "$f.tmp" "$f"
	fi
	echo "$f"
}

# gw_rx_drops FILE: drops on the receive side only in a health snapshot
# (the reply side also counts what the kernel itself sends on the links,
# e.g. IPv6 router solicitations), kernel receive queue aside.  The health
# page must list exactly the reasons gwlbctl show drops lists.
gw_rx_drops() {
	local v
	v=$("$PY" - "$1" "$(gw_drop_sides)" <<-'EOF'
	import json, sys
	d = json.load(open(sys.argv[1]))["drops"]
	sides = json.load(open(sys.argv[2]))
	if set(d) != set(sides):
	    print("health page and show drops differ: %s" % sorted(set(d) ^ set(sides)))
	    sys.exit(1)
	print(sum(v for k, v in d.items() if sides[k] == "receive" and k != "kernel-receive-queue"))
	EOF
	) || fail "gw_rx_drops $1: $v"
	echo "$v"
}

# gw_show_drops FILE: the non-zero drop counters, one line.
gw_show_drops() {
	"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))["drops"]
print(" ".join("%s=%d" % kv for kv in d.items() if kv[1]) or "none")' "$1"
}

# gw_eni FILE ENIHEX FIELD: a field of one ENI in a health snapshot; an
# ENI that is not listed, or a field it lacks, fails.
gw_eni() {
	local v
	v=$("$PY" - "$1" "$2" "$3" <<-'EOF'
	import json, sys
	v = json.load(open(sys.argv[1]))
	want = sys.argv[2].rjust(17, "0")
	m = [e for e in v["enis"] if e["eni"] == want]
	if len(m) != 1:
	    print("%d ENIs %s listed in %s" % (len(m), want, sys.argv[1]))
	    sys.exit(1)
	if sys.argv[3] not in m[0]:
	    print("ENI %s has no field '%s' in %s; it has %s" % (want, sys.argv[3], sys.argv[1], sorted(m[0])))
	    sys.exit(1)
	print(m[0][sys.argv[3]])
	EOF
	) || fail "gw_eni $*: $v"
	echo "$v"
}

# total_out FILE: packets sent back to GWLB, all ENIs, in a health snapshot.
total_out() {
	local v
	v=$("$PY" -c 'import json, sys
print(sum(e["packets_out"] for e in json.load(open(sys.argv[1]))["enis"]))' "$1") ||
		fail "total_out $1: not a health snapshot with packets_out per ENI"
	echo "$v"
}

_total_out_ge() { [ "$(total_out "$(gw_health poll)")" -ge "$1" ]; }

# wait_total_out N [SECS]: poll the health page until N packets went back.
wait_total_out() { wait_for "${2:-10}" "$1 packets returned to GWLB" _total_out_ge "$1"; }

# gw_rx IFACE: packets the kernel counted in on an appliance link (what
# the daemon wrote to the TUN); a link that does not exist fails.
gw_rx() {
	local v
	v=$(appl cat "/sys/class/net/$1/statistics/rx_packets") ||
		fail "gw_rx: no link $1 in $LAB_NS_APPLIANCE"
	echo "$v"
}

# gw_links: the gwi-/gwo- links in the appliance namespace, one a line.
gw_links() {
	local out
	out=$(ip -n "$LAB_NS_APPLIANCE" -o link show) || fail "ip link show in $LAB_NS_APPLIANCE failed"
	{ grep -Eo 'gw[io]-[0-9a-zA-X]+' <<<"$out" || [ $? = 1 ]; } | sort
}
# kernel_link_drops: packets the kernel dropped on the lab's links and
# counted there: rx_dropped + tx_dropped of every link in the appliance
# namespace (gwi-/gwo- queues full, the veth) plus the GWLB side veth's
# rx_dropped and tx_dropped.  What a loaded machine loses outside
# gwlbtund's own counters.
kernel_link_drops() {
	{ ip -n "$LAB_NS_APPLIANCE" -j -s link show; ip -n "$LAB_NS_GWLB" -j -s link show dev "$LAB_IF_GWLB"; } |
		python3 -c '
import json, sys
dec = json.JSONDecoder(); text = sys.stdin.read().strip(); n = 0; i = 0
while i < len(text):
    links, i = dec.raw_decode(text, i)
    while i < len(text) and text[i].isspace(): i += 1
    for l in links:
        s = l["stats64"]
        if l["ifname"] != "lo":
            n += s["tx"]["dropped"] + s["rx"]["dropped"]
print(n)' || fail "kernel_link_drops: ip -s link failed"
}
# gw_rules: the policy rules of both families in the appliance namespace.
gw_rules() { appl ip -4 rule show && appl ip -6 rule show; }

# gw_installed N: gwlbctl show routes lists N routes and rules, all of
# them installed (for wait_for); the document in $E2E_TMP/routes.json.
gw_installed() {
	"${CTL[@]}" -j show routes >"$E2E_TMP/routes.json" || return 1
	"$PY" -c 'import json, sys
v = json.load(open(sys.argv[1])); r = v.get("route", []) + v.get("rule", [])
sys.exit(0 if len(r) == int(sys.argv[2]) and all(x["state"] == "installed" for x in r) else 1)' \
		"$E2E_TMP/routes.json" "$1"
}

# gw_ours [--no-prio]: our routes and rules (protocol 247), both families,
# sorted; --no-prio leaves rule priorities out (the kernel numbers rules
# added without one downwards from 32765, so a restart renumbers them).
gw_ours() {
	local cut=(cat)
	[ "${1:-}" != --no-prio ] || cut=(cut -f2-)
	{
		appl ip -4 route show table all proto 247 && appl ip -6 route show table all proto 247 ||
			fail "ip route show in $LAB_NS_APPLIANCE failed"
		lines_of 'proto 247' gw_rules | "${cut[@]}"
	} | sort
}

# gw_nlinks PREFIX: how many of them start with PREFIX.
gw_nlinks() { count_of "^$1" gw_links; }

# gw_link_qdisc_bytes IFACE: what the kernel holds for the link's qdiscs,
# estimated: a multi-queue TUN has 256 TX queues, and the default mq root
# gives each a pfifo_fast whose 3 bands are rings of txqueuelen pointers,
# so a large txqueuelen costs 256 * 3 * 8 bytes per unit (48 MiB at 8192).
gw_link_qdisc_bytes() {
	local v
	v=$(ip netns exec "$LAB_NS_APPLIANCE" "$PY" - "$1" <<-'EOF'
	import json, subprocess, sys
	dev = sys.argv[1]
	l = json.loads(subprocess.check_output(["ip", "-d", "-j", "link", "show", "dev", dev]))[0]
	q = json.loads(subprocess.check_output(["tc", "-j", "qdisc", "show", "dev", dev]))
	kinds = {x.get("kind") for x in q}
	ntx, qlen = l.get("num_tx_queues", 1), l.get("txqlen", 0)
	if "pfifo_fast" in kinds:
	    print(ntx * 3 * qlen * 8)
	elif "pfifo" in kinds or "fq_codel" in kinds:
	    print(ntx * qlen * 8)
	elif kinds <= {"mq", "noqueue"}:
	    print(0)
	else:
	    print("qdiscs %s on %s: their cost is not known here" % (sorted(kinds), dev))
	    sys.exit(1)
	EOF
	) || fail "gw_link_qdisc_bytes $1: $v"
	echo "$v"
}

# gw_hook [NAME]: write an executable hook to $E2E_TMP/NAME (default hook)
# that records each call as one file in $E2E_TMP/NAME.d: its argv one
# argument a line, whether gwi-X and gwo-X exist (link_in/link_out=yes|no),
# then its GWLB_* environment.  GW_HOOK_EXTRA is shell
# code run after recording (e.g. to sleep or fail for one ENI: $4).
gw_hook() {
	local name=${1:-hook}
	local path=$E2E_TMP/$name dir=$E2E_TMP/$name.d
	gw_dir "$dir"
	cat >"$path" <<-EOF
	#!/bin/sh
	f=$dir/\$1.\$4.\$\$
	{ printf 'arg0=%s\n' "\$0"; i=1; for a in "\$@"; do printf 'arg%d=%s\n' \$i "\$a"; i=\$((i+1)); done
	  printf 'argc=%d\n' \$#
	  if [ -e "/sys/class/net/\$2" ]; then echo link_in=yes; else echo link_in=no; fi
	  if [ -e "/sys/class/net/\$3" ]; then echo link_out=yes; else echo link_out=no; fi
	  env | grep '^GWLB_' | sort; } >"\$f.tmp"
	mv "\$f.tmp" "\$f"
	${GW_HOOK_EXTRA:-}
	exit 0
	EOF
	chmod +x "$path"
	echo "$path"
}

# gw_hook_calls NAME ACTION: how many times the hook ran for ACTION.
gw_hook_calls() {
	[ -d "$E2E_TMP/$1.d" ] || fail "gw_hook_calls: no hook $1 (gw_hook makes it)"
	count_of . find "$E2E_TMP/$1.d" -name "$2.*" ! -name '*.tmp'
}

# gw_need_capture: capture_start uses tcpdump, or dumpcap (tshark's).
gw_need_capture() {
	command -v tcpdump >/dev/null 2>&1 || command -v dumpcap >/dev/null 2>&1 ||
		skip "needs tcpdump or dumpcap to capture"
}

# gw_pcap_count NAME: packets in capture NAME's file so far (0 while
# the capture has not written its file header yet).
gw_pcap_count() {
	local f v
	f=$(capture_file "$1")
	[ -s "$f" ] || { echo 0; return 0; }
	v=$(PYTHONPATH="$E2E_TMP" "$PY" -c 'import sys, gwpkt
print(len(gwpkt.read_pcap(sys.argv[1])))' "$f") || fail "gw_pcap_count: cannot read $f"
	echo "$v"
}

# gw_capture_wait NAME N [SECS]: wait until capture NAME holds N packets,
# then stop it.  tcpdump hands packets over from the kernel's ring only
# block by block, so stopping it at once after the traffic loses some.
gw_capture_wait() {
	local name=$1 want=$2 deadline=$((SECONDS + ${3:-10}))
	while [ "$(gw_pcap_count "$name")" -lt "$want" ]; do
		if [ $SECONDS -ge $deadline ]; then
			say "capture $name: $(gw_pcap_count "$name") packets, not $want"
			break
		fi
		sleep 0.1
	done
	capture_stop "$name"
}

# gw_py ROLE SCRIPT ARGS...: run a Python script (gwpkt importable) in ROLE.
gw_py() {
	local role=$1; shift
	in_ns "$role" env PYTHONPATH="$E2E_TMP" "$PY" "$@"
}

# gw_py_bg NAME ROLE SCRIPT ARGS...: the same in the background (bg).
gw_py_bg() {
	local name=$1 role=$2; shift 2
	bg "$name" "$role" env PYTHONPATH="$E2E_TMP" "$PY" "$@"
}

# Known names (REFERENCE.md: upstream's base 60), checked independently of
# eni_ifname: ENI -> gwi- suffix.
declare -A GW_KNOWN_NAMES=(
	[076bc493b822cd32f]=e8WXgsTQDkf
	[0ffffffffffffffff]=uur953OEv0f
)

gw_write_gwpkt() {
	e2e_tmp
	cat >"$E2E_TMP/gwpkt.py" <<-'EOF'
	"""GWLB GENEVE packets for the e2e scenarios, built from RFC 8926 and
	the facts in shared/REFERENCE.md (not from lib/geneve.c)."""
	import json, os, socket, struct, time

	AWS_CLASS = 0x0108
	ETH_IP4, ETH_IP6 = 0x0800, 0x86DD
	MAGIC = b"GWe2"

	def csum(b):
	    if len(b) % 2:
	        b += b"\0"
	    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
	    while s >> 16:
	        s = (s & 0xffff) + (s >> 16)
	    return ~s & 0xffff

	def udp(src, dst, sport, dport, payload, fam):
	    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
	    if fam == 4:
	        ph = socket.inet_pton(socket.AF_INET, src) + socket.inet_pton(socket.AF_INET, dst) + \
	            struct.pack("!BBH", 0, 17, len(u))
	    else:
	        ph = socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + \
	            struct.pack("!IxxxB", len(u), 17)
	    c = csum(ph + u) or 0xffff
	    return u[:6] + struct.pack("!H", c) + u[8:]

	def ipv4_udp(src, dst, sport, dport, payload, ttl=64, ident=0):
	    u = udp(src, dst, sport, dport, payload, 4)
	    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(u), ident & 0xffff, 0x4000, ttl, 17, 0,
	                    socket.inet_aton(src), socket.inet_aton(dst))
	    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
	    return h + u

	def ipv6_udp(src, dst, sport, dport, payload, hlim=64, flow=0):
	    u = udp(src, dst, sport, dport, payload, 6)
	    h = struct.pack("!IHBB16s16s", 6 << 28 | (flow & 0xfffff), len(u), 17, hlim,
	                    socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst))
	    return h + u

	def tag(eni, seq):
	    return MAGIC + struct.pack("!QI", eni, seq)

	def untag(inner):
	    """(eni, seq) of an inner packet made by tagged(), or None."""
	    v = inner[0] >> 4 if inner else 0
	    off = 28 if v == 4 else 48 if v == 6 else None
	    if off is None or inner[off:off + 4] != MAGIC:
	        return None
	    return struct.unpack("!QI", inner[off + 4:off + 16])

	def tagged(eni, seq, fam=4, size=64, flow=0):
	    """An inner UDP packet of SIZE bytes carrying (eni, seq)."""
	    hdr = 28 if fam == 4 else 48
	    p = tag(eni, seq)
	    p += bytes((seq + i) & 0xff for i in range(max(0, size - hdr - len(p))))
	    sport = 40000 + flow
	    if fam == 4:
	        return ipv4_udp("192.0.2.%d" % (1 + flow % 250), "198.51.100.1", sport, 5001, p,
	                        ident=seq)
	    return ipv6_udp("2001:db8:1::%x" % (1 + flow), "2001:db8:2::1", sport, 5001, p, flow=seq)

	def opt(cls, typ, data, dlen=None):
	    """One option TLV; dlen overrides the length field (4-byte words)."""
	    n = len(data) // 4 if dlen is None else dlen
	    return struct.pack("!HBB", cls, typ, n & 0x1f) + data

	def aws_opts(eni, att, cookie):
	    return (opt(AWS_CLASS, 1, struct.pack("!Q", eni)) +
	            opt(AWS_CLASS, 2, struct.pack("!Q", att)) +
	            opt(AWS_CLASS, 3, struct.pack("!I", cookie)))

	def geneve(opts, inner, proto=None, ver=0, oam=False, crit=False, vni=0, optlen=None):
	    if proto is None:
	        proto = ETH_IP6 if inner and inner[0] >> 4 == 6 else ETH_IP4
	    ol = len(opts) // 4 if optlen is None else optlen
	    return struct.pack("!BBHI", (ver & 3) << 6 | (ol & 0x3f),
	                       (0x80 if oam else 0) | (0x40 if crit else 0), proto,
	                       (vni & 0xffffff) << 8) + opts + inner

	def gwlb(eni, att, cookie, inner):
	    """What GWLB sends: version 0, 8 words of options, the three AWS options."""
	    return geneve(aws_opts(eni, att, cookie), inner)

	def sock(src=None):
	    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
	    if src:
	        s.bind((src, 0))
	    return s

	def send_all(s, dgrams, dst=("198.18.0.2", 6081), pps=0):
	    """Send DGRAMS (bytes) in order, at PPS (0: as fast as we can)."""
	    t0 = time.monotonic()
	    for i, d in enumerate(dgrams):
	        if pps:
	            due = t0 + i / pps
	            while time.monotonic() < due:
	                time.sleep(min(0.002, max(0, due - time.monotonic())))
	        while True:
	            try:
	                s.sendto(d, dst)
	                break
	            except (BlockingIOError, OSError) as e:
	                if getattr(e, "errno", 0) not in (11, 105):
	                    raise
	                time.sleep(0.0005)
	    return time.monotonic() - t0

	def hook_calls(d):
	    """The records gw_hook wrote in directory D: a list of dicts."""
	    out = []
	    for n in sorted(os.listdir(d)):
	        if n.endswith(".tmp"):
	            continue
	        r = {"file": n}
	        for line in open(os.path.join(d, n)):
	            k, _, v = line.rstrip("\n").partition("=")
	            r[k] = v
	        out.append(r)
	    return out

	B60 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"

	def ifname(eni, pfx="gwi-"):
	    s = ""
	    while True:
	        s = B60[eni % 60] + s
	        eni //= 60
	        if not eni:
	            return pfx + s

	def tcp_l4(p):
	    """Offset of the TCP header of an IPv4 or IPv6 packet (IPv6: after
	    at most one hop-by-hop header), or None."""
	    if p[0] >> 4 == 4:
	        return (p[0] & 15) * 4 if p[9] == 6 else None
	    if p[6] == 6:
	        return 40
	    if p[6] == 0 and len(p) > 41 and p[40] == 6:
	        return 40 + (p[41] + 1) * 8
	    return None

	def ip4_fix(h):
	    """An IPv4 header with its checksum recomputed."""
	    h = bytearray(h)
	    h[10:12] = b"\0\0"
	    h[10:12] = struct.pack("!H", csum(bytes(h)))
	    return bytes(h)

	def tso_cut(p, mss):
	    """A TCP super-packet cut as the kernel's TSO and RFC 793/791 do: the
	    head's headers on every segment, seq advanced, IPv4 id + k, PSH only
	    on the last, checksums computed.  A packet of one segment is returned
	    as it is (its checksum unchecked)."""
	    l3 = tcp_l4(p)
	    hl = l3 + (p[l3 + 12] >> 4) * 4
	    pay = p[hl:]
	    if len(pay) <= mss:
	        return [p]
	    v4 = p[0] >> 4 == 4
	    seq = struct.unpack("!I", p[l3 + 4:l3 + 8])[0]
	    ident, psh, out = p[4] << 8 | p[5], p[l3 + 13] & 8, []
	    for k, off in enumerate(range(0, len(pay), mss)):
	        chunk = pay[off:off + mss]
	        h = bytearray(p[:hl])
	        if v4:
	            h[2:4] = struct.pack("!H", hl + len(chunk))
	            h[4:6] = struct.pack("!H", (ident + k) & 0xffff)
	        else:
	            h[4:6] = struct.pack("!H", hl - 40 + len(chunk))
	        h[l3 + 4:l3 + 8] = struct.pack("!I", (seq + off) & 0xffffffff)
	        h[l3 + 13] = h[l3 + 13] & ~8 | (psh if off + mss >= len(pay) else 0)
	        h[l3 + 16:l3 + 18] = b"\0\0"
	        t = bytes(h[l3:]) + chunk
	        if v4:
	            ph = bytes(h[12:20]) + struct.pack("!BBH", 0, 6, len(t))
	        else:
	            ph = bytes(h[8:40]) + struct.pack("!IxxxB", len(t), 6)
	        h[l3 + 16:l3 + 18] = struct.pack("!H", csum(ph + t))
	        q = bytes(h) + chunk
	        out.append(ip4_fix(q[:20]) + q[20:] if v4 else q)
	    return out

	def read_pcap(path):
	    """Network-layer packets of a pcap file (RAW, SLL, SLL2 or Ethernet)."""
	    out = []
	    with open(path, "rb") as f:
	        gh = f.read(24)
	        if len(gh) < 24:
	            return out
	        magic = struct.unpack("<I", gh[:4])[0]
	        e = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
	        lt = struct.unpack(e + "I", gh[20:24])[0] & 0xffff
	        skip = {101: 0, 12: 0, 228: 0, 229: 0, 113: 16, 276: 20, 1: 14}[lt]
	        while True:
	            rh = f.read(16)
	            if len(rh) < 16:
	                break
	            ts, tus, incl, orig = struct.unpack(e + "IIII", rh)
	            data = f.read(incl)
	            if len(data) < incl:
	                break
	            out.append((ts + tus / 1e6, data[skip:]))
	    return out
	def stream(enis, pps, count, out=None, src=None, fam="4,6", size=64, start=0):
	    """Round-robin tagged packets to ENIS ((eni, attachment) pairs):
	    COUNT per ENI at PPS per ENI; what was sent goes to OUT (JSON: ENI
	    hex -> list of inner packets in hex).  Sequence numbers start at START."""
	    s = sock(src)
	    fams = [int(f) for f in str(fam).split(",")]
	    sent = {"%017x" % e: [] for e, _ in enis}
	    dgrams = []
	    for seq in range(start, start + count):
	        for k, (e, att) in enumerate(enis):
	            inner = tagged(e, seq, fams[(seq + k) % len(fams)], size, flow=k)
	            dgrams.append(gwlb(e, att, 0x10000 * k + seq, inner))
	            sent["%017x" % e].append(inner.hex())
	    send_all(s, dgrams, pps=pps * len(enis))
	    if out:
	        json.dump(sent, open(out, "w"))
	    return sent

	def check_capture(pcap, sent_json, eni):
	    """Compare what a gwi capture holds with what stream() sent to ENI:
	    (ok, message)."""
	    want = json.load(open(sent_json))["%017x" % eni]
	    got = [p.hex() for _, p in read_pcap(pcap) if untag(p) and untag(p)[0] == eni]
	    other = [untag(p) for _, p in read_pcap(pcap) if untag(p) and untag(p)[0] != eni]
	    seqs = [untag(bytes.fromhex(x))[1] for x in got]
	    if other:
	        return False, "%d packets of other ENIs, e.g. %s" % (len(other), other[:3])
	    if got == want:
	        return True, "%d packets, byte for byte and in order" % len(got)
	    if sorted(got) == sorted(want):
	        return False, "all %d packets, but out of order: %s..." % (len(got), seqs[:20])
	    return False, "%d packets captured, %d sent; sequence %s..." % (len(got), len(want), seqs[:20])

	if __name__ == "__main__":
	    import argparse
	    ap = argparse.ArgumentParser(prog="gwpkt.py")
	    sub = ap.add_subparsers(dest="cmd", required=True)
	    st = sub.add_parser("stream", help="tagged packets round-robin to ENIs")
	    st.add_argument("--eni", action="append", required=True, help="HEX[:ATTACHMENT-HEX]")
	    st.add_argument("--pps", type=float, default=0, help="per ENI (0: as fast as we can)")
	    st.add_argument("--count", type=int, default=100, help="per ENI")
	    st.add_argument("--start", type=int, default=0)
	    st.add_argument("--family", default="4,6")
	    st.add_argument("--size", type=int, default=64)
	    st.add_argument("--src")
	    st.add_argument("--out")
	    a = ap.parse_args()
	    enis = []
	    for x in a.eni:
	        e, _, att = x.partition(":")
	        enis.append((int(e, 16), int(att or "a1b2c3d4e5f60718", 16)))
	    t0 = time.monotonic()
	    stream(enis, a.pps, a.count, a.out, a.src, a.family, a.size, a.start)
	    print("sent %d packets to %d ENIs in %.2f s" % (a.count * len(enis), len(enis),
	                                                  time.monotonic() - t0), flush=True)
	EOF
}
# eni_hex BASE I: the I-th ENI id counting up from BASE (as gwlbsim --enis).
eni_hex() { printf '%017x\n' $((0x$1 + $2)); }

# warm_enis N [SEND-ARGS...]: one small packet for each of the N ENIs from
# ENI0 up, then wait for their gwi-/gwo- links (gwi- only with --no-return).
warm_enis() {
	local n=$1 i; shift
	in_ns gwlb "$SIM" send --enis "$n" --flows "$n" --count "$n" "$@" >/dev/null
	for ((i = 0; i < n; i++)); do
		wait_link appliance "$(eni_ifname "$(eni_hex $ENI0 $i)" in)"
		[ "${GW_NO_RETURN:-0}" = 1 ] ||
			wait_link appliance "$(eni_ifname "$(eni_hex $ENI0 $i)" out)"
	done
}

# onearm_enis N: appliance_onearm for the N ENIs from ENI0 up, one routing
# table each.
onearm_enis() {
	local n=$1 i
	for ((i = 0; i < n; i++)); do
		appliance_onearm "$(eni_hex $ENI0 $i)" $((100 + i))
	done
}

# appliance_answers ENIHEX: the appliance becomes the inner destination
# gwlbsim uses by default (198.51.100.1, 2001:db8:2::1 on its loopback)
# and routes its answers to the client networks (192.0.2.0/24,
# 2001:db8:1::/64) out the ENI's gwi- link.
appliance_answers() {
	local gwi
	gwi=$(eni_ifname "$1" in)
	in_ns appliance ip addr add 198.51.100.1/32 dev lo
	in_ns appliance ip -6 addr add 2001:db8:2::1/128 dev lo nodad
	in_ns appliance ip route add 192.0.2.0/24 dev "$gwi"
	in_ns appliance ip -6 route add 2001:db8:1::/64 dev "$gwi"
}

# answerer NAME PORT TOTAL [SECS]: in the appliance, answer every UDP
# datagram to PORT (on 198.51.100.1 and 2001:db8:2::1) with one whose IP
# packet is TOTAL bytes long, payload bytes i % 251, the kernel free to
# fragment it (IP_PMTUDISC_DONT).  Its log ends with "answered N".
answerer() {
	local name=$1 port=$2 total=$3 secs=${4:-50}
	cat >"$E2E_TMP/answerer.py" <<-'PYEOF'
	import select, signal, socket, sys, time
	signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
	port, total, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
	IP_MTU_DISCOVER, IP_PMTUDISC_DONT = 10, 0
	IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DONT = 23, 0
	pattern = bytes(i % 251 for i in range(total))
	socks = {}
	for fam, addr, over in ((socket.AF_INET, "198.51.100.1", 28),
	                        (socket.AF_INET6, "2001:db8:2::1", 48)):
	    s = socket.socket(fam, socket.SOCK_DGRAM)
	    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
	    if fam == socket.AF_INET:
	        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
	    else:
	        s.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DONT)
	    s.bind((addr, port))
	    socks[s] = pattern[:total - over]
	print("ready", flush=True)
	n, end = 0, time.time() + secs
	try:
	    while time.time() < end:
	        for s in select.select(list(socks), [], [], 0.2)[0]:
	            data, peer = s.recvfrom(65535)
	            try:
	                s.sendto(socks[s], peer)
	                n += 1
	                print("answered", n, flush=True)
	            except OSError as e:
	                print("sendto", peer, e, flush=True)
	finally:
	    print("answered", n, flush=True)
	PYEOF
	cp "$E2E_TMP/answerer.py" "$E2E_TMP/$name.py"
	bg "$name" appliance "$PY" "$E2E_TMP/$name.py" "$port" "$total" "$secs"
	wait_log "$name" ready
}

# answered NAME: how many datagrams an answerer answered (it says so after
# each one, and once more when it stops: the last count, never missing
# because the exit was cut short).
answered() { sed -n 's/^answered //p' "$(bg_log "$1")" | tail -1; }

# capture_end NAME SECS: give a capture started with a packet count SECS
# to see them all, then stop it anyway; the assertions on what it holds
# say what was missing (better than "still running").
capture_end() {
	local pid=${BG_PID[$1]:-} deadline=$((SECONDS + $2))
	while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
		sleep 0.05
	done
	# (lib.sh's bg_stop ends a set -e script when the process is gone
	# already: its kill is the last command of an && list.)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		capture_stop "$1"
	else
		bg_reap "$1" 1
	fi
}

gw_write_gwpkt
