#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# End-to-end test of `status` and --metrics-port with a real Linux guest
# (UML), uds backend, one boot:
#  1. before the guest: status says guest 0 is not attached, with no
#     clients; promtool accepts the metrics;
#  2. the guest booted and a writer and a watcher connected: status and
#     status --json (read by jq) say attached, console open, the writer
#     and the watcher with uid 0, and the metrics say the same;
#  3. the guest writes 1 MiB to the writer while the watcher is stopped
#     (SIGSTOP): the output counter moved by at least 1 MiB, the watcher's
#     dropped bytes are counted for it alone, equal to what its note says
#     once it reads again, and promtool still accepts the metrics;
#  4. the guest powers off: status says not attached and the frontend
#     attaches counter says 1.
#
#   VDC_DAEMON=build/san/vhost-device-console bash tests/e2e/e2e-status.sh
#
# Exit status 0 pass, 77 skip (no UML guest possible here), 1 fail.

set -u
# shellcheck source-path=SCRIPTDIR source=e2e-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e-lib.sh"

e2e_init status

STALLED=""
status_cleanup() {
	local rc=$?
	[ -n "$STALLED" ] && kill -CONT "$STALLED" 2>/dev/null
	(exit "$rc")
	e2e_cleanup
}
trap status_cleanup EXIT

for tool in jq promtool curl; do
	command -v "$tool" >/dev/null || e2e_fail "$tool is needed (tests/ensure-deps.sh installs it)"
done

# status_json EXPR: jq's answer about `status --json`.
status_json() {
	"$E2E_DAEMON" status -s "$DAEMON_SOCK" --json >"$E2E_DIR/status.json" ||
		e2e_fail "status --json failed with status $?"
	jq -r "$1" "$E2E_DIR/status.json" ||
		e2e_fail "jq cannot read status --json" "$(head -c 300 "$E2E_DIR/status.json")"
}

# metric NAME{LABELS}: its value now.
metric() {
	curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >"$E2E_DIR/metrics.txt" ||
		e2e_fail "the metrics endpoint did not answer"
	promtool check metrics <"$E2E_DIR/metrics.txt" >"$E2E_DIR/promtool.out" 2>&1 ||
		e2e_fail "promtool refused the metrics" "$(cat "$E2E_DIR/promtool.out")"
	awk -v m="$1" '$1 == m { print $2 }' "$E2E_DIR/metrics.txt"
}

# want WHAT GOT EXPECTED
want() {
	[ "$2" = "$3" ] || e2e_fail "$1 should be $3" "it is '$2'"
}

# Below the ephemeral ports (32768 up), one nothing listens on.
for try in 1 2 3 4 5 6 7 8; do
	METRICS_PORT=$((20000 + (RANDOM * 7 + $$ + try * 997) % 12000))
	(echo >"/dev/tcp/127.0.0.1/$METRICS_PORT") 2>/dev/null || break
done
daemon_start uds --metrics-port="$METRICS_PORT" --output-buffer=256K

# --- 1. nobody yet -----------------------------------------------------------
line=$("$E2E_DAEMON" status -s "$DAEMON_SOCK") || e2e_fail "status failed with status $?"
case $line in
"guest 0: not attached, console closed; 0 clients;"*) ;;
*) e2e_fail "status should say guest 0 is not attached" "it says: $line" ;;
esac
want "frontend_attached before a guest" "$(metric 'vhost_device_console_frontend_attached{guest="0"}')" 0
e2e_ok "before the guest: not attached, no clients; promtool accepts the metrics"

