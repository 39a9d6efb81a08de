#!/usr/bin/env bash
# rx-bench.sh: receive-path throughput of gwlbtund next to the least a
# receiver can do (minimal-rx.c: recvmmsg 64 -> cut 40 bytes -> write to
# TUN), on the lab's veth.  Not a test (tests/run does not run it): it
# prints figures and asserts nothing.
#
#   ns gwlb-S: taskset CPU0 gwlbsim send (64-byte inner, max rate)
#        ==veth==  ns appl-S: taskset CPU1 gwlbtund --no-return --udpthreads 1
#                                   or minimal-rx, writing to one TUN link
#
# Two figures per receiver and run:
#  live   the sender at its maximum rate for DUR s while the receiver runs:
#         sent, delivered (the kernel's RX counter of the TUN link, i.e.
#         what the receiver wrote), the steady rate (delivered between 1 s
#         and DUR-1 s, per second) and the loss, split into the socket's
#         receive-queue drops (UDP RcvbufErrors in the appliance namespace),
#         drops before the socket (sent - UDP in - queue drops; the softnet
#         backlog drops of the whole machine shown apart) and after it.
#         On a 2-CPU machine the sender's CPU also runs the receive
#         softirq, so this is often sender-bound.
#  drain  the receiver stopped (SIGSTOP), NFILL datagrams queued in its
#         socket (a large buffer), then SIGCONT: packets written per second
#         until the queue is empty.  This is the receiver's own capacity
#         on its CPU, nothing else running there.
#
#	GWLB_BUILD=/tmp/b-x tests/e2e/bench/rx-bench.sh   [DUR=5 RUNS=1 SIZE=64 NFILL=300000]
. "$(dirname "$0")/../lib-gwlbtund.sh"
need_root
need_sim
need_daemon
need_cmd taskset cc curl

DUR=${DUR:-5}
RUNS=${RUNS:-1}
SIZE=${SIZE:-64}
NFILL=${NFILL:-300000}
RCVBUF_MB=${RCVBUF_MB:-1024}
SND_CPU=${SND_CPU:-0}
RX_CPU=${RX_CPU:-1}
ENI=076bc493b822cd32f
[ "$(nproc)" -ge 2 ] || skip "needs two CPUs (sender and receiver on their own)"

e2e_tmp
cc -O2 -Wall -Wextra -o "$E2E_TMP/minimal-rx" "$(dirname "$0")/minimal-rx.c" ||
	fail "cannot build minimal-rx.c"
lab_up onearm

