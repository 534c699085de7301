/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_server.c - browser connections of one worker, on its loop.
 *
 * web_conn.c speaks HTTP and the WebSocket without I/O; this file does the
 * I/O around it: accepts on the loopback listener, reads only while the
 * connection (and, for the console's writer, the console's input buffer)
 * has room, writes its output queue without blocking, and keeps one timer
 * per connection for the deadlines web_conn gives (a slow request head,
 * the token, the close handshake) and for the delay that answers a wrong
 * token. A connection becomes a console client only once its token was
 * right; until then nothing of the console passes either way.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "web_server.h"

#define FAILURES_FORGOTTEN_MS 60000 /* a quiet minute clears the count */

static void session_event(void *arg, uint32_t events);

static void arm(struct web_session *s, unsigned int ms)
{
	struct itimerspec its = {0};

	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	timerfd_settime(s->timer_fd, 0, &its, NULL);
}

/* What the connection waits for now: its fd's events. */
static void rewatch(struct web_session *s)
{
	uint32_t ev = 0;
	size_t room = web_conn_read_room(s->conn);

	/* The console's writer reads only what the console can hold. */
	if (s->client && s->client == s->srv->console->writer &&
	    backend_input_room(s->srv->console) < WEB_IN_CAP + 1)
		room = 0;
	if (room)
		ev |= EPOLLIN;
	if (web_conn_out_pending(s->conn))
		ev |= EPOLLOUT;
	ev_mod(s->srv->loop, &s->watch, ev | EPOLLRDHUP);
}

static void end_session(struct web_session *s, const char *why)
{
	struct web_server *ws = s->srv;

	if (!s->used)
		return;
	if (s->client)
		backend_drop_client(s->client, why); /* clears s->client */
	ev_del(ws->loop, &s->watch);
	ev_del(ws->loop, &s->timer_watch);
	web_conn_free(s->conn);
	close(s->fd);
	close(s->timer_fd);
	s->used = false;
	s->conn = NULL;
}

/* Write what is queued; false if the session ended. */
static bool flush(struct web_session *s)
{
	struct iovec iov[2];
	unsigned int n;

	while ((n = web_conn_out_peek(s->conn, iov)) != 0) {
		ssize_t w = writev(s->fd, iov, (int)n);

		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (w <= 0) {
			end_session(s, w < 0 ? strerror(errno) : "closed");
			return false;
		}
		web_conn_out_consume(s->conn, (size_t)w);
	}
	return true;
}

/*
 * after_call() - what follows every call into web_conn: its deadline when
 * its phase moved, the queue written out, the connection's end, and the
 * watch for what it waits for now
 */
static void after_call(struct web_session *s)
{
	unsigned int phase = web_conn_phase(s->conn);

	if (!flush(s))
		return;
	if (web_conn_finished(s->conn)) {
		end_session(s, "connection done");
		return;
	}
	if (phase != s->phase) {
		s->phase = phase;
		/* A refused token's delay is armed already. */
		if (web_conn_state(s->conn) != WEB_STATE_AUTH_FAILED)
			arm(s, web_conn_timeout_ms(s->conn));
	}
	/* The queue drained: the console may have more for it. */
	if (s->client && s->port_wants_output &&
	    !web_conn_out_pending(s->conn))
		backend_client_writable(s->client);
	if (s->used)
		rewatch(s);
}

/* --- the console client a browser becomes ---------------------------- */

