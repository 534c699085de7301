#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# End-to-end test of --console-log-format=asciicast with a real Linux guest
# (UML) and Debian's asciinema 2.2:
#  1. uds backend, --console-size=100x30: the recording's header says
#     100x30, Python's strict JSON reader takes every line, and
#     `asciinema cat` gives back, byte for byte, what the client received:
#     the boot output, a typed command, UTF-8 text, colours, 400 lines of
#     `ls -l /bin/`;
#  2. the recording moved and SIGUSR1 sent: a new file with its own header;
#     the old and the new one played one after the other are still what
#     the client received;
#  3. bytes that are not UTF-8 come out as U+FFFD, one each, and the
#     daemon's log says how many;
#  4. `asciinema play` with a speed-up and an idle limit runs to the end of
#     the recording, on a terminal (asciinema wants /dev/tty: script(1));
#  5. nested backend on a terminal of 90x28 resized to 111x33: the
#     recording has "r" events with the size.
#
#   VDC_DAEMON=build/san/vhost-device-console bash tests/e2e/e2e-recording.sh
#
# Exit status 0 pass, 77 skip (no UML guest possible here), 1 fail.

set -u
# shellcheck source-path=SCRIPTDIR source=e2e-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e-lib.sh"

# Two boots: more than the usual 150 s on a loaded machine.
VDC_E2E_WATCHDOG=${VDC_E2E_WATCHDOG:-240}
e2e_init recording

CHECK="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/asciicast-check.py"
command -v asciinema >/dev/null ||
	e2e_fail "asciinema is not installed (tests/ensure-deps.sh installs it)"
FFFD=$(printf '\357\277\275')

# on_tty OUT CMD...: run CMD on a pseudo-terminal of its own, its output
# (raw: asciinema sets the terminal so) in OUT; 60 s at most.
on_tty() {
	local out=$1 rc=0
	shift
	timeout 60 script -qec "$*" /dev/null </dev/null >"$out" 2>&1 || rc=$?
	return "$rc"
}

# cast_valid FILE: Python's strict reader takes every line of FILE.
cast_valid() {
	/usr/bin/python3 "$CHECK" "$1" >/dev/null 2>"$E2E_DIR/check.err" ||
		e2e_fail "$1 should be a valid asciicast v2 recording" "$(cat "$E2E_DIR/check.err")"
}

# cast_cat FILE OUT: what `asciinema cat` makes of FILE, in OUT.
cast_cat() {
	on_tty "$2" asciinema cat "$1" ||
		e2e_fail "asciinema cat $1 failed" "$(head -c 300 "$2" | cat -v)"
}

# cast_holds FILE STRING [SECS]: the recording comes to hold STRING in an
# "o" event (the file is written by the daemon's thread, a little later).
cast_holds() {
	local n=$((${3:-15} * 10))
	until /usr/bin/python3 "$CHECK" "$1" 2>/dev/null | LC_ALL=C grep -aqF -e "$2"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || e2e_fail "the recording $1 should come to hold '$2'; it did not" \
			"$(tail -n 3 "$1" 2>/dev/null | cut -c 1-200)"
		sleep 0.1
	done
}

# cast_is_capture OUT SIZE WHAT: OUT's first SIZE bytes are the client's
# capture, byte for byte.
cast_is_capture() {
	local out=$1 size=$2
	[ "$(stat -c %s "$out")" -ge "$size" ] ||
		e2e_fail "$3 should give back the client's $size bytes; it gave $(stat -c %s "$out")"
	cmp -n "$size" "$E2E_DIR/c1.out" "$out" >/dev/null ||
		e2e_fail "$3 should give back what the client received, byte for byte" \
			"$(cmp -n "$size" "$E2E_DIR/c1.out" "$out")"
}

LOGDIR="$E2E_DIR/log"
mkdir "$LOGDIR"
CAST="$LOGDIR/cast-0"
daemon_start uds --console-log="$LOGDIR/cast-" --console-log-format=asciicast \
	--console-size=100x30
