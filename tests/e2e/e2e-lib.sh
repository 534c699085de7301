# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# shellcheck shell=bash
#
# End-to-end test harness: the daemon under test, real Linux guests as its
# frontends and console clients driven like a person would: a TCP or unix
# socket connection, or a pseudo-terminal for the nested backend (e2e-io.c,
# built at test time).  The frontend is User Mode Linux (uml-lib.sh) or
# QEMU (qemu-lib.sh); everything else is the same for both.
#
# A test script sources this file and calls e2e_init NAME [uml|qemu] first
# (default uml).  Every check prints "ok: ..." or fails the script with
# "FAIL: ...", what was expected and what came, and the tail of the
# daemon's log, the guests' consoles and the clients' output.  Exit status
# 0 pass, 77 skip (no guest possible here), 1 fail.
#
# Environment:
#   VDC_DAEMON      the daemon to test (default ./vhost-device-console)
#   VDC_E2E_KEEP    1: keep the work directory (logs, captures) at the end
#   VDC_E2E_WATCHDOG  seconds before a hung script is failed (default 150)
#
# Guests: a UML guest runs a copy of the guest root (uml-lib.sh), a QEMU
# guest an initramfs (qemu-lib.sh); neither sees the host's files.  The
# payload writes "BOOT-OUTPUT <name>" to /dev/hvc0, logs "E2E-LOG:
# hvc0-ready <name>" on the guest's console (UML's console, QEMU's serial
# port: the host's side channel) and then runs an interactive shell on
# /dev/hvc0; typing "exit" powers the guest off.  /tmp/ident in the guest
# holds its name.  A QEMU guest that reboots runs the payload again.

# shellcheck source-path=SCRIPTDIR source=uml-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/uml-lib.sh"
# shellcheck source-path=SCRIPTDIR source=qemu-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/qemu-lib.sh"

E2E_NAME=e2e
E2E_FRONTEND=uml    # uml or qemu: what boots the guests
E2E_DIR=""          # work directory (no spaces, ',' or ':': UML needs that)
E2E_IO=""           # the helper binary
E2E_T0=0
E2E_WATCHDOG_PID=""
E2E_FAILED=0
E2E_MARK_N=100
DAEMON_PID=""       # daemon run directly (network, uds)
DAEMON_LOG=""
DAEMON_SOCK=""      # --socket-path given to the daemon
DAEMON_PORT=""      # network: --tcp-port
DAEMON_UDS=""       # uds: --uds-path
declare -A GUEST_PID=()
declare -A CLIENT_PID=() CLIENT_FD=() CLIENT_POS=() CLIENT_ESC=()
CLIENT_MATCH=""     # what the last client_wait matched
CLIENT_OFF=0        # and where it starts in the capture
E2E_CMD_MS=0        # round trip of the last check_command
E2E_WAIT_FLOOR=30   # the shortest wait, in s, for what must come (CI: 2 loaded cores)
# shellcheck disable=SC2034 # for the test scripts
CLIENT_STATUS=0     # exit status of the last client_close'd client

e2e_now_ms() { echo $(($(date +%s%N) / 1000000)); }
e2e_elapsed() {
	local ms=$(($(e2e_now_ms) - E2E_T0))
	printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100))
}

e2e_log() { printf '%s: %s\n' "$E2E_NAME" "$*"; }
e2e_ok() { printf 'ok: %s: %s [%s]\n' "$E2E_NAME" "$*" "$(e2e_elapsed)"; }

# Show a capture's tail readably (binary bulk data makes cat -v lines long).
_e2e_tail() {
	local file=$1 lines=${2:-25}
	if [ ! -e "$file" ]; then
		echo "    (no $file)"
		return
	fi
	tail -c 4000 "$file" | cat -v | cut -c1-200 | tail -n "$lines" | sed 's/^/    | /'
}

e2e_diag() {
	local n
	echo "---- diagnostics ($E2E_NAME, work directory $E2E_DIR) ----"
	for n in "${!CLIENT_PID[@]}"; do
		echo "client $n output (tail, $(stat -c %s "$E2E_DIR/$n.out" 2>/dev/null || echo 0) bytes, read up to byte ${CLIENT_POS[$n]:-0}):"
		_e2e_tail "$E2E_DIR/$n.out" 30
		if [ -s "$E2E_DIR/$n.err" ]; then
			echo "client $n stderr:"
			_e2e_tail "$E2E_DIR/$n.err" 10
		fi
	done
	if [ -n "$DAEMON_LOG" ]; then
		echo "daemon log (tail):"
		_e2e_tail "$DAEMON_LOG" 40
	fi
	for n in "${!GUEST_PID[@]}"; do
		echo "guest $n console (tail):"
		_e2e_tail "$E2E_DIR/$n.console" 25
		if [ -s "$E2E_DIR/$n/uml.stderr" ]; then
			echo "guest $n UML stderr (tail):"
			_e2e_tail "$E2E_DIR/$n/uml.stderr" 10
		fi
		# QEMU's own messages are on the console file, beside the serial
		# port's; its log of the serial port alone:
		if [ -s "$E2E_DIR/$n/console" ]; then
			echo "guest $n serial port (tail):"
			_e2e_tail "$E2E_DIR/$n/console" 10
		fi
	done
	echo "---- end of diagnostics ----"
}

