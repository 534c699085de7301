#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# make bench-guest: real guests against the daemon, the reference sink and
# QEMU's own virtconsole, in the same run, alternating.
#
#   bash bench/guest/bench-guest.sh --daemon=./vhost-device-console \
#        --tools=build/bench/guest [OPTION]...
#
#   --rounds=N        rounds; each boots every configuration once (3)
#   --frontends=LIST  uml,qemu (both)
#   --configs=LIST    vdc,sink,virtconsole (the default; virtconsole is
#                     QEMU only); two more for finding out where the time
#                     goes: fwd-first (the sink also writes the bytes to a
#                     reader process, then hands the chains back: the
#                     daemon's order) and ack-first (hands them back and
#                     notifies, then writes)
#   --cmds=N          command round trips per boot (20)
#   --answered-cmds=N the same command, with the client answering the line
#                     editor's cursor position query as a terminal does (10)
#   --plain-cmds=N    the same command typed to a `while read` loop instead
#                     of the interactive shell (0; see docs/performance.md)
#   --echoes=N        single-key echoes per boot (200)
#   --g2h=N           8 MiB guest -> host transfers per boot (3)
#   --h2g=N           1 MiB host -> guest transfers per boot (3)
#   --quick           1 round, 5 commands, 30 echoes, 1 transfer each way
#   --samples=FILE    also keep the raw samples there
#   --json            JSON lines only on stdout
#   --keep            keep the work directory (consoles, logs)
#   --trace=CMD       attach CMD -p PID -o FILE to the daemon's worker and
#                     to the sink for each of their boots, e.g.
#                     --trace="strace -c -f" or --trace="perf stat";
#                     stopped with SIGINT at the end of the boot; the
#                     reports go to the work directory (use with --keep)
#
# Per round and frontend the configurations boot in turn (vdc, sink,
# virtconsole, then the next round), so that each sees the same moments
# of a busy machine. One boot per configuration per round; every
# measurement of that round runs in it.

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E="$HERE/../../tests/e2e"
# shellcheck source=tests/e2e/uml-lib.sh
. "$E2E/uml-lib.sh"
# shellcheck source=tests/e2e/qemu-lib.sh
. "$E2E/qemu-lib.sh"

DAEMON=./vhost-device-console
TOOLS=build/bench/guest
ROUNDS=3 FRONTENDS=uml,qemu CONFIGS=vdc,sink,virtconsole
CMDS=20 ANSWERED_CMDS=10 PLAIN_CMDS=0 ECHOES=200 G2H=3 H2G=3 JSON=0 KEEP=0 SAMPLES_OUT="" TRACE=""
G2H_BYTES=8388608 H2G_BYTES=1048576
BOOT_SECS=300

for a in "$@"; do
	case $a in
	--daemon=*) DAEMON=${a#*=} ;;
	--tools=*) TOOLS=${a#*=} ;;
	--rounds=*) ROUNDS=${a#*=} ;;
	--frontends=*) FRONTENDS=${a#*=} ;;
	--configs=*) CONFIGS=${a#*=} ;;
	--cmds=*) CMDS=${a#*=} ;;
	--plain-cmds=*) PLAIN_CMDS=${a#*=} ;;
	--answered-cmds=*) ANSWERED_CMDS=${a#*=} ;;
	--echoes=*) ECHOES=${a#*=} ;;
	--g2h=*) G2H=${a#*=} ;;
	--h2g=*) H2G=${a#*=} ;;
	--quick) ROUNDS=1 CMDS=5 ANSWERED_CMDS=3 ECHOES=30 G2H=1 H2G=1 ;;
	--samples=*) SAMPLES_OUT=${a#*=} ;;
	--json) JSON=1 ;;
	--keep) KEEP=1 ;;
	--trace=*) TRACE=${a#*=} ;;
	-h | --help) sed -n '3,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-guest: unknown option $a" >&2; exit 2 ;;
	esac
done

abspath() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
DAEMON=$(abspath "$DAEMON")
TOOLS=$(abspath "$TOOLS")
SINK="$TOOLS/vdc-sink" CLIENT="$TOOLS/vdc-gb-client" REPORT="$TOOLS/vdc-gb-report"
for f in "$DAEMON" "$SINK" "$CLIENT" "$REPORT"; do
	[ -x "$f" ] || { echo "bench-guest: $f missing (make bench-guest builds it)" >&2; exit 1; }
