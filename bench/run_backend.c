/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * run_backend.c - one backend's set of measurements: a daemon with one
 * socket and a connected client, then guest -> client, client -> guest
 * and echo over that connection, then the worker's memory after them.
 */
#include <stdio.h>
#include <unistd.h>

#include "backend_runs.h"
#include "dut.h"
#include "procstat.h"
#include "report.h"
#include "run_common.h"
#include "runs.h"

/** run_backend() - throughput both ways and echo latency over @b */
void run_backend(enum bench_backend b)
{
	struct proc_sample ps;
	struct dut d;
	char name[64];
	int fd;

	report_section(b == BENCH_NETWORK
			       ? "network backend (TCP 127.0.0.1) vs plain TCP"
			       : "uds backend (unix socket) vs plain unix");
	dut_up(&d, b, 1, backend_name(b), NULL, NULL);
	fd = client_up(&d, 0);
	if (bench_group("g2c"))
		run_g2c(&d, fd);
	if (bench_group("c2g"))
		run_c2g(&d, fd);
	if (bench_group("echo"))
		run_echo(&d, fd);
	if (proc_sample(dut_worker(&d, 0), &ps) == 0) {
		snprintf(name, sizeof(name), "rss_worker_after_%s",
			 backend_name(b));
		report_add(name, (double)ps.rss_kb, "KiB", NULL,
			   "peak %ld KiB (guest memory mapped); anon %ld, "
			   "file %ld, shmem %ld",
			   ps.hwm_kb, ps.anon_kb, ps.file_kb, ps.shmem_kb);
		snprintf(name, sizeof(name), "rss_worker_anon_after_%s",
			 backend_name(b));
		report_add(name, (double)ps.anon_kb, "KiB", NULL,
			   "the worker's own memory after the bursts (the output buffer gives its pages back)");
	}
	close(fd);
	dut_stop(&d);
}
