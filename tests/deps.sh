# Debian packages the build, the tests, the lab and the demo need.
# Sourced by tests/run and lab/demo; installs only what is missing.
# The last line: the Debian package (tests/package), its unit and completion.
GWLB_DEPS="autoconf automake libtool pkg-config make gcc libc6-dev
libmnl-dev libnl-3-dev libnl-route-3-dev libreadline-dev libcmocka-dev
mandoc iproute2 iputils-ping ethtool procps python3 python3-scapy tshark
iperf3 tmux curl tcpdump universal-ctags valgrind clang libclang-rt-dev util-linux
debhelper lintian dpkg-dev systemd bash-completion"

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
