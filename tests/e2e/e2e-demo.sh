#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# Test of the demo (demo.sh, `make demo`) in a pseudo-terminal, as a
# newcomer would run it:
#  - a guest shell prompt comes up within seconds;
#  - a typed command runs in the guest;
#  - Ctrl-a x ends the demo with status 0 and leaves nothing running and
#    no files behind; so does `exit` typed in the guest.
#
#   VDC_DAEMON=build/san/vhost-device-console bash tests/e2e/e2e-demo.sh
#
# Exit status 0 pass, 77 skip (no UML guest possible here), 1 fail.

set -u
# shellcheck source-path=SCRIPTDIR source=e2e-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e-lib.sh"

e2e_init demo

# demo_run NAME HOW: start the demo, check the prompt and a command, end it
# by HOW (ctrl-a-x or exit).
demo_run() {
	local c=$1 how=$2 run t0 left
	t0=$(e2e_now_ms)
	client_pty "$c" -e env VDC_DAEMON="$E2E_DAEMON" VDC_DEMO_KEEP=0 \
		bash "$UML_E2E_DIR/demo.sh"
	client_wait "$c" "logs in /[^ )]*" 20 -E
	run=${CLIENT_MATCH#logs in }
	client_wait "$c" "guest:~# " 20
	e2e_ok "demo ($how): a guest shell prompt after $(($(e2e_now_ms) - t0)) ms"
	e2e_mark DEMO
	client_send "$c" "echo \"$MARK_IN \$(uname -s) \$(tty)\"\r"
	client_wait "$c" "$MARK_OUT Linux /dev/hvc0" 10
	e2e_ok "demo ($how): a typed command ran in the guest on /dev/hvc0"
	case $how in
	ctrl-a-x)
		client_send "$c" '\001x'
		client_wait "$c" "daemon quit; halting the guest" 10 ;;
	exit)
		client_send "$c" 'exit\r'
		client_wait "$c" "the guest powered off; daemon stopped" 15 ;;
	esac
	client_close "$c"
	[ "$CLIENT_STATUS" = 0 ] || e2e_fail "demo ($how): demo.sh ended with status $CLIENT_STATUS (want 0)"
	[ ! -e "$run" ] || e2e_fail "demo ($how): its directory $run is still there"
	left=$(e2e_procs_with "$run")
	[ -z "$left" ] || e2e_fail "demo ($how): processes left running:" "$left"
	e2e_ok "demo ($how): ended with status 0, nothing left running, no files left"
}

demo_run d1 ctrl-a-x
demo_run d2 exit
