# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# shellcheck shell=bash
#
# Boot QEMU guests for the end-to-end tests.  Source this file from bash:
#
#   . tests/e2e/qemu-lib.sh
#   qemu_init || exit $?         # 77: skip (no archive, ...), see qemu-setup.sh
#   out=$(qemu_run -t 30 -s /tmp/vdc.sock0 -- 'echo hi >/dev/hvc0')
#
# qemu_init
#   Runs qemu-setup.sh (fast when cached) and loads QEMU_BIN, QEMU_KERNEL,
#   QEMU_INITRD, QEMU_FIRMWARE ... into the shell.  Returns 77 when the
#   tests must be skipped, another non-zero status on errors.
#
# qemu_run [options] [--] [payload words...]
#   Boots one guest (x86-64, TCG) and prints its serial console (kernel
#   messages and the payload's output) on stdout, QEMU's own messages on
#   stderr.  The payload is a busybox sh script run as root by the
#   initramfs' /init once /proc, /sys, /dev, /tmp are mounted and the
#   virtio modules are loaded; the remaining arguments are joined with
#   spaces to form it.  When it ends the guest powers off.  A guest that
#   reboots (reboot -f) runs the payload again, in the same QEMU.
#     -t SECS   QEMU is stopped after SECS (default $QEMU_TIMEOUT or 60)
#     -s SOCK   attach a virtio console through the vhost-user socket SOCK,
#               as README.md tells users to; may be repeated
#     -f FILE   read the payload from FILE (instead of the arguments)
#     -c SRC:DST  copy the host file SRC into the guest as DST (absolute;
#               it rides in the payload's archive); may be repeated
#     -q NUM    the devices' num_vqs (default 4: the console alone; a
#               console with N named ports needs 2 x (1 + N) + 2)
#     -d DIR    run directory to use and keep (must be empty or absent):
#               DIR/console (the serial console), DIR/qmp.sock (QMP),
#               DIR/qemu.pid, DIR/guest.img
#     -v        verbose kernel (no "quiet")
#   Exit status: the payload's exit status (the guest's last
#   "QEMU-EXIT: N" line); 124 on timeout; QEMU's status when it failed
#   (it could not start, or refused the device); 125 when QEMU ended
#   without the guest reporting one (quit over QMP, guest crash).
#
# The guest's /dev/hvc0 is port 0 of the console; each -s adds one device.

