/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * status_server.c - the I/O around ctl_proto.c, metrics_http.c and
 * status_report.c, in the supervisor's loop (see status_server.h).
 *
 * One table of connections serves both doors. A connection reads only
 * while it has no answer waiting, so a client that asks and never reads
 * holds at most one answer; each has a deadline (the control socket's
 * from its last request, the metrics listener's from its arrival), and
 * one timerfd wakes the loop for the earliest. Beyond STATUS_MAX_CONNS a
 * newcomer is told "busy" and closed: the connections already served are
 * never disturbed by it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "ctl_proto.h"
#include "guest_stats.h"
#include "log.h"
#include "metrics_http.h"
#include "status_server.h"
#include "version.h"

/* Control socket: from a request to the end of its answer; metrics: from
 * the connection to the end of its answer. */
#define DEADLINE_MS 10000

struct status_conn {
	struct status_server *ss;
	bool used;
	bool metrics; /* the metrics listener's, else the control socket's */
	bool closing; /* close once the answer is out */
	bool eof; /* the client sends no more: answer what it sent, close */
	bool forbidden; /* metrics: its head is read, then answered 403 */
	int fd;
	struct ev_watch watch;
	uint64_t deadline_ms;
	char in[METRICS_HEAD_MAX];
	size_t in_len;
	struct report_buf out;
	size_t out_off;
};

static const struct peer_policy no_one_else; /* own uid and root only */

static uint64_t wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec;
}

/* Every guest's entry, read now (each one consistent in itself). */
static struct status_snapshot snapshot(struct status_server *ss)
{
	for (unsigned int i = 0; i < ss->guests; i++)
		ss->snap[i].ok =
			guest_stats_read(&ss->shm->guest[i], &ss->snap[i].d);
	return (struct status_snapshot){.version = program_version,
					.pid = (long)getpid(),
					.now = wall_seconds(),
					.guests = ss->guests,
					.guest = ss->snap};
}

static void rearm_timer(struct status_server *ss)
{
	struct itimerspec its = {0};
	uint64_t next = 0, now = ev_now_ms(), in_ms;

	for (unsigned int i = 0; i < STATUS_MAX_CONNS; i++) {
		const struct status_conn *c = &ss->conns[i];

		if (c->used && (!next || c->deadline_ms < next))
			next = c->deadline_ms;
	}
	if (next) {
		in_ms = next > now ? next - now : 1;
		its.it_value.tv_sec = (time_t)(in_ms / 1000);
		its.it_value.tv_nsec = (long)(in_ms % 1000) * 1000000;
	}
	timerfd_settime(ss->timer_fd, 0, &its, NULL);
}

static void conn_close(struct status_conn *c)
{
	ev_del(c->ss->loop, &c->watch);
	close(c->fd);
	report_free(&c->out);
	c->used = false;
	c->fd = -1;
}

static bool out_pending(const struct status_conn *c)
{
	return c->out_off < c->out.len;
}

/* Read while no answer waits; write while one does. */
static void conn_update(struct status_conn *c)
{
	uint32_t ev = out_pending(c) ? EPOLLOUT : 0;

	if (!c->closing && !c->eof && !out_pending(c))
		ev |= EPOLLIN;
	ev_mod(c->ss->loop, &c->watch, ev);
}

/* --- the control socket ---------------------------------------------- */

/* ticket: mint one for the guest asked; its text, or why not, in @body */
static enum ctl_error ctl_ticket(struct status_server *ss,
				 const struct ctl_request *rq,
				 struct report_buf *body)
{
	uint8_t secret[WEB_TICKET_LEN];
	char text[BASE64_URL_LEN(WEB_TICKET_LEN) + 1];
	int r;

