/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * flow.h - flow control between the benchmark's guest and its client.
 *
 * A console daemon may drop guest output rather than stall the guest
 * (this one keeps --output-buffer bytes, then drops the oldest). To
 * measure what it delivers, the guest keeps at most @window bytes ahead
 * of what the client has read: with a window below the daemon's buffer
 * nothing is ever dropped, and the transfer is flow-controlled like the
 * plain-socket baseline it is compared with.
 */
#ifndef VDC_BENCH_FLOW_H
#define VDC_BENCH_FLOW_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct flow {
	uint64_t window; /* bytes the guest may be ahead */
	uint64_t delivered; /* bytes the client has read */
	bool waiting; /* the guest sleeps on cond */
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

void flow_init(struct flow *f, uint64_t window);
void flow_fini(struct flow *f);
uint64_t flow_allowed(struct flow *f);
void flow_delivered(struct flow *f, uint64_t delivered);
void flow_wait(struct flow *f, uint64_t sent, int ms);

#endif