# e2e_fail MESSAGE [DETAIL LINES...]
e2e_fail() {
	local l
	echo "FAIL: $E2E_NAME: $1 [$(e2e_elapsed)]"
	shift
	for l in "$@"; do
		echo "    $l"
	done
	E2E_FAILED=1
	e2e_diag
	exit 1
}

e2e_skip() {
	echo "************************************************************"
	echo "SKIP: $E2E_NAME: $*"
	echo "************************************************************"
	exit 77
}

# The write ends of the clients' fifos: no other process may hold one, or
# closing ours would not end the client's input.
_e2e_close_client_fds() {
	local fd
	for fd in "${CLIENT_FD[@]}"; do
		exec {fd}>&-
	done
}

# _e2e_bg CMD...: run CMD in the background ($! is its pid) without the
# clients' fifos; the caller's redirections apply.
_e2e_bg() {
	(
		_e2e_close_client_fds
		exec "$@"
	) &
}

# _e2e_guest_kill NAME: kill a guest that is still running.  UML makes
# itself a session and process group leader (its pid file says which);
# uml-boot.sh or qemu-boot.sh, timeout and QEMU run in the session we gave
# them (setsid).
_e2e_guest_kill() {
	local pid=${GUEST_PID[$1]} f upid
	kill -0 "$pid" 2>/dev/null || return 0
	for f in "$E2E_DIR/$1"/uml/*/pid; do
		[ -f "$f" ] || continue
		upid=$(cat "$f")
		case $upid in
		'' | *[!0-9]*) ;;
		*) kill -KILL -- "-$upid" 2>/dev/null ;;
		esac
	done
	kill -KILL -- "-$pid" 2>/dev/null
}

# Stop everything this script started, by process id.
e2e_cleanup() {
	local rc=$? n pid i
	trap - EXIT INT TERM HUP
	[ -n "$E2E_WATCHDOG_PID" ] && kill "$E2E_WATCHDOG_PID" 2>/dev/null
	_e2e_close_client_fds
	for n in "${!CLIENT_PID[@]}"; do
		pid=${CLIENT_PID[$n]}
		# CONT: a test may have stopped it.
		[ -n "$pid" ] && kill "$pid" 2>/dev/null && kill -CONT "$pid" 2>/dev/null
	done
	for n in "${!GUEST_PID[@]}"; do
		_e2e_guest_kill "$n"
	done
	if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		for i in $(seq 50); do
			kill -0 "$DAEMON_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$DAEMON_PID" 2>/dev/null
	fi
	wait 2>/dev/null
	if [ -n "$E2E_DIR" ] && [ -d "$E2E_DIR" ]; then
		if [ "${VDC_E2E_KEEP:-0}" = 1 ]; then
			echo "$E2E_NAME: work directory kept: $E2E_DIR"
		else
			rm -rf "$E2E_DIR"
		fi
	fi
	if [ "$rc" = 0 ] && [ "$E2E_FAILED" = 0 ]; then
		echo "PASS: $E2E_NAME [$(e2e_elapsed)]"
	fi
	exit "$rc"
}

_e2e_on_signal() {
	e2e_fail "interrupted (signal) or watchdog expired after ${VDC_E2E_WATCHDOG:-150} s"
}

# e2e_init NAME [uml|qemu]: the frontend ready (or skip), helper built,
# cleanup armed.
e2e_init() {
	local rc=0 what
	# Nothing here reads the caller's stdin, which may be closed (CI).
	exec </dev/null
	E2E_NAME=$1
	E2E_FRONTEND=${2:-uml}
	E2E_T0=$(e2e_now_ms)
	E2E_DAEMON=${VDC_DAEMON:-./vhost-device-console}
	case $E2E_DAEMON in
	/*) ;;
	*/*) E2E_DAEMON="$PWD/$E2E_DAEMON" ;;
	*) E2E_DAEMON=$(command -v "$E2E_DAEMON" || echo "$PWD/$E2E_DAEMON") ;;
	esac
	[ -x "$E2E_DAEMON" ] || { echo "FAIL: $E2E_NAME: daemon $E2E_DAEMON not found or not executable (set VDC_DAEMON)"; exit 1; }

	case $E2E_FRONTEND in
	uml | qemu) ;;
	*) echo "FAIL: $E2E_NAME: unknown frontend '$E2E_FRONTEND' (uml or qemu)"; exit 1 ;;
	esac
	"${E2E_FRONTEND}_init" || rc=$?
	if [ "$rc" = 77 ]; then
		e2e_skip "no $E2E_FRONTEND guest can be prepared on this machine (see the SKIP lines of $E2E_FRONTEND-setup.sh above)"
	elif [ "$rc" != 0 ]; then
		echo "FAIL: $E2E_NAME: preparing the $E2E_FRONTEND guest failed ($E2E_FRONTEND-setup.sh status $rc)"
		exit 1
	fi
	command -v "${CC:-cc}" >/dev/null || e2e_skip "no C compiler (${CC:-cc}) for the e2e-io helper"

	E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/vdc-e2e-$E2E_NAME.XXXXXX") || exit 1
	case $E2E_DIR in
	*[[:space:],:]*)
		echo "FAIL: $E2E_NAME: work directory must not contain spaces, ',' or ':': $E2E_DIR"
		rm -rf "$E2E_DIR"
		exit 1 ;;
	esac
	trap e2e_cleanup EXIT
	trap _e2e_on_signal INT TERM HUP
	# A hung check fails the script instead of hanging the test run.
	(
		trap 'kill "$s" 2>/dev/null; exit 0' TERM
		sleep "${VDC_E2E_WATCHDOG:-150}" & s=$!
		wait "$s" && kill -TERM $$
	) &
	E2E_WATCHDOG_PID=$!

	E2E_IO="$E2E_DIR/e2e-io"
	"${CC:-cc}" -std=gnu11 -O2 -Wall -o "$E2E_IO" "$UML_E2E_DIR/e2e-io.c" 2>"$E2E_DIR/cc.log" ||
		e2e_fail "building the e2e-io helper failed" "$(cat "$E2E_DIR/cc.log")"
	case $E2E_FRONTEND in
	uml) what="UML $UML_KVER" ;;
	qemu) what="QEMU $QEMU_VERSION, guest kernel $QEMU_KVER" ;;
	esac
	e2e_log "daemon $E2E_DAEMON, $what, work directory $E2E_DIR"
}

