#!/bin/sh
# gwlbtun-hook.sh: an example CREATE/DESTROY hook for gwlbtund(8), see
# gwlbtun-hooks(7).  Use it for both -c and -r:
#
#   gwlbtund -c /etc/gwlbtun/gwlbtun-hook.sh -r /etc/gwlbtun/gwlbtun-hook.sh
#
# One-arm appliance with a routing table per GWLB endpoint (ENI): whatever
# arrives on gwi-X is routed by table N, whose default route goes back out
# of gwo-X to GWLB.  A table per ENI keeps endpoints apart even when their
# VPCs use overlapping addresses.  Put your own filtering (nftables,
# iptables) between the two: forwarded packets go gwi-X -> gwo-X.
# rp_filter needs no care: gwlbtund keeps it at 0 on its links.  (gwlbtund
# can also install such routes and rules itself, see gwlbtund.conf(5) and
# "table eni"; this hook is for those who keep upstream-style hooks.)
#
# N is derived from the ENI id: TABLE_BASE plus its low 24 bits, so the
# same ENI always gets the same table across restarts, and the default base
# keeps clear of gwlbtund's own --table-range (10000-19999).  Two ENIs whose
# ids share their low 24 bits would collide; CREATE refuses to take over a
# table that routes out of another link, and says so.
#
# Called as: HOOK CREATE|DESTROY gwi-X gwo-X|none ENI (17 hex digits).
# Its output goes to gwlbtund's log, section "hook", one line per line.
# It must be safe to run again for the same ENI: after a crash of
# gwlbtund, no DESTROY ran and the rules of the last run are still there.
set -eu

PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

# Settable from gwlbtund's environment (it passes no GWLB_* variable of its
# own environment on, hence the GWLBTUN_ prefix).
TABLE_BASE=${GWLBTUN_TABLE_BASE:-1000000}	# tables TABLE_BASE .. +16777215
RULE_PREF=${GWLBTUN_RULE_PREF:-1000}	# before the main table (32766)

if [ $# -ne 4 ]; then
	echo "usage: $0 CREATE|DESTROY gwi-X gwo-X|none ENI" >&2
	exit 2
fi
action=$1 in=$2 out=$3 eni=$4

case $eni in
*[!0-9a-f]*|"") echo "bad ENI id '$eni'" >&2; exit 2 ;;
esac
case $in in
gwi-*) ;;
*) echo "bad link name '$in'" >&2; exit 2 ;;
esac
# The last 6 hex digits of the ENI id: 0 .. 16777215.
low=${eni#"${eni%??????}"}
table=$((TABLE_BASE + 0x$low))

# Print each command before running it, so the log shows what was done.
run() {
	echo "+ $*"
	"$@"
}

have_ipv6() {
	[ -d /proc/sys/net/ipv6 ]
}

# Remove every rule that sends $in to our table (more than one can be left
# over from earlier runs).
del_rules() {
	while ip "$@" rule del iif "$in" table "$table" 2>/dev/null; do
		echo "+ ip $* rule del iif $in table $table"
	done
}

# Flush our table if it exists ("ip route flush" fails on one that does not).
flush_table() {
	if ip "$1" route show table "$table" >/dev/null 2>&1; then
		run ip "$1" route flush table "$table"
	fi
}

case $action in
CREATE)
	echo "ENI $eni: $in -> table $table -> ${out}"
	if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != 1 ]; then
		echo "warning: net.ipv4.ip_forward is 0: nothing will be forwarded"
	fi
	if [ "$out" = none ]; then
		# gwlbtund --no-return: no gwo- link to send on.
		echo "no return link (--no-return): leaving $in to the main table"
		exit 0
	fi
	# A table that does not exist yet is an error for "ip route show".
	existing=$(ip -4 route show table "$table" default 2>/dev/null) || existing=
	case $existing in
	""|*" dev $out"|*" dev $out "*) ;;
	*)
		echo "table $table already routes elsewhere ($existing):" \
		    "another ENI whose id ends in $low? Give one of them its own table." >&2
		exit 1
		;;
	esac
	del_rules -4
	run ip -4 route replace default dev "$out" table "$table"
	run ip -4 rule add iif "$in" table "$table" pref "$RULE_PREF"
	if have_ipv6; then
		del_rules -6
		run ip -6 route replace default dev "$out" table "$table"
		run ip -6 rule add iif "$in" table "$table" pref "$RULE_PREF"
	fi
	;;
DESTROY)
	echo "ENI $eni: removing $in -> table $table"
	# The routes would go with the link; flushing also removes whatever
	# else was added to the table by hand.
	del_rules -4
	flush_table -4
	if have_ipv6; then
		del_rules -6
		flush_table -6
	fi
	;;
*)
	echo "unknown action '$action'" >&2
	exit 2
	;;
esac
