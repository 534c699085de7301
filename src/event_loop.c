/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * event_loop.c - the epoll loop each process runs.
 *
 * Level-triggered on purpose: a handler may stop early (a full guest ring,
 * a client that would block) and trust that it is called again while work
 * remains, instead of every handler having to drain to EAGAIN.
 */
#include <errno.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "event_loop.h"
#include "log.h"

int ev_loop_init(struct ev_loop *loop)
{
	memset(loop, 0, sizeof(*loop));
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	return loop->epfd < 0 ? -1 : 0;
}

void ev_loop_fini(struct ev_loop *loop)
{
	if (loop->epfd >= 0)
		close(loop->epfd);
	loop->epfd = -1;
}

void ev_watch_init(struct ev_watch *w)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}

/**
 * ev_add() - watch @fd for @events, calling @cb(@arg, events)
 *
 * Return: 0, or -1 with errno set by epoll_ctl()
 */
int ev_add(struct ev_loop *loop, struct ev_watch *w, int fd, uint32_t events,
	   ev_callback cb, void *arg)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	w->fd = fd;
	w->events = events;
	w->cb = cb;
	w->arg = arg;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		w->fd = -1;
		return -1;
	}
	return 0;
}

/**
 * ev_mod() - change what @w waits for; cheap when nothing changes
 *
 * Return: 0, or -1 with errno set by epoll_ctl()
 */
int ev_mod(struct ev_loop *loop, struct ev_watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	if (w->fd < 0 || w->events == events)
		return 0;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -1;
	w->events = events;
	return 0;
}

/**
 * ev_del() - stop watching; the fd itself stays open (its owner closes it)
 *
 * Pending events of @w in the batch being dispatched are forgotten, so a
 * callback may tear down another watch without a stale pointer firing.
 */
void ev_del(struct ev_loop *loop, struct ev_watch *w)
{
	if (w->fd < 0)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	for (int i = 0; i < loop->batch_n; i++)
		if (loop->batch[i].data.ptr == w)
			loop->batch[i].data.ptr = NULL;
	w->fd = -1;
	w->events = 0;
}

void ev_stop(struct ev_loop *loop)
{
	loop->stop = true;
}

/**
 * ev_set_after_batch() - run @hook(@arg) after every batch of callbacks,
 * before the loop waits again or returns (NULL: none)
 *
 * Redis's beforesleep: a condition any callback may have caused (guest
 * memory that faulted) is checked in this one place.
 */
void ev_set_after_batch(struct ev_loop *loop, ev_hook hook, void *arg)
{
	loop->after_batch = hook;
	loop->after_batch_arg = arg;
}

/**
 * ev_run() - dispatch events until ev_stop()
 *
 * Return: 0 when stopped, -1 if epoll_wait() failed
 */
int ev_run(struct ev_loop *loop)
{
	loop->stop = false;
	while (!loop->stop) {
		int n = epoll_wait(loop->epfd, loop->batch, EV_BATCH, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_wait: %s", strerror(errno));
			return -1;
		}
		loop->batch_n = n;
		for (int i = 0; i < n && !loop->stop; i++) {
			struct ev_watch *w = loop->batch[i].data.ptr;

			if (w)
				w->cb(w->arg, loop->batch[i].events);
		}
		loop->batch_n = 0;
		if (loop->after_batch)
			loop->after_batch(loop->after_batch_arg);
	}
	return 0;
}

/**
 * ev_signalfd_open() - block @mask and return a signalfd that reports it
 *
 * Return: the non-blocking, close-on-exec fd, or -1
 */
int ev_signalfd_open(const sigset_t *mask)
{
	if (sigprocmask(SIG_BLOCK, mask, NULL) < 0)
		return -1;
	return signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

/** ev_now_ms() - monotonic milliseconds, for timers and rate limits */
uint64_t ev_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