# --- 2. a guest, a writer and a watcher ----------------------------------------
guest_start g1 "${DAEMON_SOCK}0" 150
guest_wait_ready g1
client_connect c1 "unix:${DAEMON_UDS}0"
check_boot_output c1 g1
check_command c1 g1
client_connect w1 "unix:${DAEMON_UDS}0" -b 4096
n=200
until [ "$(status_json '.guests[0].clients | length')" = 2 ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || e2e_fail "status should come to show two clients within 10 s"
	sleep 0.05
done
want "attached" "$(status_json '.guests[0].attached')" true
want "console_open" "$(status_json '.guests[0].console_open')" true
want "the first client's role" "$(status_json '.guests[0].clients[0].role')" writer
want "the second client's role" "$(status_json '.guests[0].clients[1].role')" watcher
want "the clients' uids" "$(status_json '[.guests[0].clients[].uid] | join(",")')" "0,0"
line=$("$E2E_DAEMON" status -s "$DAEMON_SOCK")
case $line in
"guest 0: attached since "*", console open; 2 clients: writer unix uid 0 pid "*", watcher unix uid 0 pid "*) ;;
*) e2e_fail "status should show the attached guest, its writer and its watcher" "it says: $line" ;;
esac
want "frontend_attached" "$(metric 'vhost_device_console_frontend_attached{guest="0"}')" 1
want "console_open metric" "$(metric 'vhost_device_console_console_open{guest="0"}')" 1
want "clients metric" "$(metric 'vhost_device_console_clients{guest="0"}')" 2
e2e_ok "a booted guest, a writer and a watcher: $line"

# --- 3. 1 MiB while the watcher does not read ------------------------------------
out0=$(metric 'vhost_device_console_output_bytes_total{guest="0"}')
in0=$(metric 'vhost_device_console_input_bytes_total{guest="0"}')
STALLED=${CLIENT_PID[w1]}
kill -STOP "$STALLED"
bulk_out_prepare c1 g1 1048576
bulk_out_start c1
bulk_out_finish c1 g1
out1=$(metric 'vhost_device_console_output_bytes_total{guest="0"}')
in1=$(metric 'vhost_device_console_input_bytes_total{guest="0"}')
[ $((out1 - out0)) -ge 1048576 ] ||
	e2e_fail "the output counter should move by at least 1 MiB with the guest's 1 MiB" "it moved from $out0 to $out1"
[ "$in1" -gt "$in0" ] || e2e_fail "the input counter should move with the commands typed" "$in0 then $in1"
e2e_ok "the guest's 1 MiB moved vhost_device_console_output_bytes_total by $((out1 - out0)), typing moved input by $((in1 - in0))"
dropped=$(status_json '.guests[0].clients[1].dropped_bytes')
want "the writer's dropped bytes" "$(status_json '.guests[0].clients[0].dropped_bytes')" 0
[ "$dropped" -gt 0 ] || e2e_fail "the stopped watcher should have dropped bytes counted" "$(cat "$E2E_DIR/status.json")"
want "the guest's dropped client bytes" "$(status_json '.guests[0].dropped.clients')" "$dropped"
want "the dropped metric" "$(metric 'vhost_device_console_dropped_bytes_total{guest="0",reason="client"}')" "$dropped"
kill -CONT "$STALLED"
STALLED=""
check_command c1 g1
client_wait w1 "$MARK_OUT" 30
noted=$(LC_ALL=C grep -ao '[0-9]* bytes of output dropped here' "$E2E_DIR/w1.out" |
	awk '{ s += $1 } END { print s + 0 }')
want "the bytes the watcher's notes say it lost" "$noted" "$dropped"
e2e_ok "the stopped watcher's $dropped dropped bytes: in status, in the metrics and in its own notes"

# --- 4. the guest goes ----------------------------------------------------------
guest_exit c1 g1
n=200
until [ "$(status_json '.guests[0].attached')" = false ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || e2e_fail "status should say not attached within 10 s of the guest's power-off"
	sleep 0.05
done
want "frontend attaches" "$(metric 'vhost_device_console_frontend_attaches_total{guest="0"}')" 1
want "console_open after power-off" "$(status_json '.guests[0].console_open')" false
e2e_ok "the guest powered off: not attached, 1 attach counted"
client_close c1
client_close w1
daemon_stop