guest_start g1 "${DAEMON_SOCK}0" 200
guest_wait_ready g1
client_connect c1 "unix:${DAEMON_UDS}0"
check_boot_output c1 g1
check_command c1 g1

# --- 1. the recording is what the client received ---------------------------
e2e_mark SESSION
# printf's escapes for the guest's printf: client_send expands one level.
client_send c1 'printf '\''caf\\303\\251 \\342\\202\\254 \\360\\237\\230\\200 \\033[1mbold\\033[0m\\n'\''; ls -l /bin/ | head -n 400; echo '"$MARK_IN"'\r'
client_wait c1 "caf$(printf '\303\251') $(printf '\342\202\254')" 10
client_wait c1 "$MARK_OUT" 20
cast_holds "$CAST" "$MARK_OUT"
cast_valid "$CAST"
head -n 1 "$CAST" | grep -q '^{"version": 2, "width": 100, "height": 30, "timestamp": [0-9]*}$' ||
	e2e_fail "the header should be version 2 with --console-size's 100x30" "$(head -n 1 "$CAST")"
events=$(($(wc -l <"$CAST") - 1))
size=$(stat -c %s "$E2E_DIR/c1.out")
n=100
cast_cat "$CAST" "$E2E_DIR/cat.out"
until [ "$(stat -c %s "$E2E_DIR/cat.out")" -ge "$size" ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || break
	sleep 0.1
	cast_cat "$CAST" "$E2E_DIR/cat.out"
done
cast_is_capture "$E2E_DIR/cat.out" "$size" "asciinema cat"
e2e_ok "asciinema cat gives back the client's $size bytes exactly ($events events; header 100x30; every line strict JSON)"

# --- 2. SIGUSR1: a new file with its own header ------------------------------
mv "$CAST" "$CAST.1"
reopened=$(grep -c 'reopened' "$DAEMON_LOG")
kill -USR1 "$DAEMON_PID"
n=200
until [ "$(grep -c 'reopened' "$DAEMON_LOG")" -gt "$reopened" ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || e2e_fail "the daemon should log that it reopened the recording within 10 s of SIGUSR1"
	sleep 0.05
done
check_command c1 g1
cast_holds "$CAST" "$MARK_OUT g1 Linux"
cast_valid "$CAST"
cast_valid "$CAST.1"
head -n 1 "$CAST" | grep -q '^{"version": 2, "width": 100, "height": 30, ' ||
	e2e_fail "the new recording should start with its own header" "$(head -n 1 "$CAST")"
size=$(stat -c %s "$E2E_DIR/c1.out")
n=100
while :; do
	cast_cat "$CAST.1" "$E2E_DIR/cat1.out"
	cast_cat "$CAST" "$E2E_DIR/cat2.out"
	cat "$E2E_DIR/cat1.out" "$E2E_DIR/cat2.out" >"$E2E_DIR/cat12.out"
	[ "$(stat -c %s "$E2E_DIR/cat12.out")" -ge "$size" ] && break
	n=$((n - 1))
	[ "$n" -gt 0 ] || break
	sleep 0.1
done
cast_is_capture "$E2E_DIR/cat12.out" "$size" "the old recording and the new one played in turn"
e2e_ok "moved and SIGUSR1: a new recording with its own header; old ($(stat -c %s "$E2E_DIR/cat1.out") bytes) and new together are the client's $size bytes"

# --- 3. bytes that are not UTF-8 --------------------------------------------
e2e_mark BAD
client_send c1 'printf '\''X\\377\\376Y\\n'\''; echo '"$MARK_IN"'\r'
client_wait c1 "$MARK_OUT" 10
cast_holds "$CAST" "$MARK_OUT"
cast_valid "$CAST"
cast_cat "$CAST" "$E2E_DIR/cat3.out"
LC_ALL=C grep -aqF "X$FFFD${FFFD}Y" "$E2E_DIR/cat3.out" ||
	e2e_fail "the bytes 0xff 0xfe should be played as two U+FFFD" \
		"$(LC_ALL=C grep -a 'X.*Y' "$E2E_DIR/cat3.out" | head -n 2 | od -c | head -n 4)"
n=200
until grep -q 'bytes of console output were not UTF-8; the recording has U+FFFD for each' "$DAEMON_LOG"; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || e2e_fail "the daemon should log the bytes that were not UTF-8"
	sleep 0.05
done
e2e_ok "0xff 0xfe from the guest: two U+FFFD in the recording, and the daemon's log says so ($(grep -o '[0-9]* bytes of console output were not UTF-8' "$DAEMON_LOG" | head -n 1))"
guest_exit c1 g1
client_close c1
daemon_stop

# --- 4. asciinema play runs to the end --------------------------------------
t0=$(e2e_now_ms)
on_tty "$E2E_DIR/play.out" asciinema play -s 20 -i 0.05 "$CAST.1" ||
	e2e_fail "asciinema play (speed 20, idle limit 0.05 s) should run to the end of the recording" \
		"$(tail -c 300 "$E2E_DIR/play.out" | cat -v)"
last=$(grep -o 'SESSION-[0-9]*' "$E2E_DIR/cat.out" | tail -n 1)
LC_ALL=C grep -aqF "$last" "$E2E_DIR/play.out" ||
	e2e_fail "asciinema play should show the recording's last command ($last)"
e2e_ok "asciinema play -s 20 -i 0.05 played the first recording to its end in $(($(e2e_now_ms) - t0)) ms"

# --- 5. resizes: the nested backend on a terminal ----------------------------
DAEMON_SOCK="$E2E_DIR/vu-nested"
DAEMON_LOG="$E2E_DIR/daemon-nested.log"
NCAST="$LOGDIR/nested-0"
: >"$DAEMON_LOG"
# shellcheck disable=SC2016 # expanded by that shell
client_pty term -s 90x28 sh -c 'log=$1; shift; "$@" 2>"$log"; echo "@@DAEMON-EXIT $?"' \
	sh "$DAEMON_LOG" "$E2E_DAEMON" --socket-path="$DAEMON_SOCK" --backend=nested \
	--max-queue-size=256 --log-level=debug --console-log="$LOGDIR/nested-" \
	--console-log-format=asciicast
n=200
while ! grep -q 'listening on' "$DAEMON_LOG"; do
	n=$((n - 1))
	if [ "$n" -le 0 ] || ! kill -0 "${CLIENT_PID[term]}" 2>/dev/null; then
		e2e_fail "the nested daemon did not start listening on the terminal" "$(cat "$DAEMON_LOG")"
	fi
	sleep 0.05
done
guest_start g2 "${DAEMON_SOCK}0"
guest_wait_ready g2
check_marker term g2
client_resize term 111 33
n=200
until grep -q 'SIGWINCH: the terminal is 111x33' "$DAEMON_LOG"; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || e2e_fail "the daemon should take the terminal's new size, 111x33"
	sleep 0.05
done
check_command term g2
cast_holds "$NCAST" "$MARK_OUT g2 Linux"
cast_valid "$NCAST"
sizes=$(/usr/bin/python3 "$CHECK" --summary "$NCAST" | tr '\n' ' ')
[ "$sizes" = "90x28 111x33 " ] ||
	e2e_fail "the recording should start at 90x28 and have one resize to 111x33" "sizes: $sizes"
e2e_ok "nested on a 90x28 terminal resized to 111x33: header 90x28, one \"r\" event 111x33"
client_send term '\001x'
client_wait term "@@DAEMON-EXIT 0" 10
client_close term
guest_halt g2
_e2e_daemon_log_clean
cast_valid "$NCAST"
