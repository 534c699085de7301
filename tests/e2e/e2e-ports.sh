#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# End-to-end test of named ports (--port=NAME:PATH) with a real Linux guest:
# User Mode Linux (default) or QEMU.  One guest boot for all the checks.
#
# uml: the daemon (uds backend) has two ports beside the console,
# org.qemu.guest_agent.0 and data:
#  - the guest's driver names them: /sys/class/virtio-ports/vport0p1 is
#    org.qemu.guest_agent.0, vport0p2 is data; the guest makes the
#    /dev/virtio-ports/NAME links udev would make;
#  - Debian's qemu-guest-agent (the host's qemu-ga with its libraries,
#    copied into the guest) serves the agent port; the host client on the
#    port's socket gets correct answers to guest-sync-delimited (0xFF, then
#    the id echoed), guest-ping ({}) and guest-get-osinfo (the guest's
#    kernel-release and machine, as uname says on the console);
#  - the host side seen from the guest: with no host client a read of the
#    data port returns end-of-file at once and poll says POLLHUP; a host
#    client connecting clears POLLHUP; a guest reader blocked on the port
#    gets end-of-file when the host client leaves; POLLHUP comes back;
#  - 16 MiB guest -> host on the data port byte-exact (md5): the host
#    client first stops reading (SIGSTOP): the guest's writer waits (the
#    daemon takes no more of the port's output; nothing is lost) and the
#    console answers; then it reads on, and the console answers during the
#    transfer;
#  - 16 MiB host -> guest byte-exact: the host sends before the guest's
#    reader opens the port (the daemon holds it), the console answers
#    meanwhile and during the transfer;
#  - the agent still answers after all that; the guest powers off,
#    SIGTERM stops the daemon with status 0.
# qemu: the daemon has the agent port; QEMU's device has num_vqs=6 (as
# README.md gives it for one port beside the console), qemu-ga (with its
# libraries, in the initramfs) serves the port: the same agent exchange,
# and the console works.
#
#   VDC_DAEMON=build/san/vhost-device-console bash tests/e2e/e2e-ports.sh [uml|qemu]
#
# Exit status 0 pass, 77 skip (no guest possible here), 1 fail.

# Commands typed into the guest are in single quotes: its shell expands them.
# shellcheck disable=SC2016
set -u
# shellcheck source-path=SCRIPTDIR source=e2e-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e-lib.sh"

FRONTEND=${1:-uml}
case $FRONTEND in
uml | qemu) ;;
*) echo "usage: $0 [uml|qemu]" >&2; exit 2 ;;
esac
[ "$FRONTEND" = qemu ] && : "${VDC_E2E_WATCHDOG:=200}"
e2e_init "ports-$FRONTEND" "$FRONTEND"

AGENT=org.qemu.guest_agent.0
BIG=$((16 * 1024 * 1024))
QGA=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v qemu-ga) ||
	e2e_fail "qemu-ga not found: install the package qemu-guest-agent (tests/ensure-deps.sh does)"
command -v jq >/dev/null ||
	e2e_fail "jq not found: install the package jq (tests/ensure-deps.sh does)"

# The guest side, sourced by the guest's shell on hvc0 (busybox sh).
_ports_guest_script() {
	cat <<'EOF'
# e2e-ports.sh guest helpers
# port_links NAME...: the /dev/virtio-ports/NAME links udev would make,
# once the driver has named the ports; prints "PORTS NAME=DEV ...".
port_links() {
	mkdir -p /dev/virtio-ports
	_n=200
	for _want in "$@"; do
		while [ ! -e "/dev/virtio-ports/$_want" ]; do
			for _p in /sys/class/virtio-ports/*; do
				[ -r "$_p/name" ] || continue
				_name=$(cat "$_p/name")
				[ -n "$_name" ] && ln -sf "../${_p##*/}" "/dev/virtio-ports/$_name"
			done
			[ -e "/dev/virtio-ports/$_want" ] && break
			_n=$((_n - 1))
			[ "$_n" -gt 0 ] || { echo "PORTS-MISSING $_want"; return 1; }
			usleep 50000
		done
	done
	_out=PORTS
	for _want in "$@"; do
		_l=$(readlink "/dev/virtio-ports/$_want")
		_out="$_out $_want=${_l##*/}"
	done
	echo "$_out"
}
EOF
}

