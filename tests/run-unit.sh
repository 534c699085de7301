#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# run-unit.sh CHECK-ALL [JOBS]: run each unit suite (CHECK-ALL
# --list-unit) as a process of its own, JOBS at a time (default 2), and
# print their output in the list's order once all are done. Most unit
# tests wait on a daemon, not on the CPU, so two at a time halve the time
# on two cores. Exit status 1 if any suite failed.
set -u
bin=$1
jobs=${2:-2}
suites=$("$bin" --list-unit) || exit 1
out=$(mktemp -d "${TMPDIR:-/tmp}/vdc-unit.XXXXXX") || exit 1
trap 'rm -rf "$out"' EXIT
trap 'exit 130' INT TERM

# "N suite" a line; each suite's output and status go to files named N.
i=0
for s in $suites; do
	i=$((i + 1))
	echo "$i $s"
done | xargs -P "$jobs" -n 2 sh -c \
	'"$0" "$3" >"$1/$2.log" 2>&1; echo $? >"$1/$2.rc"' "$bin" "$out"

failed=0
n=0
for s in $suites; do
	n=$((n + 1))
	cat "$out/$n.log"
	[ "$(cat "$out/$n.rc" 2>/dev/null)" = 0 ] || {
		echo "run-unit: suite $s failed" >&2
		failed=$((failed + 1))
	}
done
echo "run-unit: $((n - failed)) suites passed, $failed failed"
[ "$failed" = 0 ]
