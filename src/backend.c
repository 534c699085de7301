/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * backend.c - the part every backend shares: its clients, their fds in the
 * event loop, who may type, and non-blocking reads and writes.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "iov.h"
#include "log.h"
#include "sock.h"

#define HANGUP (EPOLLHUP | EPOLLERR)

static const char promoted_line[] =
	"\r\nvhost-device-console: the writer left; you are the writer now: what you type goes to the guest\r\n";
static const char discarded_line[] =
	"\r\nvhost-device-console: you are watching; another client is the writer, so what you type is discarded\r\n";

bool backend_connected(const struct backend *b)
{
	return b->nclients > 0;
}

static bool slot_used(const struct client *c)
{
	return c->used;
}

/** backend_next_client() - the client after @c (the first if NULL) */
struct client *backend_next_client(struct backend *b, struct client *c)
{
	unsigned int i = c ? (unsigned int)(c - b->clients) + 1 : 0;

	for (; i < b->max_clients; i++)
		if (slot_used(&b->clients[i]))
			return &b->clients[i];
	return NULL;
}

/** backend_has_input() - may input still come, now or later? */
bool backend_has_input(const struct backend *b)
{
	return b->pending_len > 0 || (b->writer && b->writer->in_fd >= 0);
}

static void on_client(void *arg, uint32_t events);
static struct client *joined(struct client *c);
static void on_input(void *arg, uint32_t events);
static void on_output(void *arg, uint32_t events);

/*
 * A hang-up is reported even when nothing is asked for. So a watch that
 * is not needed leaves the loop on a hang-up ("parked") instead of waking
 * it forever, and comes back when it is needed.
 */
static void watch_fd(struct client *c, struct ev_watch *w, int fd,
		     uint32_t events, ev_callback cb)
{
	if (w->fd >= 0) {
		ev_mod(c->b->loop, w, events);
		return;
	}
	if (events && ev_add(c->b->loop, w, fd, events, cb, c) < 0)
		log_warn("cannot watch the client again: %s", strerror(errno));
}

/* Put the client's fds in the loop with what is wanted now. */
void backend_update_watches(struct client *c)
{
	struct backend *b = c->b;
	/* A Ctrl-a held may come out as two bytes: room for both. */
	bool read_ahead = b->ops->readable &&
			  b->pending_len + (b->escape ? 1 : 0) < BACKEND_PENDING;
	/* A watcher is always read: its typing is discarded, its close
	 * must be seen. */
	bool reading = c != b->writer || b->want_input || read_ahead;
	uint32_t in = reading ? EPOLLIN : 0;
	uint32_t out = c->want_output && c->out_pollable ? EPOLLOUT : 0;

	if (c->codec) {
		c->codec->want_output(c, c->want_output);
		return;
	}
	/* A socket: one fd, one watch. Its close shows as RDHUP, asked for
	 * until the client is known to have left (it would be reported
	 * forever); a writer that left input to hand over has no output
	 * any more. */
	if (b->owns_client_fds) {
		if (c->in_fd >= 0)
			watch_fd(c, &c->in_watch, c->in_fd,
				 in | (c->out_fd >= 0 ? out | EPOLLRDHUP : 0),
				 on_client);
		return;
	}
	if (c->in_fd >= 0)
		watch_fd(c, &c->in_watch, c->in_fd, in, on_input);
	if (c->out_fd >= 0 && c->out_pollable)
		watch_fd(c, &c->out_watch, c->out_fd, out, on_output);
}

void backend_want_input(struct backend *b, bool on)
{
	b->want_input = on;
	if (b->writer)
		backend_update_watches(b->writer);
}

/*
 * backend_want_output() - ask for, or stop asking for, writability
 *
 * Stopping is lazy: EPOLLOUT stays armed until a writable event finds
 * nothing to write. A client that is often a little behind (a bulk
 * transfer) then keeps its EPOLLOUT, without two epoll_ctl() calls for
 * every batch.
 */
void backend_want_output(struct client *c, bool on)
{
	bool was = c->want_output;

	c->want_output = on;
	if ((on && !was) || c->codec)
		backend_update_watches(c);
}