# agent_call CLIENT JSON [DELIMITED]: send one command to the agent, wait
# for its one-line answer; AGENT_REPLY is the JSON (after the 0xFF byte
# for DELIMITED=1, which must be there).
agent_call() {
	local c=$1 json=$2 delim=${3:-0} pos=${CLIENT_POS[$1]} n=$((30 * 20)) f="$E2E_DIR/$1.out"
	local t0 line first
	t0=$(e2e_now_ms)
	client_send "$c" "$json\n"
	while [ "$(tail -c +"$((pos + 1))" "$f" | wc -l)" -lt 1 ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || e2e_fail "client $c: no answer line from the guest agent within 30 s to $json"
		sleep 0.05
	done
	AGENT_MS=$(($(e2e_now_ms) - t0))
	line=$(tail -c +"$((pos + 1))" "$f" | LC_ALL=C head -n1)
	CLIENT_POS[$c]=$((pos + $(printf '%s\n' "$line" | LC_ALL=C wc -c)))
	if [ "$delim" = 1 ]; then
		first=$(printf '%s' "$line" | head -c1 | od -An -tx1 | tr -d ' ')
		[ "$first" = ff ] || e2e_fail "client $c: the answer to guest-sync-delimited must start with a 0xFF byte" \
			"got first byte 0x$first: $(printf '%s' "$line" | cat -v)"
		line=$(printf '%s' "$line" | tail -c +2)
	fi
	printf '%s' "$line" | jq -e . >/dev/null 2>&1 ||
		e2e_fail "client $c: the agent's answer to $json is not JSON" "got: $(printf '%s' "$line" | cat -v)"
	AGENT_REPLY=$line
}

# agent_check CLIENT GUEST KERNEL-RELEASE MACHINE: the three commands.
agent_check() {
	local c=$1 g=$2 rel=$3 mach=$4 id=$((RANDOM + 1000)) sync_ms
	agent_call "$c" "{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":$id}}" 1
	sync_ms=$AGENT_MS
	jq -e --argjson id "$id" '.return == $id' <<<"$AGENT_REPLY" >/dev/null ||
		e2e_fail "client $c: guest-sync-delimited should echo id $id" "got: $AGENT_REPLY"
	agent_call "$c" '{"execute":"guest-ping"}'
	jq -e '.return == {}' <<<"$AGENT_REPLY" >/dev/null ||
		e2e_fail "client $c: guest-ping should return {}" "got: $AGENT_REPLY"
	e2e_ok "client $c: guest agent in $g: guest-sync-delimited echoed id $id after 0xFF ($sync_ms ms), guest-ping returned {} ($AGENT_MS ms)"
	agent_call "$c" '{"execute":"guest-get-osinfo"}'
	jq -e --arg rel "$rel" --arg mach "$mach" \
		'.return["kernel-release"] == $rel and .return.machine == $mach and (.return["kernel-version"] | type) == "string"' \
		<<<"$AGENT_REPLY" >/dev/null ||
		e2e_fail "client $c: guest-get-osinfo should say kernel-release $rel, machine $mach (uname in the guest)" \
			"got: $AGENT_REPLY"
	e2e_ok "client $c: guest-get-osinfo: kernel-release $rel, machine $mach, as uname says ($AGENT_MS ms)"
}