	if (rq->guest >= ss->shm->guests) {
		report_printf(body, "no guest %u (guests 0..%u)\n", rq->guest,
			      ss->shm->guests - 1);
		return CTL_ERR_BAD;
	}
	if (getrandom(secret, sizeof(secret), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(secret)) {
		report_printf(body, "no random bytes now; try again\n");
		return CTL_ERR_BUSY;
	}
	r = web_ticket_mint(&ss->shm->tickets, rq->guest, rq->ttl_ms,
			    rq->watch_only, ev_now_ms(), secret);
	if (r == 0)
		base64_encode(BASE64_URL, secret, sizeof(secret), text,
			      sizeof(text));
	explicit_bzero(secret, sizeof(secret));
	if (r < 0) {
		report_printf(body, "%u tickets are waiting to be used; try again when one expires\n",
			      WEB_TICKET_SLOTS);
		return CTL_ERR_BUSY;
	}
	/* The ticket itself is never logged: the log is not a secret. */
	log_info("control socket: a %sticket for guest %u, good for %u s",
		 rq->watch_only ? "watch-only " : "", rq->guest,
		 (unsigned int)(rq->ttl_ms / 1000));
	report_printf(body, "%s\n", text);
	explicit_bzero(text, sizeof(text));
	return CTL_ERR_NONE;
}

static void ctl_request(struct status_conn *c, const char *line, size_t len)
{
	struct status_server *ss = c->ss;
	struct report_buf body = {0};
	struct status_snapshot snap;
	struct ctl_request rq;
	char why[160];
	enum ctl_error e = ctl_parse(line, len, &rq, why, sizeof(why));

	if (e != CTL_ERR_NONE) {
		log_info("control socket: request refused: %s", why);
		report_printf(&body, "%s\n", why);
	} else if (rq.cmd == CTL_CMD_STATUS || rq.cmd == CTL_CMD_STATUS_JSON) {
		snap = snapshot(ss);
		if (rq.cmd == CTL_CMD_STATUS)
			status_report_text(&body, &snap);
		else
			status_report_json(&body, &snap);
	} else if (rq.cmd == CTL_CMD_VERSION) {
		report_printf(&body, PROGRAM_NAME " %s\n", program_version);
	} else if (rq.cmd == CTL_CMD_TICKET) {
		e = ctl_ticket(ss, &rq, &body);
	} else {
		report_printf(&body, "%s", ctl_help_text);
	}
	if (body.failed) {
		report_free(&body);
		e = CTL_ERR_BUSY;
		report_printf(&body, "out of memory for the answer\n");
	}
	ctl_answer(&c->out, e, body.p ? body.p : "", body.len);
	report_free(&body);
	if (c->out.failed)
		c->closing = true;
}

/* Answer the next complete line, if no answer is waiting. */
static void ctl_process(struct status_conn *c)
{
	ssize_t end;

	if (out_pending(c) || c->closing)
		return;
	end = ctl_line_end(c->in, c->in_len);
	if (end < 0) {
		if (c->in_len < CTL_LINE_MAX)
			return;
		log_info("control socket: a request line longer than %u bytes; connection closed",
			 CTL_LINE_MAX);
		ctl_answer(&c->out, CTL_ERR_TOO_LONG, "a request is one line\n",
			   22);
		c->closing = true;
		return;
	}
	ctl_request(c, c->in, (size_t)end);
	c->in_len -= (size_t)end + 1;
	memmove(c->in, c->in + end + 1, c->in_len);
	c->deadline_ms = ev_now_ms() + DEADLINE_MS;
	rearm_timer(c->ss);
}

/* --- the metrics listener -------------------------------------------- */

static void metrics_process(struct status_conn *c)
{
	struct status_server *ss = c->ss;
	ssize_t end = metrics_http_head_end(c->in, c->in_len);
	struct metrics_route r = {.code = 431};
	struct report_buf body = {0};
	struct status_snapshot snap;

	if (c->closing || out_pending(c))
		return;
	if (end < 0 && c->in_len < METRICS_HEAD_MAX)
		return;
	if (end >= 0)
		r = metrics_http_route(c->in, (size_t)end, ss->opts->metrics_port);
	if (c->forbidden)
		r = (struct metrics_route){.code = 403};
	if (r.code != 200 && r.code != 403)
		log_info("metrics: request answered %d", r.code);
	if (r.code == 200) {
		snap = snapshot(ss);
		status_report_metrics(&body, &snap);
		if (body.failed)
			r.code = 503;
	}
	metrics_http_respond(&c->out, r, &body);
	report_free(&body);
	c->closing = true;
}

/* --- connections ----------------------------------------------------- */

static void conn_read(struct status_conn *c)
{
	ssize_t n;
	size_t cap = c->metrics ? METRICS_HEAD_MAX : CTL_LINE_MAX;

	if (c->in_len >= cap)
		return;
	do
		n = recv(c->fd, c->in + c->in_len, cap - c->in_len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n < 0) {
		c->closing = true;
		return;
	}
	if (n == 0) {
		/* Done asking: what it asked is still answered. */
		c->eof = true;
		return;
	}
	c->in_len += (size_t)n;
}

static void conn_write(struct status_conn *c)
{
	ssize_t n;

	do
		n = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n < 0) {
		c->closing = true;
		c->out_off = c->out.len; /* nobody takes the rest */
		return;
	}
	c->out_off += (size_t)n;
	if (!out_pending(c)) {
		c->out.len = 0;
		c->out_off = 0;
	}
}

