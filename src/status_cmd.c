/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * status_cmd.c - the `status` subcommand: one question on the control
 * socket (ctl_proto.h), its answer's body on stdout.
 *
 * The daemon may be stuck or an impostor may hold the path: every wait is
 * bounded (one deadline for the whole exchange) and the answer is read
 * only as far as its header says.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "options.h"
#include "status_cmd.h"

#define ANSWER_MS 10000 /* the whole exchange */

/* The subcommand asking, for its messages: "status", "ticket". */
static const char *subcommand = "status";

static const char status_usage[] =
	"Usage: " PROGRAM_NAME " status --socket-path=PATH [--json]\n"
	"       " PROGRAM_NAME " status --control-socket=PATH [--json]\n"
	"Ask the running daemon about its guests: one line per guest, or one\n"
	"JSON object with --json.\n"
	"\n"
	"  -s, --socket-path=PATH     the daemon's --socket-path: asks PATH.ctl\n"
	"      --control-socket=PATH  the daemon's --control-socket\n"
	"      --json                 one JSON object (for scripts)\n"
	"  -h, --help                 show this help and exit\n"
	"\n"
	"Exit status: 0 answered, 1 bad command line, 2 no daemon listens there,\n"
	"3 not allowed, 4 a bad or no answer.\n";

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Wait for @events on @fd until @deadline; false on timeout. */
static bool wait_fd(int fd, short events, long deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	long left = deadline - now_ms();
	int r;

	do
		r = poll(&p, 1, left > 0 ? (int)left : 0);
	while (r < 0 && errno == EINTR);
	return r == 1;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, PROGRAM_NAME " %s: %s: the path is too long for a unix socket\n", subcommand, path);
		return -STATUS_EXIT_USAGE;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		fprintf(stderr, PROGRAM_NAME " %s: socket: %s\n", subcommand, strerror(errno));
		return -STATUS_EXIT_BAD_ANSWER;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	err = errno;
	close(fd);
	if (err == EACCES || err == EPERM) {
		fprintf(stderr, PROGRAM_NAME " %s: %s: not allowed (%s)\n", subcommand, path, strerror(err));
		return -STATUS_EXIT_DENIED;
	}
	if (err == EAGAIN) {
		fprintf(stderr, PROGRAM_NAME " %s: %s: the daemon is busy (its backlog is full); try again\n", subcommand, path);
		return -STATUS_EXIT_BAD_ANSWER;
	}
	fprintf(stderr, PROGRAM_NAME " %s: %s: no daemon is listening there (%s)\n", subcommand, path, strerror(err));
	return -STATUS_EXIT_NO_DAEMON;
}

/* Send (@out) or receive exactly @len bytes; false on end, error or the
 * deadline. */
static bool io_all(int fd, char *p, size_t len, bool out, long deadline)
{
	while (len) {
		ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);

		if (n < 0 && errno == EAGAIN &&
		    wait_fd(fd, out ? POLLOUT : POLLIN, deadline))
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* The header line, byte by byte (it is short; the body follows it). */
static bool recv_header(int fd, char *line, size_t cap, size_t *len,
			long deadline)
{
	for (*len = 0; *len < cap; (*len)++) {
		if (!io_all(fd, line + *len, 1, false, deadline))
			return false;
		if (line[*len] == '\n')
			return true;
	}
	return false;
}

/* Ask @question on @fd; the body goes to stdout (errors to stderr). */
static int ask(int fd, const char *path, char *question)
{
	long deadline = now_ms() + ANSWER_MS;
	char line[CTL_HEADER_MAX], status[32];
	size_t len, body_len;
	char *body;
	int rc;

	if (!io_all(fd, question, strlen(question), true, deadline)) {
		fprintf(stderr, PROGRAM_NAME " %s: %s: the daemon closed the connection\n", subcommand, path);
		return STATUS_EXIT_BAD_ANSWER;
	}
	if (!recv_header(fd, line, sizeof(line), &len, deadline) ||
	    ctl_parse_header(line, len, status, sizeof(status), &body_len) < 0) {
		fprintf(stderr, PROGRAM_NAME " %s: %s: no answer this command can read\n", subcommand, path);
		return STATUS_EXIT_BAD_ANSWER;
	}
	body = malloc(body_len + 1);
	if (!body || !io_all(fd, body, body_len, false, deadline)) {
		fprintf(stderr, PROGRAM_NAME " %s: %s: the answer ended early\n", subcommand, path);
		free(body);
		return STATUS_EXIT_BAD_ANSWER;
	}
	if (strcmp(status, "ok") == 0) {
		rc = fwrite(body, 1, body_len, stdout) == body_len &&
				     fflush(stdout) == 0
			     ? STATUS_EXIT_OK
			     : STATUS_EXIT_BAD_ANSWER;
	} else {
		fprintf(stderr, PROGRAM_NAME " %s: the daemon said %s: %.*s", subcommand, status,
			(int)body_len, body);
		if (!body_len || body[body_len - 1] != '\n')
			fputc('\n', stderr);
		rc = strcmp(status, "forbidden") == 0 ? STATUS_EXIT_DENIED
						      : STATUS_EXIT_BAD_ANSWER;
	}
	free(body);
	return rc;
}

/**
 * status_cmd_ask() - one question to the daemon's control socket at
 * @path, its answer's body on stdout; for `status` and `ticket`
 * @name:	the subcommand, for messages
 * @path:	the control socket
 * @question:	the request line, with its '\n'
 *
 * Return: an &enum status_exit
 */
int status_cmd_ask(const char *name, const char *path, char *question)
{
	int fd, rc;

	subcommand = name;
	fd = connect_to(path);
	if (fd < 0)
		return -fd;
	rc = ask(fd, path, question);
	close(fd);
	return rc;
}

/**
 * status_cmd_main() - `vhost-device-console status ...`
 * @argc, @argv:	from "status" on
 *
 * Return: an &enum status_exit
 */
int status_cmd_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{"socket-path", required_argument, NULL, 's'},
		{"control-socket", required_argument, NULL, 'C'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *socket_path = NULL, *control = NULL;
	bool json = false;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	char question[32];
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			socket_path = optarg;
			break;
		case 'C':
			control = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(status_usage, stdout);
			return STATUS_EXIT_OK;
		case ':':
			fprintf(stderr, PROGRAM_NAME " status: %s: needs a value\n", argv[optind - 1]);
			return STATUS_EXIT_USAGE;
		default:
			fprintf(stderr, PROGRAM_NAME " status: %s: unknown option; see --help\n", argv[optind - 1]);
			return STATUS_EXIT_USAGE;
		}
	}
	if (optind < argc || (!socket_path == !control)) {
		fprintf(stderr, PROGRAM_NAME " status: %s; see --help\n",
			optind < argc ? "unexpected argument"
				      : "give one of --socket-path and --control-socket");
		return STATUS_EXIT_USAGE;
	}
	if (control)
		snprintf(path, sizeof(path), "%s", control);
	else
		snprintf(path, sizeof(path), "%s.ctl", socket_path);
	snprintf(question, sizeof(question), "%s\n", json ? "status json" : "status");
	return status_cmd_ask("status", path, question);
}
