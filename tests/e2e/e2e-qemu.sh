#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# End-to-end test with QEMU guests (sid's QEMU 11.1 under TCG, bookworm's
# kernel; see qemu-setup.sh), for the network and then the uds backend (or
# the backends given as arguments).  QEMU is started with the command line
# README.md gives.  One daemon per backend, and in turn:
#  - guest g1 boots; a client that comes after the boot gets the boot
#    output it missed first (the marker);
#  - a command typed in one write runs and its output comes back;
#  - 1 MiB guest -> client and 256 KiB client -> guest byte-exact (md5);
#  - the client disconnects and reconnects, the console still works;
#  - the guest reboots (reboot -f; the same QEMU resets the device and
#    brings it up again) and the console works again, the daemon and its
#    worker untouched;
#  - QEMU quits (QMP quit); a new QEMU g2 attaches to the same daemon and
#    works;
#  - a second QEMU on the socket g2 is served by is refused at once: it
#    exits with an error within a few seconds, and g2 carries on;
#  - g2 powers off, SIGTERM stops the daemon with status 0.
# For uds the daemon also has --port=org.qemu.guest_agent.0:...: QEMU's
# num_vqs=4 carries only the console, which the daemon logs ("1 of 2 ports
# fit"), and all of the above works the same.
#
#   VDC_DAEMON=build/san/vhost-device-console bash tests/e2e/e2e-qemu.sh [network|uds]...
#
# Exit status 0 pass, 77 skip (no QEMU guest possible here), 1 fail.

set -u
# shellcheck source-path=SCRIPTDIR source=e2e-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e-lib.sh"

# The whole run boots four QEMU guests per backend.
: "${VDC_E2E_WATCHDOG:=$((150 * ($# > 0 ? $# : 2)))}"
e2e_init qemu qemu

