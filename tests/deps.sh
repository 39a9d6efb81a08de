# Debian packages the build, the tests, the lab and the demo need.
# Sourced by tests/run and lab/demo; installs only what is missing.
# The last line: the Debian package (tests/package), its unit and completion.
GWLB_DEPS="autoconf automake libtool pkg-config make gcc libc6-dev
libmnl-dev libnl-3-dev libnl-route-3-dev libreadline-dev libcmocka-dev
mandoc iproute2 iputils-ping ethtool procps python3 python3-scapy tshark
iperf3 tmux curl tcpdump universal-ctags valgrind clang libclang-rt-dev util-linux
debhelper lintian dpkg-dev systemd bash-completion strace"

deps_install() {
	local missing=() p
	for p in $GWLB_DEPS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages: ${missing[*]} (run as root to install them)" >&2
		return 1
	fi
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
		debconf-set-selections 2>/dev/null || true
	apt-get update -q >/dev/null &&
		apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# promtool (tests/e2e/66-ops-metrics-promtool checks /metrics with it).
# Debian has it only in the prometheus package, whose installation starts
# a Prometheus server: fetch that package into a cache instead and unpack
# it there.  Prints the path of promtool; fails (never skips) when it
# cannot be had, so CI, which has apt and the network, always runs the check.
PROMTOOL_CACHE=${PROMTOOL_CACHE:-/var/cache/gwlbtun-tests/promtool}
promtool_path() {
	local p=$PROMTOOL_CACHE/root/usr/bin/promtool deb
	command -v promtool 2>/dev/null && return 0
	[ -x "$p" ] && { echo "$p"; return 0; }
	mkdir -p "$PROMTOOL_CACHE" || return 1
	# apt-get download runs as _apt where it can; the cache is root's.
	(cd "$PROMTOOL_CACHE" && apt-get download -q prometheus >&2 ||
		{ apt-get update -q >/dev/null && apt-get download -q prometheus >&2; }) ||
		{ echo "promtool: apt-get download prometheus failed" >&2; return 1; }
	for deb in "$PROMTOOL_CACHE"/prometheus_*.deb; do :; done
	[ -f "$deb" ] && dpkg-deb -x "$deb" "$PROMTOOL_CACHE/root" ||
		{ echo "promtool: cannot unpack $deb" >&2; return 1; }
	rm -f "$PROMTOOL_CACHE"/prometheus_*.deb
	[ -x "$p" ] || { echo "promtool: not in $deb" >&2; return 1; }
	echo "$p"
}
