# tests/e2e/lib.sh: what every end-to-end scenario shares.  Source it
# first thing:
#
#	#!/usr/bin/env bash
#	. "$(dirname "$0")/lib.sh"
#	need_root; need_sim
#	lab_up onearm
#	bg reflect appliance "$SIM" reflect --duration 30
#	...
#
# It gives: skip (exit 77) and fail, a lab built by lab/gwlb-lab with a
# per-run suffix and removed by an EXIT trap whatever happens, commands
# printed as they run (pp, in_ns), background processes with logs that
# are always bounded in time (bg, bg_wait, bg_stop), polling for state
# instead of sleeping (wait_for, wait_log, wait_udp, wait_link), the
# daemon (start_daemon, stop_daemon: SIGTERM must end it with status 0
# and leave no gwi-/gwo- link), bounded captures (capture_start,
# capture_stop), JSON fields (jget, jget_or), counting lines
# (count_of) and assertions.
#
# Failing is loud: fail ends the scenario even from inside a command
# substitution (assert_eq "$(jget f key)" 0 cannot pass when the key is
# missing or jget's command failed): in a subshell it prints its message
# on the scenario's standard error and signals the scenario's shell
# (SIGUSR1), whose trap exits 1.  A value that may legitimately be
# absent is asked for explicitly (jget_or FILE KEY DEFAULT).
#
# Environment: GWLB_BUILD (build directory; tests/run sets it), and
# GWLB_E2E_KEEP=1 keeps the logs directory after a passing run.

set -euo pipefail

E2E_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GWLB_BUILD=${GWLB_BUILD:-$E2E_TOP/build/check}
SIM=$GWLB_BUILD/lab/gwlbsim
DAEMON=$GWLB_BUILD/daemon/gwlbtund
LAB=$E2E_TOP/lab/gwlb-lab
PY=/usr/bin/python3			# Debian's, where python3-scapy lives
SCENARIO=$(basename "$0")
E2E_TMP=""
E2E_RC_OVERRIDE=0
declare -A BG_PID=()
declare -A BG_NS=()
BG_ORDER=()
DAEMON_NAME=""
LAB_SUFFIX=""

say() { printf '%s: %s\n' "$SCENARIO" "$*"; }

# Print a command, then run it (WireGuard netns.sh style).
pp() { printf '+ %s\n' "$*" >&2; "$@"; }

skip() { echo "SKIP: $*"; exit 77; }

# The scenario's own shell and standard error, for fail in a subshell.
E2E_MAIN_PID=$$
exec {E2E_STDERR}>&2

fail() {
	echo "FAIL: $*" >&"$E2E_STDERR"
	[ "$BASHPID" = "$E2E_MAIN_PID" ] || kill -USR1 "$E2E_MAIN_PID" 2>/dev/null
	exit 1
}
# (When the signal comes while bash 5.2 parses the command substitutions
# of a command continued over lines, it says "trap: line 2: unexpected
# EOF" and the scenario ends with status 2 instead of 1: it still stops,
# and the EXIT trap still cleans up.)
e2e_subshell_failed() {
	echo "FAIL: the failure above happened in a subshell: the scenario stops" >&"$E2E_STDERR"
	exit 1
}
trap e2e_subshell_failed USR1

need_root() { [ "$(id -u)" = 0 ] || skip "needs root (network namespaces, TUN)"; }

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "needs $c (not installed)"
	done
}

# Our own programs are no external prerequisite: without them the build
# is broken, which is a failure, not a reason to skip.
need_sim() { [ -x "$SIM" ] || fail "no $SIM (build first, or set GWLB_BUILD)"; }
need_daemon() { [ -x "$DAEMON" ] || fail "no $DAEMON (build first, or set GWLB_BUILD)"; }

need_scapy() {
	[ -x "$PY" ] && "$PY" -c 'import scapy.contrib.geneve' 2>/dev/null ||
		skip "needs python3-scapy for $PY"
}

# --- the lab and cleanup ------------------------------------------------

e2e_tmp() {
	[ -n "$E2E_TMP" ] || E2E_TMP=$(mktemp -d "/tmp/gwlb-e2e-${SCENARIO}.XXXXXX")
}

