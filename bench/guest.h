/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * guest.h - a very fast guest driver on the test frontend: it keeps the
 * transmit ring full, keeps receive buffers posted, and answers at once.
 *
 * Event index is on, as with Linux guests: the guest asks for a call on
 * the next used entry and blocks on its call fd only when it has nothing
 * else to do, so it spends no CPU waiting.
 */
#ifndef VDC_BENCH_GUEST_H
#define VDC_BENCH_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "frontend.h"

struct guest {
	struct fe fe;
	uint32_t buf_size;
};

struct tx_result {
	uint64_t bytes;
	uint64_t chains;
	uint64_t waits; /* times the guest waited for the device */
	uint64_t flow_waits; /* times it waited for the client */
	double t_start, t_end; /* the last chain came back used at t_end */
};

int guest_open(struct guest *g, const char *vu_path, uint16_t queue_size,
	       uint32_t buf_size);
void guest_close(struct guest *g);

int guest_stream_tx(struct guest *g, uint64_t total, uint32_t chunk,
		    struct flow *flow, struct tx_result *r);
int guest_drain_rx(struct guest *g, uint64_t total, const bool *stop,
		   uint64_t *got, double *t_last);
int guest_echo(struct guest *g, const bool *stop, uint64_t *echoed);
int guest_echo_once(struct guest *g, int ms);

#endif