# guest_say CLIENT GUEST CMD PATTERN [SECS]: type CMD, whose output line
# starts with a marker; wait for "MARKER PATTERN" (extended regex);
# GUEST_SAID is what follows the marker.  CMD uses @M@ for the marker.
guest_say() {
	local c=$1 typed=$3 pat=$4
	e2e_mark SAY
	client_send "$c" "${typed//@M@/$MARK_IN}\r"
	client_wait "$c" "$MARK_OUT $pat" "${5:-15}" -E
	GUEST_SAID=${CLIENT_MATCH#"$MARK_OUT "}
	GUEST_SAID=${GUEST_SAID%$'\r'}
}

# uname_of CLIENT GUEST: UNAME_R, UNAME_M as the guest's uname says.
uname_of() {
	guest_say "$1" "$2" 'echo "@M@ $(uname -r) $(uname -m)"' '[^ ]+ [^ ]+'
	UNAME_R=${GUEST_SAID% *} UNAME_M=${GUEST_SAID#* }
}

# qga_start CLIENT GUEST: the guest agent on /dev/virtio-ports/$AGENT,
# in the background; it runs when its pid file exists.
qga_start() {
	guest_say "$1" "$2" "qemu-ga -m virtio-serial -p /dev/virtio-ports/$AGENT -l /tmp/qga.log -f /tmp/qga.pid -t /tmp -d; n=100; while [ ! -s /tmp/qga.pid ] && [ \$n -gt 0 ]; do usleep 100000; n=\$((n - 1)); done; echo \"@M@ \$(cat /tmp/qga.pid 2>/dev/null || echo none)\"" '[^ ]+'
	[ "$GUEST_SAID" != none ] || e2e_fail "qemu-ga did not start in guest $2 (no pid file)"
	e2e_ok "qemu-ga runs in guest $2 (pid $GUEST_SAID) on /dev/virtio-ports/$AGENT"
}

# md5_of FILE: its md5 sum.
md5_of() {
	local s
	s=$(md5sum <"$1")
	echo "${s%% *}"
}

# wait_size FILE BYTES SECS WHAT: FILE has grown to BYTES (and no more).
wait_size() {
	local f=$1 want=$2 n=$(($3 * 20)) have
	while :; do
		have=$(stat -c %s "$f" 2>/dev/null || echo 0)
		[ "$have" -ge "$want" ] && break
		n=$((n - 1))
		[ "$n" -gt 0 ] || e2e_fail "$4: $want bytes did not all arrive within $3 s" "got $have bytes"
		sleep 0.05
	done
}

# The daemon logs the guest's opens and closes of a port.
log_count() {
	grep -c "$1" "$DAEMON_LOG"
}
wait_log_count() {
	local pat=$1 want=$2 n=$((${3:-15} * 20))
	while [ "$(log_count "$pat")" -lt "$want" ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || e2e_fail "the daemon log should say '$pat' ($want times) within ${3:-15} s" \
			"it says it $(log_count "$pat") times"
		sleep 0.05
	done
}

# --- the host side as the guest sees it --------------------------------------

check_host_connect_seen() {
	local c=$1 g=$2 d=$3 opened
	# No host client: a read returns end-of-file at once, poll says POLLHUP.
	guest_say "$c" "$g" "echo \"@M@ \$(dd if=$d bs=4096 count=1 2>/dev/null | wc -c) \$(e2e-io hostwait $d gone 5)\"" '.*'
	[ "$GUEST_SAID" = "0 hostwait: $d host gone" ] ||
		e2e_fail "guest $g: with no host client on the data port a read should return end-of-file and poll POLLHUP" \
			"expected '0 hostwait: $d host gone', got '$GUEST_SAID'"
	e2e_ok "guest $g: no host client on port data: read returns end-of-file at once, poll says POLLHUP"

	# A host client connects: POLLHUP clears.
	client_connect d1 "unix:$E2E_DIR/data0"
	wait_log_count 'port 2 (data): host client connected' 1
	guest_say "$c" "$g" "echo \"@M@ \$(e2e-io hostwait $d connected 20 2>&1)\"" '.*' 30
	[ "$GUEST_SAID" = "hostwait: $d host connected" ] ||
		e2e_fail "guest $g: POLLHUP should clear when the host client connects" "got '$GUEST_SAID'"
	e2e_ok "guest $g: the host client connected to port data; poll no longer says POLLHUP"

	# A reader blocked on the port gets end-of-file when the client leaves.
	opened=$(log_count 'guest opened port 2 (data)')
	e2e_mark BLOCKED
	client_send "$c" "dd if=$d of=/tmp/blocked bs=4096 count=1 2>/dev/null; echo \"$MARK_IN \$(wc -c </tmp/blocked)\"\r"
	wait_log_count 'guest opened port 2 (data)' $((opened + 1))
	# The reader has the port open (and the host client is still there):
	# nothing to read, so it must still be waiting.
	sleep 0.5
	if LC_ALL=C tail -c +"$((CLIENT_POS[$c] + 1))" "$E2E_DIR/$c.out" | grep -aqF "$MARK_OUT"; then
		e2e_fail "guest $g: a read of port data returned while the host client was connected and sent nothing" \
			"got: $(LC_ALL=C tail -c +"$((CLIENT_POS[$c] + 1))" "$E2E_DIR/$c.out" | grep -aF "$MARK_OUT")"
	fi
	client_close d1
	client_wait "$c" "$MARK_OUT 0" 15
	e2e_ok "guest $g: a reader blocked on port data got end-of-file when the host client left"
	guest_say "$c" "$g" "echo \"@M@ \$(e2e-io hostwait $d gone 20 2>&1)\"" '.*' 30
	[ "$GUEST_SAID" = "hostwait: $d host gone" ] ||
		e2e_fail "guest $g: poll should say POLLHUP again once the host client left" "got '$GUEST_SAID'"
	e2e_ok "guest $g: poll says POLLHUP again after the host client left"
}

# --- 16 MiB each way on the data port, the console answering meanwhile -----

check_data_out() {
	local c=$1 g=$2 d=$3 sum t0 ms pid
	# /e2e/big-out: random bytes the host made (the guest's urandom is slow).
	sum=$(md5_of "$E2E_DIR/big-out")
	client_connect d2 "unix:$E2E_DIR/data0"
	pid=${CLIENT_PID[d2]}
	# The host client stops reading: the daemon must stop taking the
	# port's output (nothing lost), so the guest's writer waits, and the
	# console still answers.
	kill -STOP "$pid"
	client_send "$c" "dd if=/e2e/big-out of=$d bs=65536 2>/tmp/dd-out.err & echo \$! >/tmp/dd-out.pid\r"
	check_command "$c" "$g"
	guest_say "$c" "$g" 'echo "@M@ $(kill -0 $(cat /tmp/dd-out.pid) 2>/dev/null && echo writing || echo done)"' '[a-z]+'
	[ "$GUEST_SAID" = writing ] ||
		e2e_fail "guest $g: its dd of $BIG bytes to port data ended while the host client read nothing" \
			"expected: the daemon stops taking the port's output while its client does not read (lossless), the writer waits" \
			"got: dd $GUEST_SAID"
	e2e_ok "client $c: the console answered while port data's host client read nothing and the guest's writer waited ($E2E_CMD_MS ms)"
	t0=$(e2e_now_ms)
	kill -CONT "$pid"
	check_command "$c" "$g"
	e2e_ok "client $c: the console answered during the 16 MiB transfer guest -> host ($E2E_CMD_MS ms)"
	wait_size "$E2E_DIR/d2.out" "$BIG" 90 "port data, guest $g -> host"
	ms=$(($(e2e_now_ms) - t0))
	[ "$(stat -c %s "$E2E_DIR/d2.out")" = "$BIG" ] ||
		e2e_fail "port data: more than $BIG bytes came from guest $g" "got $(stat -c %s "$E2E_DIR/d2.out")"
	[ "$(md5_of "$E2E_DIR/d2.out")" = "$sum" ] ||
		e2e_fail "port data: $BIG random bytes from guest $g are not byte-exact" \
			"expected md5 $sum, got $(md5_of "$E2E_DIR/d2.out")"
	e2e_ok "port data: $BIG random bytes guest $g -> host byte-exact in $ms ms once its host client read on ($((BIG * 1000 / 1048576 / (ms > 0 ? ms : 1))) MiB/s)"
	guest_say "$c" "$g" 'wait; echo "@M@ $? $(tail -n1 /tmp/dd-out.err)"' '.*' 15
	case $GUEST_SAID in
	'0 '*) ;;
	*) e2e_fail "guest $g: dd to port data should end with status 0" "got: $GUEST_SAID" ;;
	esac
	client_close d2
}

check_data_in() {
	local c=$1 g=$2 d=$3 file="$E2E_DIR/big-in" sum t0 ms
	head -c "$BIG" /dev/urandom >"$file"
	sum=$(md5_of "$file")
	client_connect d3 "unix:$E2E_DIR/data0"
	# The guest's reader must know the host is there, or its first read
	# is end-of-file; hostwait opens and closes the port before any data.
	wait_log_count 'port 2 (data): host client connected' 3
	guest_say "$c" "$g" "echo \"@M@ \$(e2e-io hostwait $d connected 20 2>&1)\"" '.*' 30
	[ "$GUEST_SAID" = "hostwait: $d host connected" ] ||
		e2e_fail "guest $g: POLLHUP should clear when the host client connects" "got '$GUEST_SAID'"
	# The host sends first: the daemon holds it until the guest opens the port.
	local fd=${CLIENT_FD[d3]}
	(trap '' PIPE; exec timeout 120 cat "$file") 1>&"$fd" 2>/dev/null &
	local sender=$!
	check_command "$c" "$g"
	e2e_ok "client $c: the console answered while the daemon held port data's input for the guest to open the port ($E2E_CMD_MS ms)"
	t0=$(e2e_now_ms)
	client_send "$c" "dd if=$d bs=65536 count=$((BIG / 65536)) iflag=fullblock 2>/tmp/dd-in.err | md5sum >/tmp/in.sum &\r"
	check_command "$c" "$g"
	e2e_ok "client $c: the console answered during the 16 MiB transfer host -> guest ($E2E_CMD_MS ms)"
	guest_say "$c" "$g" 'wait; echo "@M@ $(cat /tmp/in.sum)"' '[0-9a-f]{32}' 90
	ms=$(($(e2e_now_ms) - t0))
	wait "$sender" || e2e_fail "sending $BIG bytes to port data failed or did not end within 120 s"
	[ "${GUEST_SAID%% *}" = "$sum" ] ||
		e2e_fail "port data: $BIG random bytes host -> guest $g are not byte-exact" \
			"expected md5 $sum, the guest computed ${GUEST_SAID%% *}" \
			"guest's dd said: (see below)"
	e2e_ok "port data: $BIG random bytes host -> guest $g byte-exact in $ms ms ($((BIG * 1000 / 1048576 / (ms > 0 ? ms : 1))) MiB/s)"
	client_close d3
	check_command "$c" "$g"
	e2e_ok "client $c: the console answers after the transfer host -> guest ($E2E_CMD_MS ms)"
}

# --- scenarios -----------------------------------------------------------------

uml_ports_scenario() {
	local g=g1 c=c1 t0 d=/dev/virtio-ports/data
	e2e_guest_helper
	_ports_guest_script >"$E2E_DIR/ports-guest.sh"
	daemon_start uds --port="$AGENT:$E2E_DIR/ga" --port="data:$E2E_DIR/data"
	head -c "$BIG" /dev/urandom >"$E2E_DIR/big-out"
	local -a copies=(-c "$E2E_DIR/ports-guest.sh:/e2e/ports.sh" -c "$E2E_IO_GUEST:/bin/e2e-io"
		-c "$E2E_DIR/big-out:/e2e/big-out")
	mapfile -t -O 6 copies < <(e2e_guest_copies "$QGA" /bin/qemu-ga)
	t0=$(e2e_now_ms)
	guest_start "$g" "${DAEMON_SOCK}0" 120 "${copies[@]}"
	guest_wait_ready "$g"
	e2e_log "UML start to hvc0 ready: $(($(e2e_now_ms) - t0)) ms"
	client_connect "$c" "unix:${DAEMON_UDS}0"
	check_boot_output "$c" "$g"
	check_command "$c" "$g"

	guest_say "$c" "$g" "echo \"@M@ \$(. /e2e/ports.sh; port_links $AGENT data)\"" '.*' 30
	[ "$GUEST_SAID" = "PORTS $AGENT=vport0p1 data=vport0p2" ] ||
		e2e_fail "guest $g: the ports should be named $AGENT (vport0p1) and data (vport0p2)" "got: $GUEST_SAID"
	e2e_ok "guest $g: its driver named port 1 $AGENT and port 2 data; /dev/virtio-ports links made"

	uname_of "$c" "$g"
	qga_start "$c" "$g"
	client_connect ga "unix:$E2E_DIR/ga0"
	agent_check ga "$g" "$UNAME_R" "$UNAME_M"

	check_host_connect_seen "$c" "$g" "$d"
	check_data_out "$c" "$g" "$d"
	check_data_in "$c" "$g" "$d"

	agent_check ga "$g" "$UNAME_R" "$UNAME_M"
	client_close ga
	guest_exit "$c" "$g"
	client_close "$c"
	daemon_stop
}

# README.md's QEMU device line for one port beside the console is the one
# run here (num_vqs=6).  Checked once README documents --port.
readme_has_port_device_line() {
	local readme="$UML_E2E_DIR/../../README.md" line
	if ! grep -q -e '--port=' "$readme"; then
		e2e_log "NOTE: README.md does not document --port yet; its num_vqs=6 device line is not checked"
		return 0
	fi
	line=$(qemu_device_args /tmp/vc0 con0 6 | paste -d ' ' - - | tail -n1)
	grep -qF -e "$line" "$readme" ||
		e2e_fail "README.md's QEMU line for a port beside the console lacks '$line', which this test runs"
	e2e_ok "README.md gives the QEMU device line with num_vqs=6 this test runs"
}

qemu_ports_scenario() {
	local g=q1 c=c1 t0
	readme_has_port_device_line
	_ports_guest_script >"$E2E_DIR/ports-guest.sh"
	daemon_start uds --port="$AGENT:$E2E_DIR/ga"
	local -a copies=(-q 6 -c "$E2E_DIR/ports-guest.sh:/e2e/ports.sh")
	mapfile -t -O 4 copies < <(e2e_guest_copies "$QGA" /bin/qemu-ga)
	t0=$(e2e_now_ms)
	guest_start "$g" "${DAEMON_SOCK}0" 150 "${copies[@]}"
	guest_wait_ready "$g"
	e2e_log "QEMU start to hvc0 ready: $(($(e2e_now_ms) - t0)) ms"
	grep -q 'ports fit' "$DAEMON_LOG" &&
		e2e_fail "QEMU with num_vqs=6 should carry the console and the agent port" "$(grep 'ports fit' "$DAEMON_LOG")"
	client_connect "$c" "unix:${DAEMON_UDS}0"
	check_boot_output "$c" "$g"
	check_command "$c" "$g"

	guest_say "$c" "$g" "echo \"@M@ \$(. /e2e/ports.sh; port_links $AGENT)\"" '.*' 30
	[ "$GUEST_SAID" = "PORTS $AGENT=vport0p1" ] ||
		e2e_fail "guest $g: port 1 should be named $AGENT (vport0p1)" "got: $GUEST_SAID"
	e2e_ok "guest $g: its driver named port 1 $AGENT; /dev/virtio-ports link made"

	uname_of "$c" "$g"
	qga_start "$c" "$g"
	client_connect ga "unix:$E2E_DIR/ga0"
	agent_check ga "$g" "$UNAME_R" "$UNAME_M"
	check_command "$c" "$g"
	client_close ga
	guest_exit "$c" "$g"
	client_close "$c"
	daemon_stop
}

"${FRONTEND}_ports_scenario"
