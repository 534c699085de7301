/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * serve.c - the web console's page and protocol on a real socket, in
 * front of a fake console, to try the page in a browser before the
 * daemon's worker serves it. Not part of make check; see README.md.
 *
 * It is also the reference for wiring web_conn into an event loop: one
 * timer per connection re-armed when web_conn_phase() moves, each proof
 * checked at its turn from one failure count (web_guess.h in small; the
 * daemon's worker adds the pre-auth rules), non-blocking writes of
 * the output queue, reads only while web_conn_read_room() allows.
 *
 * The fake console is a line-echoing shell: what is typed is echoed,
 * Enter prints a coloured prompt, and a resize is reported in the output.
 *
 * usage: serve PORT TOKEN_FILE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "web_conn.h"
#include "web_guess.h"
#include "web_token.h"

#define MAX_CLIENTS 16
#define PROMPT	    "\x1b[1;32mguest\x1b[0m:\x1b[1;34m~\x1b[0m$ "

struct client {
	int fd;
	struct web_conn *conn;
	unsigned int phase;
	long deadline; /* ms, 0: none */
	bool console; /* authenticated: gets console output */
};

static struct client clients[MAX_CLIENTS];
static unsigned int failures; /* proofs checked since the last right one */
static long next_check; /* when the next proof may be checked */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* console_output() - what the fake guest prints, to every attached
 * client; a real console keeps what a client cannot take yet */
static void console_output(const char *s, size_t n)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].conn && clients[i].console)
			web_conn_send_output(clients[i].conn,
					     (const uint8_t *)s, n);
}

static void on_auth(void *opaque)
{
	struct client *c = opaque;

	c->console = true;
	failures = 0;
	next_check = 0;
	console_output("\r\nWelcome to the fake guest.\r\n" PROMPT,
		       strlen("\r\nWelcome to the fake guest.\r\n" PROMPT));
}

/* on_proof() - the daemon's rule in small (web_guess.h): each proof is
 * booked at the next free time, counted as a failure until it is right */
static void on_proof(void *opaque)
{
	struct client *c = opaque;
	long now = now_ms(), at = next_check > now ? next_check : now;

	next_check = at + (long)web_guess_delay_ms(++failures);
	c->deadline = at;
	if (at <= now) {
		web_conn_check(c->conn);
		c->deadline = 0;
	}
}

static void on_input(void *opaque, const uint8_t *p, size_t n)
{
	(void)opaque;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r')
			console_output("\r\n" PROMPT, strlen("\r\n" PROMPT));
		else if (p[i] == 0x7f)
			console_output("\b \b", 3);
		else
			console_output((const char *)p + i, 1);
	}
}

static void on_resize(void *opaque, unsigned int cols, unsigned int rows)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "[resize %ux%u]", cols, rows);

	(void)opaque;
	console_output(line, (size_t)n);
}

static void on_closed(void *opaque, unsigned int code, const char *reason)
{
	struct client *c = opaque;

	c->console = false;
	log_info("client closed: %u %s", code, reason);
}

static const struct web_conn_ops ops = {
	.proof = on_proof,
	.authenticated = on_auth,
	.input = on_input,
	.resize = on_resize,
	.closed = on_closed,
};

static void drop(struct client *c)
{
	web_conn_free(c->conn);
	close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* after_call() - what the caller does after every call into web_conn */
static void after_call(struct client *c)
{
	unsigned int phase = web_conn_phase(c->conn);

	if (phase != c->phase) {
		unsigned int ms = web_conn_timeout_ms(c->conn);

		c->phase = phase;
		/* A held proof's turn is already armed. */
		if (web_conn_state(c->conn) != WEB_STATE_CHECKING)
			c->deadline = ms ? now_ms() + ms : 0;
	}
}

static void flush(struct client *c)
{
	struct iovec iov[2];
	unsigned int n;

	while ((n = web_conn_out_peek(c->conn, iov)) != 0) {
		ssize_t w = writev(c->fd, iov, (int)n);

		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (w <= 0) {
			drop(c);
			return;
		}
		web_conn_out_consume(c->conn, (size_t)w);
		after_call(c);
	}
}

static void readable(struct client *c)
{
	uint8_t buf[WEB_IN_CAP];
	size_t room = web_conn_read_room(c->conn);
	ssize_t n;

	if (room > sizeof(buf))
		room = sizeof(buf);
	n = read(c->fd, buf, room);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(c);
		return;
	}
	web_conn_feed(c->conn, buf, (size_t)n);
	after_call(c);
}