# e2e_mark PREFIX: MARK_OUT is what the guest prints, MARK_IN what is typed
# to print it (the echo of the typed line never matches MARK_OUT).
e2e_mark() {
	E2E_MARK_N=$((E2E_MARK_N + 1))
	MARK_OUT="$1-$E2E_MARK_N"
	MARK_IN="$1-\$(($((E2E_MARK_N - 1))+1))"
}

# --- the daemon -------------------------------------------------------------

# _e2e_wait_listening PID LOG SECS: the daemon bound its sockets (or died).
_e2e_wait_listening() {
	local pid=$1 log=$2 n=$(($3 * 20))
	while [ "$n" -gt 0 ]; do
		grep -q 'listening on' "$log" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

# daemon_start BACKEND [OPTIONS...]: run the daemon with a socket path in
# the work directory, queue size 256 (what UML asks for; QEMU asks for 64)
# and debug logs.
# network: a free --tcp-port is chosen (DAEMON_PORT); uds: --uds-path is
# DAEMON_UDS.  Guest i's vhost-user socket is ${DAEMON_SOCK}i.
daemon_start() {
	local backend=$1 try
	shift
	DAEMON_SOCK="$E2E_DIR/vu"
	DAEMON_LOG="$E2E_DIR/daemon.log"
	for try in 1 2 3 4 5 6 7 8; do
		local -a args=(--socket-path="$DAEMON_SOCK" --backend="$backend"
			--max-queue-size=256 --log-level=debug)
		case $backend in
		network)
			DAEMON_PORT=$((20000 + (RANDOM * 7 + $$ + try * 997) % 12000))
			args+=(--tcp-port="$DAEMON_PORT") ;;
		uds)
			DAEMON_UDS="$E2E_DIR/console"
			args+=(--uds-path="$DAEMON_UDS") ;;
		esac
		: >"$DAEMON_LOG"
		_e2e_bg "$E2E_DAEMON" "${args[@]}" "$@" 2>>"$DAEMON_LOG" </dev/null
		DAEMON_PID=$!
		if _e2e_wait_listening "$DAEMON_PID" "$DAEMON_LOG" 10; then
			e2e_log "daemon pid $DAEMON_PID: ${args[*]} $*"
			return 0
		fi
		wait "$DAEMON_PID" 2>/dev/null
		DAEMON_PID=""
		# Another program may hold the port: try another one.
		[ "$backend" = network ] && grep -q 'in use' "$DAEMON_LOG" && continue
		break
	done
	e2e_fail "the daemon did not start listening" "$(cat "$DAEMON_LOG")"
}

# _e2e_daemon_log_clean: no sanitizer report, no worker crash in the log.
_e2e_daemon_log_clean() {
	local bad
	bad=$(grep -E 'AddressSanitizer|LeakSanitizer|runtime error:|killed by signal|exited with status' "$DAEMON_LOG" | head -5)
	[ -z "$bad" ] || e2e_fail "the daemon log reports a crash or a sanitizer error" "$bad"
}

# daemon_stop: SIGTERM, exit status 0, clean log.
daemon_stop() {
	local i rc=0
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$DAEMON_PID" 2>/dev/null && e2e_fail "the daemon did not stop within 10 s of SIGTERM"
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=""
	[ "$rc" = 0 ] || e2e_fail "the daemon exited with status $rc on SIGTERM (want 0)"
	_e2e_daemon_log_clean
	e2e_ok "daemon stopped by SIGTERM with status 0, no sanitizer reports"
}