done

note() { [ "$JSON" = 1 ] || echo "bench-guest: $*" >&2; }

W=$(mktemp -d /tmp/vdc-gb.XXXXXX) || exit 1
SAMPLES="$W/samples"
: >"$SAMPLES"
declare -a PIDS=()

# Stop what this script started, by pid; UML leads a process group of its
# own (its pid file says which), the boot scripts run in sessions we made.
cleanup() {
	local p f u
	trap - EXIT INT TERM HUP
	for f in "$W"/*/g/uml/*/pid; do
		[ -f "$f" ] || continue
		u=$(cat "$f")
		case $u in '' | *[!0-9]*) ;; *) kill -KILL -- "-$u" 2>/dev/null ;; esac
	done
	for p in "${PIDS[@]}"; do
		kill -KILL -- "-$p" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ "$KEEP" = 1 ]; then
		echo "bench-guest: kept $W" >&2
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- guests -----------------------------------------------------------------

# hvc0 open on fd 9 from here on. The open is retried: the node appears
# before the driver takes opens, and an open right after another one's
# last close has been seen to fail once (a QEMU guest, payload status 1).
wait_hvc0() {
	cat <<'EOF'
n=300
while [ ! -e /dev/hvc0 ] || ! { command exec 9<>/dev/hvc0; } 2>/dev/null; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || { echo "GB-LOG: no /dev/hvc0"; exit 3; }
	usleep 100000
done
EOF
}

# A shell on hvc0 for the client to type to; the 8 MiB file is made first.
# fd 9 holds hvc0 open from before GB-READY: input that comes before the
# shell opens it is kept, not dropped with the tty of a last close.
payload_shell() {
	wait_hvc0
	cat <<EOF
head -c $G2H_BYTES /dev/urandom >/tmp/bulk
PS1='gb\$ '
export PS1
echo GB-LOG: hvc0-ready
echo GB-READY >&9
setsid -c sh -i </dev/hvc0 >/dev/hvc0 2>&1
EOF
}

# No host side: the guest writes its bursts on its own, its tty raw as in
# the shell's transfers (fd 9 holds it open: hvc0 resets termios on last
# close).
payload_sink() {
	wait_hvc0
	cat <<EOF
head -c $G2H_BYTES /dev/urandom >/tmp/bulk
stty -F /dev/hvc0 raw -echo
echo GB-LOG: hvc0-ready
i=0
while [ \$i -lt $G2H ]; do
	usleep 500000
	dd if=/tmp/bulk of=/dev/hvc0 bs=65536 2>/dev/null
	i=\$((i + 1))
done
usleep 500000
EOF
}

# boot FE DIR SOCK PAYLOAD [virtconsole]: a guest in the background
# (GUEST_PID), its console in DIR/console.
boot() {
	local fe=$1 dir=$2 sock=$3 payload=$4 script
	case $fe-${5:-} in
	uml-) script="$E2E/uml-boot.sh" ;;
	qemu-) script="$E2E/qemu-boot.sh" ;;
	qemu-virtconsole) script="$HERE/qemu-virtconsole-boot.sh" ;;
	esac
	setsid bash "$script" -t "$BOOT_SECS" -d "$dir/g" -s "$sock" -f "$payload" \
		>"$dir/console" 2>&1 </dev/null &
	GUEST_PID=$!
	PIDS+=("$GUEST_PID")
}

# wait_gone PID SECS: PID ended within SECS (else it is killed).
wait_gone() {
	local pid=$1 n=$(($2 * 10))
	while kill -0 "$pid" 2>/dev/null; do
		n=$((n - 1))
		if [ "$n" -le 0 ]; then
			note "pid $pid still running after $2 s: killed"
			kill -KILL -- "-$pid" 2>/dev/null
			kill -KILL "$pid" 2>/dev/null
			break
		fi
		sleep 0.1
	done
	wait "$pid" 2>/dev/null
}

