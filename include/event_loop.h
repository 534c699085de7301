/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * event_loop.h - a small epoll loop: fd watches with callbacks.
 *
 * A watch lives inside its owner's struct; the loop never allocates.
 * Removing a watch from inside a callback is safe, even when the watch has
 * another event pending in the same batch. One hook runs after every
 * batch (as Redis's beforesleep): what any callback may have caused is
 * checked there once, not after each callback.
 */
#ifndef VDC_EVENT_LOOP_H
#define VDC_EVENT_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#define EV_BATCH 64

typedef void (*ev_callback)(void *arg, uint32_t events);
typedef void (*ev_hook)(void *arg);

struct ev_watch {
	int fd; /* -1 when not in the loop */
	uint32_t events; /* what epoll is asked for now */
	ev_callback cb;
	void *arg;
};

struct ev_loop {
	int epfd;
	bool stop;
	struct epoll_event batch[EV_BATCH];
	int batch_n; /* events of the batch being dispatched */
	ev_hook after_batch; /* run after each batch, before the next wait */
	void *after_batch_arg;
};

int ev_loop_init(struct ev_loop *loop);
void ev_loop_fini(struct ev_loop *loop);
void ev_watch_init(struct ev_watch *w);
int ev_add(struct ev_loop *loop, struct ev_watch *w, int fd, uint32_t events,
	   ev_callback cb, void *arg);
int ev_mod(struct ev_loop *loop, struct ev_watch *w, uint32_t events);
void ev_del(struct ev_loop *loop, struct ev_watch *w);
int ev_run(struct ev_loop *loop);
void ev_set_after_batch(struct ev_loop *loop, ev_hook hook, void *arg);
void ev_stop(struct ev_loop *loop);

int ev_signalfd_open(const sigset_t *mask);
uint64_t ev_now_ms(void);

#endif
