/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * baseline.h - what this machine does without the daemon: the same
 * transfers over a plain loopback socket pair, and the same four hops of
 * a round trip over plain sockets and eventfds.
 */
#ifndef VDC_BENCH_BASELINE_H
#define VDC_BENCH_BASELINE_H

#include <stdint.h>

enum sock_kind {
	SOCK_KIND_TCP,
	SOCK_KIND_UNIX,
};

double baseline_stream(enum sock_kind kind, unsigned int pairs,
		       uint64_t bytes_per_pair, uint32_t write_chunk,
		       uint32_t read_chunk);
int baseline_pingpong(enum sock_kind kind, unsigned int count,
		      uint64_t *rtt_ns);

#endif
