/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * backend.c - the part every backend shares: one client, its fds in the
 * event loop, and non-blocking reads and writes.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "log.h"
#include "sock.h"

bool backend_connected(const struct backend *b)
{
	return b->in_fd >= 0 || b->out_fd >= 0;
}

/** backend_has_input() - may input still come from this client? */
bool backend_has_input(const struct backend *b)
{
	return b->in_fd >= 0 || b->pending_len > 0;
}

static void on_input(void *arg, uint32_t events);
static void on_output(void *arg, uint32_t events);
static void on_both(void *arg, uint32_t events);

/*
 * A hang-up is reported even when nothing is asked for. So a watch that
 * is not needed leaves the loop on a hang-up ("parked") instead of waking
 * it forever, and comes back when it is needed: whatever the client sent
 * before hanging up then still reaches the guest.
 */
static void watch_fd(struct backend *b, struct ev_watch *w, int fd,
		     uint32_t events, ev_callback cb)
{
	if (w->fd >= 0) {
		ev_mod(b->loop, w, events);
		return;
	}
	if (events && ev_add(b->loop, w, fd, events, cb, b) < 0)
		log_warn("cannot watch the client again: %s", strerror(errno));
}

/* Put the client's fds in the loop with what is wanted now. */
void backend_update_watches(struct backend *b)
{
	bool read_ahead = b->ops->readable && b->pending_len < BACKEND_PENDING;
	uint32_t in = b->want_input || read_ahead ? EPOLLIN : 0;
	uint32_t out = b->want_output && b->out_pollable ? EPOLLOUT : 0;

	/* A TCP peer's close shows as RDHUP, long before HUP; once seen it
	 * is not asked for again (it would be reported forever). */
	if (b->in_fd >= 0 && b->in_fd == b->out_fd) {
		watch_fd(b, &b->in_watch, b->in_fd,
			 in | out | (b->peer_shut ? 0 : EPOLLRDHUP), on_both);
		return;
	}
	if (b->in_fd >= 0)
		watch_fd(b, &b->in_watch, b->in_fd, in, on_input);
	if (b->out_fd >= 0 && b->out_pollable)
		watch_fd(b, &b->out_watch, b->out_fd, out, on_output);
}

void backend_want_input(struct backend *b, bool on)
{
	b->want_input = on;
	backend_update_watches(b);
}

void backend_want_output(struct backend *b, bool on)
{
	b->want_output = on;
	backend_update_watches(b);
}

#define HANGUP (EPOLLHUP | EPOLLERR)

static bool unread_input(const struct backend *b)
{
	int pending = 0;

	return ioctl(b->in_fd, FIONREAD, &pending) == 0 && pending > 0;
}

/*
 * hung_up() - the client hung up while nothing was asked of it
 *
 * A socket client with unread input is parked until the guest can take
 * that input; otherwise the client is gone now, so that the next one can
 * connect.
 */
static void hung_up(struct backend *b, struct ev_watch *w)
{
	if (b->in_fd == b->out_fd && unread_input(b))
		ev_del(b->loop, w);
	else
		backend_drop_client(b, "hung up");
}

/*
 * Input on a watch of its own (the terminal): read ahead through the
 * backend's readable op, unless the pending buffer is full; then a
 * hang-up parks the watch until the guest makes room.
 */
static void on_input(void *arg, uint32_t events)
{
	struct backend *b = arg;

	if ((events & HANGUP) && b->pending_len == BACKEND_PENDING)
		ev_del(b->loop, &b->in_watch);
	else
		b->ops->readable(b);
}

static void on_output(void *arg, uint32_t events)
{
	struct backend *b = arg;

	if (b->want_output)
		b->ev->writable(b->ev->opaque);
	else if (events & HANGUP)
		hung_up(b, &b->out_watch);
}

/*
 * A socket client: input and output on one fd and one watch. Its close
 * shows first as RDHUP: a client that left input the guest has not read
 * yet stays until it is read; one with nothing left to say is gone (a
 * TCP close and a half-close look alike here, and a console client that
 * stops sending has left).
 */
static void on_both(void *arg, uint32_t events)
{
	struct backend *b = arg;

	if ((events & EPOLLRDHUP) && !b->peer_shut) {
		if (!unread_input(b)) {
			backend_drop_client(b, "hung up");
			return;
		}
		b->peer_shut = true;
		backend_update_watches(b);
	}
	if (b->want_input && (events & (EPOLLIN | EPOLLRDHUP | HANGUP)))
		b->ev->input(b->ev->opaque);
	if (!backend_connected(b))
		return;
	if (b->want_output && (events & (EPOLLOUT | HANGUP)))
		b->ev->writable(b->ev->opaque);
	if (backend_connected(b) && !b->want_input && !b->want_output &&
	    (events & HANGUP))
		hung_up(b, &b->in_watch);
}