# Role -> namespace of the lab that is up.
ns_of() {
	case "$1" in
	gwlb) echo "$LAB_NS_GWLB" ;;
	appliance|appl) echo "$LAB_NS_APPLIANCE" ;;
	client) echo "${LAB_NS_CLIENT:?no client in a $LAB_TOPOLOGY lab}" ;;
	server) echo "${LAB_NS_SERVER:?no server in a $LAB_TOPOLOGY lab}" ;;
	*) fail "unknown role '$1'" ;;
	esac
}

# in_ns ROLE CMD...: run (and print) a command in a role's namespace.
in_ns() {
	local ns
	ns=$(ns_of "$1"); shift
	pp ip netns exec "$ns" "$@"
}

# lab_up TOPOLOGY: build it (onearm, twoarm, multinode), source its state
# (LAB_* variables), and make sure it goes away on exit.
lab_up() {
	e2e_tmp
	LAB_SUFFIX=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	"$LAB" up "$1" -s "$LAB_SUFFIX" >"$E2E_TMP/lab-up.log" 2>&1 || {
		cat "$E2E_TMP/lab-up.log" >&2
		LAB_SUFFIX=""
		fail "gwlb-lab up $1 failed"
	}
	# shellcheck disable=SC1090
	. "/run/gwlb-lab/$LAB_SUFFIX.env"
	say "lab $LAB_TOPOLOGY up, suffix $LAB_SUFFIX, logs in $E2E_TMP"
}

