#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# Boot the QEMU guest of tests/e2e/qemu-lib.sh with QEMU's own console
# instead of a vhost-user one: -device virtio-serial-pci and a virtconsole
# on a -chardev socket that connects to SOCK (someone must listen there
# first). Everything else - machine, kernel, initramfs, payload - is the
# same as for the vhost-user guests.
#
#   bash bench/guest/qemu-virtconsole-boot.sh [-t SECS] [-d DIR] -s SOCK -f FILE

set -u
# shellcheck source=tests/e2e/qemu-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tests/e2e/qemu-lib.sh"

# What qemu_run puts on the command line for each -s SOCK.
qemu_device_args() {
	printf '%s\n' -chardev "socket,id=$2,path=$1" \
		-device virtio-serial-pci -device "virtconsole,chardev=$2"
}

rc=0
qemu_init || rc=$?
[ "$rc" = 0 ] || exit "$rc"
qemu_run "$@"
