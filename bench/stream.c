/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * stream.c - one guest streaming to its client: the guest on the calling
 * thread, the client reading on a thread of its own, paced or not.
 */
#include <pthread.h>

#include "bench.h"
#include "stream.h"

#define SINK_IDLE_MS 200 /* quiet this long after the guest: done */

/**
 * g2c_transfer() - stream @bytes from @s's guest (this thread) to its
 * client (a thread of its own)
 * @paced:	keep the guest a window ahead of the client; else flood
 *
 * With s->go set, the guest waits there first, to start with the others.
 */
void g2c_transfer(struct g2c_stream *s, uint64_t bytes, bool paced)
{
	uint64_t window = bench_opts->window, least = 2 * (uint64_t)s->chunk;
	pthread_t t;
	int rc;

	/* At least two chains ahead, or a paced guest could never send. */
	flow_init(&s->flow, window < least ? least : window);
	s->done = false;
	s->sink = (struct sink){.fd = s->fd,
				.expect = bytes,
				.source_done = &s->done,
				.idle_ms = SINK_IDLE_MS,
				.flow = paced ? &s->flow : NULL};
	pthread_create(&t, NULL, sink_main, &s->sink);
	if (s->go)
		pthread_barrier_wait(s->go);
	rc = guest_stream_tx(&s->g, bytes, s->chunk, paced ? &s->flow : NULL,
			     &s->tx);
	__atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	flow_fini(&s->flow);
	if (rc < 0)
		bench_die("guest -> client, %u B chains: the daemon stopped "
			  "taking them (%s)",
			  s->chunk, s->g.fe.err);
}
