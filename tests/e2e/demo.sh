#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# The demo behind `make demo`: the daemon with the nested backend in this
# terminal and a User Mode Linux guest booted against it, so that a shell
# prompt of the guest comes up here within seconds.
#
#   bash tests/e2e/demo.sh            # VDC_DAEMON=path/to/daemon to choose
#
# Ctrl-a x ends it (the daemon quits, the guest is halted); so does typing
# `exit` in the guest (it powers off, the daemon is stopped).  Nothing is
# left running either way.  The guest runs from a private copy of a small
# busybox root (see uml-lib.sh), never with access to the host's files.
#
# The first run prepares the guest (uml-setup.sh: a download of about
# 40 MB from the Debian archive, cached under /var/cache/vhost-device-console
# or $VDC_UML_CACHE).  Logs (daemon, UML console) go to a directory removed
# at the end; VDC_DEMO_KEEP=1 keeps it.

set -u
# shellcheck source-path=SCRIPTDIR source=uml-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/uml-lib.sh"

say() { printf 'demo: %s\n' "$*" >&2; }

DAEMON=${VDC_DAEMON:-./vhost-device-console}
case $DAEMON in
/*) ;;
*) DAEMON="$PWD/$DAEMON" ;;
esac
[ -x "$DAEMON" ] || { say "$DAEMON not found; run 'make' first (or set VDC_DAEMON)"; exit 1; }
if [ ! -t 0 ] || [ ! -t 1 ]; then
	say "needs a terminal: the guest's console is this terminal"
	exit 1
fi

rc=0
uml_init || rc=$?
if [ "$rc" != 0 ]; then
	say "cannot prepare the UML guest on this machine (see above)"
	exit 1
fi

RUN=$(mktemp -d "${TMPDIR:-/tmp}/vdc-demo.XXXXXX") || exit 1
case $RUN in
*[[:space:],:]*) say "bad temporary directory $RUN (no spaces, ',' or ':')"; rm -rf "$RUN"; exit 1 ;;
esac
DPID="" UPID=""

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local f mc
	trap - EXIT INT TERM HUP
	if [ -n "$UPID" ] && kill -0 "$UPID" 2>/dev/null; then
		# Halt the guest through its management console, else kill it.
		for mc in "$RUN"/guest/uml/*/mconsole; do
			[ -S "$mc" ] && "$RUN/e2e-io" mconsole "$mc" halt >/dev/null 2>&1
		done
		for _ in $(seq 50); do
			kill -0 "$UPID" 2>/dev/null || break
			sleep 0.1
		done
		# UML leads a process group of its own (its pid file says which).
		if kill -0 "$UPID" 2>/dev/null; then
			for f in "$RUN"/guest/uml/*/pid; do
				[ -f "$f" ] && kill -KILL -- "-$(cat "$f")" 2>/dev/null
			done
			kill -KILL -- "-$UPID" 2>/dev/null
		fi
	fi
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$DPID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$DPID" 2>/dev/null
	fi
	wait 2>/dev/null
	if [ "${VDC_DEMO_KEEP:-0}" = 1 ]; then
		say "logs kept in $RUN (daemon.log, console.log)"
	else
		rm -rf "$RUN"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The mconsole client, for halting the guest at the end.
"${CC:-cc}" -std=gnu11 -O2 -o "$RUN/e2e-io" "$UML_E2E_DIR/e2e-io.c" 2>"$RUN/cc.log" ||
	say "warning: cannot build the e2e-io helper; the guest will be killed at the end"

read -r rows cols < <(stty size 2>/dev/null) || true
cat >"$RUN/payload.sh" <<EOF
# demo guest: a login shell on /dev/hvc0
uml_wait_dev /dev/hvc0 20 || exit 3
cat >/etc/profile <<'PROFILE'
export PS1='guest:\w# ' TERM=vt100 HOME=/root PATH=/bin
PROFILE
# The size of this terminal (hvc0 forgets it when its last user closes it).
echo "stty rows ${rows:-24} cols ${cols:-80} 2>/dev/null" >>/etc/profile
{
	echo
	echo "Welcome to a User Mode Linux guest ($UML_KVER) whose console /dev/hvc0"
	echo "is served by vhost-device-console's nested backend in this terminal."
	echo "Type 'exit' to power it off, or press Ctrl-a x to quit the daemon."
	echo
} >/dev/hvc0
cd /root
setsid -c sh -l </dev/hvc0 >/dev/hvc0 2>&1
# However the shell ended, the guest powers off normally.
exit 0
EOF

say "daemon $DAEMON, guest: User Mode Linux $UML_KVER (logs in $RUN)"
say "escape key: Ctrl-a; Ctrl-a x quits, Ctrl-a Ctrl-a sends Ctrl-a"

# The daemon owns this terminal (explicit stdin: a background job would
# get /dev/null); its logs go to a file so they don't mix with the guest.
"$DAEMON" --socket-path="$RUN/vu" --backend=nested --max-queue-size=256 \
	<&0 2>"$RUN/daemon.log" &
DPID=$!
for _ in $(seq 100); do
	grep -q 'listening on' "$RUN/daemon.log" && break
	kill -0 "$DPID" 2>/dev/null || break
	sleep 0.05
done
if ! grep -q 'listening on' "$RUN/daemon.log"; then
	say "the daemon did not start:"
	cat "$RUN/daemon.log" >&2
	exit 1
fi

# The guest in a session of its own, away from this terminal: its console
# output (kernel, init) goes to console.log.
setsid bash "$UML_E2E_DIR/uml-boot.sh" -t 604800 -d "$RUN/guest" -s "$RUN/vu0" \
	-f "$RUN/payload.sh" >"$RUN/console.log" 2>&1 </dev/null &
UPID=$!

while kill -0 "$DPID" 2>/dev/null && kill -0 "$UPID" 2>/dev/null; do
	sleep 0.2
done

if kill -0 "$DPID" 2>/dev/null; then
	# The guest ended first: `exit` in its shell, or it failed.
	kill -TERM "$DPID"
	wait "$DPID"
	grst=0
	wait "$UPID" || grst=$?
	UPID=""
	if [ "$grst" != 0 ]; then
		say "the guest ended with status $grst; its console:"
		tail -n 20 "$RUN/console.log" >&2
		exit 1
	fi
	say "the guest powered off; daemon stopped"
else
	drc=0
	wait "$DPID" || drc=$?
	DPID=""
	if [ "$drc" != 0 ]; then
		say "the daemon ended with status $drc; its log:"
		tail -n 20 "$RUN/daemon.log" >&2
		exit 1
	fi
	echo >&2
	say "daemon quit; halting the guest"
fi
exit 0