/**
 * backend_attach_client() - start serving a client
 * @in_fd:	where input comes from
 * @out_fd:	where output goes; may be @in_fd
 *
 * Return: 0, or -1 if the fds cannot be watched
 */
int backend_attach_client(struct backend *b, int in_fd, int out_fd)
{
	b->in_fd = in_fd;
	b->out_fd = out_fd;
	b->out_pollable = true;
	b->peer_shut = false;
	if (in_fd >= 0 && ev_add(b->loop, &b->in_watch, in_fd, 0,
				 in_fd == out_fd ? on_both : on_input, b) < 0) {
		/* /dev/null or a regular file: nothing will ever be typed. */
		if (errno != EPERM || in_fd == out_fd) {
			log_error("cannot watch the client: %s",
				  strerror(errno));
			b->in_fd = b->out_fd = -1;
			return -1;
		}
		log_info("input is not a terminal, pipe or socket; the guest "
			 "gets no input");
		b->in_fd = -1;
	}
	if (out_fd >= 0 && out_fd != in_fd &&
	    ev_add(b->loop, &b->out_watch, out_fd, 0, on_output, b) < 0) {
		/* A regular file: always writable, never waits. */
		if (errno != EPERM) {
			log_error("cannot watch the output: %s",
				  strerror(errno));
			ev_del(b->loop, &b->in_watch);
			b->in_fd = b->out_fd = -1;
			return -1;
		}
		b->out_pollable = false;
	}
	b->want_input = false;
	b->want_output = false;
	b->ev->connected(b->ev->opaque);
	return 0;
}

/** backend_drop_client() - close the client (the listener stays) */
void backend_drop_client(struct backend *b, const char *why)
{
	if (!backend_connected(b))
		return;
	log_info("console client disconnected (%s)", why);
	ev_del(b->loop, &b->in_watch);
	ev_del(b->loop, &b->out_watch);
	if (b->owns_client_fds && b->in_fd >= 0)
		close(b->in_fd);
	b->in_fd = b->out_fd = -1;
	b->want_input = b->want_output = false;
	if (b->ev->disconnected)
		b->ev->disconnected(b->ev->opaque);
}

/**
 * backend_readv() - non-blocking readv() from the client
 *
 * Return: > 0 bytes, 0 when nothing is there now, -1 when the client went
 * away (already dropped)
 */
ssize_t backend_readv(struct backend *b, const struct iovec *iov,
		      unsigned int n)
{
	ssize_t r;

	if (b->in_fd < 0)
		return -1;
	do
		r = readv(b->in_fd, iov, (int)(n > IOV_MAX ? IOV_MAX : n));
	while (r < 0 && errno == EINTR);
	if (r > 0)
		return r;
	if (r < 0 && errno == EAGAIN)
		return 0;
	backend_drop_client(b, r == 0 ? "end of input" : strerror(errno));
	return -1;
}

ssize_t backend_read(struct backend *b, const struct iovec *iov, unsigned int n)
{
	return b->ops->read(b, iov, n);
}

/**
 * backend_write() - non-blocking writev() of @iov[0..n) to the client
 *
 * Return: bytes written (0 when the client takes nothing now), -1 when
 * the client went away (already dropped)
 */
ssize_t backend_write(struct backend *b, const struct iovec *iov,
		      unsigned int n)
{
	ssize_t total = 0;

	if (b->out_fd < 0)
		return -1;
	while (n > 0) {
		unsigned int chunk = n > IOV_MAX ? IOV_MAX : n;
		size_t want = 0;
		ssize_t r;

		for (unsigned int i = 0; i < chunk; i++)
			want += iov[i].iov_len;
		do
			r = writev(b->out_fd, iov, (int)chunk);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			if (errno == EAGAIN)
				return total;
			backend_drop_client(b, strerror(errno));
			return total ? total : -1;
		}
		total += r;
		if ((size_t)r < want)
			return total;
		iov += chunk;
		n -= chunk;
	}
	return total;
}

/**
 * backend_init() - set up the backend of @kind; no client yet
 *
 * Return: 0, or -1 (logged)
 */
int backend_init(struct backend *b, enum backend_kind kind,
		 struct ev_loop *loop, int listen_fd, unsigned int index,
		 const struct backend_events *ev)
{
	memset(b, 0, sizeof(*b));
	b->saved_fl[0] = b->saved_fl[1] = -1;
	b->ops = kind == BACKEND_NESTED ? &backend_nested_ops
					: &backend_socket_ops;
	b->tcp = kind == BACKEND_NETWORK;
	b->ev = ev;
	b->loop = loop;
	b->index = index;
	b->listen_fd = listen_fd;
	b->in_fd = b->out_fd = -1;
	ev_watch_init(&b->listen_watch);
	ev_watch_init(&b->in_watch);
	ev_watch_init(&b->out_watch);
	return b->ops->start(b);
}

void backend_fini(struct backend *b)
{
	if (b->ops)
		b->ops->stop(b);
}
