#!/usr/bin/env bash
# return-bench.sh: packets per second through gwlbtund with 64-byte inner
# packets (IPv4 UDP, 64 flows, one ENI), one receive and one reply
# worker both pinned to CPU 0, gwlbsim send at full speed pinned to CPU 1
# for SECS seconds.  Two modes in the same lab:
#
#   no-return  gwlbtund --no-return; the appliance's kernel drops what
#              leaves gwi-X (blackhole route: a route lookup, no ICMP)
#   return     one-arm forwarding: gwi-X -> kernel -> gwo-X -> reply
#              worker -> GENEVE back to GWLB (what the figure is about)
#
# Rates are taken from the daemon's own counters over a steady window
# (from 1 s after the start to 1 s before the end), so a backlog drained
# after the sender stops does not count.  Prints one line per mode and a
# JSON line per mode.  Not a pass/fail test (not named NN-*, so tests/run
# does not run it); run it on an otherwise idle machine.
#
#   GWLB_BUILD=/path/to/build tests/e2e/bench/return-bench.sh [SECS]
#
# BENCH_TXQLEN=N sets gwo-X's txqueuelen (TUN's default: 500) before the
# return run, to see what a deeper queue in front of the reply worker
# changes.
#
#   ns gwlb-S: taskset -c 1 gwlbsim send  ==veth==  ns appl-S: gwlbtund (CPU 0)
. "$(dirname "$0")/../lib-gwlbtund.sh"
need_root
need_sim
need_daemon
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (daemon on 0, sender on 1)"
SECS=${1:-7}
[ "$SECS" -ge 4 ] || fail "SECS: at least 4"
lab_up onearm

# snap: time, worker counters, CPU 0/1 ticks and the daemon's CPU ticks:
#   t rxpk rxdel kdrops tunpk tundel cpu0busy cpu0all cpu1busy cpu1all dticks gwodrops
# (busy: user nice system irq softirq; all: busy + idle + iowait, steal
# left out: on a VM it is time the hypervisor took, not ours.  dticks:
# user + system time of all the daemon's threads, softirq work done in
# their context included, as this kernel has no IRQ time accounting.)
snap() {
	local t j
	t=$(date +%s.%N)
	j=$(gw_health bench)
	"$PY" - "$j" "$t" "$DPID" "$(gwo_drops)" <<-'PYEOF'
	import glob, json, sys
	h = json.load(open(sys.argv[1]))
	rx = [w for w in h["workers"] if w["kind"] == "rx"]
	tun = [w for w in h["workers"] if w["kind"] == "tun"]
	s = lambda ws, k: sum(w[k] for w in ws)
	cpu = []
	for line in open("/proc/stat"):
	    f = line.split()
	    if f[0] in ("cpu0", "cpu1"):
	        v = list(map(int, f[1:9]))
	        busy = v[0] + v[1] + v[2] + v[5] + v[6]
	        cpu += [busy, busy + v[3] + v[4]]
	dt = 0
	for st in glob.glob("/proc/%s/task/*/stat" % sys.argv[3]):
	    f = open(st).read().rsplit(")", 1)[1].split()
	    dt += int(f[11]) + int(f[12])	# utime, stime
	print(sys.argv[2], s(rx, "packets"), s(rx, "delivered"), s(rx, "kernel_drops"),
	      s(tun, "packets"), s(tun, "delivered"), *cpu, dt, sys.argv[4])
	PYEOF
}

measure() {
	local mode=$1 a b sender
	bg sender gwlb taskset -c 1 "$SIM" send --flows 64 --proto udp --family 4 \
		--size 64 --rate 0 --duration "$SECS" \
		--inner-dst4 198.51.100.9
	sleep 1
	a=$(snap)
	sleep $((SECS - 2))
	b=$(snap)
	bg_wait sender $((SECS + 10))
	sender=$(grep -Eo '[0-9]+ pps' "$(bg_log sender)" | head -1)
	"$PY" - "$mode" "$a" "$b" "${sender% pps}" <<-'PYEOF'
	import json, os, sys
	mode, a, b = sys.argv[1], list(map(float, sys.argv[2].split())), list(map(float, sys.argv[3].split()))
	dt = b[0] - a[0]
	r = [(y - x) / dt for x, y in zip(a[1:6], b[1:6])]
	d = [y - x for x, y in zip(a[6:], b[6:])]
	cpu0, cpu1 = d[0] / max(1, d[1]), d[2] / max(1, d[3])
	dcpu = d[4] / os.sysconf("SC_CLK_TCK") / dt	# daemon CPU-seconds per second
	gwo_drop = d[5] / dt
	res = {"mode": mode, "window_s": round(dt, 2), "sender_pps": int(sys.argv[4] or 0),
	       "rx_pps": int(r[0]), "to_tun_pps": int(r[1]), "kernel_drop_pps": int(r[2]),
	       "tun_read_pps": int(r[3]), "returned_pps": int(r[4]),
	       "cpu0_busy": round(cpu0, 3), "cpu1_busy": round(cpu1, 3),
	       "daemon_cpu": round(dcpu, 3), "gwo_queue_drop_pps": int(gwo_drop)}
	fig = res["returned_pps"] if mode == "return" else res["to_tun_pps"]
	# what the daemon's threads (and the kernel work done on their behalf:
	# TUN, forwarding, the reply's delivery) manage per CPU-second: the
	# figure that does not depend on who else used CPU 0
	res["pps_per_daemon_cpu"] = int(fig / dcpu) if dcpu > 0.05 else 0
	print("%-9s %7.3f Mpps, daemon %3.0f%% of a CPU -> %.3f Mpps per CPU-second | CPU0 %3.0f%% busy,"
	      " sender %.3f Mpps (CPU1 %3.0f%%), received %.3f, to gwi %.3f, socket overflow %.3f,"
	      " gwo- queue overflow %.3f, read back %.3f, returned %.3f" % (
	      mode, fig / 1e6, 100 * dcpu, res["pps_per_daemon_cpu"] / 1e6, 100 * cpu0,
	      res["sender_pps"] / 1e6, 100 * cpu1, r[0] / 1e6, r[1] / 1e6, r[2] / 1e6,
	      gwo_drop / 1e6, r[3] / 1e6, r[4] / 1e6))
	print(json.dumps(res))
	PYEOF
}

