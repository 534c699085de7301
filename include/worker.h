/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * worker.h - one worker process: one guest's vhost-user socket, its
 * console device and its backend, in one epoll loop.
 */
#ifndef VDC_WORKER_H
#define VDC_WORKER_H

#include "daemon_shm.h"
#include "options.h"
#include "web_token.h"

/* How a worker's exit status reads to the supervisor. */
enum worker_exit {
	WORKER_EXIT_STOPPED = 0, /* ended by a signal: the supervisor's, or
				  * anybody's (then it is restarted) */
	WORKER_EXIT_QUIT = 2, /* the user quit (Ctrl-a x): stop the daemon */
	WORKER_EXIT_STARTUP = 3, /* could not start; restarting won't help */
	WORKER_EXIT_FAILED = 4, /* failed while running; restart it */
};

/* The fds a worker serves; created by the supervisor, which keeps them so
 * that a restarted worker finds its sockets where they were. */
struct worker_spec {
	unsigned int index;
	int vu_listen_fd; /* vhost-user listening socket */
	int backend_listen_fd; /* network or uds listener; -1 for nested */
	int port_listen_fd[MAX_EXTRA_PORTS]; /* --port sockets, in order */
	int web_listen_fd; /* --web-port's, or -1 */
	const struct web_token *web_token; /* with --web-port */
	const struct options *opts;
	struct daemon_shm *shm; /* the supervisor's, shared with every worker */
	int stats_wake_fd; /* eventfd: tell the supervisor of a change */
	bool restarted; /* the worker ran before: a log it cannot open is
			 * retried, not a reason to stop */
};

int worker_main(const struct worker_spec *spec);

#endif
