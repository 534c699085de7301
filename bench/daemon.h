/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * daemon.h - the daemon under test: start it from the user's command,
 * know when every socket is served, find its workers, stop it on every
 * exit path.
 *
 * The command is a prefix the benchmark completes with --socket-path,
 * --backend, --tcp-port or --uds-path, --socket-count and
 * --max-queue-size, or a template whose {vu} {backend} {port} {uds}
 * {count} {qsize} placeholders it fills in instead.
 */
#ifndef VDC_BENCH_DAEMON_H
#define VDC_BENCH_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

#include "bench.h"

#define DAEMON_MAX_WORKERS 256

struct daemon {
	pid_t pid;
	enum bench_backend backend;
	unsigned int count;
	unsigned int port; /* network: guest i on port + i */
	char vu_prefix[BENCH_PATH_MAX]; /* vhost-user socket i: prefix + i */
	char uds_prefix[BENCH_PATH_MAX]; /* uds console i: prefix + i */
	char log_path[BENCH_PATH_MAX];
	double started; /* bench_now() just before the fork */
	pid_t workers[DAEMON_MAX_WORKERS];
	bool threaded; /* no worker processes: the daemon serves them all */
};

void daemon_start(struct daemon *d, enum bench_backend backend,
		  unsigned int count, const char *tag);
void daemon_stop(struct daemon *d);
void daemon_kill_all(void);

void daemon_vu_path(const struct daemon *d, unsigned int i, char *buf,
		    size_t cap);
int daemon_wait_ready(struct daemon *d, double timeout_s, double *t_bound,
		      double *t_ready);
int daemon_find_workers(struct daemon *d);
pid_t daemon_worker(const struct daemon *d, unsigned int i);
void daemon_show_log(const struct daemon *d);

/* Count a process's system calls with perf stat, when perf is there. */
bool perf_available(void);
pid_t perf_start(pid_t target, const char *out_path);
long long perf_stop(pid_t perf, const char *out_path);

#endif
