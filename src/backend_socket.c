/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * backend_socket.c - the network and uds backends: a listening socket
 * (127.0.0.1:PORT+i or PATH+i, bound by the supervisor at start-up) and
 * one client at a time. A second client is told the console is busy and
 * closed; the first one is never disturbed.
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
	"vhost-device-console: this console is in use by another client\r\n";

static void on_listen(void *arg, uint32_t events)
{
	struct backend *b = arg;
	int fd, one = 1;

	(void)events;
	fd = accept4(b->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("console listener: accept: %s",
				 strerror(errno));
		return;
	}
	/* The client before may have left just now, its hang-up not yet
	 * seen: then this one is not second. */
	backend_check_hangup(b);
	if (backend_connected(b)) {
		log_info("second console client refused: one at a time");
		if (send(fd, busy_line, sizeof(busy_line) - 1,
			 MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_debug("busy notice: %s", strerror(errno));
		close(fd);
		return;
	}
	/* Keystrokes are tiny and latency is all a person notices. */
	if (b->tcp)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	log_info("console client connected");
	if (backend_attach_client(b, fd, fd) < 0)
		close(fd);
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
	if (backend_connected(b))
		backend_drop_client(b, "daemon stopping");
	ev_del(b->loop, &b->listen_watch);
}

const struct backend_ops backend_socket_ops = {
	.name = "socket",
	.start = socket_start,
	.stop = socket_stop,
	.read = backend_readv,
};