# gwo_drops: packets the kernel dropped because gwo-X's queue was full
# (its reader, the reply worker, behind); 0 without a gwo- link.
gwo_drops() {
	ip netns exec "$LAB_NS_APPLIANCE" cat \
		"/sys/class/net/$(eni_ifname "$ENI0" out)/statistics/tx_dropped" 2>/dev/null || echo 0
}

# The daemon's own pid: start_daemon runs it under timeout(1), which
# ip netns exec replaces with it.
daemon_pid() {
	DPID=$(pgrep -P "${BG_PID[gwlbtund]}" | head -1)
	[ -n "$DPID" ] && [ -d "/proc/$DPID/task" ] || fail "cannot find gwlbtund's pid"
	grep -q gwlbtund "/proc/$DPID/comm" || fail "pid $DPID is not gwlbtund"
}

pin=(--udpthreads 1 --udpaffinity 0 --tunthreads 1 --tunaffinity 0)

# no-return first: its links leave no rules behind for the second run.
gw_daemon --no-return "${pin[@]}"
daemon_pid
warm_enis 1 --proto icmp
in_ns appliance ip route add blackhole 198.51.100.0/24
in_ns appliance ip route add blackhole 192.0.2.0/24
measure no-return | tee "$E2E_TMP/no-return.txt"
stop_daemon
in_ns appliance ip route del blackhole 198.51.100.0/24
in_ns appliance ip route del blackhole 192.0.2.0/24

gw_daemon "${pin[@]}"
daemon_pid
warm_enis 1 --proto icmp
onearm_enis 1
if [ -n "${BENCH_TXQLEN:-}" ]; then
	in_ns appliance ip link set "$(eni_ifname "$ENI0" out)" txqueuelen "$BENCH_TXQLEN"
fi
measure return | tee "$E2E_TMP/return.txt"

# The same path below saturation, judged: gwlbsim run (send and check in
# one process on CPU 1) at 80 % of the figure above, every packet checked.
# First let the daemon work off what the full-speed sender left queued
# in its 128 MiB socket buffer, or the judge would see those replies.
_rx() { jget "$(gw_health drain)" workers | grep -o '"packets": [0-9]*' | head -1; }
_drained() { local a b; a=$(_rx); sleep 0.3; b=$(_rx); [ "$a" = "$b" ]; }
wait_for 60 "the daemon to drain its socket" _drained
ret=$(sed -n 's/.*"returned_pps": \([0-9]*\).*/\1/p' "$E2E_TMP/return.txt")
rate=$((ret * 8 / 10))
gd0=$(gwo_drops)
in_ns gwlb taskset -c 1 "$SIM" run --flows 64 --proto udp --family 4 --size 64 \
	--rate "$rate" --duration 3 --inner-dst4 198.51.100.9 --inner forwarded \
	--max-loss 100% --json >"$E2E_TMP/run80.json" || true
gd1=$(gwo_drops)
"$PY" - "$E2E_TMP/run80.json" "$rate" $((gd1 - gd0)) <<'PYEOF' | tee -a "$E2E_TMP/return.txt"
import json, sys
j = json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
print("return at 80%%: asked %.3f Mpps, sent %.3f, back and judged ok %.3f Mpps, lost %.2f%%"
      " (%d dropped at gwo-'s queue), mismatched %d" % (
    int(sys.argv[2]) / 1e6, j["sent_pps"] / 1e6, j["received_pps"] / 1e6,
    100.0 * j["lost"] / max(1, j["sent"]), int(sys.argv[3]), j["mismatched"]))
PYEOF
echo
head -1 "$E2E_TMP/no-return.txt"
head -1 "$E2E_TMP/return.txt"
tail -1 "$E2E_TMP/return.txt"
