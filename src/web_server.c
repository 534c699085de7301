/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_server.c - browser connections of one worker, on its loop.
 *
 * web_conn.c speaks HTTP and the WebSocket without I/O; this file does the
 * I/O around it: accepts on the loopback listener (only allowed uids: a
 * 403 for the others, before anything else), reads only while the
 * connection (and, for the console's writer, the console's input buffer)
 * has room, writes its output queue without blocking, and keeps one timer
 * per connection for its deadline (web_server.h, web_conn.h). A connection
 * becomes a console client only once its proof was right; until then
 * nothing of the console passes either way.
 *
 * The one hard decision: the room for unauthenticated connections is
 * shared by everyone allowed in, so it is rationed rather than first come
 * first served: one deadline from accept to proof, half of the room per
 * uid at most, and the biggest holder's oldest connection leaves when a
 * newcomer needs its place (web_room.c decides which). Whatever another uid does, the owner's next
 * connection gets a place, and its proof is checked on the owner's own
 * guess count (web_guess.h), which no other uid moves.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "web_room.h"
#include "web_server.h"
#include "web_ticket.h"

#define LOG_EVERY_MS 1000

static void session_event(void *arg, uint32_t events);

/* log_allowed() - may a line of this kind be written now? @quiet tells
 * how many were held back before it */
static bool log_allowed(struct web_log_limit *l, uint64_t now,
			unsigned int *quiet)
{
	if (l->last_ms && now - l->last_ms < LOG_EVERY_MS) {
		l->quiet++;
		return false;
	}
	*quiet = l->quiet;
	l->quiet = 0;
	l->last_ms = now;
	return true;
}

/* arm_at() - the session's timer fires at @at_ms (CLOCK_MONOTONIC), or
 * never for 0 */
static void arm_at(struct web_session *s, uint64_t at_ms)
{
	struct itimerspec its = {0};

	if (at_ms == s->armed_ms)
		return;
	s->armed_ms = at_ms;
	its.it_value.tv_sec = (time_t)(at_ms / 1000);
	its.it_value.tv_nsec = (long)(at_ms % 1000) * 1000000;
	timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* answering() - is an HTTP answer being written? then progress bounds it */
static bool answering(const struct web_session *s)
{
	return !web_conn_upgraded(s->conn) && web_conn_out_pending(s->conn);
}

static bool before_proof(enum web_state st)
{
	return st == WEB_STATE_HTTP || st == WEB_STATE_AUTH ||
	       st == WEB_STATE_PROOF;
}

/* deadline() - when the session's timer must fire next (0: never) */
static uint64_t deadline(const struct web_session *s)
{
	enum web_state st = web_conn_state(s->conn);
	uint64_t preauth = s->accept_ms + WEB_PREAUTH_TIMEOUT_MS;

	if (st == WEB_STATE_CHECKING)
		return s->check_at_ms;
	if (answering(s)) {
		uint64_t d = s->progress_ms + WEB_PROGRESS_MS;

		return st == WEB_STATE_HTTP && preauth < d ? preauth : d;
	}
	if (before_proof(st))
		return preauth;
	if (st == WEB_STATE_CLOSING || st == WEB_STATE_DONE)
		return s->phase_ms + web_conn_timeout_ms(s->conn);
	return 0;
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
	log_debug("web %s: connection ended: %s", s->peer, why);
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
		s->progress_bytes += (size_t)w;
		if (s->progress_bytes >= WEB_PROGRESS_BYTES) {
			s->progress_ms = ev_now_ms();
			s->progress_bytes = 0;
		}
		web_conn_out_consume(s->conn, (size_t)w);
	}
	return true;
}

/*
 * after_call() - what follows every call into web_conn: the queue written
 * out, the connection's end, its deadline, and the watch for what it waits
 * for now
 */
