#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# End-to-end test of the daemon started as systemd starts a socket unit's
# service, with a real Linux guest (UML): Debian's systemd-socket-activate
# holds the vhost-user socket (named "vhost-user", as the shipped socket
# unit names it) and starts the daemon when the guest connects; the guest
# boots against the passed socket, its console (uds, bound by the daemon)
# works, a notify socket this script listens on receives READY=1 with
# STATUS=, RELOADING=1 and READY=1 around SIGUSR1, and STOPPING=1, in that
# order; after SIGTERM the passed socket is still there (systemd's) and the
# console socket the daemon bound is gone.
#
#   VDC_DAEMON=build/san/vhost-device-console bash tests/e2e/e2e-systemd.sh
#
# Exit status 0 pass, 77 skip (no UML guest possible here), 1 fail.

set -u
# shellcheck source-path=SCRIPTDIR source=e2e-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e-lib.sh"

e2e_init systemd
command -v systemd-socket-activate >/dev/null ||
	e2e_fail "no systemd-socket-activate (Debian's systemd package; tests/ensure-deps.sh installs it)"

NOTIFY="$E2E_DIR/notify"
# Kept as a client's capture: the cleanup ends it, the diagnostics show it.
NOTIFY_LOG="$E2E_DIR/notify.out"
# The notify socket: each datagram one line ('|' for its newlines); ends
# after STOPPING=1, or after 120 s.
_e2e_bg /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(120)
with open(sys.argv[2], "a") as log:
    while True:
        m = s.recv(4096).decode().replace("\n", "|")
        log.write(m + "\n")
        log.flush()
        if m == "STOPPING=1":
            break
' "$NOTIFY" "$NOTIFY_LOG" </dev/null
NOTIFY_PID=$!
CLIENT_PID[notify]=$NOTIFY_PID
n=100
while [ ! -S "$NOTIFY" ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || e2e_fail "the notify socket $NOTIFY was not bound within 5 s"
	sleep 0.05
done

# notify_wait LINE: the notify log's next line (after the ones already
# checked) is LINE; WATCHDOG=1 lines are skipped.
NOTIFY_SEEN=0
notify_wait() {
	local want=$1 n=200 got
	while :; do
		got=$(grep -v '^WATCHDOG=1$' "$NOTIFY_LOG" 2>/dev/null | sed -n "$((NOTIFY_SEEN + 1))p")
		if [ -n "$got" ]; then
			# shellcheck disable=SC2254 # a pattern: MONOTONIC_USEC=[0-9]*
			case $got in
			$want) NOTIFY_SEEN=$((NOTIFY_SEEN + 1)); e2e_ok "notify socket: $got"; return 0 ;;
			*) e2e_fail "notify socket: expected '$want' next, got '$got'" "$(cat "$NOTIFY_LOG")" ;;
			esac
		fi
		n=$((n - 1))
		[ "$n" -gt 0 ] || e2e_fail "notify socket: no '$want' within 10 s" "$(cat "$NOTIFY_LOG" 2>/dev/null)"
		sleep 0.05
	done
}

# notify_status_until LINE: STATUS= lines (the summary following the
# frontend and the clients) until LINE, which must come.
notify_status_until() {
	local want=$1 n=200 got
	while :; do
		got=$(grep -v '^WATCHDOG=1$' "$NOTIFY_LOG" 2>/dev/null | sed -n "$((NOTIFY_SEEN + 1))p")
		if [ "$got" = "$want" ]; then
			NOTIFY_SEEN=$((NOTIFY_SEEN + 1))
			e2e_ok "notify socket: $got"
			return 0
		fi
		case $got in
		"") ;;
		STATUS=*) NOTIFY_SEEN=$((NOTIFY_SEEN + 1)); continue ;;
		*) e2e_fail "notify socket: expected STATUS= lines up to '$want', got '$got'" "$(cat "$NOTIFY_LOG")" ;;
		esac
		n=$((n - 1))
		[ "$n" -gt 0 ] || e2e_fail "notify socket: no '$want' within 10 s" "$(cat "$NOTIFY_LOG" 2>/dev/null)"
		sleep 0.05
	done
}

DAEMON_SOCK="$E2E_DIR/guest.sock"
DAEMON_UDS="$E2E_DIR/console"
DAEMON_LOG="$E2E_DIR/daemon.log"
# systemd-socket-activate execs the daemon in its place: one pid.
_e2e_bg systemd-socket-activate -l "$DAEMON_SOCK" --fdname=vhost-user \
	-E NOTIFY_SOCKET="$NOTIFY" -E WATCHDOG_USEC=2000000 \
	"$E2E_DAEMON" --backend=uds --uds-path="$DAEMON_UDS" \
	--max-queue-size=256 --log-level=debug 2>"$DAEMON_LOG" </dev/null
DAEMON_PID=$!
n=200
while ! grep -q "Listening on $DAEMON_SOCK" "$DAEMON_LOG" 2>/dev/null; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || e2e_fail "systemd-socket-activate did not listen on $DAEMON_SOCK"
	sleep 0.05
done
[ -e "${DAEMON_UDS}0" ] && e2e_fail "the daemon runs before anybody connected"
e2e_ok "systemd-socket-activate listens on $DAEMON_SOCK; the daemon waits for the first connection"

guest_start g1 "$DAEMON_SOCK"
notify_wait "READY=1|STATUS=0 of 1 guest attached, 0 clients"
grep -q "listening on 1 socket passed by systemd (uds backend)" "$DAEMON_LOG" ||
	e2e_fail "the daemon did not say it serves the passed socket"
guest_wait_ready g1
client_connect c1 "unix:${DAEMON_UDS}0"
check_boot_output c1 g1
check_command c1 g1
check_bulk_out c1 g1 65536
# The summary followed the guest and its client.
notify_status_until "STATUS=1 of 1 guest attached, 1 client"

kill -USR1 "$DAEMON_PID"
notify_wait "RELOADING=1|MONOTONIC_USEC=[0-9]*"
notify_wait "READY=1|STATUS=1 of 1 guest attached, 1 client"
check_command c1 g1
grep -q '^WATCHDOG=1$' "$NOTIFY_LOG" 2>/dev/null || {
	n=100
	while ! grep -q '^WATCHDOG=1$' "$NOTIFY_LOG"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || e2e_fail "no WATCHDOG=1 within 5 s (WATCHDOG_USEC=2000000)"
		sleep 0.05
	done
}
e2e_ok "notify socket: WATCHDOG=1 (every second with WATCHDOG_USEC=2000000)"

guest_exit c1 g1
client_close c1
daemon_stop
# The guest's power-off and the client's end show in the summary first.
notify_status_until "STOPPING=1"
wait "$NOTIFY_PID" 2>/dev/null
CLIENT_PID[notify]=""
[ -S "$DAEMON_SOCK" ] || e2e_fail "the daemon removed the socket systemd passed ($DAEMON_SOCK)"
[ -e "${DAEMON_UDS}0" ] && e2e_fail "the console socket the daemon bound (${DAEMON_UDS}0) was left behind"
e2e_ok "after SIGTERM the passed socket is still there and the daemon's own console socket is gone"
