#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# End-to-end test of --socket-count=2 with two real Linux guests at once
# (UML, or QEMU with --frontend=qemu), for the network backend (ports PORT
# and PORT+1) and then the uds backend (sockets PATH0 and PATH1):
#  - each client first gets its own guest's boot output;
#  - a command typed into each runs in its own guest;
#  - both guests send 1 MiB of random bytes at the same time, each client
#    gets its own guest's bytes exactly;
#  - 64 KiB typed into each client reach its own guest exactly;
#  - nothing of one guest or client shows up on the other's console.
#
#   VDC_DAEMON=build/san/vhost-device-console bash tests/e2e/e2e-multi.sh \
#	[--frontend=uml|qemu] [network|uds]...
#
# Exit status 0 pass, 77 skip (no guest possible here), 1 fail.

set -u
# shellcheck source-path=SCRIPTDIR source=e2e-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e-lib.sh"

frontend=uml
case ${1:-} in
--frontend=*)
	frontend=${1#--frontend=}
	shift ;;
esac
if [ "$frontend" = qemu ]; then
	# Two QEMU guests boot at once under TCG, on as few as two cores.
	: "${VDC_E2E_WATCHDOG:=$((120 * ($# > 0 ? $# : 2)))}"
	e2e_init multi-qemu qemu
else
	e2e_init multi uml
fi

two_guests() {
	local backend=$1 a b ca cb spec_a spec_b in_a in_b out_a out_b
	a="$backend-a" b="$backend-b" ca="c-$backend-a" cb="c-$backend-b"
	daemon_start "$backend" --socket-count=2
	case $backend in
	network) spec_a="tcp:$DAEMON_PORT" spec_b="tcp:$((DAEMON_PORT + 1))" ;;
	uds) spec_a="unix:${DAEMON_UDS}0" spec_b="unix:${DAEMON_UDS}1" ;;
	esac
	guest_start "$a" "${DAEMON_SOCK}0"
	guest_start "$b" "${DAEMON_SOCK}1"
	guest_wait_ready "$a" 30
	guest_wait_ready "$b" 30
	client_connect "$ca" "$spec_a"
	client_connect "$cb" "$spec_b"
	check_boot_output "$ca" "$a"
	check_boot_output "$cb" "$b"

	check_command "$ca" "$a"
	in_a=$MARK_IN out_a=$MARK_OUT
	check_command "$cb" "$b"
	in_b=$MARK_IN out_b=$MARK_OUT

	bulk_out_prepare "$ca" "$a" 1048576
	bulk_out_prepare "$cb" "$b" 1048576
	bulk_out_start "$ca"
	bulk_out_start "$cb"
	bulk_out_finish "$ca" "$a"
	bulk_out_finish "$cb" "$b"
	check_bulk_in "$ca" "$a" 65536
	check_bulk_in "$cb" "$b" 65536

	for s in "BOOT-OUTPUT $b" "$in_b" "$out_b" " $b Linux"; do
		client_absent "$ca" "$s"
	done
	for s in "BOOT-OUTPUT $a" "$in_a" "$out_a" " $a Linux"; do
		client_absent "$cb" "$s"
	done
	e2e_ok "$backend: no crosstalk between guest $a (port/socket 0) and guest $b (1)"

	guest_exit "$ca" "$a"
	guest_exit "$cb" "$b"
	client_close "$ca"
	client_close "$cb"
	daemon_stop
}

[ $# -gt 0 ] || set -- network uds
for backend in "$@"; do
	case $backend in
	network | uds) two_guests "$backend" ;;
	*) e2e_fail "unknown backend '$backend' (network or uds)" ;;
	esac
done
