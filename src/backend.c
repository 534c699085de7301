/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * backend.c - the part every backend shares: one client, its fds in the
 * event loop, and non-blocking reads and writes.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "iov.h"
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

	/* A socket: one fd, one watch. Its close shows as RDHUP, asked for
	 * until the client is known to have left (it would be reported
	 * forever); a client that left with input to hand over has no
	 * output any more. */
	if (b->owns_client_fds) {
		if (b->in_fd >= 0)
			watch_fd(b, &b->in_watch, b->in_fd,
				 in | (b->out_fd >= 0 ? out | EPOLLRDHUP : 0),
				 on_both);
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
 * keep_unread_input() - take what a leaving client typed into b->pending
 *
 * Return: true if all of it fit
 */
static bool keep_unread_input(struct backend *b)
{
	size_t before = b->pending_len;
	ssize_t r = 0;

	while (b->pending_len < BACKEND_PENDING) {
		do
			r = read(b->in_fd, b->pending + b->pending_len,
				 BACKEND_PENDING - b->pending_len);
		while (r < 0 && errno == EINTR);
		if (r <= 0)
			break;
		b->pending_len += (size_t)r;
	}
	if (b->pending_len > before)
		log_info("the console client left %zu typed bytes the guest has not read yet; they wait for it", b->pending_len - before);
	return r <= 0 && !unread_input(b);
}

/*
 * client_left() - the socket client hung up or stopped sending
 *
 * What it typed belongs to the console, not to the client: the bytes the
 * guest has not read yet move to b->pending (bounded) and the client is
 * closed at once, so that the next one can connect. Only a client that
 * left more than that buffer holds stays, read-only, until the guest has
 * taken it all: nothing typed is lost.
 */
static void client_left(struct backend *b)
{
	if (keep_unread_input(b)) {
		backend_drop_client(b, "hung up");
		return;
	}
	log_info("the console client left more input than the console keeps; it stays until the guest has read it");
	b->out_fd = -1;
	b->want_output = false;
	backend_update_watches(b);
}

/**
 * backend_check_hangup() - act now on a socket client's hang-up that the
 * loop has not reported yet
 */
void backend_check_hangup(struct backend *b)
{
	struct pollfd p = {.fd = b->in_fd, .events = POLLRDHUP};

	if (!b->owns_client_fds || b->in_fd < 0 || b->out_fd < 0)
		return;
	if (poll(&p, 1, 0) == 1 &&
	    (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
		client_left(b);
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
		backend_drop_client(b, "output hung up");
}

/*
 * A socket client: input and output on one fd and one watch. Its close
 * shows first as RDHUP (a TCP close and a half-close look alike here, and
 * a console client that stops sending has left).
 */
static void on_both(void *arg, uint32_t events)
{
	struct backend *b = arg;

	if ((events & (EPOLLRDHUP | HANGUP)) && b->out_fd >= 0) {
		client_left(b);
		if (!backend_connected(b))
			return;
	}
	if (b->want_input && (events & (EPOLLIN | EPOLLRDHUP | HANGUP)))
		b->ev->input(b->ev->opaque);
	if (!backend_connected(b))
		return;
	if (b->want_output && (events & (EPOLLOUT | HANGUP)))
		b->ev->writable(b->ev->opaque);
	/* Parked with input the guest does not want now: wait for it. */
	if (backend_connected(b) && !b->want_input && (events & HANGUP))
		ev_del(b->loop, &b->in_watch);
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
 * away (already dropped), BACKEND_IO_FAULT when @iov is not writable
 * memory (the client and its input stay)
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
	/* Not the client's fault: its input stays in the socket. */
	if (r < 0 && errno == EFAULT)
		return BACKEND_IO_FAULT;
	backend_drop_client(b, r == 0 ? "end of input" : strerror(errno));
	return -1;
}

/**
 * backend_read() - input for the guest: first what waits in b->pending
 * (typed ahead, or left by a client that has gone), then the client's
 *
 * Return: > 0 bytes, 0 when nothing is there now, -1 when no input can
 * come any more, BACKEND_IO_FAULT when @iov is not writable memory
 */
ssize_t backend_read(struct backend *b, const struct iovec *iov, unsigned int n)
{
	size_t done;

	if (b->pending_len == 0)
		return b->ops->read ? b->ops->read(b, iov, n)
				    : (b->in_fd >= 0 ? 0 : -1);
	done = iov_from_buf(iov, n, b->pending, b->pending_len);
	memmove(b->pending, b->pending + done, b->pending_len - done);
	b->pending_len -= done;
	/* Room again: the terminal may be read ahead again. */
	backend_update_watches(b);
	return (ssize_t)done;
}

/**
 * backend_write() - non-blocking writev() of @iov[0..n) to the client
 *
 * Return: bytes written (0 when the client takes nothing now), -1 when
 * the client went away (already dropped), BACKEND_IO_FAULT when @iov is
 * not readable memory (the client stays)
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
			if (errno == EFAULT)
				return total ? total : BACKEND_IO_FAULT;
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