static void on_conn(void *arg, uint32_t events)
{
	struct status_conn *c = arg;

	if (events & (EPOLLERR | EPOLLHUP)) {
		conn_close(c);
		return;
	}
	if ((events & EPOLLIN) && !out_pending(c) && !c->closing && !c->eof)
		conn_read(c);
	/* Answer and write until the socket is full or nothing is asked:
	 * most answers fit the socket at once. */
	for (;;) {
		if (!out_pending(c)) {
			if (c->metrics)
				metrics_process(c);
			else
				ctl_process(c);
		}
		if (!out_pending(c))
			break;
		conn_write(c);
		if (out_pending(c) || c->closing)
			break;
	}
	if (!out_pending(c) && (c->closing || c->eof)) {
		conn_close(c);
		return;
	}
	conn_update(c);
}

/* A short answer to a client that is not served, then close. */
static void refuse(int fd, bool metrics, int code, const char *why)
{
	char msg[256];
	int n;

	if (metrics)
		n = snprintf(msg, sizeof(msg), "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
			     code, code == 403 ? "Forbidden" : "Service Unavailable",
			     strlen(why) + 1, why);
	else
		n = snprintf(msg, sizeof(msg), CTL_PROTO_NAME " %s %zu\n%s\n",
			     code == 403 ? "forbidden" : "busy", strlen(why) + 1,
			     why);
	if (n > 0 && send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("refusal: %s", strerror(errno));
	close(fd);
}

/*
 * free_slot() - a slot for a newcomer: a free one, else the oldest of a
 * refused metrics client waiting for its 403
 *
 * A refused client holds its slot only until its head is read, but a
 * stranger that connects and says nothing would hold it to the deadline:
 * sixteen such would lock the owner out of both doors. The one it pushes
 * out never gets its 403, only a close.
 */
static struct status_conn *free_slot(struct status_server *ss)
{
	struct status_conn *oldest = NULL;

	for (unsigned int i = 0; i < STATUS_MAX_CONNS; i++) {
		struct status_conn *c = &ss->conns[i];

		if (!c->used)
			return c;
		if (c->forbidden &&
		    (!oldest || c->deadline_ms < oldest->deadline_ms))
			oldest = c;
	}
	if (oldest)
		conn_close(oldest);
	return oldest;
}

static void accept_one(struct status_server *ss, int lfd, bool metrics)
{
	const char *door = metrics ? "metrics" : "control socket";
	struct status_conn *c = NULL;
	char line[160];
	bool allowed;
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("%s: accept: %s", door, strerror(errno));
		return;
	}
	/* The consoles' check (logged there, at most once a second). */
	allowed = door_admit(metrics ? &ss->metrics_door : &ss->ctl_door, fd,
			     line, sizeof(line));
	/* HTTP: the request is read before the 403, or closing with it
	 * unread resets the connection and the answer is lost. */
	if (!allowed && !metrics) {
		line[strcspn(line, "\r\n")] = '\0';
		refuse(fd, false, 403, line);
		return;
	}
	c = free_slot(ss);
	if (!c) {
		log_warn("%s: client refused: %u connections already", door,
			 STATUS_MAX_CONNS);
		refuse(fd, metrics, 503, "too many connections; try again");
		return;
	}
	memset(c, 0, sizeof(*c));
	c->ss = ss;
	c->used = true;
	c->metrics = metrics;
	c->fd = fd;
	c->forbidden = !allowed;
	c->deadline_ms = ev_now_ms() + DEADLINE_MS;
	ev_watch_init(&c->watch);
	if (ev_add(ss->loop, &c->watch, fd, EPOLLIN, on_conn, c) < 0) {
		log_warn("%s: cannot watch a client: %s", door, strerror(errno));
		close(fd);
		c->used = false;
		return;
	}
	rearm_timer(ss);
}

