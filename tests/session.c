/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * session.c - the integration-test fixture: daemon, client, frontend.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "session.h"

/* A fresh directory for the session's sockets; @prefix: its vu prefix. */
static void session_dir(struct session *s, char *prefix, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->client = -1;
	make_tmpdir(s->dir, sizeof(s->dir));
	snprintf(prefix, len, "%s/vu", s->dir);
	snprintf(s->vu_path, sizeof(s->vu_path), "%s0", prefix);
}

/*
 * start_backend() - the daemon with backend @kind, whose console is at
 * @flag @where, and @extra, until its worker runs
 */
static void start_backend(struct session *s, const char *vu_prefix,
			  const char *kind, const char *flag, const char *where,
			  const char *const extra[])
{
	const char *args[32] =
		{"--log-level=debug", "-s", vu_prefix, "-b", kind, flag, where};
	size_t n = 7;

	for (size_t i = 0; extra && extra[i] && n < 31; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	daemon_start(&s->d, s->dir, args);
	s->worker = wait_for_child(s->d.pid, "vdc-worker-0", 0, 5000);
	ck_assert_msg(s->worker, "no worker; log:\n%s", daemon_log(&s->d));
}

void session_start(struct session *s, const char *const extra[])
{
	char vu_prefix[96], uds_prefix[96];

	session_dir(s, vu_prefix, sizeof(vu_prefix));
	snprintf(uds_prefix, sizeof(uds_prefix), "%s/con", s->dir);
	snprintf(s->uds_path, sizeof(s->uds_path), "%s0", uds_prefix);
	start_backend(s, vu_prefix, "uds", "--uds-path", uds_prefix, extra);
	ck_assert(wait_for_socket(s->uds_path, 5000));
}

/**
 * session_start_tcp() - the same with the network backend, console 0 on
 * 127.0.0.1:@port (bound before the worker starts: no probe connection)
 */
void session_start_tcp(struct session *s, unsigned int port,
		       const char *const extra[])
{
	char vu_prefix[96], port_arg[16];

	session_dir(s, vu_prefix, sizeof(vu_prefix));
	snprintf(port_arg, sizeof(port_arg), "%u", port);
	s->tcp_port = port;
	start_backend(s, vu_prefix, "network", "-p", port_arg, extra);
}

/**
 * session_start_nested() - the daemon with the nested backend, its
 * terminal the slave side of a new pseudo-terminal
 * @master, @slave:	set to the pty's two ends (the caller closes them)
 * @ws:			the terminal's size, or NULL for none
 * @before:		if not NULL, the terminal's settings before the daemon
 */
void session_start_nested(struct session *s, int *master, int *slave,
			  const struct winsize *ws, struct termios *before)
{
	char prefix[96];
	int logfd;

	session_dir(s, prefix, sizeof(prefix));
	snprintf(s->d.log_path, sizeof(s->d.log_path), "%s/daemon.log",
		 s->dir);
	ck_assert_int_eq(openpty(master, slave, NULL, NULL, ws), 0);
	if (before)
		ck_assert_int_eq(tcgetattr(*slave, before), 0);
	s->d.pid = fork();
	ck_assert_int_ge(s->d.pid, 0);
	if (s->d.pid == 0) {
		setsid();
		ioctl(*slave, TIOCSCTTY, 0);
		dup2(*slave, 0);
		dup2(*slave, 1);
		logfd = open(s->d.log_path, O_WRONLY | O_CREAT | O_TRUNC,
			     0600);
		dup2(logfd, 2);
		execl(daemon_path(), daemon_path(), "-s", prefix,
		      "--log-level=debug", (char *)NULL);
		_exit(127);
	}
	s->worker = wait_for_child(s->d.pid, "vdc-worker-0", 0, 5000);
	ck_assert(s->worker);
	ck_assert(log_has(s, "escape key is Ctrl-a", 3000));
}

void session_stop(struct session *s)
{
	int status;

	if (s->client >= 0)
		close(s->client);
	s->client = -1;
	status = daemon_stop(&s->d, SIGTERM, 10000);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "daemon status %#x; log:\n%s", status, daemon_log(&s->d));
	/* Nothing the sanitizers said may pass unnoticed. */
	ck_assert_msg(!strstr(daemon_log(&s->d), "Sanitizer"),
		      "sanitizer report:\n%s", daemon_log(&s->d));
	remove_tree(s->dir);
}

int session_client(struct session *s)
{
	if (s->client < 0)
		s->client = s->tcp_port ? connect_tcp_loopback(s->tcp_port)
					: connect_unix(s->uds_path);
	ck_assert_int_ge(s->client, 0);
	return s->client;
}