static void after_call(struct web_session *s)
{
	unsigned int phase = web_conn_phase(s->conn);
	uint64_t now = ev_now_ms();

	if (!flush(s))
		return;
	if (web_conn_finished(s->conn)) {
		end_session(s, "connection done");
		return;
	}
	if (phase != s->phase) {
		s->phase = phase;
		s->phase_ms = now;
	}
	if (!web_conn_out_pending(s->conn)) {
		s->progress_ms = now;
		s->progress_bytes = 0;
	}
	arm_at(s, deadline(s));
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
	bool all = web_conn_send_output(s->conn, (const uint8_t *)text,
					len) == len;

	/* A notice (promoted to writer, output lost) goes out now, not
	 * with the next console output. */
	ev_mod(s->srv->loop, &s->watch, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
	return all;
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

/* on_proof() - book the proof's turn in the daemon's guess table; check
 * it now if its turn is now, else when the timer says */
static void on_proof(void *opaque)
{
	struct web_session *s = opaque;
	struct web_server *ws = s->srv;
	uint64_t now = ev_now_ms(), at = 0;
	unsigned int quiet;

	if (web_guess_book(ws->guesses, s->uid, now, &at) !=
	    WEB_GUESS_CHECK) {
		if (log_allowed(&ws->log_busy, now, &quiet))
			log_warn("web %s: proof of uid %u refused unchecked: that uid has too many wrong proofs waiting (%u more such lines not logged)",
				 s->peer, (unsigned int)s->uid, quiet);
		web_conn_close(s->conn, WEB_CLOSE_POLICY,
			       "too many tries; try again later");
		return;
	}
	log_info("web %s: proof of uid %u, checked %s", s->peer,
		 (unsigned int)s->uid, at <= now ? "now" : "at its turn");
	s->check_at_ms = at;
	if (at <= now)
		web_conn_check(s->conn);
}

static void on_authenticated(void *opaque)
{
	struct web_session *s = opaque;
	struct web_server *ws = s->srv;

	web_guess_right(ws->guesses, s->uid, ev_now_ms());
	s->authed = true;
	s->client = backend_attach_codec_client(ws->console, s->fd, &web_codec,
						s, web_conn_watch_only(s->conn));
	if (!s->client) {
		log_info("web client %s refused: the console is full (--max-clients)", s->peer);
		web_conn_close(s->conn, WEB_CLOSE_POLICY,
			       "this console is full");
		return;
	}
	log_info("web client %s connected as the console's %s", s->peer,
		 s->client->writer ? "writer" : "watcher");
}

/* on_ticket() - a page's ticket, at its turn: spend it if it is a live
 * one of this guest (once, whichever worker or browser races for it) */
static int on_ticket(void *opaque, const uint8_t secret[WEB_TICKET_BYTES])
{
	struct web_session *s = opaque;
	struct web_server *ws = s->srv;

	if (!ws->tickets)
		return -1;
	switch (web_ticket_spend(ws->tickets, ws->guest, secret, ev_now_ms())) {
	case WEB_TICKET_FULL:
		return 0;
	case WEB_TICKET_WATCH:
		return 1;
	case WEB_TICKET_REFUSED:
		break;
	}
	return -1;
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
	.proof = on_proof,
	.authenticated = on_authenticated,
	.ticket = on_ticket,
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

/*
 * timer_event() - the session's deadline: a proof's turn, the pre-auth
 * deadline (an answer being written is finished, bounded by progress; a
 * connection without one ends), an answer that stopped moving, or a close
 * that took too long
 */
static void timer_event(void *arg, uint32_t events)
{
	struct web_session *s = arg;
	enum web_state st = web_conn_state(s->conn);
	uint64_t now = ev_now_ms(), n;

	(void)events;
	if (read(s->timer_fd, &n, sizeof(n)) < 0)
		return;
	s->armed_ms = 0;
	if (st == WEB_STATE_CHECKING) {
		if (now >= s->check_at_ms)
			web_conn_check(s->conn);
	} else if (before_proof(st) &&
		   now >= s->accept_ms + WEB_PREAUTH_TIMEOUT_MS) {
		if (!answering(s)) {
			end_session(s, "no proof within the pre-auth deadline");
			return;
		}
		web_conn_close(s->conn, WEB_CLOSE_GOING_AWAY, "");
	} else if (answering(s) && now >= s->progress_ms + WEB_PROGRESS_MS) {
		end_session(s, "the answer stopped moving");
		return;
	} else if ((st == WEB_STATE_CLOSING || st == WEB_STATE_DONE) &&
		   !answering(s) && now >= deadline(s)) {
		end_session(s, "timed out");
		return;
	}
	after_call(s);
}

/*
 * refuse() - a 403 for a peer the door refused, written at once with the
 * door's line as its body; the socket is closed right after, so it holds
 * nothing. What the peer sent already is read first: closing with unread
 * bytes would reset the connection and could throw the answer away.
 */
static void refuse(int fd, const char *line)
{
	char answer[512];
	uint8_t sink[4096];
	int len = snprintf(answer, sizeof(answer),
			   "HTTP/1.1 403 Forbidden\r\n"
			   "Content-Type: text/plain; charset=utf-8\r\n"
			   "Content-Length: %zu\r\n"
			   "Cache-Control: no-store\r\n"
			   "Connection: close\r\n\r\n%s",
			   strlen(line), line);

	for (int i = 0; i < 4 && read(fd, sink, sizeof(sink)) > 0; i++)
		;
	if (len > 0 && write(fd, answer, (size_t)len) < 0)
		log_debug("web: a 403 was not written: %s", strerror(errno));
	close(fd);
}

/*
 * take_slot() - a place for a newcomer of @uid, made if need be by
 * closing an unauthenticated connection (web_room.h says which)
 *
 * Return: a free session, or NULL if every place is authenticated
 */
static struct web_session *take_slot(struct web_server *ws, uid_t uid)
{
	struct web_place places[WEB_MAX_SESSIONS];
	unsigned int quiet;
	int v;

	for (unsigned int i = 0; i < WEB_MAX_SESSIONS; i++) {
		const struct web_session *s = &ws->sessions[i];

		places[i] = (struct web_place){.used = s->used,
					       .authed = s->authed,
					       .uid = s->uid,
					       .since_ms = s->accept_ms};
	}
	v = web_room_victim(places, WEB_MAX_SESSIONS, uid, WEB_PREAUTH_MAX,
			    WEB_PREAUTH_PER_UID);
	if (v >= 0) {
		struct web_session *victim = &ws->sessions[v];

		if (log_allowed(&ws->log_evicted, ev_now_ms(), &quiet))
			log_info("web %s: unauthenticated connection of uid %u closed to make room for a new one of uid %u (%u more such lines not logged)",
				 victim->peer, (unsigned int)victim->uid,
				 (unsigned int)uid, quiet);
		end_session(victim, "made room for a newcomer");
	}
	for (unsigned int i = 0; i < WEB_MAX_SESSIONS; i++)
		if (!ws->sessions[i].used)
			return &ws->sessions[i];
	return NULL;
}

/* start_session() - set up @s for accepted @fd; false (logged, @fd
 * closed) on failure */
static bool start_session(struct web_server *ws, struct web_session *s,
			  int fd, uid_t uid, const char *peer)
{
	struct web_conn_config cfg = {.port = ws->port,
				      .token = ws->token,
				      .peer = peer,
				      .origins = ws->origins,
				      .frame_ancestors = ws->frame_ancestors};
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(s, 0, sizeof(*s));
	s->srv = ws;
	s->fd = fd;
	s->uid = uid;
	s->accept_ms = s->phase_ms = s->progress_ms = ev_now_ms();
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	ev_watch_init(&s->watch);
	ev_watch_init(&s->timer_watch);
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (getrandom(cfg.nonce, sizeof(cfg.nonce), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(cfg.nonce)) {
		log_warn("web connection from %s dropped: no random bytes for its nonce: %s",
			 s->peer, strerror(errno));
		goto fail;
	}
	s->conn = web_conn_new(&cfg, &conn_ops, s);
	explicit_bzero(cfg.nonce, sizeof(cfg.nonce));
	if (s->timer_fd < 0 || !s->conn ||
	    ev_add(ws->loop, &s->watch, fd, EPOLLIN | EPOLLRDHUP,
		   session_event, s) < 0 ||
	    ev_add(ws->loop, &s->timer_watch, s->timer_fd, EPOLLIN,
		   timer_event, s) < 0) {
		log_warn("web connection from %s dropped: %s", s->peer,
			 strerror(errno));
		goto fail;
	}
	s->used = true;
	s->phase = web_conn_phase(s->conn);
	arm_at(s, deadline(s));
	log_debug("web connection from %s (uid %u)", s->peer,
		  (unsigned int)uid);
	return true;
fail:
	ev_del(ws->loop, &s->watch);
	ev_del(ws->loop, &s->timer_watch);
	web_conn_free(s->conn);
	s->conn = NULL;
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	close(fd);
	return false;
}

static void on_listen(void *arg, uint32_t events)
{
	struct web_server *ws = arg;
	struct web_session *s;
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof(sa);
	char addr[INET_ADDRSTRLEN] = "?", peer[64], line[256];
	unsigned int quiet;
	uid_t uid;
	int fd;

	(void)events;
	fd = accept4(ws->listen_fd, (struct sockaddr *)&sa, &sl,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("web listener: accept: %s", strerror(errno));
		return;
	}
	inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof(addr));
	snprintf(peer, sizeof(peer), "%s:%u", addr,
		 (unsigned int)ntohs(sa.sin_port));
	/* Who it is comes first: a stranger holds no place, not even for
	 * the length of a request (the door logs it, rate-limited). */
	if (!door_admit_uid(&ws->door, fd, &uid, line, sizeof(line))) {
		refuse(fd, line);
		return;
	}
	s = take_slot(ws, uid);
	if (!s) {
		if (log_allowed(&ws->log_busy, ev_now_ms(), &quiet))
			log_warn("web connection from %s refused: %u authenticated sessions already (%u more such lines not logged)",
				 peer, WEB_MAX_SESSIONS, quiet);
		close(fd);
		return;
	}
	start_session(ws, s, fd, uid, peer);
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
	ws->guesses = cfg->guesses;
	ws->tickets = cfg->tickets;
	ws->origins = cfg->origins;
	ws->frame_ancestors = cfg->frame_ancestors;
	ws->guest = cfg->guest;
	ws->console = cfg->console;
	ws->resize = cfg->resize;
	ws->opaque = cfg->opaque;
	if (!ws->guesses) {
		log_error("web listener: no shared guess table");
		return -1;
	}
	door_init(&ws->door, cfg->policy, ws->listen_fd, cfg->door_name,
		  "web console");
	ev_watch_init(&ws->listen_watch);
	if (ev_add(ws->loop, &ws->listen_watch, ws->listen_fd, EPOLLIN,
		   on_listen, ws) < 0) {
		log_error("web listener: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/**
 * web_server_fini() - the worker stops: every console session is told so
 * (close 1001, written if the socket takes it now), then every connection
 * ends
 */
void web_server_fini(struct web_server *ws)
{
	for (unsigned int i = 0; i < WEB_MAX_SESSIONS; i++) {
		struct web_session *s = &ws->sessions[i];

		if (!s->used)
			continue;
		if (web_conn_state(s->conn) == WEB_STATE_OPEN) {
			web_conn_close(s->conn, WEB_CLOSE_GOING_AWAY,
				       "the daemon is stopping");
			if (!flush(s))
				continue;
		}
		end_session(s, "daemon stopping");
	}
	ev_del(ws->loop, &ws->listen_watch);
}
