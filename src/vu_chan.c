/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * vu_chan.c - the vhost-user back-end channel: requests the daemon sends
 * to the frontend (VHOST_USER_BACKEND_CONFIG_CHANGE_MSG), and the answers
 * it asks for when REPLY_ACK is negotiated.
 *
 * The channel's socket comes from the frontend and is not trusted: it is
 * made non-blocking and no request ever waits for its answer. Answers are
 * read when they come, from the event loop, and checked; a frontend that
 * does not read the channel loses notifications (logged), and one that
 * closes it or writes anything but a well-formed answer loses the channel
 * (logged) while the session goes on without it.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "sock.h"
#include "vu_chan.h"

#define HDR_SIZE   sizeof(struct vhost_user_header)
#define REPLY_SIZE (HDR_SIZE + sizeof(uint64_t))

void vu_chan_init(struct vu_chan *ch, struct ev_loop *loop)
{
	memset(ch, 0, sizeof(*ch));
	ch->loop = loop;
	ch->fd = -1;
	ev_watch_init(&ch->watch);
}

/** vu_chan_close() - forget the channel; its socket is closed */
void vu_chan_close(struct vu_chan *ch)
{
	if (ch->fd < 0)
		return;
	ev_del(ch->loop, &ch->watch);
	close(ch->fd);
	ch->fd = -1;
	ch->acks_due = 0;
	ch->in_have = 0;
}

/* The frontend broke the channel: say why once, then carry on without. */
static void drop(struct vu_chan *ch, const char *why)
{
	log_warn("back-end channel: %s; dropped (no more config change notifications this session)",
		 why);
	vu_chan_close(ch);
}

/* A whole answer is in ch->in: check it against what was asked. */
static void take_answer(struct vu_chan *ch)
{
	struct vhost_user_header h;
	uint64_t v;

	memcpy(&h, ch->in, HDR_SIZE);
	memcpy(&v, ch->in + HDR_SIZE, sizeof(v));
	ch->in_have = 0;
	ch->acks_due--;
	if (v == 0) {
		log_debug(
			"back-end channel: the frontend took the config change");
		return;
	}
	log_warn("back-end channel: the frontend answered %llu (failure) to a config change notification",
		 (unsigned long long)v);
}

/* Is the header just read an answer we wait for? Logs why not. */
static bool header_ok(struct vu_chan *ch)
{
	struct vhost_user_header h;

	memcpy(&h, ch->in, HDR_SIZE);
	if (ch->acks_due == 0) {
		drop(ch, "the frontend sent a message nobody asked for");
		return false;
	}
	if (h.request != VHOST_USER_BACKEND_CONFIG_CHANGE_MSG ||
	    h.flags != (VHOST_USER_VERSION | VHOST_USER_REPLY_MASK) ||
	    h.size != sizeof(uint64_t)) {
		drop(ch, "malformed answer from the frontend");
		return false;
	}
	return true;
}

static void on_chan(void *arg, uint32_t events)
{
	struct vu_chan *ch = arg;

	(void)events;
	while (ch->fd >= 0) {
		size_t want = ch->in_have < HDR_SIZE ? HDR_SIZE : REPLY_SIZE;
		ssize_t n;

		n = recv(ch->fd, ch->in + ch->in_have, want - ch->in_have,
			 MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n == 0) {
			/* Most often the frontend is going away altogether. */
			log_info("back-end channel: closed by the frontend");
			vu_chan_close(ch);
			return;
		}
		if (n < 0) {
			drop(ch, strerror(errno));
			return;
		}
		ch->in_have += (unsigned int)n;
		if (ch->in_have == HDR_SIZE && !header_ok(ch))
			return;
		if (ch->in_have == REPLY_SIZE)
			take_answer(ch);
	}
}

/**
 * vu_chan_attach() - use @fd (owned from now) as the back-end channel
 * @want_ack:	REPLY_ACK is negotiated: ask for an answer to each request
 *
 * A channel given earlier in the session is replaced.
 *
 * Return: 0, or -1 (logged; @fd closed) if @fd is not a usable socket
 */
int vu_chan_attach(struct vu_chan *ch, int fd, bool want_ack)
{
	struct stat st;

	vu_chan_close(ch);
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		log_error("SET_BACKEND_REQ_FD: the fd is not a socket");
		close(fd);
		return -1;
	}
	if (sock_set_nonblock(fd) < 0 ||
	    ev_add(ch->loop, &ch->watch, fd, EPOLLIN, on_chan, ch) < 0) {
		log_error("SET_BACKEND_REQ_FD: cannot use the channel: %s",
			  strerror(errno));
		close(fd);
		return -1;
	}
	ch->fd = fd;
	ch->want_ack = want_ack;
	log_debug("back-end channel set up%s",
		  want_ack ? " (answers requested)" : "");
	return 0;
}

/**
 * vu_chan_config_changed() - tell the frontend the config space changed
 *
 * Never waits: a frontend that does not read its channel misses this one.
 *
 * Return: 0 when sent, -1 when there is no channel or it could not be sent
 */
int vu_chan_config_changed(struct vu_chan *ch)
{
	struct vhost_user_header h = {
		.request = VHOST_USER_BACKEND_CONFIG_CHANGE_MSG,
		.flags = VHOST_USER_VERSION |
			 (ch->want_ack ? VHOST_USER_NEED_REPLY_MASK : 0),
		.size = 0,
	};
	ssize_t n;

	if (ch->fd < 0)
		return -1;
	do
		n = send(ch->fd, &h, HDR_SIZE, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN) {
		log_warn(
			"back-end channel: the frontend does not read it; config change notification not sent");
		return -1;
	}
	if (n != (ssize_t)HDR_SIZE) {
		/* A part of a message would put the stream out of step. */
		drop(ch, n < 0 ? strerror(errno) : "short write");
		return -1;
	}
	if (ch->want_ack)
		ch->acks_due++;
	log_debug("back-end channel: config change notification sent");
	return 0;
}
