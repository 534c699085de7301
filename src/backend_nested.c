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
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &b->saved_tty) == 0) {
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
	if (backend_attach_client(b, STDIN_FILENO, STDOUT_FILENO) < 0) {
		restore_tty(b);
		return -1;
	}
	return 0;
}

static void nested_stop(struct backend *b)
{
	if (backend_connected(b)) {
		ev_del(b->loop, &b->in_watch);
		ev_del(b->loop, &b->out_watch);
		b->in_fd = b->out_fd = -1;
	}
	restore_tty(b);
}

/* Copy @len bytes into @iov from offset @at; the caller made room. */
static void put_bytes(const struct iovec *iov, unsigned int n, size_t at,
		      const uint8_t *p, size_t len)
{
	for (unsigned int i = 0; i < n && len; i++) {
		size_t room, k;

		if (at >= iov[i].iov_len) {
			at -= iov[i].iov_len;
			continue;
		}
		room = iov[i].iov_len - at;
		k = room < len ? room : len;
		memcpy((uint8_t *)iov[i].iov_base + at, p, k);
		p += k;
		len -= k;
		at = 0;
	}
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

static ssize_t nested_read(struct backend *b, const struct iovec *iov,
			   unsigned int n)
{
	uint8_t in[4096], out[sizeof(in) + 1];
	size_t room = 0;
	ssize_t r, len;

	if (b->in_fd < 0)
		return -1;
	for (unsigned int i = 0; i < n; i++)
		room += iov[i].iov_len;
	/* A Ctrl-a held from the last read may come out as two bytes. */
	if (b->escape)
		room--;
	if (room == 0)
		return 0;
	if (room > sizeof(in))
		room = sizeof(in);
	do
		r = read(b->in_fd, in, room);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EAGAIN)
		return 0;
	if (r <= 0) {
		/* stdin closed (a pipe's end): output still flows. */
		log_info("stdin: %s; no more input to the guest",
			 r == 0 ? "end of input" : strerror(errno));
		ev_del(b->loop, &b->in_watch);
		b->in_fd = -1;
		b->want_input = false;
		return 0;
	}
	len = filter_escapes(b, in, (size_t)r, out);
	if (len < 0) {
		log_info("Ctrl-a x: quitting");
		restore_tty(b);
		b->ev->quit(b->ev->opaque);
		return 0;
	}
	put_bytes(iov, n, 0, out, (size_t)len);
	return len;
}

const struct backend_ops backend_nested_ops = {
	.name = "nested",
	.start = nested_start,
	.stop = nested_stop,
	.read = nested_read,
};
