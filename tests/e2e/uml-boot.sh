#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# Boot a UML guest, run a payload in it, print its console, power off.
# Command-line front end of uml_run (see uml-lib.sh for the options):
#
#   bash tests/e2e/uml-boot.sh [-t SECS] [-s SOCK] [-f FILE] [-c SRC:DST]
#                              [-k ARG] [-m MEM] [-d DIR] [-v] [-P] [--] [PAYLOAD...]
#
#   bash tests/e2e/uml-boot.sh -- 'echo GUEST-OK; cat /proc/version'
#   bash tests/e2e/uml-boot.sh -t 20 -s /tmp/vdc.sock -f payload.sh
#
# Exit status: the payload's; 77 skip (setup impossible here), 124 timeout,
# 125 no status from the guest.

set -u
# shellcheck source-path=SCRIPTDIR source=uml-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/uml-lib.sh"

case ${1:-} in
-h | --help)
	sed -n '3,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 0
	;;
esac

rc=0
uml_init || rc=$?
[ "$rc" = 0 ] || exit "$rc"
uml_run "$@"