static ssize_t codec_write(struct client *c, const struct iovec *iov,
			   unsigned int n)
{
	struct web_session *s = c->opaque;
	size_t total = 0;

	for (unsigned int i = 0; i < n; i++) {
		size_t took = web_conn_send_output(s->conn, iov[i].iov_base,
						   iov[i].iov_len);

		total += took;
		if (took < iov[i].iov_len)
			break;
	}
	/* Written out on the loop's next turn: no callbacks from here. */
	ev_mod(s->srv->loop, &s->watch, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
	return (ssize_t)total;
}

static bool codec_notice(struct client *c, const char *text)
{
	struct web_session *s = c->opaque;
	size_t len = strlen(text);

	return web_conn_send_output(s->conn, (const uint8_t *)text, len) ==
	       len;
}

static void codec_want_output(struct client *c, bool on)
{
	struct web_session *s = c->opaque;

	s->port_wants_output = on;
	if (on)
		ev_mod(s->srv->loop, &s->watch,
		       EPOLLIN | EPOLLOUT | EPOLLRDHUP);
}

static void codec_input_room(struct client *c)
{
	rewatch(c->opaque);
}

static void codec_detached(struct client *c, const char *why)
{
	struct web_session *s = c->opaque;

	(void)why;
	s->client = NULL;
	s->port_wants_output = false;
	if (web_conn_state(s->conn) == WEB_STATE_OPEN)
		web_conn_close(s->conn, WEB_CLOSE_GOING_AWAY,
			       "the console let this client go");
	ev_mod(s->srv->loop, &s->watch, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
}

static const struct client_codec web_codec = {
	.write = codec_write,
	.notice = codec_notice,
	.want_output = codec_want_output,
	.input_room = codec_input_room,
	.detached = codec_detached,
};

/* --- web_conn's callbacks -------------------------------------------- */

static void on_authenticated(void *opaque)
{
	struct web_session *s = opaque;
	struct web_server *ws = s->srv;

	ws->failures = 0;
	s->client = backend_attach_codec_client(ws->console, s->fd, &web_codec,
						s);
	if (!s->client) {
		log_info("web client %s refused: the console is full (--max-clients)", s->peer);
		web_conn_close(s->conn, WEB_CLOSE_POLICY,
			       "this console is full");
		return;
	}
	log_info("web client %s connected as the console's %s", s->peer,
		 s->client->writer ? "writer" : "watcher");
}

static void on_auth_failed(void *opaque)
{
	struct web_session *s = opaque;
	struct web_server *ws = s->srv;
	uint64_t now = ev_now_ms();

	if (now - ws->last_failure_ms > FAILURES_FORGOTTEN_MS)
		ws->failures = 0;
	ws->last_failure_ms = now;
	arm(s, web_auth_delay_ms(++ws->failures));
}

static void on_input(void *opaque, const uint8_t *data, size_t len)
{
	struct web_session *s = opaque;

	if (s->client)
		backend_client_input(s->client, data, len);
}

static void on_resize(void *opaque, unsigned int cols, unsigned int rows)
{
	struct web_session *s = opaque;
	struct web_server *ws = s->srv;

	/* The size of the console is the writer's. */
	if (s->client && s->client == ws->console->writer && ws->resize)
		ws->resize(ws->opaque, cols, rows);
}

static void on_closed(void *opaque, unsigned int code, const char *reason)
{
	struct web_session *s = opaque;

	log_debug("web client %s: closed (%u %s)", s->peer, code, reason);
	if (s->client)
		backend_drop_client(s->client, "the browser closed");
}

static const struct web_conn_ops conn_ops = {
	.authenticated = on_authenticated,
	.auth_failed = on_auth_failed,
	.input = on_input,
	.resize = on_resize,
	.closed = on_closed,
};

/* --- the loop's events ----------------------------------------------- */

static void session_readable(struct web_session *s)
{
	uint8_t buf[WEB_IN_CAP];
	size_t room = web_conn_read_room(s->conn);
	ssize_t n;

	if (room > sizeof(buf))
		room = sizeof(buf);
	if (s->client && s->client == s->srv->console->writer) {
		size_t in = backend_input_room(s->srv->console);

		/* One feed may hand on up to WEB_IN_CAP more than it got. */
		in = in > WEB_IN_CAP ? in - WEB_IN_CAP : 0;
		if (room > in)
			room = in;
	}
	if (!room)
		return;
	do
		n = read(s->fd, buf, room);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		end_session(s, n < 0 ? strerror(errno) : "the browser left");
		return;
	}
	web_conn_feed(s->conn, buf, (size_t)n);
}

static void session_event(void *arg, uint32_t events)
{
	struct web_session *s = arg;

	if (events & EPOLLIN) {
		session_readable(s);
		if (!s->used)
			return;
	} else if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
		/* A half-close: what is queued still goes out, if it can. */
		if (!(events & (EPOLLHUP | EPOLLERR)) && !flush(s))
			return;
		end_session(s, "the browser left");
		return;
	}
	after_call(s);
}

