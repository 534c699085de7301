#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# Boot a QEMU guest, run a payload in it, print its console, power off.
# Command-line front end of qemu_run (see qemu-lib.sh for the options):
#
#   bash tests/e2e/qemu-boot.sh [-t SECS] [-s SOCK] [-f FILE] [-c SRC:DST]
#                               [-q NUM_VQS] [-d DIR] [-v] [--] [PAYLOAD...]
#
#   bash tests/e2e/qemu-boot.sh -- 'echo GUEST-OK; cat /proc/version'
#   bash tests/e2e/qemu-boot.sh -t 20 -s /tmp/vdc.sock0 -f payload.sh
#
# Exit status: the payload's; 77 skip (setup impossible here), 124 timeout,
# 125 no status from the guest, QEMU's status when QEMU failed.

set -u
# shellcheck source-path=SCRIPTDIR source=qemu-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/qemu-lib.sh"

case ${1:-} in
-h | --help)
	sed -n '3,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 0
	;;
esac

rc=0
qemu_init || rc=$?
[ "$rc" = 0 ] || exit "$rc"
qemu_run "$@"
