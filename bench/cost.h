/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * cost.h - what a worker did between cost_begin() and cost_end(): two
 * /proc samples and, with perf, the count of its system calls.
 */
#ifndef VDC_BENCH_COST_H
#define VDC_BENCH_COST_H

#include <stdint.h>
#include <sys/types.h>

#include "bench.h"
#include "procstat.h"

struct worker_cost {
	struct proc_sample a, b;
	long long syscalls; /* all of them, from perf; -1 without perf */
	pid_t perf;
	char perf_out[BENCH_PATH_MAX + 16];
};

void cost_begin(struct worker_cost *c, pid_t worker);
void cost_end(struct worker_cost *c, pid_t worker);
double cost_syscalls_per(const struct worker_cost *c, uint64_t n);

#endif