# README.md's QEMU command line is the one this test runs.
readme_has_qemu_command_line() {
	local readme="$UML_E2E_DIR/../../README.md" a i
	local -a want=()
	for ((i = 0; i < ${#QEMU_MACHINE_ARGS[@]}; i += 2)); do
		want+=("${QEMU_MACHINE_ARGS[i]} ${QEMU_MACHINE_ARGS[i + 1]}")
	done
	mapfile -t -O "${#want[@]}" want < <(qemu_device_args /tmp/vc0 con0 | paste -d ' ' - -)
	want+=("-append console=ttyS0" "-display none -nodefaults")
	for a in "${want[@]}"; do
		grep -qF -e "$a" "$readme" ||
			e2e_fail "README.md's QEMU command line lacks '$a', which the tests run"
	done
	e2e_ok "README.md gives the QEMU command line the tests run"
}
readme_has_qemu_command_line

# workers_started: how many times the daemon's log says a worker started.
workers_started() {
	grep -c 'worker [0-9]* started' "$DAEMON_LOG"
}

# guest_quit NAME: QEMU quits over QMP; the guest does not power off.
guest_quit() {
	local name=$1 n=200 rc=0
	qemu_qmp "$E2E_DIR/$name" quit >"$E2E_DIR/$name.qmp" 2>&1
	while kill -0 "${GUEST_PID[$name]}" 2>/dev/null; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || e2e_fail "QEMU of guest $name did not quit within 10 s of QMP quit" \
			"QMP said: $(tr '\n' ' ' <"$E2E_DIR/$name.qmp")"
		sleep 0.05
	done
	wait "${GUEST_PID[$name]}" || rc=$?
	# 125: QEMU ended with status 0 and the guest reported nothing.
	[ "$rc" = 125 ] || e2e_fail "QEMU of guest $name: status $rc after QMP quit (want 125: QEMU exited 0 before the guest's payload ended)"
	e2e_ok "QEMU of guest $name quit (QMP quit)"
}

# check_second_frontend_refused SOCKET GUEST CLIENT DUP: while GUEST is
# served on SOCKET, a second QEMU (guest DUP) on it is refused at once, and
# GUEST carries on.
check_second_frontend_refused() {
	local sock=$1 g=$2 c=$3 dup=$4 n=200 rc=0 t0 why
	t0=$(e2e_now_ms)
	guest_start "$dup" "$sock" 30
	while kill -0 "${GUEST_PID[$dup]}" 2>/dev/null; do
		n=$((n - 1))
		if [ "$n" -le 0 ]; then
			_e2e_guest_kill "$dup"
			# Braces: bash's "Killed" notice goes to /dev/null too.
			{ wait "${GUEST_PID[$dup]}"; } 2>/dev/null
			e2e_fail "a second QEMU on $sock, which already serves guest $g, was not refused" \
				"expected: the daemon accepts and closes its connection at once, QEMU exits with an error" \
				"got: QEMU still running after 10 s, waiting for the daemon's reply (its connection sits in the listen backlog)" \
				"QEMU said: $(grep -v '^E2E-LOG' "$E2E_DIR/$dup.console" | head -3 | tr '\n' ' ')"
		fi
		sleep 0.05
	done
	wait "${GUEST_PID[$dup]}" || rc=$?
	why=$(grep -a 'qemu-system' "$E2E_DIR/$dup.console" | head -n1)
	case $rc in
	0 | 124 | 125) e2e_fail "a second QEMU on $sock ended with status $rc; want QEMU's own error status" \
		"its console: $(head -c 300 "$E2E_DIR/$dup.console" | tr '\n' ' ')" ;;
	esac
	grep -aq "E2E-LOG: hvc0-ready $dup" "$E2E_DIR/$dup.console" &&
		e2e_fail "the second QEMU on $sock booted a guest with a console; it should have been refused"
	e2e_ok "a second QEMU on $sock was refused in $(($(e2e_now_ms) - t0)) ms, status $rc: $why"
	check_command "$c" "$g"
	e2e_ok "guest $g, served on $sock, was not disturbed by the refused QEMU"
}

# echo_round_trips CLIENT N: N lines typed one at a time, each echoed back
# by the guest's shell (a builtin: no fork in the guest); logs the times.
echo_round_trips() {
	local c=$1 i t0 ms min=999999 sum=0
	for ((i = 0; i < $2; i++)); do
		e2e_mark RTT
		t0=$(e2e_now_ms)
		client_send "$c" "echo $MARK_IN\r"
		client_wait "$c" "$MARK_OUT" 10
		ms=$(($(e2e_now_ms) - t0))
		sum=$((sum + ms))
		[ "$ms" -lt "$min" ] && min=$ms
	done
	e2e_ok "client $c: $2 typed lines echoed by the guest's shell: min $min ms, mean $((sum / $2)) ms (to 50 ms)"
}

qemu_scenario() {
	local backend=$1 spec sock boot_ms t0 g1 g2 c1 c2 dup
	# Names of their own per backend: each guest has its run directory.
	g1="$backend-g1" g2="$backend-g2" c1="$backend-c1" c2="$backend-c2" dup="$backend-dup"
	# uds: the daemon also has a guest agent port, which README's QEMU
	# line (num_vqs=4) has no queues for: the console alone is offered,
	# and everything below must work the same.
	local -a ports=()
	[ "$backend" = uds ] && ports=(--port="org.qemu.guest_agent.0:$E2E_DIR/ga")
	# The console's size reaches bookworm's kernel too (RESIZE, in the
	# spec's order: its 6.1 has the fix).
	daemon_start "$backend" "${ports[@]}" --console-size=100x30
	sock="${DAEMON_SOCK}0"
	case $backend in
	network) spec="tcp:$DAEMON_PORT" ;;
	uds) spec="unix:${DAEMON_UDS}0" ;;
	esac

	t0=$(e2e_now_ms)
	guest_start "$g1" "$sock"
	guest_wait_ready "$g1"
	boot_ms=$(($(e2e_now_ms) - t0))
	e2e_log "$backend: QEMU start to hvc0 ready: $boot_ms ms"
	client_connect "$c1" "$spec"
	check_boot_output "$c1" "$g1"
	check_command "$c1" "$g1"
	check_stty_size "$c1" "$g1" 30 100
	if [ "${#ports[@]}" -gt 0 ]; then
		grep -q 'the frontend has 4 queues: 1 of 2 ports fit' "$DAEMON_LOG" ||
			e2e_fail "with --port and QEMU's num_vqs=4 the daemon should log that 1 of 2 ports fit" \
				"$(grep -a 'queues' "$DAEMON_LOG" | tail -n 3)"
		e2e_ok "a daemon with --port and a QEMU with num_vqs=4: the console alone is offered (logged), and it works"
	fi
	echo_round_trips "$c1" 5
	check_bulk_out "$c1" "$g1" 1048576
	check_bulk_in "$c1" "$g1" 262144

	client_close "$c1"
	client_connect "$c2" "$spec"
	check_command "$c2" "$g1"
	e2e_ok "the client disconnected and reconnected; the console still works"

	# The guest reboots; the same QEMU resets the device and starts it again.
	client_send "$c2" "reboot -f\r"
	guest_wait_ready "$g1" 20 2
	check_marker "$c2" "$g1"
	check_command "$c2" "$g1"
	[ "$(workers_started)" = 1 ] ||
		e2e_fail "the daemon's worker was restarted during the guest's reboot" \
			"$(grep -a 'worker' "$DAEMON_LOG" | tail -n 5)"
	e2e_ok "guest $g1 rebooted in the same QEMU; its console works again, the daemon's worker untouched"

	# QEMU quits; a new QEMU attaches to the same daemon.
	guest_quit "$g1"
	guest_start "$g2" "$sock"
	check_marker "$c2" "$g2"
	check_command "$c2" "$g2"
	e2e_ok "QEMU of $g1 quit, a new QEMU ($g2) attached to the same daemon and works"

	check_second_frontend_refused "$sock" "$g2" "$c2" "$dup"

	guest_exit "$c2" "$g2"
	client_close "$c2"
	[ "$(workers_started)" = 1 ] ||
		e2e_fail "the daemon's worker was restarted" "$(grep -a 'worker' "$DAEMON_LOG" | tail -n 5)"
	daemon_stop
	unset "GUEST_PID[$g1]" "GUEST_PID[$g2]" "GUEST_PID[$dup]"
}

[ $# -gt 0 ] || set -- network uds
for backend in "$@"; do
	case $backend in
	network | uds) qemu_scenario "$backend" ;;
	*) e2e_fail "unknown backend '$backend' (network or uds)" ;;
	esac
done
