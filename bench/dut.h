/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * dut.h - the daemon under test (DUT, struct dut): start it from the
 * user's command, know when every socket is served, find its workers,
 * stop it on every exit path.
 *
 * The names say "dut", not "daemon": the command may be any vhost-user
 * console, and the tests' daemon_start()/daemon_stop() (tests/helpers.h)
 * run this project's daemon in other ways.
 *
 * The command is a prefix the benchmark completes with --socket-path,
 * --backend, --tcp-port or --uds-path, --socket-count and
 * --max-queue-size, or a template whose {vu} {backend} {port} {uds}
 * {count} {qsize} placeholders it fills in instead.
 */
#ifndef VDC_BENCH_DUT_H
#define VDC_BENCH_DUT_H

#include <stdbool.h>
#include <sys/types.h>

#include "bench.h"

#define DUT_MAX_WORKERS 256

struct dut {
	pid_t pid;
	enum bench_backend backend;
	unsigned int count;
	unsigned int port; /* network: guest i on port + i */
	char vu_prefix[BENCH_PATH_MAX]; /* vhost-user socket i: prefix + i */
	char uds_prefix[BENCH_PATH_MAX]; /* uds console i: prefix + i */
	char log_path[BENCH_PATH_MAX];
	double started; /* bench_now() just before the fork */
	pid_t workers[DUT_MAX_WORKERS];
	bool threaded; /* no worker processes: the daemon serves them all */
};

void dut_spawn(struct dut *d, enum bench_backend backend, unsigned int count,
	       const char *tag);
void dut_stop(struct dut *d);
void bench_kill_children(void);

void dut_vu_path(const struct dut *d, unsigned int i, char *buf, size_t cap);
int dut_wait_ready(struct dut *d, double timeout_s, double *t_bound,
		   double *t_ready);
int dut_find_workers(struct dut *d);
pid_t dut_worker(const struct dut *d, unsigned int i);
void dut_show_log(const struct dut *d);

/* Count a process's system calls with perf stat, when perf is there. */
bool perf_available(void);
pid_t perf_start(pid_t target, const char *out_path);
long long perf_stop(pid_t perf, const char *out_path);

#endif