static void on_ctl_listen(void *arg, uint32_t events)
{
	struct status_server *ss = arg;

	(void)events;
	accept_one(ss, ss->ctl_fd, false);
}

static void on_metrics_listen(void *arg, uint32_t events)
{
	struct status_server *ss = arg;

	(void)events;
	accept_one(ss, ss->metrics_fd, true);
}

static void on_timer(void *arg, uint32_t events)
{
	struct status_server *ss = arg;
	uint64_t expirations, now = ev_now_ms();

	(void)events;
	if (read(ss->timer_fd, &expirations, sizeof(expirations)) < 0)
		return;
	for (unsigned int i = 0; i < STATUS_MAX_CONNS; i++) {
		struct status_conn *c = &ss->conns[i];

		if (c->used && c->deadline_ms <= now) {
			log_info("%s: a client past its deadline; closed",
				 c->metrics ? "metrics" : "control socket");
			conn_close(c);
		}
	}
	rearm_timer(ss);
}

/** status_server_refresh() - recompute the summary; tell if it changed */
void status_server_refresh(struct status_server *ss)
{
	char now[STATUS_SUMMARY_LEN];

	guest_stats_summary(ss->shm, ss->guests, now, sizeof(now));
	if (strcmp(now, ss->summary) == 0)
		return;
	memcpy(ss->summary, now, sizeof(now));
	log_debug("status: %s", now);
	if (ss->summary_changed)
		ss->summary_changed(ss->opaque, now);
}

static void on_wake(void *arg, uint32_t events)
{
	struct status_server *ss = arg;
	uint64_t n;

	(void)events;
	if (read(ss->wake_fd, &n, sizeof(n)) < 0)
		return;
	status_server_refresh(ss);
}

