/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * client.h - the person on the host, made fast: a console client on the
 * daemon's TCP port or unix socket that reads, writes and pings.
 */
#ifndef VDC_BENCH_CLIENT_H
#define VDC_BENCH_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "bench.h"

struct dut;
struct flow;

/* A reader thread's job and what it saw. */
struct sink {
	int fd;
	uint64_t expect; /* stop once this much came... */
	const bool *source_done; /* ...or the source is done and all is quiet */
	uint64_t got;
	double t_last; /* when the last byte came */
	int idle_ms;
	struct flow *flow; /* told what was read; may be NULL */
};

int client_connect(const struct dut *d, unsigned int i, double timeout_s);
void *sink_main(void *arg);
int client_write_all(int fd, uint64_t total, uint32_t chunk);
int client_ping(int fd, unsigned int count, uint64_t *rtt_ns);
int read_byte(int fd, int timeout_ms);

#endif