udp_stat() {	# FIELD: a Udp: counter of /proc/net/snmp in the appliance
	ip netns exec "$LAB_NS_APPLIANCE" awk -v f="$1" '
		$1 == "Udp:" && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
		$1 == "Udp:" && h { print $col[f]; exit }' /proc/net/snmp
}
softnet_drops() {	# dropped packets of every CPU's backlog (column 2, hex)
	local s=0 a b rest
	while read -r a b rest; do s=$((s + 0x$b)); done </proc/net/softnet_stat
	echo $s
}
cpu_pressure() { awk '/^some/ { sub("avg10=", "", $2); print $2 "%" }' /proc/pressure/cpu 2>/dev/null; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# live LABEL LINK: send for DUR s at full rate, sample LINK's RX counter.
live() {
	local label=$1 link=$2 rx0 rxa rxb rx1 ta tb in0 in1 qd0 qd1 sd0 sd1 prev
	rx0=$(gw_rx "$link"); in0=$(udp_stat InDatagrams); qd0=$(udp_stat RcvbufErrors)
	sd0=$(softnet_drops)
	BG_TIMEOUT=$((DUR + 30)) bg "send-$label" gwlb taskset -c "$SND_CPU" "$SIM" send \
		--eni $ENI --flows 16 --size "$SIZE" --rate 0 --duration "$DUR" --json
	sleep 1
	rxa=$(gw_rx "$link"); ta=$(now_ms)
	sleep $((DUR - 2))
	rxb=$(gw_rx "$link"); tb=$(now_ms)
	bg_wait "send-$label" $((DUR + 20))
	# Let the receiver drain its queue: until the counter stops moving.
	prev=-1
	rx1=$(gw_rx "$link")
	for _ in $(seq 50); do
		[ "$rx1" = "$prev" ] && break
		prev=$rx1
		sleep 0.3
		rx1=$(gw_rx "$link")
	done
	in1=$(udp_stat InDatagrams); qd1=$(udp_stat RcvbufErrors); sd1=$(softnet_drops)
	"$PY" - "$label" "$(jget "$(bg_log "send-$label")" sent)" \
		"$(jget "$(bg_log "send-$label")" pps)" $((rx1 - rx0)) \
		$((rxb - rxa)) $((tb - ta)) $((in1 - in0)) $((qd1 - qd0)) $((sd1 - sd0)) \
		"$(cpu_pressure)" <<-'EOF'
	import sys
	label, sent, spps, dlv, drx, dms, udpin, qdrop, sdrop, psi = sys.argv[1:11]
	sent, dlv, drx, dms, udpin, qdrop, sdrop = map(int, (sent, dlv, drx, dms, udpin, qdrop, sdrop))
	steady = drx * 1000 / dms if dms else 0
	lost = sent - dlv
	print("%-10s live : sent %8d (%7.0f/s) delivered %8d, steady %7.0f/s; lost %7d (%4.1f%%): "
	      "socket queue %d, before the socket %d [softnet %d], after it %d; cpu pressure %s"
	      % (label, sent, float(spps), dlv, steady, lost, 100.0 * lost / sent if sent else 0,
	         qdrop, sent - udpin - qdrop, sdrop, udpin - dlv, psi))
	EOF
}

# drain LABEL LINK PID: fill the stopped receiver's socket, then time it.
drain() {
	local label=$1 link=$2 pid=$3 qd0 qd1
	qd0=$(udp_stat RcvbufErrors)
	kill -STOP "$pid"
	in_ns gwlb taskset -c "$SND_CPU" "$SIM" send --eni $ENI --flows 16 --size "$SIZE" \
		--rate 0 --count "$NFILL" >/dev/null
	sleep 0.5	# the last datagrams through the softirq
	qd1=$(udp_stat RcvbufErrors)
	ip netns exec "$LAB_NS_APPLIANCE" "$PY" - "$label" "$link" "$pid" $((qd1 - qd0)) \
		"$NFILL" "$(cpu_pressure)" <<-'EOF'
	import os, signal, sys, time
	label, link, pid, qdrop, nfill, psi = sys.argv[1:7]
	f = "/sys/class/net/%s/statistics/rx_packets" % link
	rd = lambda: int(open(f).read())
	v0 = rd()
	os.kill(int(pid), signal.SIGCONT)
	t0 = time.monotonic()
	last, tlast = v0, t0
	while time.monotonic() - tlast < 0.3:
	    v = rd()
	    if v != last:
	        last, tlast = v, time.monotonic()
	    time.sleep(0.0005)
	n = last - v0
	dt = tlast - t0
	print("%-10s drain: %d queued (%d of %s dropped filling), %d written in %.3f s: %7.0f/s; "
	      "cpu pressure %s" % (label, n, int(qdrop), nfill, n, dt, n / dt if dt else 0, psi))
	EOF
}

printf 'rx-bench: %s-byte inner packets, %s s live, %s queued for drain, sender on CPU %s, receiver on CPU %s; %s; load %s\n' \
	"$SIZE" "$DUR" "$NFILL" "$SND_CPU" "$RX_CPU" "$(uname -r)" "$(cut -d' ' -f1-3 /proc/loadavg)"
GWI=$(eni_ifname $ENI)
for run in $(seq "$RUNS"); do
	# gwlbtund: one receive worker, every thread on RX_CPU.
	gw_daemon --no-return --udpthreads 1 --udpaffinity "$RX_CPU" --tunthreads 1 \
		--tunaffinity "$RX_CPU" --rcvbuf "${RCVBUF_MB}M"
	# (timeout -> ip netns exec, which execs gwlbtund: its child.)
	pid=$(pgrep -P "${BG_PID[gwlbtund]}" | head -1)
	[ -n "$pid" ] || fail "cannot find gwlbtund's pid"
	taskset -a -p -c "$RX_CPU" "$pid" >/dev/null
	in_ns gwlb "$SIM" send --eni $ENI --count 1 >/dev/null
	wait_link appliance "$GWI"
	wait_for 5 "the first packet" gw_eval 'test "$(gw_rx '"$GWI"')" -ge 1'
	live "gwlbtund#$run" "$GWI"
	drain "gwlbtund#$run" "$GWI" "$pid"
	h=$(gw_health "bench$run")
	"$PY" -c 'import json,sys; h=json.load(open(sys.argv[1])); w=h["workers"][0]
d={k: v for k, v in h["drops"].items() if v}
print("  gwlbtund worker 0: packets %d delivered %d drops %d kernel_drops %d; drops %s"
      % (w["packets"], w["delivered"], w["drops"], w["kernel_drops"], d or "none"))' "$h"
	stop_daemon

	# minimal-rx on the same CPU, writing to a TUN link of its own.
	BG_TIMEOUT=$((DUR + 60)) bg "mrx$run" appliance taskset -c "$RX_CPU" \
		"$E2E_TMP/minimal-rx" mrx0 6081 $((DUR + 40)) "$RCVBUF_MB"
	wait_log "mrx$run" ready
	wait_udp appliance 6081
	live "minimal#$run" mrx0
	drain "minimal#$run" mrx0 "$(pgrep -P "${BG_PID[mrx$run]}" | head -1)"
	bg_stop "mrx$run" 5
	echo "  minimal-rx: $(grep '^{' "$(bg_log "mrx$run")")"
	wait_link_gone appliance mrx0 5
done