QEMU_E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The machine as README.md gives it: TCG (no usable KVM on the test
# machines), guest memory shared with the daemon.
# shellcheck disable=SC2054 # QEMU's option values have commas
QEMU_MACHINE_ARGS=(
	-accel tcg,thread=multi -cpu max -smp 2
	-object memory-backend-memfd,id=mem0,size=256M,share=on
	-machine q35,memory-backend=mem0
)

qemu_init() {
	local env rc=0
	env=$(bash "$QEMU_E2E_DIR/qemu-setup.sh") || rc=$?
	[ "$rc" = 0 ] || return "$rc"
	eval "$env"
	if [ ! -x "${QEMU_BIN:-}" ] || [ ! -f "${QEMU_INITRD:-}" ]; then
		echo "qemu_init: qemu-setup.sh gave no usable QEMU_BIN/QEMU_INITRD" >&2
		return 1
	fi
}

# qemu_device_args SOCK ID [NUM_VQS]: the vhost-user console as README.md
# gives it; NUM_VQS (default 4, the console alone) is 6 with one named port.
qemu_device_args() {
	printf '%s\n' -chardev "socket,id=$2,path=$1" \
		-device "vhost-user-test-device-pci,chardev=$2,virtio-id=3,num_vqs=${3:-4},config_size=12"
}

qemu_run() {
	local timeout=${QEMU_TIMEOUT:-60} verbose=0 payload="" payload_file=""
	local run="" keep=0 opt num_vqs=4
	local -a socks=() copies=()
	local OPTIND=1 OPTARG
	while getopts "t:s:f:c:q:d:v" opt; do
		case $opt in
		t) timeout=$OPTARG ;;
		s) socks+=("$OPTARG") ;;
		f) payload_file=$OPTARG ;;
		c) copies+=("$OPTARG") ;;
		q) num_vqs=$OPTARG ;;
		d) run=$OPTARG keep=1 ;;
		v) verbose=1 ;;
		*) echo "qemu_run: bad option" >&2; return 2 ;;
		esac
	done
	shift $((OPTIND - 1))
	[ -n "$payload_file" ] || payload="$*"

	if [ -z "${QEMU_BIN:-}" ] || [ -z "${QEMU_INITRD:-}" ]; then
		qemu_init || return $?
	fi
	case $timeout in
	'' | *[!0-9]*) echo "qemu_run: bad timeout '$timeout'" >&2; return 2 ;;
	esac
	case $num_vqs in
	'' | *[!0-9]*) echo "qemu_run: bad num_vqs '$num_vqs'" >&2; return 2 ;;
	esac
	local s c
	for s in "${socks[@]}"; do
		case $s in
		*,*) echo "qemu_run: QEMU can't use a socket path with ',': $s" >&2; return 2 ;;
		esac
	done
	for c in "${copies[@]}"; do
		case $c in
		?*:/*) ;;
		*) echo "qemu_run: -c $c: want SRC:/ABSOLUTE/DST" >&2; return 2 ;;
		esac
		[ -f "${c%%:*}" ] || { echo "qemu_run: -c $c: no such file" >&2; return 2; }
	done

	if [ -n "$run" ]; then
		mkdir -p "$run" || return 1
		if [ -n "$(ls -A "$run")" ]; then
			echo "qemu_run: run directory $run is not empty" >&2
			return 2
		fi
		run=$(cd "$run" && pwd)
	else
		run=$(mktemp -d "${TMPDIR:-/tmp}/vdc-qemu.XXXXXX") || return 1
	fi
	case $run in
	*[[:space:],]*)
		echo "qemu_run: run directory must not contain spaces or ',': $run" >&2
		[ "$keep" = 1 ] || rm -rf "$run"
		return 2 ;;
	esac

	# The payload (and the -c files) ride in a second archive after the
	# cached initramfs; its directories come first, so the kernel makes
	# them before their files.
	mkdir -p "$run/payload"
	if [ -n "$payload_file" ]; then
		cp "$payload_file" "$run/payload/payload.sh" || return 1
	else
		printf '%s\n' "$payload" >"$run/payload/payload.sh" || return 1
	fi
	for c in "${copies[@]}"; do
		mkdir -p "$run/payload$(dirname "${c#*:}")" &&
			cp "${c%%:*}" "$run/payload${c#*:}" || return 1
	done
	(cd "$run/payload" && find . -mindepth 1 | sort | busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$run/payload.cpio" &&
		cat "$QEMU_INITRD" "$run/payload.cpio" >"$run/guest.img" || return 1

	local append="console=ttyS0"
	[ "$verbose" = 1 ] || append="$append quiet"
	local -a cmd=("$QEMU_BIN")
	local fw i
	for fw in "${QEMU_FIRMWARE[@]}"; do
		cmd+=(-L "$fw")
	done
	cmd+=("${QEMU_MACHINE_ARGS[@]}")
	for i in "${!socks[@]}"; do
		mapfile -t -O "${#cmd[@]}" cmd < <(qemu_device_args "${socks[i]}" "con$i" "$num_vqs")
	done
	# shellcheck disable=SC2054
	cmd+=(
		-kernel "$QEMU_KERNEL" -initrd "$run/guest.img" -append "$append"
		-display none -nodefaults
		-chardev "stdio,id=serial0,signal=off,logfile=$run/console"
		-serial chardev:serial0
		-qmp "unix:$run/qmp.sock,server=on,wait=off"
		-pidfile "$run/qemu.pid"
	)

	local rc=0 status
	# --foreground: QEMU stays in the process group the caller knows.
	timeout --foreground -k 5 "$timeout" "${cmd[@]}" </dev/null || rc=$?
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "qemu_run: QEMU stopped after $timeout s" >&2
		status=124
	elif [ "$rc" != 0 ]; then
		status=$rc
	else
		status=$(tr -d '\r' <"$run/console" 2>/dev/null | sed -n 's/^QEMU-EXIT: \([0-9]*\)$/\1/p' | tail -n1)
		[ -n "$status" ] || status=125
	fi
	[ "$keep" = 1 ] || rm -rf "$run"
	return "$status"
}

# qemu_qmp RUNDIR COMMAND: send one QMP command (e.g. quit) to the QEMU of
# RUNDIR; prints QEMU's replies.  Needs E2E_IO (e2e-lib.sh).
qemu_qmp() {
	{
		printf '{"execute":"qmp_capabilities"}\n{"execute":"%s"}\n' "$2"
		# Leave QEMU time to answer before the connection is closed.
		sleep 1
	} | "$E2E_IO" connect -w 5 "unix:$1/qmp.sock"
}
