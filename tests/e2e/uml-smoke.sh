#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# Smoke test of the UML guest environment itself (no daemon involved):
#  1. a guest boots, loads virtio_console.ko, runs a payload, powers off;
#  2. the payload's exit status comes back;
#  3. a vhost-user socket that doesn't exist fails the probe, not the boot.
# Exit 0 pass, 77 skip, 1 fail.

set -u
# shellcheck source-path=SCRIPTDIR source=uml-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/uml-lib.sh"

rc=0
uml_init || rc=$?
[ "$rc" = 0 ] || exit "$rc"

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { echo "ok: $*"; }

start=$(date +%s%N)
out=$(uml_run -t 30 -- 'echo GUEST-OK; cat /proc/version; grep -c "^virtio_console " /proc/modules')
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$rc" = 0 ] && grep -qx GUEST-OK <<<"$out" &&
	grep -q "^Linux version $UML_KVER " <<<"$out" && grep -qx 1 <<<"$out"; then
	pass "boot, insmod virtio_console, payload, poweroff in $ms ms"
else
	fail "boot (status $rc):"
	printf '%s\n' "$out"
fi

rc=0
uml_run -t 30 -- 'exit 7' >/dev/null || rc=$?
if [ "$rc" = 7 ]; then
	pass "payload exit status"
else
	fail "payload exit status: got $rc, want 7"
fi

sock="${TMPDIR:-/tmp}/vdc-uml-missing-$$.sock"
rm -f "$sock"
out=$(uml_run -t 30 -s "$sock" -- 'echo GUEST-OK; ls /dev/hvc0 2>/dev/null; true')
rc=$?
if [ "$rc" = 0 ] && grep -qx GUEST-OK <<<"$out" &&
	grep -q 'virtio-uml.*probe.*failed with error -2' <<<"$out" && ! grep -q /dev/hvc0 <<<"$out"; then
	pass "missing vhost-user socket: probe fails with -ENOENT, guest still boots"
else
	fail "missing vhost-user socket (status $rc):"
	printf '%s\n' "$out"
fi

[ "$fails" = 0 ]
