#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# End-to-end test of the console's size with a real Linux guest (UML):
#  - network, --console-size=100x30: `stty size` on hvc0 says "30 100";
#  - the same with --console-size-order=rows-first says "100 30": what a
#    guest that follows the spec's order (Linux 6.15 and later, or with the
#    stable fix) makes of the older order, and so the evidence of which
#    order this guest kernel reads;
#  - uds, --console-size=132x43: "43 132";
#  - nested, on a pseudo-terminal of 90x28: "28 90"; the terminal resized
#    to 111x33 while a guest program waits in the foreground: it gets
#    SIGWINCH (its trap prints "WINCH 33 111") and stty size says "33 111".
# Only harness primitives are used (daemon_start, guest_start, client_*),
# so another frontend's guest_start runs the same checks.
#
#   VDC_DAEMON=build/san/vhost-device-console bash tests/e2e/e2e-size.sh
#
# Exit status 0 pass, 77 skip (no UML guest possible here), 1 fail.

set -u
# shellcheck source-path=SCRIPTDIR source=e2e-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e-lib.sh"

e2e_init size

# size_socket_check BACKEND GUEST ROWS COLS DAEMON-OPTIONS...
size_socket_check() {
	local backend=$1 g=$2 rows=$3 cols=$4 spec
	shift 4
	daemon_start "$backend" "$@"
	case $backend in
	network) spec="tcp:$DAEMON_PORT" ;;
	uds) spec="unix:${DAEMON_UDS}0" ;;
	esac
	guest_start "$g" "${DAEMON_SOCK}0"
	guest_wait_ready "$g"
	client_connect "c-$g" "$spec"
	check_marker "c-$g" "$g"
	check_stty_size "c-$g" "$g" "$rows" "$cols"
	guest_exit "c-$g" "$g"
	client_close "c-$g"
	daemon_stop
}

size_socket_check network g1 30 100 --console-size=100x30
size_socket_check network g2 100 30 --console-size=100x30 --console-size-order=rows-first
e2e_ok "this guest reads RESIZE in the spec's order (cols, rows); rows-first swaps them"
size_socket_check uds g3 43 132 --console-size=132x43

# The nested backend on a terminal of 90x28.
DAEMON_SOCK="$E2E_DIR/vu-nested"
DAEMON_LOG="$E2E_DIR/daemon-nested.log"
: >"$DAEMON_LOG"
# shellcheck disable=SC2016 # expanded by that shell
client_pty term -s 90x28 sh -c 'log=$1; shift; "$@" 2>"$log"; echo "@@DAEMON-EXIT $?"' \
	sh "$DAEMON_LOG" "$E2E_DAEMON" --socket-path="$DAEMON_SOCK" --backend=nested \
	--max-queue-size=256 --log-level=debug
n=200
while ! grep -q 'listening on' "$DAEMON_LOG"; do
	n=$((n - 1))
	if [ "$n" -le 0 ] || ! kill -0 "${CLIENT_PID[term]}" 2>/dev/null; then
		e2e_fail "the nested daemon did not start listening on the terminal"
	fi
	sleep 0.05
done
guest_start g4 "${DAEMON_SOCK}0"
guest_wait_ready g4
check_marker term g4
check_stty_size term g4 28 90

winch_watch_start term
client_resize term 111 33
client_wait term "WINCH [0-9]+ [0-9]+" 10 -E
[ "$CLIENT_MATCH" = "WINCH 33 111" ] ||
	e2e_fail "the guest program's SIGWINCH trap should see the new size" \
		"expected 'WINCH 33 111', got '$CLIENT_MATCH'"
e2e_ok "terminal resized to 111x33: the guest's foreground program got SIGWINCH and sees 33 rows, 111 columns"
winch_watch_stop term g4
check_stty_size term g4 33 111
grep -q 'SIGWINCH: the terminal is 111x33' "$DAEMON_LOG" ||
	e2e_fail "the daemon log should show the SIGWINCH it took"

client_send term '\001x'
client_wait term "@@DAEMON-EXIT 0" 10
client_close term
guest_halt g4
_e2e_daemon_log_clean
e2e_ok "nested: the terminal's size, and its changes, reach the guest"