/* --control-socket, or --socket-path with ".ctl"; "" for none. */
static int ctl_path(const struct options *o, char *buf, size_t len)
{
	int n;

	buf[0] = '\0';
	if (o->control_socket)
		n = snprintf(buf, len, "%s", o->control_socket);
	else if (o->socket_path)
		n = snprintf(buf, len, "%s.ctl", o->socket_path);
	else
		return 0;
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/**
 * status_server_open() - bind the control socket and the metrics port,
 * and make the workers' eventfd; before any worker is forked
 * @ss:		the server (zeroed here)
 * @opts:	--control-socket, --socket-path, --metrics-port
 * @shm:	the workers' counters
 * @err:	a human reason on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err filled (what was opened is closed)
 */
int status_server_open(struct status_server *ss, const struct options *opts,
		       struct daemon_shm *shm, char *err, size_t errlen)
{
	memset(ss, 0, sizeof(*ss));
	ss->opts = opts;
	ss->shm = shm;
	/* Read once, before any worker runs: trusted from now on. */
	ss->guests = shm->guests;
	ss->ctl_fd = ss->metrics_fd = ss->timer_fd = -1;
	ev_watch_init(&ss->ctl_watch);
	ev_watch_init(&ss->metrics_watch);
	ev_watch_init(&ss->timer_watch);
	ev_watch_init(&ss->wake_watch);
	ss->wake_fd = guest_stats_wake_open();
	ss->snap = calloc(ss->guests, sizeof(*ss->snap));
	ss->conns = calloc(STATUS_MAX_CONNS, sizeof(*ss->conns));
	if (ss->wake_fd < 0 || !ss->snap || !ss->conns) {
		snprintf(err, errlen, "status: %s", strerror(errno));
		goto fail;
	}
	if (ctl_path(opts, ss->ctl_path, sizeof(ss->ctl_path)) < 0) {
		snprintf(err, errlen, "--control-socket: the path is longer than a unix socket address can hold (%zu bytes)",
			 sizeof(ss->ctl_path) - 1);
		goto fail;
	}
	if (ss->ctl_path[0]) {
		ss->ctl_fd = sock_listen_unix(ss->ctl_path, 0600, &ss->ctl_id,
					      err, errlen);
		if (ss->ctl_fd < 0) {
			ss->ctl_path[0] = '\0';
			goto fail;
		}
		/* As the consoles: --allow-group's members can reach it. */
		if (opts->access.ngroups &&
		    sock_share_group(ss->ctl_path, &ss->ctl_id,
				     opts->access.groups[0], err, errlen) < 0)
			goto fail;
	}
	if (opts->metrics_port) {
		ss->metrics_fd = sock_listen_tcp_loopback(opts->metrics_port,
							  err, errlen);
		if (ss->metrics_fd < 0)
			goto fail;
	}
	return 0;
fail:
	status_server_fini(ss);
	return -1;
}

/**
 * status_server_start() - serve, in @loop
 * @ss:		opened
 * @loop:	the supervisor's
 * @policy:	who besides the daemon's uid and root may ask; NULL: nobody
 *
 * Return: 0, or -1 (errno set)
 */
int status_server_start(struct status_server *ss, struct ev_loop *loop,
			const struct peer_policy *policy)
{
	ss->loop = loop;
	ss->policy = policy ? policy : &no_one_else;
	door_init(&ss->ctl_door, ss->policy, ss->ctl_fd, "control socket",
		  "control socket");
	door_init(&ss->metrics_door, ss->policy, ss->metrics_fd, "metrics",
		  "metrics port");
	ss->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ss->timer_fd < 0 ||
	    ev_add(loop, &ss->timer_watch, ss->timer_fd, EPOLLIN, on_timer,
		   ss) < 0 ||
	    ev_add(loop, &ss->wake_watch, ss->wake_fd, EPOLLIN, on_wake, ss) <
		    0)
		return -1;
	if (ss->ctl_fd >= 0 &&
	    (sock_set_nonblock(ss->ctl_fd) < 0 ||
	     ev_add(loop, &ss->ctl_watch, ss->ctl_fd, EPOLLIN, on_ctl_listen,
		    ss) < 0))
		return -1;
	if (ss->metrics_fd >= 0 &&
	    (sock_set_nonblock(ss->metrics_fd) < 0 ||
	     ev_add(loop, &ss->metrics_watch, ss->metrics_fd, EPOLLIN,
		    on_metrics_listen, ss) < 0))
		return -1;
	if (ss->ctl_fd >= 0)
		log_info("control socket on %s", ss->ctl_path);
	if (ss->metrics_fd >= 0)
		log_info("metrics on http://127.0.0.1:%u/metrics",
			 (unsigned int)ss->opts->metrics_port);
	return 0;
}

/**
 * status_server_close_in_child() - a worker keeps only the eventfd it
 * wakes the supervisor with
 */
void status_server_close_in_child(struct status_server *ss)
{
	int *fds[] = {&ss->ctl_fd, &ss->metrics_fd, &ss->timer_fd};

	for (unsigned int i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	for (unsigned int i = 0; ss->conns && i < STATUS_MAX_CONNS; i++)
		if (ss->conns[i].used)
			close(ss->conns[i].fd);
}

/** status_server_fini() - close everything; remove the control socket */
void status_server_fini(struct status_server *ss)
{
	for (unsigned int i = 0; ss->conns && i < STATUS_MAX_CONNS; i++)
		if (ss->conns[i].used)
			conn_close(&ss->conns[i]);
	if (ss->loop) {
		ev_del(ss->loop, &ss->ctl_watch);
		ev_del(ss->loop, &ss->metrics_watch);
		ev_del(ss->loop, &ss->timer_watch);
		ev_del(ss->loop, &ss->wake_watch);
	}
	if (ss->ctl_fd >= 0) {
		close(ss->ctl_fd);
		sock_unlink_ours(ss->ctl_path, &ss->ctl_id);
	}
	if (ss->metrics_fd >= 0)
		close(ss->metrics_fd);
	if (ss->timer_fd >= 0)
		close(ss->timer_fd);
	if (ss->wake_fd >= 0)
		close(ss->wake_fd);
	ss->ctl_fd = ss->metrics_fd = ss->timer_fd = ss->wake_fd = -1;
	free(ss->snap);
	free(ss->conns);
	ss->snap = NULL;
	ss->conns = NULL;
}
