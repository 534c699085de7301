/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * stream.h - one guest streaming to its client (run_g2c.c, and several
 * at once in run_scale.c).
 */
#ifndef VDC_BENCH_STREAM_H
#define VDC_BENCH_STREAM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "flow.h"
#include "guest.h"

struct g2c_stream {
	struct guest g;
	int fd;
	uint32_t chunk;
	struct flow flow;
	struct sink sink;
	struct tx_result tx;
	bool done;
	pthread_barrier_t *go; /* parallel streams start together */
};

void g2c_transfer(struct g2c_stream *s, uint64_t bytes, bool paced);

#endif
