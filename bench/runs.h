/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * runs.h - the measurements main() runs, in this order.
 *
 * Every daemon figure is measured in rounds that alternate with its
 * plain-socket baseline, so that both see the same moments of a machine
 * that may be busy with other work.
 */
#ifndef VDC_BENCH_RUNS_H
#define VDC_BENCH_RUNS_H

#include "bench.h"

void run_backend(enum bench_backend b); /* run_backend.c */
void run_idle(void); /* run_idle.c */
void run_scale(void); /* run_scale.c */

#endif