/**
 * backend_notice() - one line from the daemon to this client, if it can
 * take it now (never waits)
 *
 * Return: true if it took all of it
 */
bool backend_notice(struct client *c, const char *text)
{
	size_t len = strlen(text);
	ssize_t r;

	if (c->out_fd < 0)
		return false;
	if (c->codec)
		return c->codec->notice(c, text);
	if (c->b->owns_client_fds)
		r = send(c->out_fd, text, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	else
		r = write(c->out_fd, text, len);
	if (r < 0)
		log_debug("notice to a client: %s", strerror(errno));
	return r == (ssize_t)len;
}

static bool unread_input(const struct client *c)
{
	int pending = 0;

	return ioctl(c->in_fd, FIONREAD, &pending) == 0 && pending > 0;
}

/* The oldest watcher types from now on. */
static void promote(struct backend *b)
{
	struct client *next = NULL;

	for (struct client *c = backend_next_client(b, NULL); c;
	     c = backend_next_client(b, c))
		if (c->in_fd >= 0 && c->out_fd >= 0 && !c->watch_only &&
		    (!next || c->since < next->since))
			next = c;
	b->writer = next;
	if (!next)
		return;
	next->writer = true;
	log_info("a watcher is the writer now");
	backend_notice(next, promoted_line);
	backend_update_watches(next);
}

/** backend_drop_client() - close the client (the listener stays) */
void backend_drop_client(struct client *c, const char *why)
{
	struct backend *b = c->b;
	bool was_writer = c == b->writer;

	if (!slot_used(c))
		return;
	log_info("%s disconnected (%s)",
		 b->is_port   ? "port client"
		 : was_writer ? "console client"
			      : "console watcher",
		 why);
	if (c->codec) {
		c->codec->detached(c, why);
	} else {
		ev_del(b->loop, &c->in_watch);
		ev_del(b->loop, &c->out_watch);
		if (b->owns_client_fds && c->in_fd >= 0)
			close(c->in_fd);
		else if (b->owns_client_fds && c->out_fd >= 0)
			close(c->out_fd);
	}
	c->in_fd = c->out_fd = -1;
	c->used = false;
	c->codec = NULL;
	c->writer = false;
	c->want_output = false;
	b->nclients--;
	if (was_writer)
		promote(b);
	if (b->ev->disconnected)
		b->ev->disconnected(b->ev->opaque, c);
}

/*
 * keep_unread_input() - take what a leaving writer typed into b->pending
 *
 * Return: true if all of it fit
 */
static bool keep_unread_input(struct client *c)
{
	struct backend *b = c->b;
	size_t before = b->pending_len;
	ssize_t r = 0;

	while (b->pending_len < BACKEND_PENDING) {
		do
			r = read(c->in_fd, b->pending + b->pending_len,
				 BACKEND_PENDING - b->pending_len);
		while (r < 0 && errno == EINTR);
		if (r <= 0)
			break;
		b->pending_len += (size_t)r;
	}
	if (b->pending_len > before)
		log_info("the console client left %zu typed bytes the guest has not read yet; they wait for it", b->pending_len - before);
	return r <= 0 && !unread_input(c);
}

/*
 * client_left() - a socket client hung up or stopped sending
 *
 * What the writer typed belongs to the console, not to the client: the
 * bytes the guest has not read yet move to b->pending (bounded) and the
 * client is closed at once, so that the next one can come. Only a writer
 * that left more than that buffer holds stays, read-only, until the guest
 * has taken it all: nothing typed is lost. A watcher just goes.
 */
static void client_left(struct client *c)
{
	if (c != c->b->writer || c->codec || keep_unread_input(c)) {
		backend_drop_client(c, "hung up");
		return;
	}
	log_info("the console client left more input than the console keeps; it stays until the guest has read it");
	c->out_fd = -1;
	c->want_output = false;
	backend_update_watches(c);
}

/**
 * backend_check_hangups() - act now on hang-ups the loop has not
 * reported yet (before a newcomer is counted against the limit)
 */
void backend_check_hangups(struct backend *b)
{
	for (struct client *c = backend_next_client(b, NULL); c;
	     c = backend_next_client(b, c)) {
		struct pollfd p = {.fd = c->in_fd, .events = POLLRDHUP};

		if (!b->owns_client_fds || c->codec || c->in_fd < 0 ||
		    c->out_fd < 0)
			continue;
		if (poll(&p, 1, 0) == 1 &&
		    (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			client_left(c);
	}
}

/* A watcher typed: it is told once, and its bytes are dropped. */
static void discard_input(struct client *c)
{
	uint8_t sink[4096];
	ssize_t r;

	do
		r = read(c->in_fd, sink, sizeof(sink));
	while (r < 0 && errno == EINTR);
	if (r == 0 || (r < 0 && errno != EAGAIN)) {
		backend_drop_client(c, r == 0 ? "end of input" : strerror(errno));
		return;
	}
	if (r > 0 && !c->told_discard) {
		c->told_discard = true;
		backend_notice(c, discarded_line);
	}
}

/*
 * Input on a watch of its own (the terminal): read ahead through the
 * backend's readable op, unless the pending buffer is full; then a
 * hang-up parks the watch until the guest makes room.
 */
static void on_input(void *arg, uint32_t events)
{
	struct client *c = arg;
	struct backend *b = c->b;

	if ((events & HANGUP) &&
	    b->pending_len + (b->escape ? 1 : 0) >= BACKEND_PENDING)
		ev_del(b->loop, &c->in_watch);
	else
		b->ops->readable(b);
}

static void on_output(void *arg, uint32_t events)
{
	struct client *c = arg;

	if (c->want_output)
		c->b->ev->writable(c->b->ev->opaque, c);
	else if (events & HANGUP)
		backend_drop_client(c, "output hung up");
	else
		backend_update_watches(c); /* disarm, lazily */
}

/*
 * A socket client: input and output on one fd and one watch. Its close
 * shows first as RDHUP (a TCP close and a half-close look alike here, and
 * a console client that stops sending has left).
 */
static void on_client(void *arg, uint32_t events)
{
	struct client *c = arg;
	struct backend *b = c->b;

	if ((events & (EPOLLRDHUP | HANGUP)) && c->out_fd >= 0) {
		client_left(c);
		if (!slot_used(c))
			return;
	}
	if (c != b->writer && (events & EPOLLIN)) {
		discard_input(c);
		if (!slot_used(c))
			return;
	} else if (c == b->writer && b->want_input &&
		   (events & (EPOLLIN | EPOLLRDHUP | HANGUP))) {
		b->ev->input(b->ev->opaque);
		if (!slot_used(c))
			return;
	}
	if (c->want_output && (events & (EPOLLOUT | HANGUP)))
		b->ev->writable(b->ev->opaque, c);
	else if (events & EPOLLOUT)
		backend_update_watches(c); /* disarm, lazily */
	/* Parked with input the guest does not want now: wait for it. */
	if (slot_used(c) && c == b->writer && !b->want_input &&
	    (events & HANGUP))
		ev_del(b->loop, &c->in_watch);
}

/* A free slot, made a fresh client on @in_fd/@out_fd; NULL when full. */
static struct client *take_slot(struct backend *b, int in_fd, int out_fd)
{
	struct client *c = NULL;

	for (unsigned int i = 0; i < b->max_clients && !c; i++)
		if (!slot_used(&b->clients[i]))
			c = &b->clients[i];
	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->b = b;
	c->used = true;
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->out_pollable = true;
	c->since = b->arrivals++;
	ev_watch_init(&c->in_watch);
	ev_watch_init(&c->out_watch);
	return c;
}

/**
 * backend_attach_client() - start serving a client
 * @in_fd:	where input comes from
 * @out_fd:	where output goes; may be @in_fd
 *
 * The first client is the writer; the others watch.
 *
 * Return: the client, or NULL if there is no room or the fds cannot be
 * watched (the caller still owns them)
 */
struct client *backend_attach_client(struct backend *b, int in_fd,
				     int out_fd)
{
	struct client *c = take_slot(b, in_fd, out_fd);

	if (!c)
		return NULL;
	if (in_fd >= 0 &&
	    ev_add(b->loop, &c->in_watch, in_fd, 0,
		   b->owns_client_fds ? on_client : on_input, c) < 0) {
		/* /dev/null or a regular file: nothing will ever be typed. */
		if (errno != EPERM || in_fd == out_fd) {
			log_error("cannot watch the client: %s",
				  strerror(errno));
			c->in_fd = c->out_fd = -1;
			c->used = false;
			return NULL;
		}
		log_info("input is not a terminal, pipe or socket; the guest gets no input");
		c->in_fd = -1;
	}
	if (out_fd >= 0 && out_fd != in_fd &&
	    ev_add(b->loop, &c->out_watch, out_fd, 0, on_output, c) < 0) {
		/* A regular file: always writable, never waits. */
		if (errno != EPERM) {
			log_error("cannot watch the output: %s",
				  strerror(errno));
			ev_del(b->loop, &c->in_watch);
			c->in_fd = c->out_fd = -1;
			c->used = false;
			return NULL;
		}
		c->out_pollable = false;
	}
	return joined(c);
}

/* A client is in: the first one types. */
static struct client *joined(struct client *c)
{
	struct backend *b = c->b;

	b->nclients++;
	if (!b->writer && !c->watch_only) {
		b->writer = c;
		c->writer = true;
	}
	backend_update_watches(c);
	b->ev->connected(b->ev->opaque, c);
	return c;
}

/**
 * backend_attach_codec_client() - a client whose owner frames its bytes
 * (see struct client_codec); the backend watches no fd of it
 * @fd:	its socket, for identity only
 * @watch_only:	never the writer, not even when the writer leaves
 *
 * Return: the client, or NULL when the backend is full
 */
struct client *backend_attach_codec_client(struct backend *b, int fd,
					   const struct client_codec *codec,
					   void *opaque, bool watch_only)
{
	struct client *c;

	backend_check_hangups(b);
	c = take_slot(b, fd, fd);
	if (!c)
		return NULL;
	c->codec = codec;
	c->opaque = opaque;
	c->watch_only = watch_only;
	return joined(c);
}

/** backend_input_room() - how much input b->pending can take now */
size_t backend_input_room(const struct backend *b)
{
	return BACKEND_PENDING - b->pending_len;
}

/**
 * backend_client_input() - a codec client typed @p: the writer's bytes
 * wait in b->pending for the guest (its owner reads no more than
 * backend_input_room() allows); a watcher's are discarded
 */
void backend_client_input(struct client *c, const uint8_t *p, size_t n)
{
	struct backend *b = c->b;

	if (c != b->writer) {
		if (n && !c->told_discard) {
			c->told_discard = true;
			backend_notice(c, discarded_line);
		}
		return;
	}
	if (n > backend_input_room(b)) {
		log_warn("client input of %zu bytes beyond the console's room; %zu dropped", n, n - backend_input_room(b));
		n = backend_input_room(b);
	}
	memcpy(b->pending + b->pending_len, p, n);
	b->pending_len += n;
	if (n && b->want_input)
		b->ev->input(b->ev->opaque);
}

/** backend_client_writable() - a codec client can take output again */
void backend_client_writable(struct client *c)
{
	if (c->want_output)
		c->b->ev->writable(c->b->ev->opaque, c);
}

/**
 * backend_readv() - non-blocking readv() from the writer
 *
 * Return: > 0 bytes, 0 when nothing is there now, -1 when the writer went
 * away (already dropped), BACKEND_IO_FAULT when @iov is not writable
 * memory (the writer and its input stay)
 */
ssize_t backend_readv(struct backend *b, const struct iovec *iov,
		      unsigned int n)
{
	struct client *c = b->writer;
	ssize_t r;

	if (!c || c->in_fd < 0)
		return -1;
	do
		r = readv(c->in_fd, iov, (int)(n > IOV_MAX ? IOV_MAX : n));
	while (r < 0 && errno == EINTR);
	if (r > 0)
		return r;
	if (r < 0 && errno == EAGAIN)
		return 0;
	/* Not the client's fault: its input stays in the socket. */
	if (r < 0 && errno == EFAULT)
		return BACKEND_IO_FAULT;
	backend_drop_client(c, r == 0 ? "end of input" : strerror(errno));
	return -1;
}

/**
 * backend_read() - input for the guest: first what waits in b->pending
 * (typed ahead, or left by a writer that has gone), then the writer's
 *
 * Return: > 0 bytes, 0 when nothing is there now, -1 when no input can
 * come any more, BACKEND_IO_FAULT when @iov is not writable memory
 */
ssize_t backend_read(struct backend *b, const struct iovec *iov, unsigned int n)
{
	size_t done;

	if (b->pending_len == 0) {
		if (b->writer && b->writer->codec)
			return 0; /* its input comes through b->pending */
		if (b->ops->read)
			return b->ops->read(b, iov, n);
		return b->writer && b->writer->in_fd >= 0 ? 0 : -1;
	}
	done = iov_from_buf(iov, n, b->pending, b->pending_len);
	memmove(b->pending, b->pending + done, b->pending_len - done);
	b->pending_len -= done;
	/* Room again: the terminal, or a codec client, may read again. */
	if (b->writer && b->writer->codec)
		b->writer->codec->input_room(b->writer);
	else if (b->writer)
		backend_update_watches(b->writer);
	return (ssize_t)done;
}

/**
 * backend_write() - non-blocking writev() of @iov[0..n) to client @c
 *
 * Return: bytes written (0 when the client takes nothing now), -1 when
 * the client went away (already dropped), BACKEND_IO_FAULT when @iov is
 * not readable memory (the client stays)
 */
ssize_t backend_write(struct client *c, const struct iovec *iov,
		      unsigned int n)
{
	ssize_t total = 0;

	if (c->out_fd < 0)
		return -1;
	if (c->codec)
		return c->codec->write(c, iov, n);
	while (n > 0) {
		unsigned int chunk = n > IOV_MAX ? IOV_MAX : n;
		size_t want = 0;
		ssize_t r;

		for (unsigned int i = 0; i < chunk; i++)
			want += iov[i].iov_len;
		do
			r = writev(c->out_fd, iov, (int)chunk);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			if (errno == EAGAIN)
				return total;
			if (errno == EFAULT)
				return total ? total : BACKEND_IO_FAULT;
			/* Gone: what it took before no longer matters. */
			backend_drop_client(c, strerror(errno));
			return -1;
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
 * backend_init() - set up the backend; no client yet
 *
 * Return: 0, or -1 (logged)
 */
int backend_init(struct backend *b, const struct backend_config *cfg)
{
	memset(b, 0, sizeof(*b));
	b->saved_fl[0] = b->saved_fl[1] = -1;
	b->ops = cfg->kind == BACKEND_NESTED ? &backend_nested_ops
					     : &backend_socket_ops;
	b->tcp = cfg->kind == BACKEND_NETWORK;
	b->ev = cfg->ev;
	b->loop = cfg->loop;
	b->index = cfg->index;
	b->listen_fd = cfg->listen_fd;
	b->is_port = cfg->is_port;
	if (cfg->kind != BACKEND_NESTED)
		door_init(&b->door, cfg->policy, cfg->listen_fd, cfg->door_name,
			  cfg->is_port ? "port" : "console");
	/* The terminal is one client; browsers may watch beside it. */
	b->max_clients = cfg->is_port ? 1 : cfg->max_clients;
	if (b->max_clients == 0)
		b->max_clients = 1;
	b->clients = calloc(b->max_clients, sizeof(*b->clients));
	b->pending = malloc(BACKEND_PENDING);
	if (!b->clients || !b->pending) {
		log_error("out of memory for %u clients", b->max_clients);
		return -1;
	}
	for (unsigned int i = 0; i < b->max_clients; i++) {
		b->clients[i].in_fd = b->clients[i].out_fd = -1;
		ev_watch_init(&b->clients[i].in_watch);
		ev_watch_init(&b->clients[i].out_watch);
	}
	ev_watch_init(&b->listen_watch);
	return b->ops->start(b);
}

void backend_fini(struct backend *b)
{
	if (b->ops)
		b->ops->stop(b);
	free(b->clients);
	free(b->pending);
	b->clients = NULL;
	b->pending = NULL;
	b->max_clients = 0;
}
