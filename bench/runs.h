/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * runs.h - the measurements, and what their files share.
 *
 * Every daemon figure is measured in rounds that alternate with its
 * plain-socket baseline, so that both see the same moments of a machine
 * that may be busy with other work.
 */
#ifndef VDC_BENCH_RUNS_H
#define VDC_BENCH_RUNS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "baseline.h"
#include "bench.h"
#include "client.h"
#include "daemon.h"
#include "flow.h"
#include "guest.h"
#include "procstat.h"

/* The measurements main() runs. */
void run_backend(enum bench_backend b);
void run_idle(void);
void run_scale(void);

/* One backend's measurements, with its daemon and connected client. */
void run_g2c(struct daemon *d, int fd);
void run_c2g(struct daemon *d, int fd);
void run_echo(struct daemon *d, int fd);

/* --- shared by the run_*.c files ------------------------------------ */

const char *backend_name(enum bench_backend b);
const char *kind_name(enum bench_backend b);
enum sock_kind kind_of(enum bench_backend b);
double mbps(uint64_t bytes, double secs);

void start_daemon(struct daemon *d, enum bench_backend b, unsigned int count,
		  const char *tag, double *t_bound, double *t_ready);
int connect_client(const struct daemon *d, unsigned int i);
void guest_up(struct guest *g, const struct daemon *d, unsigned int i,
	      uint32_t buf_size, int client_fd);

/* What a worker did while it was measured. */
struct worker_cost {
	struct proc_sample a, b;
	long long syscalls; /* all of them, from perf; -1 without perf */
	pid_t perf;
	char perf_out[BENCH_PATH_MAX + 16];
};

void cost_begin(struct worker_cost *c, pid_t worker);
void cost_end(struct worker_cost *c, pid_t worker);
double cost_syscalls_per(const struct worker_cost *c, uint64_t n);

/* One guest streaming to its client. */
struct g2c_stream {
	struct guest g;
	int fd;
	uint32_t chunk;
	struct flow flow;
	struct sink sink;
	struct tx_result tx;
	bool done;
	pthread_barrier_t *go; /* parallel streams start together */
};

void g2c_transfer(struct g2c_stream *s, uint64_t bytes, bool paced);

#endif
