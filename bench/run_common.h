/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * run_common.h - what the run_*.c files share (run_common.c): the names
 * of a backend and its plain socket, MB/s, and the daemon, a client and
 * a guest brought up, or the benchmark stopped with the reason.
 */
#ifndef VDC_BENCH_RUN_COMMON_H
#define VDC_BENCH_RUN_COMMON_H

#include <stdint.h>

#include "baseline.h"
#include "bench.h"

struct dut;
struct guest;

const char *backend_name(enum bench_backend b);
const char *kind_name(enum bench_backend b);
enum sock_kind kind_of(enum bench_backend b);
double mbps(uint64_t bytes, double secs);

void dut_up(struct dut *d, enum bench_backend b, unsigned int count,
	    const char *tag, double *t_bound, double *t_ready);
int client_up(const struct dut *d, unsigned int i);
void guest_up(struct guest *g, const struct dut *d, unsigned int i,
	      uint32_t buf_size, int client_fd);

#endif