e2e_cleanup() {
	local rc=$? name
	trap - EXIT INT TERM
	set +e
	[ $E2E_RC_OVERRIDE != 0 ] && [ $rc = 0 ] && rc=$E2E_RC_OVERRIDE
	if [ -n "$DAEMON_NAME" ] && [ -n "${BG_PID[$DAEMON_NAME]:-}" ]; then
		stop_daemon || { [ $rc = 0 ] && rc=1; }
	fi
	for ((i = ${#BG_ORDER[@]} - 1; i >= 0; i--)); do
		name=${BG_ORDER[$i]}
		[ -n "${BG_PID[$name]:-}" ] || continue
		kill -TERM "${BG_PID[$name]}" 2>/dev/null
	done
	for name in "${BG_ORDER[@]}"; do
		[ -n "${BG_PID[$name]:-}" ] || continue
		bg_reap "$name" 5
	done
	if [ -n "$LAB_SUFFIX" ]; then
		"$LAB" down -q -s "$LAB_SUFFIX" >/dev/null 2>&1 ||
			echo "$SCENARIO: gwlb-lab down $LAB_SUFFIX failed" >&2
	fi
	if [ $rc != 0 ] && [ $rc != 77 ] && [ -n "$E2E_TMP" ]; then
		for f in "$E2E_TMP"/*.log; do
			[ -s "$f" ] || continue
			echo "--- $(basename "$f") (last 25 lines)"
			tail -25 "$f"
		done
		echo "$SCENARIO: failed (exit $rc); logs kept in $E2E_TMP"
	elif [ -n "$E2E_TMP" ] && [ "${GWLB_E2E_KEEP:-0}" != 1 ]; then
		rm -rf "$E2E_TMP"
	fi
	[ $rc = 0 ] && echo "PASS: $SCENARIO"
	exit $rc
}

# --- polling ------------------------------------------------------------

# wait_for SECS WHAT CMD...: poll CMD every 20 ms until it succeeds.
wait_for() {
	local secs=$1 what=$2; shift 2
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || fail "timed out after ${secs}s waiting for $what"
		sleep 0.02
	done
}

udp_bound() { ip netns exec "$(ns_of "$1")" ss -Hlun "sport = :$2" | grep . >/dev/null; }
tcp_listening() { ip netns exec "$(ns_of "$1")" ss -Hltn "sport = :$2" | grep . >/dev/null; }
link_exists() { ip -n "$(ns_of "$1")" link show dev "$2" >/dev/null 2>&1; }
link_gone() { ! link_exists "$@"; }
link_carrier() { ip -n "$(ns_of "$1")" -o link show dev "$2" | grep LOWER_UP >/dev/null; }

wait_udp() { wait_for "${3:-10}" "UDP port $2 bound in $1" udp_bound "$1" "$2"; }
wait_tcp() { wait_for "${3:-10}" "TCP port $2 listening in $1" tcp_listening "$1" "$2"; }
wait_link() { wait_for "${3:-10}" "link $2 in $1" link_exists "$1" "$2"; }
wait_link_gone() { wait_for "${3:-10}" "link $2 in $1 to go" link_gone "$1" "$2"; }
wait_carrier() { wait_for "${3:-10}" "carrier on $2 in $1" link_carrier "$1" "$2"; }

# wait_log NAME REGEX [SECS]: a background process's log says REGEX.
wait_log() {
	local f=$E2E_TMP/$1.log
	wait_for "${3:-10}" "'$2' in $1's log" grep -Eq -- "$2" "$f"
}

# --- background processes -------------------------------------------------

# bg NAME ROLE CMD...: run CMD in ROLE's namespace in the background, its
# output in $E2E_TMP/NAME.log, killed after BG_TIMEOUT seconds (120) at
# the latest and at cleanup in any case.
bg() {
	local name=$1 role=$2 ns; shift 2
	e2e_tmp
	ns=$(ns_of "$role")
	printf '+ [%s] ip netns exec %s %s &\n' "$name" "$ns" "$*" >&2
	timeout -k 5 "${BG_TIMEOUT:-120}" ip netns exec "$ns" "$@" \
		>"$E2E_TMP/$name.log" 2>&1 </dev/null &
	BG_PID[$name]=$!
	BG_NS[$name]=$ns
	BG_ORDER+=("$name")
}

bg_log() { echo "$E2E_TMP/$1.log"; }

# bg_reap NAME SECS: wait at most SECS for NAME to end (then SIGKILL);
# its exit status goes to BG_STATUS (124/137: timeout had to end it).
bg_reap() {
	local name=$1 secs=$2 pid=${BG_PID[$1]:-} deadline rc=0
	if [ -z "$pid" ]; then
		BG_STATUS=${BG_RC[$name]:-0}
		return 0
	fi
	deadline=$((SECONDS + secs))
	while kill -0 "$pid" 2>/dev/null; do
		if [ $SECONDS -ge $deadline ]; then
			kill -KILL "$pid" 2>/dev/null
			break
		fi
		sleep 0.02
	done
	wait "$pid" 2>/dev/null || rc=$?
	BG_PID[$name]=""
	BG_RC[$name]=$rc
	BG_STATUS=$rc
}
declare -A BG_RC=()
BG_STATUS=0

# bg_wait NAME [SECS]: wait for NAME to end by itself; sets BG_STATUS.
bg_wait() {
	local pid=${BG_PID[$1]:-} deadline=$((SECONDS + ${2:-60}))
	if [ -n "$pid" ]; then
		while kill -0 "$pid" 2>/dev/null; do
			[ $SECONDS -lt $deadline ] || fail "$1 still running after ${2:-60}s"
			sleep 0.02
		done
	fi
	bg_reap "$1" 1
}

# bg_stop NAME [SECS]: SIGTERM and wait; sets BG_STATUS.
bg_stop() {
	local pid=${BG_PID[$1]:-}
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
	bg_reap "$1" "${2:-10}"
}

# --- the daemon -------------------------------------------------------------

# start_daemon ARGS...: gwlbtund in the appliance namespace, in the
# foreground of its own background job, log in $E2E_TMP/gwlbtund.log;
# returns once its GENEVE socket is bound.
start_daemon() {
	local port=6081 a prev=""
	need_daemon
	for a in "$@"; do
		case "$prev" in --geneve-port) port=$a ;; esac
		case "$a" in --geneve-port=*) port=${a#*=} ;; esac
		prev=$a
	done
	DAEMON_NAME=gwlbtund
	DAEMON_PORT=$port
	bg "$DAEMON_NAME" appliance "$DAEMON" "$@"
	local deadline=$((SECONDS + 10))
	until udp_bound appliance "$port"; do
		if ! kill -0 "${BG_PID[$DAEMON_NAME]}" 2>/dev/null; then
			tail -20 "$(bg_log "$DAEMON_NAME")" >&2
			BG_PID[$DAEMON_NAME]=""
			DAEMON_NAME=""
			fail "gwlbtund exited at start"
		fi
		[ $SECONDS -lt $deadline ] || fail "gwlbtund did not bind UDP $port in 10s"
		sleep 0.02
	done
	say "gwlbtund up (pid ${BG_PID[$DAEMON_NAME]})"
}

# stop_daemon: SIGTERM; it must exit 0 within 10 s and leave no links.
stop_daemon() {
	local left links
	[ -n "$DAEMON_NAME" ] || return 0
	bg_stop "$DAEMON_NAME" 10
	DAEMON_NAME=""
	if [ "$BG_STATUS" != 0 ]; then
		echo "FAIL: gwlbtund exited with status $BG_STATUS after SIGTERM" >&2
		return 1
	fi
	links=$(ip -n "$LAB_NS_APPLIANCE" -o link show) ||
		{ echo "FAIL: ip link show in $LAB_NS_APPLIANCE failed" >&2; return 1; }
	left=$(grep -Eo 'gw[io]-[0-9a-zA-X]+' <<<"$links") || [ $? = 1 ]
	if [ -n "$left" ]; then
		echo "FAIL: gwlbtund left links behind: $left" >&2
		return 1
	fi
	say "gwlbtund stopped cleanly"
}

# eni_ifname ENIHEX [in|out]: gwi-/gwo- name of an ENI (base 60, upstream's).
eni_ifname() {
	"$PY" - "$1" "${2:-in}" <<-'EOF'
	import sys
	d = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
	v = int(sys.argv[1].removeprefix("vpce-").removeprefix("0x"), 16)
	s = ""
	while True:
	    s = d[v % 60] + s
	    v //= 60
	    if v == 0:
	        break
	print(("gwi-" if sys.argv[2] == "in" else "gwo-") + s)
	EOF
}

# appliance_onearm ENIHEX [TABLE]: route what arrives on gwi-X back out
# gwo-X, the way upstream's one-arm example hook does, so the kernel
# forwards inner packets back to GWLB (TTL one less).
appliance_onearm() {
	local gwi gwo table=${2:-100}
	gwi=$(eni_ifname "$1" in)
	gwo=$(eni_ifname "$1" out)
	wait_link appliance "$gwi"
	wait_link appliance "$gwo"
	in_ns appliance sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		"net.ipv4.conf.$gwi.rp_filter=0"
	in_ns appliance ip rule add iif "$gwi" lookup "$table"
	in_ns appliance ip -6 rule add iif "$gwi" lookup "$table"
	in_ns appliance ip route add default dev "$gwo" table "$table"
	in_ns appliance ip -6 route add default dev "$gwo" table "$table"
}

# --- captures -----------------------------------------------------------------

# capture_start NAME ROLE IFACE FILTER [MAXPACKETS] [SECS]: bounded capture
# to $E2E_TMP/NAME.pcap; returns once it is live.  tcpdump if installed,
# else (or with GWLB_E2E_CAPTURE=dumpcap) dumpcap, which comes with tshark.
capture_start() {
	local name=$1 role=$2 dev=$3 filter=$4 max=${5:-10000} secs=${6:-60}
	local pcap=$E2E_TMP/$name.pcap
	if [ "${GWLB_E2E_CAPTURE:-}" != dumpcap ] && command -v tcpdump >/dev/null 2>&1; then
		BG_TIMEOUT=$((secs + 5)) bg "$name" "$role" tcpdump -U -n -i "$dev" \
			-c "$max" -w "$pcap" "$filter"
		wait_log "$name" "listening on"
	else
		need_cmd dumpcap
		BG_TIMEOUT=$((secs + 5)) bg "$name" "$role" dumpcap -q -i "$dev" \
			-c "$max" -a "duration:$secs" -f "$filter" -w "$pcap" -P
		wait_log "$name" "Capturing on"
	fi
}

capture_file() { echo "$E2E_TMP/$1.pcap"; }

# capture_stop NAME: end it (packets seen so far are in the file).
capture_stop() {
	bg_stop "$1" 5
}

# --- results and assertions -----------------------------------------------

# jget FILE KEY[.KEY...]: a field of the JSON document in FILE (or of the
# last line that is a JSON object, for programs that log before it);
# numeric parts index lists (eni.0.table).  A missing key, a file that
# is not JSON or a failed read ends the scenario, naming key and file.
jget() { _jget "$1" "$2"; }

# jget_or FILE KEY[.KEY...] DEFAULT: the same, DEFAULT when the key is
# absent (only where absence is legitimate; the document must still be
# there and be JSON).
jget_or() { _jget "$1" "$2" "$3"; }

_jget() {
	local out
	out=$("$PY" - "$@" <<-'EOF'
	import json, sys
	path, key = sys.argv[1], sys.argv[2]
	def die(msg):
	    print(msg)		# on standard output: the caller's message
	    sys.exit(3)
	try:
	    text = open(path).read()
	except OSError as e:
	    die("cannot read %s: %s" % (path, e))
	try:
	    v = json.loads(text)
	except ValueError:
	    lines = [l for l in text.splitlines() if l.lstrip().startswith("{")]
	    try:
	        v = json.loads(lines[-1])
	    except (IndexError, ValueError):
	        die("no JSON document in %s: %r" % (path, text[:200]))
	for k in key.split("."):
	    if isinstance(v, dict) and k in v:
	        v = v[k]
	    elif isinstance(v, list) and k.isdigit() and int(k) < len(v):
	        v = v[int(k)]
	    elif len(sys.argv) > 3:
	        print(sys.argv[3])
	        sys.exit(0)
	    else:
	        have = sorted(v) if isinstance(v, dict) else "a list of %d" % len(v) \
	            if isinstance(v, list) else repr(v)
	        die("no '%s' (at '%s') in %s; there: %s" % (key, k, path, have))
	print(json.dumps(v) if isinstance(v, (bool, list, dict)) or v is None else v)
	EOF
	) || fail "jget $*: $out"
	printf '%s\n' "$out"
}

# jeval FILE EXPR: a Python expression over the JSON document d of FILE,
# printed (JSON for booleans, lists and objects); one(KIND, k=v...) is the
# only record of KIND (a list of d) with those fields, opt(NAME) the value
# of gwlbctl show config's option NAME, recs(KIND) the records of KIND,
# none when d has no KIND (gwlbctl -j prints no key for no records: a
# default asked for knowingly).  An exception (a missing key, no or
# several records) ends the scenario.
jeval() {
	local out
	out=$("$PY" - "$1" "$2" 2>&1 <<-'EOF'
	import json, sys
	d = json.load(open(sys.argv[1]))
	def one(kind, **kv):
	    m = [r for r in d[kind] if all(r[k] == v for k, v in kv.items())]
	    if len(m) != 1:
	        raise SystemExit("%d %s records with %r in %s" % (len(m), kind, kv, sys.argv[1]))
	    return m[0]
	def opt(name):
	    return one("option", name=name)["value"]
	def recs(kind):
	    return d.get(kind, [])
	v = eval(sys.argv[2])
	print(json.dumps(v) if isinstance(v, (bool, list, dict)) or v is None else v)
	EOF
	) || fail "jeval $1 '$2': $out"
	printf '%s\n' "$out"
}

# lines_of [-F] REGEX CMD...: the lines of CMD's output that match REGEX
# (grep -E, or -F: a fixed string), none being no error; CMD failing ends
# the scenario (unlike cmd | grep X || true).
lines_of() {
	local how=-E re out rc=0
	case "$1" in -E|-F) how=$1; shift ;; esac
	re=$1; shift
	out=$("$@") || fail "'$*' failed (exit $?)"
	[ -n "$out" ] || return 0
	printf '%s\n' "$out" | grep "$how" -- "$re" || rc=$?
	[ $rc -le 1 ] || fail "grep $how '$re' failed (exit $rc)"
}

# count_of [-F] REGEX CMD...: how many lines of CMD's output match REGEX;
# CMD failing ends the scenario (unlike cmd | grep -c X || true).
count_of() {
	local how=-E re out rc=0
	case "$1" in -E|-F) how=$1; shift ;; esac
	re=$1; shift
	out=$("$@") || fail "'$*' failed (exit $?)"
	[ -n "$out" ] || { echo 0; return 0; }
	printf '%s\n' "$out" | grep -c "$how" -- "$re" || rc=$?
	[ $rc -le 1 ] || fail "grep -c $how '$re' failed (exit $rc)"
}

# count_in [-F] REGEX FILE: lines of FILE that match REGEX (FILE must exist).
count_in() {
	local how=-E
	case "$1" in -E|-F) how=$1; shift ;; esac
	[ -r "$2" ] || fail "count_in: no file $2"
	count_of "$how" "$1" cat "$2"
}

assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"
	say "ok: ${3:-value} = $1"
}

assert_ne() {
	[ "$1" != "$2" ] || fail "${3:-value}: expected anything but '$2'"
}

assert_ge() {
	[ "$1" -ge "$2" ] || fail "${3:-value}: expected at least $2, got $1"
	say "ok: ${3:-value} = $1 (>= $2)"
}

assert_le() {
	[ "$1" -le "$2" ] || fail "${3:-value}: expected at most $2, got $1"
	say "ok: ${3:-value} = $1 (<= $2)"
}

assert_match() {
	[[ "$1" =~ $2 ]] || fail "${3:-value}: '$1' does not match /$2/"
	say "ok: ${3:-value} matches /$2/"
}

# assert_status WANT CMD...: run CMD (printed), its exit status must be WANT.
assert_status() {
	local want=$1 rc=0; shift
	pp "$@" || rc=$?
	[ "$rc" = "$want" ] || fail "exit status of '$*': expected $want, got $rc"
}

# --- scapy, an independent GENEVE source --------------------------------

# scapy_gwlb_script: write $E2E_TMP/scapy_gwlb.py and print its path.  It
# builds GWLB packets with scapy.contrib.geneve (not our codec) and sends
# them from the GWLB namespace at layer 3:
#	scapy_gwlb.py ROUNDS ENI[,ENI...] [DST]
# For each round and ENI: five inner packets (IPv4 UDP, TCP, ICMP echo;
# IPv6 UDP, ICMPv6 echo), a flow each, from GWLB source port 41000+; the
# first flow of every ENI gets a new cookie from round ROUNDS/2 on.  Inner
# sources differ per ENI, so flows never share a 5-tuple.
scapy_gwlb_script() {
	e2e_tmp
	cat >"$E2E_TMP/scapy_gwlb.py" <<'PYEOF'
import sys
from scapy.all import IP, IPv6, UDP, TCP, ICMP, ICMPv6EchoRequest, Raw, send, conf
from scapy.contrib.geneve import GENEVE, GeneveOptions
conf.verb = 0
rounds = int(sys.argv[1])
enis = [int(e, 16) for e in sys.argv[2].split(",")]
dst = sys.argv[3] if len(sys.argv) > 3 else "198.18.0.2"

def gwlb(eni, att, cookie, inner, sport):
    # optionlen set by hand: scapy's own computation masks it wrongly
    opts = [GeneveOptions(classid=0x0108, type=1, length=2, data=eni.to_bytes(8, "big")),
            GeneveOptions(classid=0x0108, type=2, length=2, data=att.to_bytes(8, "big")),
            GeneveOptions(classid=0x0108, type=3, length=1, data=cookie.to_bytes(4, "big"))]
    proto = 0x86DD if inner.haslayer(IPv6) else 0x0800
    return (IP(src="198.18.0.1", dst=dst, flags="DF") / UDP(sport=sport, dport=6081) /
            GENEVE(optionlen=8, proto=proto, options=opts) / inner)

def inners(e, rnd):
    a = 10 + 10 * e
    return [
        IP(src=f"192.0.2.{a}", dst="198.51.100.10") / UDP(sport=1111, dport=53) / Raw(b"scapy-udp%d" % rnd),
        IP(src=f"192.0.2.{a + 1}", dst="198.51.100.10") / TCP(sport=2222, dport=80, flags="PA", seq=1000 + 100 * rnd) / Raw(b"scapy-tcp" * 10),
        IP(src=f"192.0.2.{a + 2}", dst="198.51.100.10") / ICMP(id=77, seq=rnd + 1) / Raw(b"ping" * 8),
        IPv6(src=f"2001:db8:1::{a:x}", dst="2001:db8:2::10") / UDP(sport=3333, dport=53) / Raw(b"scapy-v6-%d" % rnd),
        IPv6(src=f"2001:db8:1::{a + 1:x}", dst="2001:db8:2::10") / ICMPv6EchoRequest(id=78, seq=rnd + 1) / Raw(b"v6ping" * 3),
    ]

n = 0
for rnd in range(rounds):
    for e, eni in enumerate(enis):
        for i, inner in enumerate(inners(e, rnd)):
            cookie = 0xC0FFEE00 + 16 * e + i
            if i == 0 and rnd >= rounds // 2 and rounds > 1:
                cookie = 0xBEEF0000 + e      # GWLB gave this 5-tuple a new cookie
            send(gwlb(eni, 0x1234 + e, cookie, inner, 41000 + 16 * e + i))
            n += 1
print(f"scapy sent {n} GWLB packets")
PYEOF
	echo "$E2E_TMP/scapy_gwlb.py"
}