# --- guests -----------------------------------------------------------------

# The same for both frontends: busybox sh, the console's first port
# /dev/hvc0, the guest's console (stdout) as the host's side channel.
_e2e_guest_payload() {
	cat <<EOF
# e2e guest payload (generated by e2e-lib.sh)
# Each step on the guest's console (the shell on hvc0 does not inherit it).
set -x
e2e_guest_log() { echo "E2E-LOG: \$*"; }
echo $1 >/tmp/ident
# The node appears before the driver takes opens (ENXIO meanwhile). The
# probe runs in a subshell: a failed redirection of ':' (a special
# built-in) would end this shell itself.
n=200
while [ ! -e /dev/hvc0 ] || ! ( : >/dev/hvc0 ) 2>/dev/null; do
	n=\$((n - 1))
	[ "\$n" -gt 0 ] || { e2e_guest_log "no /dev/hvc0 $1"; exit 3; }
	usleep 100000
done
echo "BOOT-OUTPUT $1: hvc0 is up" >/dev/hvc0 || exit 4
e2e_guest_log "hvc0-ready $1"
setsid -c sh -i </dev/hvc0 >/dev/hvc0 2>&1
rc=\$?
e2e_guest_log "shell-exit $1 \$rc"
exit \$rc
EOF
}

# guest_start NAME SOCKET [SECS] [BOOT OPTIONS...]: boot a guest against
# SOCKET in the background; it is stopped after SECS (default 60 for UML,
# 150 for QEMU; empty: the default).  The boot options go to uml-boot.sh or
# qemu-boot.sh (e.g. -c SRC:DST, or for QEMU -q NUM_VQS).
guest_start() {
	local name=$1 sock=$2 secs=${3:-}
	shift $(($# < 3 ? $# : 3))
	if [ -z "$secs" ]; then
		secs=60
		[ "$E2E_FRONTEND" = qemu ] && secs=150
	fi
	_e2e_guest_payload "$name" >"$E2E_DIR/$name.payload"
	# A session of its own: cleanup can kill the guest's process group.
	_e2e_bg setsid bash "$UML_E2E_DIR/$E2E_FRONTEND-boot.sh" -t "$secs" -d "$E2E_DIR/$name" -s "$sock" \
		-f "$E2E_DIR/$name.payload" "$@" >"$E2E_DIR/$name.console" 2>&1 </dev/null
	GUEST_PID[$name]=$!
}

# e2e_guest_copies BINARY DST: the boot options (-c SRC:DST ...) that put
# the host's dynamically linked BINARY into a guest as DST, with the
# shared libraries ldd lists and the dynamic loader, at the same paths
# (the guests' roots are busybox only).
e2e_guest_copies() {
	local bin=$1 dst=$2 line lib
	printf '%s\n' -c "$bin:$dst"
	while read -r line; do
		case $line in
		*"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
		/*) lib=${line%% (*} ;;
		*) continue ;;
		esac
		printf '%s\n' -c "$lib:$lib"
	done < <(LC_ALL=C ldd "$bin")
}

# e2e_guest_helper: E2E_IO_GUEST, a static build of e2e-io for the guests
# (hostwait); give it to a guest with -c "$E2E_IO_GUEST:/bin/e2e-io".
E2E_IO_GUEST=""
e2e_guest_helper() {
	[ -n "$E2E_IO_GUEST" ] && return 0
	E2E_IO_GUEST="$E2E_DIR/e2e-io-guest"
	"${CC:-cc}" -std=gnu11 -O2 -Wall -static -o "$E2E_IO_GUEST" "$UML_E2E_DIR/e2e-io.c" 2>"$E2E_DIR/cc-static.log" ||
		e2e_fail "building the static e2e-io helper for the guests failed (libc6-dev's libc.a?)" "$(cat "$E2E_DIR/cc-static.log")"
}

# guest_wait_ready NAME [SECS] [N]: the guest wrote its boot output to
# hvc0 for the Nth time (default 1; a QEMU guest that rebooted: 2).
# QEMU guests get twice the time: TCG boots take 8-13 s.
guest_wait_ready() {
	local name=$1 secs=${2:-20} nth=${3:-1} n
	[ "$E2E_FRONTEND" = qemu ] && secs=$((secs * 2))
	n=$((secs * 20))
	while [ "$n" -gt 0 ]; do
		if [ "$(grep -ac "^E2E-LOG: hvc0-ready $name" "$E2E_DIR/$name.console" 2>/dev/null)" -ge "$nth" ]; then
			e2e_ok "guest $name booted and wrote its boot output to hvc0 (boot $nth)"
			return 0
		fi
		kill -0 "${GUEST_PID[$name]}" 2>/dev/null ||
			e2e_fail "guest $name ended before it wrote 'E2E-LOG: hvc0-ready $name' on its console (boot $nth)"
		sleep 0.05
		n=$((n - 1))
	done
	e2e_fail "guest $name: no 'E2E-LOG: hvc0-ready $name' on its console (boot $nth) within $secs s"
}

# guest_wait_exit NAME [SECS]: the guest powered off; its payload ended 0.
guest_wait_exit() {
	local name=$1 secs=${2:-20} n rc=0
	[ "$secs" -ge "$E2E_WAIT_FLOOR" ] || secs=$E2E_WAIT_FLOOR
	n=$((secs * 20))
	while kill -0 "${GUEST_PID[$name]}" 2>/dev/null; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || e2e_fail "guest $name did not power off within $secs s"
		sleep 0.05
	done
	wait "${GUEST_PID[$name]}" || rc=$?
	[ "$rc" = 0 ] || e2e_fail "guest $name ended with status $rc (want 0: shell exited normally, powered off)"
	e2e_ok "guest $name powered off"
}

# --- clients ----------------------------------------------------------------

# _client_start NAME ESCAPE CMD...: CMD's stdin is a fifo we write to, its
# stdout the capture $E2E_DIR/NAME.out.
_client_start() {
	local name=$1 esc=$2 fd
	shift 2
	rm -f "$E2E_DIR/$name.in"
	mkfifo "$E2E_DIR/$name.in"
	: >"$E2E_DIR/$name.out"
	# The fifo is opened in the background: opening it blocks until we
	# open the write end below.
	(
		_e2e_close_client_fds
		exec "$@" <"$E2E_DIR/$name.in" >"$E2E_DIR/$name.out" 2>"$E2E_DIR/$name.err"
	) &
	CLIENT_PID[$name]=$!
	exec {fd}>"$E2E_DIR/$name.in"
	CLIENT_FD[$name]=$fd
	CLIENT_POS[$name]=0
	CLIENT_ESC[$name]=$esc
}

# client_connect NAME tcp:PORT|unix:PATH [OPTIONS...]: OPTIONS for
# e2e-io connect (-b BYTES: a small receive buffer).
client_connect() {
	_client_start "$1" 0 "$E2E_IO" connect -w 5 "${@:3}" "$2"
}

# client_pty NAME [-e] [-s COLSxROWS] CMD...: a terminal running CMD (the
# nested backend), COLSxROWS big (default 80x24); with -e CMD's stderr goes
# to the terminal too.  client_resize resizes it later.
client_pty() {
	local name=$1 opt=()
	shift
	while :; do
		case $1 in
		-e) opt+=(-e); shift ;;
		-s) opt+=(-s "$2"); shift 2 ;;
		*) break ;;
		esac
	done
	_client_start "$name" 1 "$E2E_IO" pty "${opt[@]}" -r "$E2E_DIR/$name.size" -- "$@"
}

# client_resize NAME COLS ROWS: resize client NAME's terminal (client_pty),
# as a person resizing the window: its foreground gets SIGWINCH.
client_resize() {
	local name=$1
	printf '%sx%s\n' "$2" "$3" >"$E2E_DIR/$name.size"
	kill -USR1 "${CLIENT_PID[$name]}" 2>/dev/null ||
		e2e_fail "client $name: cannot resize its terminal (did it end?)"
}

# client_close NAME: end of input; the client ends when the peer closes.
client_close() {
	local name=$1 n=100 rc=0
	local fd=${CLIENT_FD[$name]}
	exec {fd}>&-
	unset "CLIENT_FD[$name]"
	while kill -0 "${CLIENT_PID[$name]}" 2>/dev/null; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || e2e_fail "client $name did not end within 10 s of closing its input"
		sleep 0.1
	done
	wait "${CLIENT_PID[$name]}" || rc=$?
	CLIENT_PID[$name]=""
	# shellcheck disable=SC2034 # read by the test scripts
	CLIENT_STATUS=$rc
}

# client_send NAME STRING: type STRING (printf %b escapes are expanded).
client_send() {
	local name=$1 fd=${CLIENT_FD[$1]:-}
	[ -n "$fd" ] || e2e_fail "client $name is closed; cannot send"
	# A client that died makes the write fail, not kill this shell.
	(trap '' PIPE; printf '%b' "$2" >&"$fd") 2>/dev/null ||
		e2e_fail "client $name: writing to it failed (did it end?)"
}

# client_send_file NAME FILE [SECS]: type FILE's bytes (Ctrl-a escaped for
# the nested backend).
client_send_file() {
	local name=$1 file=$2 fd=${CLIENT_FD[$1]:-} rc=0
	[ -n "$fd" ] || e2e_fail "client $name is closed; cannot send"
	if [ "${CLIENT_ESC[$name]}" = 1 ]; then
		"$E2E_IO" escape <"$file" >"$file.esc"
		file="$file.esc"
	fi
	(trap '' PIPE; exec timeout "${3:-30}" cat "$file") 1>&"$fd" 2>/dev/null || rc=$?
	[ "$rc" = 0 ] || e2e_fail "client $name: sending $file failed (status $rc; 124: the guest did not take it within ${3:-30} s)"
}

# _client_find NAME MODE PATTERN: first match at or after the read
# position; sets CLIENT_OFF (absolute) and CLIENT_MATCH.
_client_find() {
	local name=$1 mode=$2 pat=$3 pos=${CLIENT_POS[$1]} hit
	hit=$(tail -c +"$((pos + 1))" "$E2E_DIR/$name.out" | LC_ALL=C grep -abo"$mode" -m1 -e "$pat" | head -n1) || return 1
	[ -n "$hit" ] || return 1
	CLIENT_OFF=$((pos + ${hit%%:*}))
	CLIENT_MATCH=${hit#*:}
}

# client_wait NAME PATTERN [SECS] [-E]: wait until the client's output
# shows PATTERN (a fixed string, or an extended regex with -E) after what
# was already read; the read position moves past the match.
client_wait() {
	local name=$1 pat=$2 secs=${3:-15} mode=F n
	[ "${4:-}" = -E ] && mode=E
	# What must come gets time on a loaded machine; it ends the wait at once.
	[ "$secs" -ge "$E2E_WAIT_FLOOR" ] || secs=$E2E_WAIT_FLOOR
	n=$((secs * 20))
	while ! _client_find "$name" "$mode" "$pat"; do
		n=$((n - 1))
		if [ "$n" -le 0 ]; then
			e2e_fail "client $name: expected '$pat' within $secs s, it did not come" \
				"(output after byte ${CLIENT_POS[$name]} shown below; $(($(stat -c %s "$E2E_DIR/$name.out") - CLIENT_POS[$name])) bytes)"
		fi
		sleep 0.05
	done
	CLIENT_POS[$name]=$((CLIENT_OFF + ${#CLIENT_MATCH}))
}

# client_absent NAME STRING: STRING appears nowhere in the client's output.
client_absent() {
	if LC_ALL=C grep -aqF -e "$2" "$E2E_DIR/$1.out"; then
		e2e_fail "client $1: '$2' must not appear in its output, but it did"
	fi
}

# --- checks shared by the backends ------------------------------------------

# check_boot_output CLIENT GUEST: the client's output starts with the
# guest's boot output (written before the client came: the daemon kept it).
check_boot_output() {
	local c=$1 g=$2 first
	client_wait "$c" "BOOT-OUTPUT $g: hvc0 is up"
	first=$(head -c 40 "$E2E_DIR/$c.out")
	[ "$CLIENT_OFF" = 0 ] || e2e_fail "client $c: the guest's boot output should come first" \
		"expected the output to start with 'BOOT-OUTPUT $g: hvc0 is up'" \
		"got it at byte $CLIENT_OFF; the output starts with: $(printf '%s' "$first" | cat -v)"
	e2e_ok "client $c received first the boot output of $g it missed"
}

# check_marker CLIENT GUEST: the boot marker arrived (live or buffered).
check_marker() {
	client_wait "$1" "BOOT-OUTPUT $2: hvc0 is up" 20
	e2e_ok "client $1: marker written by guest $2 to hvc0 arrived"
}

# check_command CLIENT GUEST: a command typed in one write runs in GUEST,
# its output comes back; E2E_CMD_MS is the round trip (to 50 ms).
check_command() {
	local c=$1 g=$2 t0
	e2e_mark CMD
	t0=$(e2e_now_ms)
	client_send "$c" "echo \"$MARK_IN \$(cat /tmp/ident) \$(uname -s)\"\r"
	client_wait "$c" "$MARK_OUT $g Linux" 15
	E2E_CMD_MS=$(($(e2e_now_ms) - t0))
	e2e_ok "client $c: typed command ran in guest $g, output came back ($E2E_CMD_MS ms)"
}

declare -A BULK_SUM=() BULK_BEGIN=() BULK_END=() BULK_SIZE=() BULK_T0=()

# bulk_out_prepare CLIENT GUEST [BYTES]: the guest makes BYTES random bytes.
bulk_out_prepare() {
	local c=$1 size=${3:-1048576}
	e2e_mark SUM
	client_send "$c" "head -c $size /dev/urandom >/tmp/bulk; echo \"$MARK_IN \$(md5sum </tmp/bulk)\"\r"
	client_wait "$c" "$MARK_OUT [0-9a-f]{32}" 20 -E
	BULK_SUM[$c]=${CLIENT_MATCH##* }
	BULK_SIZE[$c]=$size
}

# bulk_out_start CLIENT: the guest starts writing them to its tty in raw
# mode, between two markers.
bulk_out_start() {
	local c=$1 begin_in
	e2e_mark BEGIN
	BULK_BEGIN[$c]=$MARK_OUT
	begin_in=$MARK_IN
	e2e_mark END
	BULK_END[$c]=$MARK_OUT
	BULK_T0[$c]=$(e2e_now_ms)
	client_send "$c" "stty raw -echo; echo $begin_in; cat /tmp/bulk; echo $MARK_IN; stty sane\r"
}

# bulk_out_finish CLIENT GUEST: the bytes arrived byte-exact, right between
# the markers.
bulk_out_finish() {
	local c=$1 g=$2 size=${BULK_SIZE[$1]} sum=${BULK_SUM[$1]} begin=${BULK_BEGIN[$1]}
	local end=${BULK_END[$1]} start got next n=$((40 * 20)) have
	client_wait "$c" "$begin" 10
	start=$((CLIENT_OFF + ${#begin} + 1))
	# Raw mode: the marker ends in a bare newline.
	[ "$(tail -c +"$start" "$E2E_DIR/$c.out" | head -c 1 | od -An -c | tr -d " ")" = '\n' ] ||
		e2e_fail "client $c: expected a bare newline after '$begin' (guest tty in raw mode)"
	# The data may contain anything, so only look for the end marker at
	# the exact position it must come.
	while :; do
		have=$(stat -c %s "$E2E_DIR/$c.out")
		[ "$have" -ge $((start + size + ${#end})) ] && break
		n=$((n - 1))
		[ "$n" -gt 0 ] || e2e_fail "client $c: $size bytes from guest $g did not all arrive within 40 s" \
			"got $((have - start)) bytes after '$begin'"
		sleep 0.05
	done
	got=$(tail -c +"$((start + 1))" "$E2E_DIR/$c.out" | head -c "$size" | md5sum)
	got=${got%% *}
	next=$(tail -c +"$((start + size + 1))" "$E2E_DIR/$c.out" | head -c "${#end}")
	if [ "$got" != "$sum" ] || [ "$next" != "$end" ]; then
		tail -c +"$((start + 1))" "$E2E_DIR/$c.out" | head -c "$size" >"$E2E_DIR/$c.bulk-got"
		e2e_fail "client $c: $size random bytes from guest $g are not byte-exact" \
			"expected md5 $sum followed by '$end'" \
			"got md5 $got followed by '$(printf '%s' "$next" | cat -v)'" \
			"(received data in $E2E_DIR/$c.bulk-got; VDC_E2E_KEEP=1 keeps it)"
	fi
	CLIENT_POS[$c]=$((start + size + ${#end}))
	# Back to a cooked tty before the next check.
	e2e_mark SANE
	client_send "$c" "echo $MARK_IN\r"
	client_wait "$c" "$MARK_OUT"
	e2e_ok "client $c: $size random bytes from guest $g arrived byte-exact ($(($(e2e_now_ms) - BULK_T0[$c])) ms)"
}

# check_bulk_out CLIENT GUEST [BYTES]: random bytes from the guest's tty in
# raw mode reach the client byte-exact.
check_bulk_out() {
	bulk_out_prepare "$@"
	bulk_out_start "$1"
	bulk_out_finish "$1" "$2"
}

# check_bulk_in CLIENT GUEST [BYTES]: random bytes typed by the client reach
# the guest's tty (raw mode) byte-exact.
check_bulk_in() {
	local c=$1 g=$2 size=${3:-262144} file sum ready ready_in t0
	file="$E2E_DIR/$c.bulk-in"
	# Ctrl-a x, Ctrl-a Ctrl-a and Ctrl-a a in the data for sure: through the
	# nested backend (every Ctrl-a doubled) they must arrive unchanged.
	{
		printf '\001x\001\001\001a'
		head -c "$((size - 6))" /dev/urandom
	} >"$file"
	sum=$(md5sum <"$file")
	sum=${sum%% *}
	e2e_mark READY
	ready=$MARK_OUT ready_in=$MARK_IN
	e2e_mark RXSUM
	client_send "$c" "stty raw -echo; echo $ready_in; echo \"$MARK_IN \$(head -c $size | md5sum)\"; stty sane\r"
	client_wait "$c" "$ready" 10
	t0=$(e2e_now_ms)
	client_send_file "$c" "$file" 30
	client_wait "$c" "$MARK_OUT [0-9a-f]{32}" 30 -E
	[ "${CLIENT_MATCH##* }" = "$sum" ] ||
		e2e_fail "client $c: $size random bytes to guest $g are not byte-exact" \
			"expected md5 $sum, the guest computed ${CLIENT_MATCH##* }"
	e2e_ok "client $c: $size random bytes reached guest $g byte-exact ($(($(e2e_now_ms) - t0)) ms)"
}

# check_stty_size CLIENT GUEST ROWS COLS: `stty size` on the guest's console
# says ROWS COLS.
check_stty_size() {
	local c=$1 g=$2 want="$3 $4"
	e2e_mark SIZE
	client_send "$c" "echo \"$MARK_IN \$(stty size)\"\r"
	client_wait "$c" "$MARK_OUT [0-9]+ [0-9]+" 15 -E
	[ "${CLIENT_MATCH#"$MARK_OUT "}" = "$want" ] ||
		e2e_fail "client $c: guest $g: stty size should say '$want' (rows cols)" \
			"got '${CLIENT_MATCH#"$MARK_OUT "}'"
	e2e_ok "client $c: guest $g's console is $4 columns by $3 rows (stty size: $want)"
}

# winch_watch_start CLIENT: the guest runs a foreground loop that prints
# "WINCH <rows> <cols>" on each SIGWINCH; winch_watch_stop ends it (Ctrl-C).
winch_watch_start() {
	local c=$1 ready ready_in
	e2e_mark WATCH
	ready=$MARK_OUT ready_in=$MARK_IN
	# shellcheck disable=SC2016 # expanded by the guest's shell
	client_send "$c" "sh -c 'trap \"echo WINCH \\\$(stty size)\" WINCH; echo $ready_in; while :; do usleep 100000; done'\r"
	client_wait "$c" "$ready" 10
}

winch_watch_stop() {
	client_send "$1" '\003'
	check_command "$1" "$2"
}

# guest_exit CLIENT GUEST: type exit; the guest powers off.
guest_exit() {
	client_send "$1" "exit 0\r"
	guest_wait_exit "$2" 20
}

# --- scenarios --------------------------------------------------------------

# e2e_socket_scenario network|uds: one daemon with --max-clients=1, one
# console socket, and in turn: boot output kept for a late client, marker
# and command, a second client refused (the console is full), 1 MiB out
# and 256 KiB in byte-exact, disconnect and reconnect (output made
# meanwhile is kept), a guest shut down and a new one booted against the
# same daemon, and a client that leaves and a new one that comes while no
# guest runs.
e2e_socket_scenario() {
	local backend=$1 spec
	# One client at a time: a second is refused (watchers are tested in
	# e2e-watchers.sh).
	daemon_start "$backend" --max-clients=1
	case $backend in
	network) spec="tcp:$DAEMON_PORT" ;;
	uds) spec="unix:${DAEMON_UDS}0" ;;
	esac

	guest_start g1 "${DAEMON_SOCK}0"
	guest_wait_ready g1
	client_connect c1 "$spec"
	check_boot_output c1 g1
	check_command c1 g1

	client_connect busy "$spec"
	client_wait busy "this console is full" 10
	client_close busy
	check_command c1 g1
	e2e_ok "a second client was told the console is full (--max-clients=1); the first one carried on"

	check_bulk_out c1 g1 1048576
	check_bulk_in c1 g1 262144

	# Disconnect while the guest is about to write; reconnect.
	e2e_mark LATE
	client_send c1 "sleep 1; echo $MARK_IN\r"
	client_wait c1 "sleep 1; echo LATE"
	client_close c1
	sleep 1.5
	client_connect c2 "$spec"
	client_wait c2 "$MARK_OUT" 10
	e2e_ok "client c2: output the guest wrote while no client was connected arrived"
	check_command c2 g1
	e2e_ok "the client disconnected and reconnected; the console still works"

	# A new guest against the same daemon; the client stays connected.
	guest_exit c2 g1
	guest_start g2 "${DAEMON_SOCK}0"
	check_marker c2 g2
	check_command c2 g2
	check_bulk_out c2 g2 65536
	e2e_ok "guest g1 shut down, g2 booted against the same daemon and works"

	# Disconnect and reconnect while no guest reads the console.
	guest_exit c2 g2
	client_close c2
	# A person takes a moment to reconnect (and the daemon must not need more).
	sleep 0.3
	client_connect c3 "$spec"
	sleep 0.5
	if LC_ALL=C grep -aq "this console is full" "$E2E_DIR/c3.out"; then
		e2e_fail "client c3 was refused (full): the daemon did not notice that c2 closed its connection while no guest was running" \
			"expected: c2's close is seen at once, c3 is served" \
			"got: $(head -n1 "$E2E_DIR/c3.out" | cat -v)"
	fi
	guest_start g3 "${DAEMON_SOCK}0"
	check_marker c3 g3
	check_command c3 g3
	e2e_ok "a client that disconnected while no guest ran was replaced by a new one"
	guest_exit c3 g3
	client_close c3
	daemon_stop
}

# guest_halt NAME: stop a guest that can't be told to power off (its
# console is gone) through its UML management console.
# A guest whose daemon went away may have ended already: UML learns of it
# at once through the vhost-user back-end channel, and the guest's shell on
# hvc0 is hung up.
guest_halt() {
	local name=$1 mc
	if ! kill -0 "${GUEST_PID[$name]}" 2>/dev/null; then
		wait "${GUEST_PID[$name]}" 2>/dev/null
		return 0
	fi
	mc=$(echo "$E2E_DIR/$name"/uml/*/mconsole)
	# No socket: UML removes it as it ends, so the guest may be ending
	# right now (its daemon went away); the wait below tells.
	[ -S "$mc" ] && "$E2E_IO" mconsole "$mc" halt >/dev/null 2>&1
	local n=200
	while kill -0 "${GUEST_PID[$name]}" 2>/dev/null; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || e2e_fail "guest $name did not halt within 10 s (mconsole halt; socket: $mc)"
		sleep 0.05
	done
	wait "${GUEST_PID[$name]}" 2>/dev/null
}

# e2e_procs_with STRING: "pid: command line" of every process whose command
# line contains STRING (from /proc: no procps needed).
e2e_procs_with() {
	local f pid args
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[ "$pid" = "$BASHPID" ] && continue
		args=$(tr '\0' ' ' <"$f" 2>/dev/null) || continue
		case $args in
		*"$1"*) echo "$pid: $args" ;;
		esac
	done
}