wait_file() {
	local f=$1 n=$(($2 * 20))
	while [ ! -e "$f" ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.05
	done
}

# client_run FE CFG ROUND DIR ARGS...: the client's samples, tagged.
client_run() {
	local fe=$1 cfg=$2 round=$3 dir=$4 rc=0
	shift 4
	"$CLIENT" "$@" --cmds="$CMDS" --plain-cmds="$PLAIN_CMDS" --answered-cmds="$ANSWERED_CMDS" --echoes="$ECHOES" --g2h="$G2H" \
		--g2h-bytes="$G2H_BYTES" --h2g="$H2G" --h2g-file="$W/h2g.bin" \
		--h2g-md5="$H2G_MD5" --timeout=60 >"$dir/samples" 2>"$dir/client.err" || rc=$?
	sed "s/^/$fe $cfg $round /" "$dir/samples" >>"$SAMPLES"
	if [ "$rc" != 0 ]; then
		note "$fe $cfg round $round: the client failed: $(tail -n 3 "$dir/client.err" | tr '\n' ' ')"
		return 1
	fi
}

run_vdc() {
	local fe=$1 round=$2 dir=$3 n=200
	"$DAEMON" --socket-path="$dir/vu" --backend=uds --uds-path="$dir/con" \
		--max-queue-size=256 2>"$dir/daemon.log" </dev/null &
	local dpid=$!
	PIDS+=("$dpid")
	while ! grep -q 'listening on' "$dir/daemon.log" 2>/dev/null; do
		n=$((n - 1))
		if [ "$n" -le 0 ] || ! kill -0 "$dpid" 2>/dev/null; then
			note "the daemon did not start: $(cat "$dir/daemon.log")"
			return 1
		fi
		sleep 0.05
	done
	payload_shell >"$dir/payload.sh"
	local worker
	worker=$(worker_of "$dpid")
	trace_start "$worker" "$dir/trace.txt"
	boot "$fe" "$dir" "$dir/vu0" "$dir/payload.sh"
	local gpid=$GUEST_PID
	client_run "$fe" vdc "$round" "$dir" --connect="$dir/con0"
	trace_stop
	wait_gone "$gpid" 60
	# The worker's costs, as the sink reports its own.
	{
		echo "schedstat $(cat /proc/"$worker"/schedstat 2>/dev/null)"
		echo "ctxsw $(sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p; s/^nonvoluntary_ctxt_switches:[[:space:]]*//p' /proc/"$worker"/status 2>/dev/null | tr '\n' ' ')"
	} >"$dir/worker.costs"
	kill -TERM "$dpid" 2>/dev/null
	wait_gone "$dpid" 10
}

run_fwd-first() { run_sink "$@" before fwd-first; }
run_ack-first() { run_sink "$@" after ack-first; }

# run_sink FE ROUND DIR [READER CONFIG]
run_sink() {
	local fe=$1 round=$2 dir=$3 reader=${4:-none} cfg=${5:-sink}
	"$SINK" --socket-path="$dir/sink" --max-queue-size=256 --reader="$reader" \
		>"$dir/sink.out" 2>"$dir/sink.err" </dev/null &
	local spid=$!
	PIDS+=("$spid")
	wait_file "$dir/sink" 10 || { note "the sink did not start"; return 1; }
	payload_sink >"$dir/payload.sh"
	trace_start "$spid" "$dir/trace.txt"
	boot "$fe" "$dir" "$dir/sink" "$dir/payload.sh"
	wait_gone "$GUEST_PID" "$BOOT_SECS"
	trace_stop
	kill -TERM "$spid" 2>/dev/null
	wait_gone "$spid" 10
	# burst BYTES FIRST_NS LAST_NS CHAINS KICKS; only whole transfers.
	awk -v want="$G2H_BYTES" -v tag="$fe $cfg $round" \
		'$1 == "burst" && $2 == want && $4 > $3 { printf "%s g2h_MBps %.6g\n%s g2h_lost_pct 0\n", tag, $2 * 1e3 / ($4 - $3), tag }' \
		"$dir/sink.out" >>"$SAMPLES"
	[ "$(grep -c "^$fe $cfg $round " "$SAMPLES")" -gt 0 ] ||
		note "$fe $cfg round $round: no whole $G2H_BYTES-byte burst (sink said: $(head -c 300 "$dir/sink.out"))"
}

run_virtconsole() {
	local fe=$1 round=$2 dir=$3
	[ "$fe" = qemu ] || return 0
	payload_shell >"$dir/payload.sh"
	# The client listens; QEMU's chardev connects to it at start.
	client_run "$fe" virtconsole "$round" "$dir" --listen="$dir/vc" &
	local cpid=$!
	PIDS+=("$cpid")
	wait_file "$dir/vc" 10 || { note "the client did not listen"; return 1; }
	boot "$fe" "$dir" "$dir/vc" "$dir/payload.sh" virtconsole
	local gpid=$GUEST_PID
	wait "$cpid"
	wait_gone "$gpid" 60
}

# trace_start PID FILE: TRACE attached to PID (TRACE_PID), if asked.
trace_start() {
	TRACE_PID=""
	[ -n "$TRACE" ] || return 0
	# shellcheck disable=SC2086 # TRACE is a command line
	$TRACE -p "$1" -o "$2" 2>>"$2.err" &
	TRACE_PID=$!
	PIDS+=("$TRACE_PID")
	sleep 0.5
}

trace_stop() {
	[ -n "$TRACE_PID" ] || return 0
	kill -INT "$TRACE_PID" 2>/dev/null
	wait_gone "$TRACE_PID" 10
}

# The daemon's worker for socket 0: its only child.
worker_of() {
	local n=100 kids
	while [ "$n" -gt 0 ]; do
		kids=$(cat /proc/"$1"/task/*/children 2>/dev/null)
		[ -n "$kids" ] && { echo "${kids%% *}"; return 0; }
		n=$((n - 1))
		sleep 0.05
	done
	return 1
}

# --- the run ----------------------------------------------------------------

rc=0
[[ ,$FRONTENDS, == *,uml,* ]] && { uml_init || rc=$?; }
[[ ,$FRONTENDS, == *,qemu,* ]] && { qemu_init || rc=$?; }
[ "$rc" = 0 ] || { echo "bench-guest: the guests cannot be prepared here (status $rc)" >&2; exit "$rc"; }

head -c "$H2G_BYTES" /dev/urandom >"$W/h2g.bin"
H2G_MD5=$(md5sum <"$W/h2g.bin")
H2G_MD5=${H2G_MD5%% *}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
header() {
	echo "bench-guest: daemon $DAEMON"
	echo "  $(nproc) CPUs ($cpu), Linux $(uname -r)"
	echo "  load average $1"
	[[ ,$FRONTENDS, == *,uml,* ]] && echo "  UML $UML_KVER, mem=128M, 1 CPU"
	[[ ,$FRONTENDS, == *,qemu,* ]] && echo "  QEMU $QEMU_VERSION under TCG (-accel tcg,thread=multi -cpu max -smp 2), guest kernel $QEMU_KVER"
	echo "  $ROUNDS rounds of: $CMDS commands (+$ANSWERED_CMDS answered, +$PLAIN_CMDS plain), $ECHOES echoes, $G2H x $((G2H_BYTES >> 20)) MiB guest -> host, $H2G x $((H2G_BYTES >> 20)) MiB host -> guest"
	echo "  configurations in turn: vdc (this daemon, uds backend), sink (vdc-sink: discards), virtconsole (QEMU's virtio-serial-pci)"
}
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s)

for ((round = 1; round <= ROUNDS; round++)); do
	for fe in uml qemu; do
		[[ ,$FRONTENDS, == *,$fe,* ]] || continue
		for cfg in vdc sink virtconsole fwd-first ack-first; do
			[[ ,$CONFIGS, == *,$cfg,* ]] || continue
			[ "$cfg" = virtconsole ] && [ "$fe" != qemu ] && continue
			dir="$W/$fe-$cfg-$round"
			mkdir -p "$dir"
			note "round $round/$ROUNDS: $fe guest, $cfg (load $(cut -d' ' -f1 /proc/loadavg))"
			"run_$cfg" "$fe" "$round" "$dir" || note "$fe $cfg round $round failed; see $dir (--keep)"
		done
	done
done

LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
[ -n "$SAMPLES_OUT" ] && cp "$SAMPLES" "$SAMPLES_OUT"
if [ "$JSON" = 1 ]; then
	"$REPORT" --json <"$SAMPLES"
else
	header "$LOAD0 at the start, $LOAD1 at the end ($(($(date +%s) - T0)) s)"
	"$REPORT" <"$SAMPLES"
fi
