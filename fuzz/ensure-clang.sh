#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# Make sure clang can build libFuzzer targets with ASan and UBSan: try a
# trivial one. As root on Debian, install what is missing with apt-get;
# otherwise print the command and fail.
#
# usage: ensure-clang.sh [CC]
set -e

CC=${1:-clang}
PACKAGES="clang libclang-rt-dev"

works() {
	dir=$(mktemp -d)
	cat >"$dir/t.c" <<-EOT
	int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);
	int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)
	{ (void)d; (void)n; return 0; }
	EOT
	ok=0
	"$1" -fsanitize=fuzzer,address,undefined -o "$dir/t" "$dir/t.c" \
		>/dev/null 2>&1 && ok=1
	rm -rf "$dir"
	[ "$ok" = 1 ]
}

works "$CC" && exit 0
# CC may not exist yet; after the install it is plain clang.
command -v "$CC" >/dev/null 2>&1 || CC=clang

cmd="apt-get install -y --no-install-recommends $PACKAGES"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "ensure-clang: installing $PACKAGES"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || true
	$cmd >/dev/null
	works clang && exit 0
	echo "ensure-clang: clang still cannot build a libFuzzer target" >&2
	exit 1
fi
echo "ensure-clang: $CC cannot build a libFuzzer target (-fsanitize=fuzzer)" >&2
echo "ensure-clang: run as root:  $cmd" >&2
exit 1
