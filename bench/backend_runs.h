/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * backend_runs.h - the measurements of one backend's connection, which
 * run_backend() runs in turn with its daemon @d and client socket @fd.
 */
#ifndef VDC_BENCH_BACKEND_RUNS_H
#define VDC_BENCH_BACKEND_RUNS_H

struct dut;

void run_g2c(struct dut *d, int fd); /* run_g2c.c */
void run_c2g(struct dut *d, int fd); /* run_c2g.c */
void run_echo(struct dut *d, int fd); /* run_echo.c */

#endif
