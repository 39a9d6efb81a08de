# lab/load-lib.sh: what lab/sweep and lab/soak share.  Not executable;
# sourced after the build directory is known (GWLB_BUILD):
#
#	. "$top/lab/load-lib.sh"
#	load_lab			# the onearm lab, traps, the e2e library
#	load_appliance gwlbtund|reflect
#	load_run NAME RATE DURATION [gwlbsim run options...]
#
#   ns gwlb-S                                   ns appl-S
#   gwlbsim run (CPU 1)  ==veth, MTU 9001==     gwlbtund, one-arm, return on:
#   sends GENEVE, judges                        gwi-X -> kernel -> gwo-X -> back
#   every reply byte for                        (1 worker of each kind, CPU 0)
#   byte, times it                              or gwlbsim reflect (CPU 0): the
#                                               same path without gwlbtund
#
# Everything runs inside the lab's namespaces (per-run suffix, removed by
# the e2e library's EXIT trap, also on failure or Ctrl-C); outer addresses
# 198.18.0.0/15, inner 192.0.2.0/24 -> 198.51.100.0/24.  Every gwlbsim run
# is bounded by its --duration and --wait.

# (top: the source tree, set by the script that sources this one)
# shellcheck source=tests/e2e/lib-gwlbtund.sh disable=SC2154
. "$top/tests/e2e/lib-gwlbtund.sh"

LOAD_HZ=$(getconf CLK_TCK)
LOAD_WINDOW=1048576		# sent packets the checker remembers: seconds at 400 kpps
APPL=""				# gwlbtund or reflect, while one runs
APID=""				# its pid

# load_build: GWLB_BUILD, or a build in build/bench as lab/bench makes it.
load_build() {
	[ -n "${GWLB_BUILD:-}" ] && return 0
	echo "$SCENARIO: building in build/bench" >&2
	# shellcheck source=tests/deps.sh
	. "$top/tests/deps.sh"
	deps_install
	GWLB_BUILD=$top/build/bench
	(cd "$top" && { [ -x configure ] || ./autogen.sh >/dev/null 2>&1; })
	mkdir -p "$GWLB_BUILD"
	[ -f "$GWLB_BUILD/Makefile" ] || (cd "$GWLB_BUILD" && "$top/configure" >/dev/null)
	make -C "$GWLB_BUILD" -j"$(nproc)" >/dev/null
}

# load_lab: the onearm lab; the one-arm configuration for gwlbtund.
load_lab() {
	need_root
	[ "$(nproc)" -ge 2 ] || fail "needs two CPUs (the sender and the appliance on their own)"
	need_sim
	need_daemon
	need_cmd taskset
	e2e_tmp
	lab_up onearm >/dev/null
	G=$LAB_NS_GWLB
	GRX=/sys/class/net/$LAB_IF_GWLB/statistics/rx_packets
	printf 'route 0.0.0.0/0 eni any dev out table eni\nrule iif in table eni\n' \
		>"$E2E_TMP/onearm.conf"
}

# load_pid JOB: the program a library job runs (timeout -> ip netns exec,
# which execs it -> taskset, which execs it: timeout's child).
load_pid() {
	local p
	p=$(pgrep -P "${BG_PID[$1]}" | head -1)
	[ -n "$p" ] && [ -r "/proc/$p/stat" ] || fail "cannot find the pid of $1"
	echo "$p"
}

# load_ticks: the appliance process's utime+stime, every thread.
load_ticks() { awk '{ print $14 + $15 }' "/proc/$APID/stat"; }

# load_appliance gwlbtund|reflect [SECS] [gwlbtund options...]: start it
# on CPU 0, stop the one before.
load_appliance() {
	local what=$1 secs=${2:-3600}
	shift 2 || shift $#
	load_appliance_stop
	if [ "$what" = gwlbtund ]; then
		BG_TIMEOUT=$((secs + 60)) gw_daemon --config "$E2E_TMP/onearm.conf" --forwarding \
			--udpthreads 1 --tunthreads 1 --udpaffinity 0 --tunaffinity 0 "$@" >/dev/null
		APID=$(load_pid gwlbtund)
		taskset -a -p -c 0 "$APID" >/dev/null
	else
		BG_TIMEOUT=$((secs + 60)) bg reflect appliance taskset -c 0 "$SIM" reflect \
			--duration $((secs + 30))
		wait_log reflect ready
		APID=$(load_pid reflect)
	fi
	APPL=$what
}

load_appliance_stop() {
	case "$APPL" in
	gwlbtund) stop_daemon >/dev/null || fail "gwlbtund did not stop cleanly" ;;
	reflect) bg_stop reflect ;;
	esac
	APPL=""
	APID=""
}

# load_warm ENIS: gwlbtund has the links of ENIS ENIs (from ENI0 up).
load_warm() {
	[ "$APPL" = gwlbtund ] || return 0
	ip netns exec "$G" "$SIM" send --eni "$ENI0" --enis "$1" --flows "$1" --count "$1" \
		--rate 10000 >/dev/null
	wait_for 60 "$1 ENIs in gwlbtund" gw_eval "[ \"\$(gw_status enis)\" -ge $1 ]"
}

# load_settle: wait (at most 15 s) until nothing more comes back to GWLB,
# so that no straggler of one run reaches the next one's checker.
load_settle() {
	local prev=-1 cur i
	for i in $(seq 75); do
		cur=$(ip netns exec "$G" cat "$GRX")
		[ "$cur" = "$prev" ] && return 0
		prev=$cur
		sleep 0.2
	done
}

