#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# End-to-end test of the console log and of watchers with a real Linux
# guest (UML), uds backend (or the backend given as argument), one guest
# boot for all but the last check:
#  1. --console-log: the log file holds what the writer received, byte for
#     byte (the whole capture is a prefix of the log), the boot output
#     written before any client came among it, and a 1 MiB raw transfer has
#     the same md5 in the log as in the client;
#  2. a writer plus two watchers see the same output of a typed command;
#     what a watcher types never reaches the guest, and it is told so once;
#  3. a watcher that never reads (SIGSTOP) does not stop the writer's
#     1 MiB transfer from arriving byte-exact (the times with and without
#     it are printed, not asserted); resumed, it finds the note saying how
#     many bytes it lost, and the watchers that kept up find none (over
#     loopback TCP the kernel may hold the whole 1 MiB for it: then it
#     must have every byte instead);
#  4. the log moved and SIGUSR1 sent while the guest writes numbered lines
#     without pause: every line is in the old file or the new one, in
#     order, none twice, and both files got some;
#  5. the writer leaves: the longest-connected watcher is told it is the
#     writer now, the other is not, and its command runs in the guest;
#  6. a second daemon with --console-log-timestamps and a second boot:
#     every line of the log starts with an ISO-8601 UTC time, and without
#     the times the log is what the client received.
#
#   VDC_DAEMON=build/san/vhost-device-console bash tests/e2e/e2e-watchers.sh [uds|network]
#
# Exit status 0 pass, 77 skip (no UML guest possible here), 1 fail.

set -u
# shellcheck source-path=SCRIPTDIR source=e2e-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e-lib.sh"

BACKEND=${1:-uds}
# Two boots and two 1 MiB transfers: more than the usual 150 s on a loaded
# machine (the uml TCase allows 300 s).
VDC_E2E_WATCHDOG=${VDC_E2E_WATCHDOG:-240}
e2e_init "watchers-$BACKEND"

# A watcher stopped with SIGSTOP would ignore the cleanup's SIGTERM.
STALLED=""
watchers_cleanup() {
	local rc=$?
	[ -n "$STALLED" ] && kill -CONT "$STALLED" 2>/dev/null
	(exit "$rc")
	e2e_cleanup
}
trap watchers_cleanup EXIT

TS_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z '

spec() {
	case $BACKEND in
	network) echo "tcp:$DAEMON_PORT" ;;
	uds) echo "unix:${DAEMON_UDS}0" ;;
	esac
}

# offset_of FILE STRING [FROM]: byte offset of the first STRING at or after
# FROM (default 0), or nothing.
offset_of() {
	local hit
	hit=$(tail -c +"$((${3:-0} + 1))" "$1" | LC_ALL=C grep -abo -F -m1 -e "$2" | head -n1)
	[ -n "$hit" ] && echo $((${3:-0} + ${hit%%:*}))
}

