/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * flow.c - a byte window between two threads: the client publishes what
 * it has read, the guest sleeps while it is a window ahead.
 */
#include <time.h>

#include "flow.h"

/* A window of @window bytes, nothing delivered yet. */
void flow_init(struct flow *f, uint64_t window)
{
	f->window = window;
	f->delivered = 0;
	f->waiting = false;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
}

/* Release what flow_init() set up. */
void flow_fini(struct flow *f)
{
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
}

/** flow_allowed() - how many bytes the guest may have sent by now */
uint64_t flow_allowed(struct flow *f)
{
	return __atomic_load_n(&f->delivered, __ATOMIC_ACQUIRE) + f->window;
}

/** flow_delivered() - the client has read @delivered bytes in all */
void flow_delivered(struct flow *f, uint64_t delivered)
{
	__atomic_store_n(&f->delivered, delivered, __ATOMIC_RELEASE);
	/* Pairs with the guest's store of waiting before its re-check. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&f->waiting, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&f->lock);
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

/* Is the guest, having sent @sent, still more than half a window ahead? */
static bool ahead(struct flow *f, uint64_t sent)
{
	uint64_t d = __atomic_load_n(&f->delivered, __ATOMIC_ACQUIRE);

	return sent > d && sent - d > f->window / 2;
}

/**
 * flow_wait() - sleep until the client has caught up to half a window
 * behind @sent, at most @ms
 */
void flow_wait(struct flow *f, uint64_t sent, int ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)ms * 1000000;
	until.tv_sec += until.tv_nsec / 1000000000;
	until.tv_nsec %= 1000000000;
	pthread_mutex_lock(&f->lock);
	__atomic_store_n(&f->waiting, true, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	while (ahead(f, sent) &&
	       pthread_cond_timedwait(&f->cond, &f->lock, &until) == 0)
		;
	__atomic_store_n(&f->waiting, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&f->lock);
}