# load_counters: where packets are dropped, as "UDP-RCVBUF-ERRORS
# VETH-DROPS GWI-DROPS GWO-DROPS BACKLOG-DROPS GW-DROPS GW-KERNEL-DROPS": the
# appliance namespace's UDP receive buffer overflows (/proc/net/snmp:
# gwlbtund's or reflect's socket full), the rx_dropped + tx_dropped of the
# veth between GWLB and the appliance (both ends: a full ring), of
# gwlbtund's gwi- links and of its gwo- links (a full queue), the
# host's per-CPU input backlog drops
# (/proc/net/softnet_stat: netdev_max_backlog exceeded; the whole host,
# other traffic too), and gwlbtund's own drop counters (gwlbctl show
# status: drops, kernel_drops; "- -" for reflect).
load_counters() {
	local u s="- -" f v i o b=0 d
	u=$(ip netns exec "$LAB_NS_APPLIANCE" awk '
		$1 == "Udp:" && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
		$1 == "Udp:" && h { print $col["RcvbufErrors"]; exit }' /proc/net/snmp)
	v=$( { ip netns exec "$LAB_NS_APPLIANCE" cat "/sys/class/net/$LAB_IF_APPLIANCE/statistics/rx_dropped" \
		"/sys/class/net/$LAB_IF_APPLIANCE/statistics/tx_dropped"
		ip netns exec "$G" cat "/sys/class/net/$LAB_IF_GWLB/statistics/rx_dropped" \
		"/sys/class/net/$LAB_IF_GWLB/statistics/tx_dropped"; } | awk '{ n += $1 } END { print n + 0 }')
	i=$(ip netns exec "$LAB_NS_APPLIANCE" sh -c 'cat /sys/class/net/gwi-*/statistics/rx_dropped \
		/sys/class/net/gwi-*/statistics/tx_dropped 2>/dev/null' | awk '{ n += $1 } END { print n + 0 }')
	o=$(ip netns exec "$LAB_NS_APPLIANCE" sh -c 'cat /sys/class/net/gwo-*/statistics/rx_dropped \
		/sys/class/net/gwo-*/statistics/tx_dropped 2>/dev/null' | awk '{ n += $1 } END { print n + 0 }')
	while read -r _ d _; do b=$((b + 16#$d)); done </proc/net/softnet_stat
	if [ "$APPL" = gwlbtund ]; then
		f=$(gw_ctl_json status show status 2>/dev/null)
		s="$(jget "$f" status.drops) $(jget "$f" status.kernel_drops)"
	fi
	echo "$u $v $i $o $b $s"
}

# load_run OUT RATE DURATION [gwlbsim run options...]: one gwlbsim run on
# CPU 1 at RATE packets/s (0: as fast as it can) for DURATION seconds,
# then up to 3 s for the last replies (a reply later than that is lost;
# "late" counts such replies), loss allowed (it is measured, not judged),
# the histogram in OUT.hist,
# its JSON report plus the appliance's CPU time in OUT.json.  Fails when
# gwlbsim cannot run (exit 2, 3), not when packets were lost or wrong.
load_run() {
	local out=$1 rate=$2 dur=$3 t0 t1 w0 w1 c0 c1 g0 g1 rc=0
	shift 3
	c0=$(load_counters)
	g0=$(ip netns exec "$G" cat "$GRX")
	t0=$(load_ticks)
	w0=$(date +%s.%N)
	ip netns exec "$G" timeout -k 5 $((${dur%.*} + 60)) taskset -c 1 "$SIM" run \
		--eni "$ENI0" --rate "$rate" --duration "$dur" --wait 3 --max-loss 100% \
		--min-received 0 --window "$LOAD_WINDOW" --json --latency-hist "$out.hist" \
		"$@" >"$out.raw" 2>"$out.err" || rc=$?
	w1=$(date +%s.%N)
	t1=$(load_ticks)
	[ $rc -le 1 ] || fail "gwlbsim run exited $rc: $(tail -3 "$out.err")"
	load_settle
	g1=$(ip netns exec "$G" cat "$GRX")
	c1=$(load_counters)
	"$PY" - "$out.raw" "$t0" "$t1" "$w0" "$w1" "$dur" "$LOAD_HZ" "$APPL" "$c0" "$c1" \
		$((g1 - g0)) >"$out.json" <<-'EOF'
	import json, sys
	raw, t0, t1, w0, w1, dur, hz, appl, c0, c1, grx = sys.argv[1:12]
	d = json.loads([l for l in open(raw) if l.startswith("{")][-1])
	# what reached the GWLB link but not the checker: came back after it
	# stopped waiting (counted lost), or was dropped in its socket; the
	# link's counter also counts ARP and the like: a few too many
	d["late"] = max(0, int(grx) - d["received"] - d["capture_drops"])
	def delta(i):
	    a, b = c0.split()[i], c1.split()[i]
	    return None if "-" in (a, b) else int(b) - int(a)
	d["appl_udp_rcvbuf_errors"] = delta(0)
	d["appl_veth_drops"] = delta(1)
	d["gwi_drops"] = delta(2)
	d["gwo_drops"] = delta(3)
	d["backlog_drops"] = delta(4)
	d["gw_drops"] = delta(5)
	d["gw_kernel_drops"] = delta(6)
	cpu = (int(t1) - int(t0)) / int(hz)
	d["appliance"] = appl
	d["cpu_s"] = cpu
	d["wall_s"] = float(w1) - float(w0)
	d["cpu_pct"] = 100 * cpu / float(dur)
	d["cpu_s_per_mpkt"] = cpu / d["ok"] * 1e6 if d["ok"] else None
	d["loss"] = d["lost"] / d["sent"] if d["sent"] else None
	print(json.dumps(d))
	EOF
}
