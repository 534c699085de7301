/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * cost.c - what a worker did while it was measured: CPU time, wake-ups
 * and memory from /proc, and with perf every system call it made.
 */
#include <math.h>
#include <stdio.h>

#include "bench.h"
#include "cost.h"
#include "dut.h"

/** cost_begin() - start counting; with perf, every system call */
void cost_begin(struct worker_cost *c, pid_t worker)
{
	c->perf = -1;
	c->syscalls = -1;
	snprintf(c->perf_out, sizeof(c->perf_out), "%s/worker.perf",
		 bench_opts->tmpdir);
	if (bench_opts->use_perf == 1)
		c->perf = perf_start(worker, c->perf_out);
	proc_sample(worker, &c->a);
}

/* Stop counting; the difference is the cost. */
void cost_end(struct worker_cost *c, pid_t worker)
{
	proc_sample(worker, &c->b);
	if (c->perf > 0)
		c->syscalls = perf_stop(c->perf, c->perf_out);
}

/* System calls per @n things (chains); read+write calls without perf. */
double cost_syscalls_per(const struct worker_cost *c, uint64_t n)
{
	uint64_t rw = (c->b.syscr - c->a.syscr) + (c->b.syscw - c->a.syscw);

	if (!n)
		return NAN;
	return (c->syscalls >= 0 ? (double)c->syscalls : (double)rw) /
	       (double)n;
}
