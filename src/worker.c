/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * worker.c - one worker: the epoll loop that serves one socket index.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event_loop.h"
#include "log.h"
#include "sock.h"
#include "worker.h"

struct worker {
	const struct worker_spec *spec;
	struct ev_loop loop;
	int sigfd;
	struct ev_watch sig_watch;
	struct ev_watch listen_watch;
	int conn_fd;
	struct ev_watch conn_watch;
};

static void on_conn(void *arg, uint32_t events)
{
	struct worker *w = arg;
	char buf[4096];
	ssize_t n;

	(void)events;
	n = read(w->conn_fd, buf, sizeof(buf));
	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return;
	log_info("frontend disconnected");
	ev_del(&w->loop, &w->conn_watch);
	close(w->conn_fd);
	w->conn_fd = -1;
	ev_add(&w->loop, &w->listen_watch, w->spec->vu_listen_fd, EPOLLIN,
	       w->listen_watch.cb, w);
}

static void on_listen(void *arg, uint32_t events)
{
	struct worker *w = arg;
	int fd;

	(void)events;
	fd = accept4(w->spec->vu_listen_fd, NULL, NULL,
		     SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept: %s", strerror(errno));
		return;
	}
	log_info("frontend connected");
	/* One frontend at a time: the next waits in the backlog. */
	ev_del(&w->loop, &w->listen_watch);
	w->conn_fd = fd;
	ev_add(&w->loop, &w->conn_watch, fd, EPOLLIN, on_conn, w);
}

static void on_signal(void *arg, uint32_t events)
{
	struct worker *w = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(w->sigfd, &si, sizeof(si)) == sizeof(si)) {
		log_debug("%s: stopping", strsignal((int)si.ssi_signo));
		ev_stop(&w->loop);
	}
}

/**
 * worker_main() - serve one socket index until told to stop
 * @spec:	the fds to serve, owned by this process from now on
 *
 * Return: a &enum worker_exit status for the supervisor
 */
int worker_main(const struct worker_spec *spec)
{
	struct worker w = { .spec = spec, .sigfd = -1, .conn_fd = -1 };
	sigset_t mask;
	int status = WORKER_EXIT_STOPPED;

	ev_watch_init(&w.sig_watch);
	ev_watch_init(&w.listen_watch);
	ev_watch_init(&w.conn_watch);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	w.sigfd = ev_signalfd_open(&mask);
	if (w.sigfd < 0 || ev_loop_init(&w.loop) < 0 ||
	    sock_set_nonblock(spec->vu_listen_fd) < 0) {
		log_error("cannot set up the worker: %s", strerror(errno));
		return WORKER_EXIT_STARTUP;
	}
	if (ev_add(&w.loop, &w.sig_watch, w.sigfd, EPOLLIN, on_signal, &w) < 0 ||
	    ev_add(&w.loop, &w.listen_watch, spec->vu_listen_fd, EPOLLIN,
		   on_listen, &w) < 0) {
		log_error("cannot set up the worker: %s", strerror(errno));
		return WORKER_EXIT_STARTUP;
	}
	if (ev_run(&w.loop) < 0)
		status = WORKER_EXIT_FAILED;
	if (w.conn_fd >= 0)
		close(w.conn_fd);
	ev_loop_fini(&w.loop);
	close(w.sigfd);
	return status;
}
