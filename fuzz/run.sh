#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# Run each fuzz target for a bounded time over its seeds and its growing
# corpus. Exit 1 if any target found something (a crash, a sanitizer or
# invariant report, a leak, a timeout, running out of memory): its log's
# tail is printed and the input is in BUILD/artifacts/.
#
# usage: run.sh BUILD SECONDS TIMEOUT RSS_MB MAX_LEN TARGET...
set -u

B=$1 secs=$2 timeout=$3 rss=$4 max_len=$5
shift 5
targets=$*
mkdir -p "$B/artifacts" "$B/logs"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0

for t in $targets; do
	corpus="$B/corpus/$t"
	log="$B/logs/$t.log"
	mkdir -p "$corpus"
	# Checked-in inputs (fixed findings) are seeds too.
	seeds="$B/seeds/$t"
	[ -d "fuzz/corpus/$t" ] && seeds="$seeds fuzz/corpus/$t"
	dict=
	[ -f "fuzz/$t.dict" ] && dict="-dict=fuzz/$t.dict"
	echo "== $t: ${secs}s, log in $log"
	# shellcheck disable=SC2086 # $dict and $seeds split on purpose
	if "$B/$t" -max_total_time="$secs" -timeout="$timeout" \
		-rss_limit_mb="$rss" -max_len="$max_len" \
		-artifact_prefix="$B/artifacts/$t-" -print_final_stats=1 \
		$dict "$corpus" $seeds >"$log" 2>&1; then
		grep -E '(DONE|INITED) ' "$log" | tail -n 1
		grep -E 'stat::(number_of_executed_units|average_exec_per_sec)' \
			"$log"
	else
		echo "== $t FAILED; the input is in $B/artifacts/:"
		tail -n 60 "$log"
		status=1
	fi
done
exit $status
