/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * backend_nested.c - the guest's console in this terminal.
 *
 * stdin goes to the guest and guest output to stdout, with the terminal in
 * raw mode so that every key, Ctrl-C included, reaches the guest. Ctrl-a
 * is the escape key: Ctrl-a x quits, Ctrl-a Ctrl-a sends one Ctrl-a, and
 * Ctrl-a followed by any other key sends both. The terminal settings are
 * restored on every exit; the supervisor keeps a copy too and restores it
 * when a worker dies without doing so.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "log.h"
#include "sock.h"

#define ESCAPE_KEY 0x01 /* Ctrl-a */
#define QUIT_KEY   'x'

static const char banner[] =
	"vhost-device-console: escape key is Ctrl-a; Ctrl-a x quits, "
	"Ctrl-a Ctrl-a sends Ctrl-a";

static void restore_tty(struct backend *b)
{
	if (b->saved_fl[0] >= 0)
		fcntl(STDIN_FILENO, F_SETFL, b->saved_fl[0]);
	if (b->saved_fl[1] >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, b->saved_fl[1]);
	b->saved_fl[0] = b->saved_fl[1] = -1;
	if (!b->tty_raw)
		return;
	tcsetattr(STDIN_FILENO, TCSANOW, &b->saved_tty);
	b->tty_raw = false;
	log_set_crlf(false);
}

static int nested_start(struct backend *b)
{
	struct termios raw;

	b->owns_client_fds = false;
	if (isatty(STDIN_FILENO) &&
	    tcgetattr(STDIN_FILENO, &b->saved_tty) == 0) {
		raw = b->saved_tty;
		cfmakeraw(&raw);
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) {
			b->tty_raw = true;
			log_set_crlf(true);
		}
	}
	log_info("%s", banner);
	/* Neither a slow terminal nor an idle pipe may block the loop. The
	 * flags are shared with the shell, so they are put back on exit. */
	b->saved_fl[0] = fcntl(STDIN_FILENO, F_GETFL);
	b->saved_fl[1] = fcntl(STDOUT_FILENO, F_GETFL);
	sock_set_nonblock(STDIN_FILENO);
	sock_set_nonblock(STDOUT_FILENO);
	if (!backend_attach_client(b, STDIN_FILENO, STDOUT_FILENO)) {
		restore_tty(b);
		return -1;
	}
	return 0;
}

static void nested_stop(struct backend *b)
{
	struct client *c;

	/* Browsers watching beside the terminal go first. */
	for (c = backend_next_client(b, NULL); c; c = backend_next_client(b, c))
		if (c->codec)
			backend_drop_client(c, "daemon stopping");
	c = &b->clients[0]; /* the terminal, attached first */
	if (c->used && !c->codec) {
		ev_del(b->loop, &c->in_watch);
		ev_del(b->loop, &c->out_watch);
		c->in_fd = c->out_fd = -1;
		c->used = false;
		if (b->writer == c)
			b->writer = NULL;
		b->nclients--;
	}
	restore_tty(b);
}

/*
 * filter_escapes() - apply the escape key to @in, writing what the guest
 * gets to @out (at most in_len + 1 bytes)
 *
 * Return: bytes in @out, or -1 if the user asked to quit
 */
static ssize_t filter_escapes(struct backend *b, const uint8_t *in,
			      size_t in_len, uint8_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < in_len; i++) {
		uint8_t c = in[i];

		if (!b->escape) {
			if (c == ESCAPE_KEY)
				b->escape = true;
			else
				out[n++] = c;
			continue;
		}
		b->escape = false;
		if (c == QUIT_KEY)
			return -1;
		out[n++] = ESCAPE_KEY;
		if (c != ESCAPE_KEY)
			out[n++] = c;
	}
	return (ssize_t)n;
}

/* stdin ended (a pipe's end, a closed terminal): output goes on. */
static void end_of_input(struct client *c, const char *why)
{
	log_info("stdin: %s; no more input to the guest", why);
	ev_del(c->b->loop, &c->in_watch);
	c->in_fd = -1;
}

/*
 * nested_readable() - read what was typed into the pending buffer
 *
 * The terminal is read even while the guest takes no input, so that
 * Ctrl-a x always works; the keys wait in b->pending (escapes applied)
 * and reading pauses only when that is full, so nothing typed is lost.
 */
static void nested_readable(struct backend *b)
{
	uint8_t in[BACKEND_PENDING];
	size_t room = BACKEND_PENDING - b->pending_len;
	struct client *c = &b->clients[0]; /* the terminal */
	ssize_t r, len;

	/* A Ctrl-a held from the last read may come out as two bytes. */
	if (b->escape && room)
		room--;
	if (room && c->in_fd >= 0) {
		do
			r = read(c->in_fd, in, room);
		while (r < 0 && errno == EINTR);
		if (r == 0 || (r < 0 && errno != EAGAIN))
			end_of_input(c,
				     r == 0 ? "end of input" : strerror(errno));
		if (r > 0) {
			len = filter_escapes(b, in, (size_t)r,
					     b->pending + b->pending_len);
			if (len < 0) {
				log_info("Ctrl-a x: quitting");
				restore_tty(b);
				b->ev->quit(b->ev->opaque);
				return;
			}
			b->pending_len += (size_t)len;
		}
	}
	backend_update_watches(c);
	if (b->want_input && b->pending_len)
		b->ev->input(b->ev->opaque);
}

const struct backend_ops backend_nested_ops = {
	.name = "nested",
	.start = nested_start,
	.stop = nested_stop,
	.readable = nested_readable,
};
