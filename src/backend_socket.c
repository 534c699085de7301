/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * backend_socket.c - the network and uds backends: a listening socket
 * (127.0.0.1:PORT+i or PATH+i, bound by the supervisor at start-up) and
 * up to --max-clients clients (a data port: one). A client beyond that is
 * told so in one line and closed; the others are never disturbed. So is a
 * client the door does not let in (door.c), before it counts at all.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "log.h"
#include "sock.h"

static const char busy_line[] =
	"vhost-device-console: this port is in use by another client\r\n";
static const char full_line[] =
	"vhost-device-console: this console is full: too many clients (--max-clients)\r\n";

static void refuse(int fd, const char *line)
{
	if (send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("refusal notice: %s", strerror(errno));
	close(fd);
}

static void on_listen(void *arg, uint32_t events)
{
	struct backend *b = arg;
	char line[160];
	struct client *c;
	int fd, one = 1;

	(void)events;
	fd = accept4(b->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("console listener: accept: %s",
				 strerror(errno));
		return;
	}
	/* Before a slot or a byte of the console: a stranger gets neither. */
	if (!door_admit(&b->door, fd, line, sizeof(line))) {
		refuse(fd, line);
		return;
	}
	/* A client that has just left does not count. */
	backend_check_hangups(b);
	if (b->nclients == b->max_clients) {
		if (b->is_port) {
			log_info("second client of port refused: one at a time");
			refuse(fd, busy_line);
		} else {
			log_info("console client refused: %u clients already", b->nclients);
			refuse(fd, full_line);
		}
		return;
	}
	/* Keystrokes are tiny and latency is all a person notices. */
	if (b->tcp)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = backend_attach_client(b, fd, fd);
	if (!c) {
		close(fd);
		return;
	}
	log_info("%s connected", b->is_port  ? "port client"
				 : c->writer ? "console client"
					     : "console watcher");
}

static int socket_start(struct backend *b)
{
	b->owns_client_fds = true;
	if (sock_set_nonblock(b->listen_fd) < 0 ||
	    ev_add(b->loop, &b->listen_watch, b->listen_fd, EPOLLIN, on_listen,
		   b) < 0) {
		log_error("console listener: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void socket_stop(struct backend *b)
{
	struct client *c;

	while ((c = backend_next_client(b, NULL)))
		backend_drop_client(c, "daemon stopping");
	ev_del(b->loop, &b->listen_watch);
}

const struct backend_ops backend_socket_ops = {
	.name = "socket",
	.start = socket_start,
	.stop = socket_stop,
	.read = backend_readv,
};
