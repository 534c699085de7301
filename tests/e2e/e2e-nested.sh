#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# End-to-end test of the nested backend with a real Linux guest (UML): the
# daemon runs on a pseudo-terminal (e2e-io pty) as it would in a person's
# terminal, its logs in a file.
#  - the guest's boot marker is the first thing on the terminal;
#  - a typed command runs in the guest and its output comes back;
#  - 1 MiB of random bytes from the guest (raw tty) arrives byte-exact;
#  - 256 KiB of random bytes typed with every Ctrl-a doubled (the escape
#    key) reach the guest (raw tty) byte-exact; Ctrl-a and another key
#    reach it as both;
#  - the guest shuts down, a new one boots against the same daemon, works;
#  - Ctrl-a x (the guest still running) quits with status 0, the terminal
#    is back in cooked mode and no daemon process is left;
#  - Ctrl-a x also quits a daemon that has no guest.
# (A late or returning client has no meaning here: the terminal is there
# from the start; network and uds test that.)
#
#   VDC_DAEMON=build/san/vhost-device-console bash tests/e2e/e2e-nested.sh
#
# Exit status 0 pass, 77 skip (no UML guest possible here), 1 fail.

set -u
# shellcheck source-path=SCRIPTDIR source=e2e-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e-lib.sh"

e2e_init nested

DAEMON_SOCK="$E2E_DIR/vu"
DAEMON_LOG="$E2E_DIR/daemon.log"
: >"$DAEMON_LOG"
# After the daemon: its status and the terminal's settings, on the terminal.
# shellcheck disable=SC2016 # expanded by that shell
client_pty term sh -c 'log=$1; shift; "$@" 2>"$log"; echo "@@DAEMON-EXIT $?"; stty -a' \
	sh "$DAEMON_LOG" "$E2E_DAEMON" --socket-path="$DAEMON_SOCK" --backend=nested \
	--max-queue-size=256 --log-level=debug
n=200
while ! grep -q 'listening on' "$DAEMON_LOG"; do
	n=$((n - 1))
	if [ "$n" -le 0 ] || ! kill -0 "${CLIENT_PID[term]}" 2>/dev/null; then
		e2e_fail "the daemon did not start listening on the terminal"
	fi
	sleep 0.05
done
e2e_log "daemon on a pseudo-terminal: --socket-path=$DAEMON_SOCK --backend=nested"

guest_start g1 "${DAEMON_SOCK}0"
guest_wait_ready g1
check_marker term g1
[ "$CLIENT_OFF" = 0 ] ||
	e2e_fail "the terminal must show only the guest's output, starting with its boot marker" \
		"got $CLIENT_OFF bytes before it: $(head -c "$CLIENT_OFF" "$E2E_DIR/term.out" | cat -v)"
e2e_ok "the terminal shows the guest's output and nothing else (logs go to stderr)"
check_command term g1
check_bulk_out term g1 1048576
check_bulk_in term g1 262144

# The escape key typed by hand: Ctrl-a a sends both, Ctrl-a Ctrl-a one.
e2e_mark READY
ready=$MARK_OUT ready_in=$MARK_IN
e2e_mark ESC
client_send term "stty raw -echo; echo $ready_in; echo \"$MARK_IN \$(head -c 4 | od -An -tx1)\"; stty sane\r"
client_wait term "$ready" 10
client_send term '\001a\001\001z'
client_wait term "$MARK_OUT +01 61 01 7a" 10 -E
e2e_ok "Ctrl-a a reached the guest as both keys, Ctrl-a Ctrl-a as one Ctrl-a"

guest_exit term g1
guest_start g2 "${DAEMON_SOCK}0"
check_marker term g2
check_command term g2
e2e_ok "guest g1 shut down, g2 booted against the same daemon and works"

# Quit while the guest runs, as a person would.
client_send term '\001x'
client_wait term "@@DAEMON-EXIT " 10
client_wait term "[0-9]+" 5 -E
[ "$CLIENT_MATCH" = 0 ] || e2e_fail "Ctrl-a x: the daemon exited with status $CLIENT_MATCH (want 0)"
client_close term
[ "$CLIENT_STATUS" = 0 ] || e2e_fail "the terminal's shell ended with status $CLIENT_STATUS"
settings=$(tail -c +"$((CLIENT_POS[term] + 1))" "$E2E_DIR/term.out" | tr -d "\r")
for want in icanon echo opost icrnl isig; do
	grep -qE -e "(^| )$want( |\$)" <<<"$settings" ||
		e2e_fail "after Ctrl-a x the terminal should be back in cooked mode" \
			"expected '$want' in stty -a, got:" "$settings"
done
e2e_ok "Ctrl-a x: the daemon quit with status 0 and gave the terminal back in cooked mode"
guest_halt g2
# No daemon process may be left (matched by our private socket path).
left=$(e2e_procs_with "--socket-path=$DAEMON_SOCK ")
[ -z "$left" ] || e2e_fail "daemon processes left after Ctrl-a x:" "$left"
_e2e_daemon_log_clean
e2e_ok "nothing left running, no sanitizer reports"

# Ctrl-a x must work with no guest at all (none booted yet, or it died).
DAEMON_LOG="$E2E_DIR/daemon2.log"
: >"$DAEMON_LOG"
# shellcheck disable=SC2016 # expanded by that shell
client_pty term2 sh -c 'log=$1; shift; "$@" 2>"$log"; echo "@@DAEMON-EXIT $?"' \
	sh "$DAEMON_LOG" "$E2E_DAEMON" --socket-path="$E2E_DIR/vu-idle" --backend=nested \
	--max-queue-size=256 --log-level=debug
n=200
while ! grep -q 'escape key is Ctrl-a' "$DAEMON_LOG"; do
	n=$((n - 1))
	if [ "$n" -le 0 ] || ! kill -0 "${CLIENT_PID[term2]}" 2>/dev/null; then
		e2e_fail "the second daemon did not start on its terminal"
	fi
	sleep 0.05
done
client_send term2 '\001x'
client_wait term2 "@@DAEMON-EXIT 0" 5
client_close term2
e2e_ok "Ctrl-a x quits with no guest connected"