# between FILE FROM TO: the bytes after the first FROM up to the next TO.
between() {
	local a b
	a=$(offset_of "$1" "$2") || return 1
	a=$((a + ${#2}))
	b=$(offset_of "$1" "$3" "$a") || return 1
	tail -c +"$((a + 1))" "$1" | head -c "$((b - a))"
}

# file_wait FILE STRING [SECS]: FILE comes to hold STRING.
file_wait() {
	local n=$((${3:-15} * 20))
	until LC_ALL=C grep -aqF -e "$2" "$1" 2>/dev/null; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || e2e_fail "$1 should come to hold '$2' within ${3:-15} s; it did not" \
			"its tail: $(tail -c 300 "$1" 2>/dev/null | cat -v | tail -n 3)"
		sleep 0.05
	done
}

# connected N: the daemon has logged N console watchers connected.
watchers_connected() {
	local n=200
	until [ "$(grep -c 'console watcher connected' "$DAEMON_LOG")" -ge "$1" ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || e2e_fail "the daemon should log watcher number $1 connected within 10 s"
		sleep 0.05
	done
}

# range_md5 FILE BEGIN SIZE END: RANGE_SUM is the md5 of the SIZE bytes
# after "BEGIN\n", which END must follow; waits up to 20 s for them.
range_md5() {
	local f=$1 begin=$2 size=$3 end=$4 start n=400 next sum
	file_wait "$f" "$begin" 20
	start=$(($(offset_of "$f" "$begin") + ${#begin} + 1))
	until [ "$(stat -c %s "$f")" -ge $((start + size + ${#end})) ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || e2e_fail "$f: $size bytes after '$begin' did not all come within 20 s"
		sleep 0.05
	done
	next=$(tail -c +"$((start + size + 1))" "$f" | head -c "${#end}")
	[ "$next" = "$end" ] || e2e_fail "$f: '$end' should follow the $size bytes after '$begin'" \
		"got '$(printf '%s' "$next" | cat -v)'"
	sum=$(tail -c +"$((start + 1))" "$f" | head -c "$size" | md5sum)
	RANGE_SUM=${sum%% *}
}

# watcher_range_check C BEGIN SIZE END SUM: watcher C got the SIZE bytes
# after "BEGIN\n" up to END with md5 SUM or, if it fell behind, exactly one
# note "N bytes of output dropped here" in their place and SIZE - N bytes
# besides; such a watcher is added to BEHIND.
watcher_range_check() {
	local c=$1 begin=$2 size=$3 end=$4 want=$5 f="$E2E_DIR/$1.out" range note lost got
	file_wait "$f" "$begin" 20
	file_wait "$f" "$end" 60
	range="$E2E_DIR/$c.range"
	between "$f" "$begin" "$end" | tail -c +2 >"$range"
	got=$(stat -c %s "$range")
	if [ "$got" = "$size" ]; then
		[ "$(md5sum <"$range" | cut -d' ' -f1)" = "$want" ] ||
			e2e_fail "watcher $c's copy of the $size bytes is not byte-exact"
		return
	fi
	note=$(LC_ALL=C grep -ao '\[vhost-device-console: [0-9]* bytes of output dropped here: this watcher fell behind\]' "$range")
	[ "$(printf '%s\n' "$note" | grep -c .)" = 1 ] ||
		e2e_fail "watcher $c got $got of $size bytes and should have been told once what it lost" \
			"notes: $(printf '%s' "$note" | head -c 300)"
	lost=${note#\[vhost-device-console: }
	lost=${lost%% *}
	[ $((got - ${#note} - 4)) = $((size - lost)) ] ||
		e2e_fail "watcher $c: told it lost $lost bytes, but it got $got bytes with the note, of $size" \
			"expected $((size - lost)) bytes besides the note and its two line ends"
	BEHIND="$BEHIND $c lost $lost"
}

# bulk_timed C G: the guest's 1 MiB to writer C, byte-exact; BULK_MS is the
# time from the command to the end marker's arrival.
bulk_timed() {
	local c=$1 g=$2 pos
	bulk_out_prepare "$c" "$g" 1048576
	bulk_out_start "$c"
	pos=${CLIENT_POS[$c]}
	client_wait "$c" "${BULK_END[$c]}" 60
	BULK_MS=$(($(e2e_now_ms) - BULK_T0[$c]))
	CLIENT_POS[$c]=$pos
	bulk_out_finish "$c" "$g"
}

LOGDIR="$E2E_DIR/log"
mkdir "$LOGDIR"
LOG="$LOGDIR/console-0"
# 512 KiB of output buffer: a watcher that stops reading for a 1 MiB
# transfer surely falls further behind than that and its socket hold.
daemon_start "$BACKEND" --console-log="$LOGDIR/console-" --output-buffer=512K
guest_start g1 "${DAEMON_SOCK}0" 200
guest_wait_ready g1

# --- 1a. the boot output, written before any client, is in the log -------
file_wait "$LOG" "BOOT-OUTPUT g1: hvc0 is up"
[ "$(offset_of "$LOG" "BOOT-OUTPUT g1: hvc0 is up")" = 0 ] ||
	e2e_fail "the log should start with the guest's boot output" \
		"it starts with: $(head -c 60 "$LOG" | cat -v)"
e2e_ok "the log holds the boot output written before any client connected"

client_connect c1 "$(spec)"
check_boot_output c1 g1
client_connect w1 "$(spec)"
watchers_connected 1
client_connect w2 "$(spec)"
watchers_connected 2

# --- 2. a writer and two watchers -----------------------------------------
e2e_mark SAME-BEGIN
b_out=$MARK_OUT b_in=$MARK_IN
e2e_mark SAME-END
client_send c1 "echo $b_in; uname -a; cat /tmp/ident; ls /; echo $MARK_IN\r"
for c in c1 w1 w2; do
	client_wait "$c" "$MARK_OUT" 15
	between "$E2E_DIR/$c.out" "$b_out" "$MARK_OUT" >"$E2E_DIR/$c.same"
done
grep -aq "Linux" "$E2E_DIR/c1.same" || e2e_fail "the writer's command output should hold uname's 'Linux'"
for c in w1 w2; do
	cmp -s "$E2E_DIR/c1.same" "$E2E_DIR/$c.same" ||
		e2e_fail "watcher $c should see what the writer saw of its command" \
			"writer: $(cat -v "$E2E_DIR/c1.same" | head -c 200)" \
			"$c: $(cat -v "$E2E_DIR/$c.same" | head -c 200)"
done
e2e_ok "a writer and two watchers saw the same $(stat -c %s "$E2E_DIR/c1.same") bytes of a typed command's output"

e2e_mark WATCHER-TYPED
w_out1=$MARK_OUT
client_send w1 "echo $MARK_IN\r"
client_wait w1 "you are watching" 10
e2e_mark WATCHER-TYPED
w_out2=$MARK_OUT
client_send w1 "echo $MARK_IN\r"
# The writer's round trip: the guest has had every byte typed before it.
check_command c1 g1
sleep 0.5
[ "$(LC_ALL=C grep -aoF "you are watching" "$E2E_DIR/w1.out" | wc -l)" = 1 ] ||
	e2e_fail "watcher w1 typed twice and should be told once that it is watching" \
		"told $(LC_ALL=C grep -aoF "you are watching" "$E2E_DIR/w1.out" | wc -l) times"
for c in c1 w1 w2; do
	client_absent "$c" "$w_out1"
	client_absent "$c" "$w_out2"
done
client_absent c1 "you are watching"
e2e_ok "what watcher w1 typed did not reach the guest; it was told once"

# --- 1b. 1 MiB to the writer, the same in the log -------------------------
bulk_timed c1 g1
MS_FREE=$BULK_MS
range_md5 "$LOG" "${BULK_BEGIN[c1]}" 1048576 "${BULK_END[c1]}"
sum=$RANGE_SUM
[ "$sum" = "${BULK_SUM[c1]}" ] ||
	e2e_fail "the log's copy of the 1 MiB should have the md5 the guest computed" \
		"expected ${BULK_SUM[c1]}, got $sum"
e2e_ok "the log holds the 1 MiB byte-exact (md5 $sum)"
# A watcher that reads is not waited for: on a loaded machine one can be
# kept off the CPU for longer than the 512 KiB buffer lasts. What must hold
# then is that it is told exactly what it lost, and where.
BEHIND=""
for c in w1 w2; do
	watcher_range_check "$c" "${BULK_BEGIN[c1]}" 1048576 "${BULK_END[c1]}" "${BULK_SUM[c1]}"
done
e2e_ok "both watchers got the 1 MiB byte-exact too, or were told exactly what they lost${BEHIND:+ (fell behind under load:$BEHIND)}"
# Everything the writer received, in order, is the log's beginning.
size=$(stat -c %s "$E2E_DIR/c1.out")
n=200
until [ "$(stat -c %s "$LOG")" -ge "$size" ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || e2e_fail "the log should come to hold the writer's $size bytes; it has $(stat -c %s "$LOG")"
	sleep 0.05
done
cmp -n "$size" "$E2E_DIR/c1.out" "$LOG" >/dev/null ||
	e2e_fail "all the writer received should be the log's first $size bytes" \
		"$(cmp -n "$size" "$E2E_DIR/c1.out" "$LOG")"
e2e_ok "the writer's whole capture ($size bytes) is, byte for byte, the start of the log"

# --- 3. a watcher that never reads ----------------------------------------
# A small receive buffer: over TCP the kernel would otherwise take the
# whole 1 MiB for the stopped watcher.
client_connect w3 "$(spec)" -b 4096
watchers_connected 3
STALLED=${CLIENT_PID[w3]}
kill -STOP "$STALLED"
bulk_timed c1 g1
MS_STALLED=$BULK_MS
if grep -q 'console client is slow' "$DAEMON_LOG"; then
	e2e_fail "the writer lost output while a watcher did not read" \
		"$(grep 'console client is slow' "$DAEMON_LOG" | head -3)"
fi
e2e_ok "the writer's 1 MiB arrived byte-exact while watcher w3 was connected and not reading"
e2e_log "writer's 1 MiB (command to end marker): $MS_FREE ms without the stalled watcher, $MS_STALLED ms with it (information, not asserted)"
kill -CONT "$STALLED"
STALLED=""
check_command c1 g1
client_wait w3 "$MARK_OUT" 30
lost=$(LC_ALL=C grep -ao '[0-9]* bytes of output dropped here: this watcher fell behind' "$E2E_DIR/w3.out" | head -n1)
if [ -n "$lost" ]; then
	e2e_ok "watcher w3, reading again, found the note of the bytes it lost (${lost%% *} bytes)"
elif [ "$BACKEND" = network ]; then
	# Loopback TCP sizes the daemon's send buffer from the MSS (64 KiB):
	# megabytes, so the kernel may hold all the stopped watcher missed.
	range_md5 "$E2E_DIR/w3.out" "${BULK_BEGIN[c1]}" 1048576 "${BULK_END[c1]}"
	[ "$RANGE_SUM" = "${BULK_SUM[c1]}" ] ||
		e2e_fail "watcher w3 lost bytes of the 1 MiB but was not told so" \
			"expected md5 ${BULK_SUM[c1]} or the note; got md5 $RANGE_SUM and no note"
	e2e_log "watcher w3 fell behind by no more than the kernel's TCP buffers held: it got the whole 1 MiB, byte-exact, and no note (the note is checked with uds)"
else
	e2e_fail "watcher w3 should find, once reading again, the note 'N bytes of output dropped here: this watcher fell behind'" \
		"it got $(stat -c %s "$E2E_DIR/w3.out") bytes without one"
fi
client_absent c1 "dropped here"
for c in w1 w2; do
	case $BEHIND in
	*"$c lost"*) ;;
	*) client_absent "$c" "dropped here" ;;
	esac
done
e2e_ok "the writer and the watchers that kept up lost nothing"

# --- 4. the log moved and reopened while the guest writes -----------------
e2e_mark ROTATED
rot_end=$MARK_OUT
# Numbered lines without pause until the host types a line (no echo, so
# nothing typed lands among them).
client_send c1 "stty -echo; (i=0; while [ ! -e /tmp/stop ]; do echo ROT-\$i; i=\$((i+1)); done; echo $MARK_IN) & read x; touch /tmp/stop; wait; stty echo\r"
client_wait c1 "ROT-100" 20
mv "$LOG" "$LOG.1"
reopened=$(grep -c 'reopened' "$DAEMON_LOG")
kill -USR1 "$DAEMON_PID"
n=200
until [ "$(grep -c 'reopened' "$DAEMON_LOG")" -gt "$reopened" ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || e2e_fail "the daemon should log that it reopened the console log within 10 s of SIGUSR1"
	sleep 0.05
done
file_wait "$LOG" "ROT-" 10
n=400
until [ "$(LC_ALL=C grep -ac '^ROT-[0-9]' "$LOG")" -ge 100 ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || e2e_fail "the new log should get 100 numbered lines within 20 s"
	sleep 0.05
done
client_send c1 "x\r"
client_wait c1 "$rot_end" 20
file_wait "$LOG" "$rot_end" 10
tr -d '\r' <"$E2E_DIR/c1.out" | LC_ALL=C grep -aE '^ROT-[0-9]+$' >"$E2E_DIR/rot.client"
cat "$LOG.1" "$LOG" | tr -d '\r' | LC_ALL=C grep -aE '^ROT-[0-9]+$' >"$E2E_DIR/rot.log"
lines=$(wc -l <"$E2E_DIR/rot.client")
seq -f 'ROT-%g' 0 $((lines - 1)) >"$E2E_DIR/rot.want"
cmp -s "$E2E_DIR/rot.want" "$E2E_DIR/rot.client" ||
	e2e_fail "the writer should have received ROT-0 .. ROT-$((lines - 1)) in order" \
		"$(diff "$E2E_DIR/rot.want" "$E2E_DIR/rot.client" | head -5)"
cmp -s "$E2E_DIR/rot.want" "$E2E_DIR/rot.log" ||
	e2e_fail "the old and the new log together should hold ROT-0 .. ROT-$((lines - 1)), each once, in order" \
		"diff want/got: $(diff "$E2E_DIR/rot.want" "$E2E_DIR/rot.log" | head -8 | tr '\n' ' ')"
old=$(LC_ALL=C grep -ac '^ROT-[0-9]' "$LOG.1")
new=$(LC_ALL=C grep -ac '^ROT-[0-9]' "$LOG")
{ [ "$old" -ge 100 ] && [ "$new" -ge 100 ]; } ||
	e2e_fail "both files should hold numbered lines (old $old, new $new)"
e2e_ok "log moved and SIGUSR1 sent mid-stream: $lines numbered lines, $old in the old file, $new in the new, none lost or doubled, in order"
check_command c1 g1

# --- 5. the writer leaves ---------------------------------------------------
client_close c1
client_wait w1 "you are the writer now" 10
check_command w1 g1
client_wait w2 "$MARK_OUT" 10
client_absent w2 "writer now"
client_absent w3 "writer now"
e2e_ok "the writer left: the longest-connected watcher w1 was told it is the writer and its command ran; w2 and w3 still watch"
guest_exit w1 g1
for c in w1 w2 w3; do
	client_close "$c"
done
daemon_stop

# --- 6. timestamps ------------------------------------------------------------
TSDIR="$E2E_DIR/tslog"
mkdir "$TSDIR"
TSLOG="$TSDIR/console-0"
day0=$(date -u +%F)
daemon_start "$BACKEND" --console-log="$TSDIR/console-" --console-log-timestamps
guest_start g2 "${DAEMON_SOCK}0" 90
guest_wait_ready g2
client_connect c4 "$(spec)"
check_boot_output c4 g2
check_command c4 g2
client_send c4 "ls /; printf 'no newline'; sleep 0.2; echo ' then one'\r"
client_wait c4 "no newline then one" 10
check_command c4 g2
file_wait "$TSLOG" "$MARK_OUT g2 Linux" 10
sleep 0.3
day1=$(date -u +%F)
lines=$(LC_ALL=C grep -ac '' "$TSLOG")
bad=$(LC_ALL=C grep -avE "$TS_RE" "$TSLOG" | head -3 | cat -v)
{ [ -z "$bad" ] && [ "$lines" -ge 10 ]; } ||
	e2e_fail "every line of the log should start with an ISO-8601 UTC time ($lines lines)" \
		"lines without: $bad"
first=$(head -c 10 "$TSLOG")
[ "$first" = "$day0" ] || [ "$first" = "$day1" ] ||
	e2e_fail "the log's first time should be today's (UTC $day0), it is $(head -c 24 "$TSLOG")"
size=$(stat -c %s "$E2E_DIR/c4.out")
LC_ALL=C sed -E "s/$TS_RE//" "$TSLOG" >"$E2E_DIR/tslog.plain"
cmp -n "$size" "$E2E_DIR/c4.out" "$E2E_DIR/tslog.plain" >/dev/null ||
	e2e_fail "without its times, the log should start with all the client received" \
		"$(cmp -n "$size" "$E2E_DIR/c4.out" "$E2E_DIR/tslog.plain")"
e2e_ok "--console-log-timestamps: all $lines lines start with a UTC time ($(head -c 24 "$TSLOG")); without them the log is what the client got"
guest_exit c4 g2
client_close c4
daemon_stop
