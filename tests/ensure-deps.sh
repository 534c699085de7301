#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# Make sure the tools and libraries a make target needs are installed:
#
#   sh tests/ensure-deps.sh unit    make check-unit, check-tsan: Check only
#   sh tests/ensure-deps.sh demo    make demo: a UML guest in this terminal
#   sh tests/ensure-deps.sh check   make check: everything (the default)
#
# As root on Debian they are installed with apt-get; otherwise the exact
# command is printed and the check fails.
set -e

# The unit suites: Check and its pkg-config file.
UNIT="check pkg-config"
# A UML or QEMU guest (tests/e2e/*-setup.sh): busybox for the guest's
# root, patchelf for sid's binaries, xz and kmod for the kernel modules.
GUEST="busybox-static patchelf xz-utils kmod"
# qemu-guest-agent: its qemu-ga runs in the guests (e2e-ports.sh), jq
# checks its answers; libc6-dev: the static e2e-io for the guests.
E2E="qemu-guest-agent jq libc6-dev"
# chromium, nginx, openssl: the browser end-to-end test (e2e-browser.sh),
# which drives Debian's chromium and puts nginx with TLS in front.
BROWSER="chromium nginx openssl"
# prometheus: promtool checks the metrics (suite status, e2e-status.sh);
# python3's json module and curl read the status answers as a script would.
# The unit suites skip what needs them when they are missing.
STATUS="prometheus python3 curl"
# python3: the console log's asciicast recordings are checked by its JSON
# reader (tests/asciicast-check.py, suites console_log and log_file);
# asciinema plays them back (e2e-recording.sh).
CAST_UNIT="python3"
CAST="asciinema"
# systemd: systemd-socket-activate and systemd-analyze (suite systemd,
# e2e-systemd.sh, the units' check in suite install); not as PID 1. The
# unit suites skip what needs them when they are missing.
SYSTEMD="systemd"

target=${1:-check}
case $target in
unit) PACKAGES="$UNIT $CAST_UNIT" ;;
demo) PACKAGES="$GUEST" ;;
check) PACKAGES="$UNIT $CAST_UNIT $GUEST $E2E $BROWSER $SYSTEMD $CAST $STATUS" ;;
*)
	echo "ensure-deps: unknown target '$target' (unit, demo or check)" >&2
	exit 2
	;;
esac

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
# node and npm (the browser test's puppeteer-core): any that run will do
# (the machines have them outside of Debian's packages); Debian's if none.
if [ "$target" = check ] && { ! command -v node >/dev/null || ! command -v npm >/dev/null; }; then
	missing="$missing nodejs npm"
fi
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "ensure-deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# A fresh machine has no package lists yet.
	apt-get update -qq || true
	$cmd >/dev/null
	exit 0
fi
echo "ensure-deps: missing packages:$missing" >&2
echo "ensure-deps: run as root:  $cmd" >&2
exit 1