static void timer_event(void *arg, uint32_t events)
{
	struct web_session *s = arg;
	uint64_t n;

	(void)events;
	if (read(s->timer_fd, &n, sizeof(n)) < 0)
		return;
	if (web_conn_state(s->conn) == WEB_STATE_AUTH_FAILED) {
		web_conn_reject(s->conn);
		after_call(s);
		return;
	}
	end_session(s, "timed out");
}

static void on_listen(void *arg, uint32_t events)
{
	struct web_server *ws = arg;
	struct web_session *s = NULL;
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof(sa);
	char addr[INET_ADDRSTRLEN] = "?";
	int fd, one = 1;

	(void)events;
	fd = accept4(ws->listen_fd, (struct sockaddr *)&sa, &sl,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("web listener: accept: %s", strerror(errno));
		return;
	}
	for (unsigned int i = 0; i < WEB_MAX_SESSIONS && !s; i++)
		if (!ws->sessions[i].used)
			s = &ws->sessions[i];
	if (!s) {
		log_warn("web connection refused: %u connections already", WEB_MAX_SESSIONS);
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(s, 0, sizeof(*s));
	s->srv = ws;
	s->fd = fd;
	inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof(addr));
	snprintf(s->peer, sizeof(s->peer), "%s:%u", addr,
		 (unsigned int)ntohs(sa.sin_port));
	ev_watch_init(&s->watch);
	ev_watch_init(&s->timer_watch);
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	s->conn = web_conn_new(&(struct web_conn_config){.port = ws->port,
							.token = ws->token,
							.peer = s->peer},
			       &conn_ops, s);
	if (s->timer_fd < 0 || !s->conn ||
	    ev_add(ws->loop, &s->watch, fd, EPOLLIN | EPOLLRDHUP,
		   session_event, s) < 0 ||
	    ev_add(ws->loop, &s->timer_watch, s->timer_fd, EPOLLIN,
		   timer_event, s) < 0) {
		log_warn("web connection from %s dropped: %s", s->peer,
			 strerror(errno));
		ev_del(ws->loop, &s->watch);
		if (s->conn)
			web_conn_free(s->conn);
		if (s->timer_fd >= 0)
			close(s->timer_fd);
		close(fd);
		return;
	}
	s->used = true;
	s->phase = web_conn_phase(s->conn);
	arm(s, web_conn_timeout_ms(s->conn));
	log_debug("web connection from %s", s->peer);
}

/**
 * web_server_init() - serve browsers on @cfg->listen_fd
 *
 * Return: 0, or -1 (logged)
 */
int web_server_init(struct web_server *ws, const struct web_server_config *cfg)
{
	memset(ws, 0, sizeof(*ws));
	ws->loop = cfg->loop;
	ws->listen_fd = cfg->listen_fd;
	ws->port = cfg->port;
	ws->token = cfg->token;
	ws->console = cfg->console;
	ws->resize = cfg->resize;
	ws->opaque = cfg->opaque;
	ev_watch_init(&ws->listen_watch);
	if (ev_add(ws->loop, &ws->listen_watch, ws->listen_fd, EPOLLIN,
		   on_listen, ws) < 0) {
		log_error("web listener: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void web_server_fini(struct web_server *ws)
{
	for (unsigned int i = 0; i < WEB_MAX_SESSIONS; i++)
		end_session(&ws->sessions[i], "daemon stopping");
	ev_del(ws->loop, &ws->listen_watch);
}