void session_frontend(struct session *s, struct fe *fe, enum fe_style style,
		      bool negotiate)
{
	struct fe_config cfg = {.socket_path = s->vu_path, .style = style};

	ck_assert_msg(fe_open(fe, &cfg) == 0, "fe_open: %s", fe->err);
	if (negotiate)
		ck_assert_msg(fe_negotiate(fe) == 0, "negotiate: %s\nlog:\n%s",
			      fe->err, daemon_log(&s->d));
}

/*
 * session_sync() - wait until the worker has handled everything @fe sent:
 * it answers a request only after the ones before it
 */
void session_sync(struct session *s, struct fe *fe)
{
	uint64_t features;

	ck_assert_msg(fe_get_u64(fe, VHOST_USER_GET_FEATURES, &features) == 0,
		      "the worker does not answer: %s\nlog:\n%s", fe->err,
		      daemon_log(&s->d));
}

void session_console(struct session *s, struct fe *fe, enum fe_style style)
{
	session_frontend(s, fe, style, true);
	ck_assert_msg(fe_console_handshake(fe, NULL, 0) == 0,
		      "handshake: %s\nlog:\n%s", fe->err, daemon_log(&s->d));
}

bool log_has(struct session *s, const char *text, int timeout_ms)
{
	return log_has_since(s, 0, text, timeout_ms);
}

/* Where the log ends now: for log_has_since(). */
size_t log_mark(struct session *s)
{
	return daemon_log_size(&s->d);
}

/* Does the log say @text after @mark, within @timeout_ms (wait_deadline())? */
bool log_has_since(struct session *s, size_t mark, const char *text,
		   int timeout_ms)
{
	long deadline = wait_deadline(timeout_ms);

	do {
		if (strstr(daemon_log_from(&s->d, mark), text))
			return true;
		sleep_ms(10);
	} while (now_ms() < deadline);
	return false;
}

/* Submit @data on tx and check the console client receives exactly it. */
void tx_and_expect(struct session *s, struct fe *fe, const void *data,
		   size_t len, uint32_t seg, bool indirect)
{
	static uint8_t got[1 << 16];
	uint16_t id;
	uint32_t used_len;
	long deadline = wait_deadline(5000);

	ck_assert(len <= sizeof(got));
	ck_assert_msg(fe_submit_tx(fe, CONSOLE_QUEUE_TX, data, len, seg,
				   indirect) == 0,
		      "%s", fe->err);
	fe_publish(fe, CONSOLE_QUEUE_TX);
	ck_assert_msg(read_exact(session_client(s), got, len, 5000),
		      "client did not get %zu bytes; log:\n%s", len,
		      daemon_log(&s->d));
	ck_assert(memcmp(got, data, len) == 0);
	while (fe_get_used(fe, CONSOLE_QUEUE_TX, &id, &used_len) == 0) {
		ck_assert_msg(now_ms() < deadline, "tx chain never used");
		fe_wait_call(fe, CONSOLE_QUEUE_TX, 50);
	}
	ck_assert_uint_eq(used_len, 0);
}

/**
 * session_watcher() - one more console client, once the daemon says it
 * is a watcher
 *
 * Return: its socket
 */
int session_watcher(struct session *s)
{
	size_t mark = log_mark(s);
	int c = connect_unix(s->uds_path);

	ck_assert_int_ge(c, 0);
	ck_assert(log_has_since(s, mark, "console watcher connected", 3000));
	return c;
}

/**
 * guest_writes_letters() - guest output in 4 KiB chains, as fast as tx
 * goes; each chain is one letter 'a'..'z', by its place in all output
 * @fe:		the guest
 * @total:	bytes to write
 * @at:		bytes written before (for the letters)
 */
void guest_writes_letters(struct fe *fe, size_t total, size_t at)
{
	static uint8_t chunk[4096];
	uint16_t id;
	uint32_t len;

	for (size_t done = 0; done < total; done += sizeof(chunk)) {
		memset(chunk, 'a' + (int)(((at + done) / sizeof(chunk)) % 26),
		       sizeof(chunk));
		while (fe_ring_free(fe, CONSOLE_QUEUE_TX) == 0) {
			if (fe_get_used(fe, CONSOLE_QUEUE_TX, &id, &len) != 1)
				fe_wait_call(fe, CONSOLE_QUEUE_TX, 50);
		}
		ck_assert_int_eq(fe_submit_tx(fe, CONSOLE_QUEUE_TX, chunk,
					      sizeof(chunk), sizeof(chunk),
					      false),
				 0);
		fe_publish(fe, CONSOLE_QUEUE_TX);
	}
}