static void timer(struct client *c)
{
	if (web_conn_state(c->conn) == WEB_STATE_CHECKING) {
		web_conn_check(c->conn);
		after_call(c);
		return;
	}
	drop(c); /* slow request, no token, no close reply */
}

static void accept_one(int lfd, const struct web_token *tok, uint16_t port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	char peer[64];
	int fd = accept4(lfd, (struct sockaddr *)&sa, &sl,
			 SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &clients[i];
		struct web_conn_config cfg = {.port = port, .token = tok};

		if (c->conn)
			continue;
		if (getrandom(cfg.nonce, sizeof(cfg.nonce), 0) !=
		    (ssize_t)sizeof(cfg.nonce))
			break;
		snprintf(peer, sizeof(peer), "%s:%u", inet_ntoa(sa.sin_addr),
			 ntohs(sa.sin_port));
		cfg.peer = peer;
		c->fd = fd;
		c->conn = web_conn_new(&cfg, &ops, c);
		if (!c->conn)
			break;
		c->phase = web_conn_phase(c->conn);
		c->deadline = now_ms() + web_conn_timeout_ms(c->conn);
		return;
	}
	close(fd);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	char err[WEB_TOKEN_ERR_LEN];
	struct web_token tok;
	bool created;
	uint16_t port;
	int lfd, one = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PORT TOKEN_FILE\n", argv[0]);
		return 1;
	}
	log_open();
	signal(SIGPIPE, SIG_IGN);
	port = (uint16_t)atoi(argv[1]);
	if (web_token_load(argv[2], &tok, &created, err, sizeof(err)) < 0) {
		fprintf(stderr, "serve: %s\n", err);
		return 1;
	}
	log_info("web token %s %s", created ? "created in" : "read from",
		 argv[2]);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 16) < 0) {
		perror("serve: 127.0.0.1");
		return 1;
	}
	log_info("web console on http://127.0.0.1:%u/", port);
	for (int i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	for (;;) {
		struct pollfd pfd[MAX_CLIENTS + 1];
		long now = now_ms(), wait = -1;

		pfd[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &clients[i];

			pfd[i + 1] = (struct pollfd){.fd = -1};
			if (!c->conn)
				continue;
			if (web_conn_finished(c->conn)) {
				drop(c);
				continue;
			}
			pfd[i + 1].fd = c->fd;
			if (web_conn_read_room(c->conn))
				pfd[i + 1].events |= POLLIN;
			if (web_conn_out_pending(c->conn))
				pfd[i + 1].events |= POLLOUT;
			if (c->deadline) {
				long left = c->deadline > now
						    ? c->deadline - now
						    : 0;

				if (wait < 0 || left < wait)
					wait = left;
			}
		}
		if (poll(pfd, MAX_CLIENTS + 1, (int)wait) < 0 && errno != EINTR)
			return 1;
		if (pfd[0].revents & POLLIN)
			accept_one(lfd, &tok, port);
		now = now_ms();
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &clients[i];

			if (!c->conn || pfd[i + 1].fd < 0)
				continue;
			if (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR))
				readable(c);
			if (c->conn && web_conn_out_pending(c->conn))
				flush(c);
			if (c->conn && c->deadline && now >= c->deadline)
				timer(c);
		}
		/* Output made by one client's input goes to all of them. */
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (clients[i].conn)
				flush(&clients[i]);
	}
}
