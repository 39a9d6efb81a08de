# tests/e2e/4x-lib.sh: what the return-path scenarios (4x) share, on top
# of lib.sh.  Not executable on purpose: tests/run runs only executable
# tests/e2e/[0-9]* files.  Source it after lib.sh:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$(dirname "$0")/4x-lib.sh"
#
# It gives: ret_daemon (gwlbtund with its own control socket, a JSON
# health page and two workers of each kind unless told otherwise),
# health/metrics snapshots read inside the appliance namespace, per-ENI
# fields of the health JSON, a drop counter by reason, and warm_enis (one
# packet per ENI so that the daemon makes the links before a scenario
# routes through them).

HC_PORT=${HC_PORT:-8181}
ENI0=076bc493b822cd32f		# gwlbsim's default first ENI

# ret_daemon ARGS...: start_daemon with what every 4x scenario wants;
# later arguments win (e.g. --udpthreads 1).
ret_daemon() {
	local a
	RET_NO_RETURN=0
	for a in "$@"; do [ "$a" != --no-return ] || RET_NO_RETURN=1; done
	start_daemon --control-socket "$E2E_TMP/ctl.sock" -p "$HC_PORT" -j \
		--udpthreads 2 --tunthreads 2 "$@"
	wait_tcp appliance "$HC_PORT"
}

# health NAME: the health JSON, saved as $E2E_TMP/NAME.json (path printed).
health() {
	local f=$E2E_TMP/$1.json
	ip netns exec "$LAB_NS_APPLIANCE" curl -s --max-time 5 \
		"http://127.0.0.1:$HC_PORT/" >"$f" || fail "health page did not answer"
	echo "$f"
}

# metrics NAME: /metrics, saved as $E2E_TMP/NAME.prom (path printed).
metrics() {
	local f=$E2E_TMP/$1.prom
	ip netns exec "$LAB_NS_APPLIANCE" curl -s --max-time 5 \
		"http://127.0.0.1:$HC_PORT/metrics" >"$f" || fail "/metrics did not answer"
	echo "$f"
}

# drops FILE REASON: a drop counter from a health JSON snapshot.
drops() { jget "$1" "drops.$2"; }

# eni_field FILE ENIHEX FIELD: a field of one ENI in a health JSON snapshot
# (0 when the ENI is not listed).
eni_field() {
	"$PY" - "$1" "$2" "$3" <<-'EOF'
	import json, sys
	v = json.loads(open(sys.argv[1]).read())
	want = sys.argv[2].rjust(17, "0")
	for e in v.get("enis", []):
	    if e.get("eni") == want:
	        print(e.get(sys.argv[3], 0))
	        break
	else:
	    print(0)
	EOF
}

# metric FILE NAME [LABEL-SUBSTRING]: the value of a Prometheus sample
# (the first whose labels contain the substring; 0 if none).
metric() {
	awk -v n="$2" -v l="${3:-}" '
		$1 ~ "^" n "([{]|$)" && index($1, l) { print $2; found = 1; exit }
		END { if (!found) print 0 }' "$1"
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
		[ "${RET_NO_RETURN:-0}" = 1 ] ||
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

# total_out FILE: packets sent back to GWLB, all ENIs, in a health snapshot.
total_out() {
	"$PY" -c 'import json, sys
print(sum(e.get("packets_out", 0) for e in json.load(open(sys.argv[1])).get("enis", [])))' "$1"
}

_total_out_ge() { [ "$(total_out "$(health poll)")" -ge "$1" ]; }

# wait_total_out N [SECS]: poll the health page until N packets went back.
wait_total_out() { wait_for "${2:-10}" "$1 packets returned to GWLB" _total_out_ge "$1"; }

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
	            except OSError as e:
	                print("sendto", peer, e, flush=True)
	finally:
	    print("answered", n, flush=True)
	PYEOF
	cp "$E2E_TMP/answerer.py" "$E2E_TMP/$name.py"
	bg "$name" appliance "$PY" "$E2E_TMP/$name.py" "$port" "$total" "$secs"
	wait_log "$name" ready
}

# answered NAME: how many datagrams an answerer answered (once stopped).
answered() { sed -n 's/^answered //p' "$(bg_log "$1")"; }

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
