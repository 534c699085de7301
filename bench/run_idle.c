/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * run_idle.c - what a connected, silent guest and client cost: CPU time
 * and wake-ups of the worker and the parent over --idle seconds (no
 * polling, no timers: expect none), and their resident memory.
 */
#include <unistd.h>

#include "dut.h"
#include "guest.h"
#include "procstat.h"
#include "report.h"
#include "run_common.h"
#include "runs.h"

#define SETTLE_MS 200

/* The idle figures from before (0) and after (1) samples. */
static void report_idle(const struct proc_sample *w0,
			const struct proc_sample *w1,
			const struct proc_sample *p0,
			const struct proc_sample *p1, double secs)
{
	report_add("idle_worker_cpu", (double)(w1->cpu_ns - w0->cpu_ns) / 1e3,
		   "us", NULL, "over %.1f s, guest and client connected", secs);
	report_add("idle_worker_wakeups", (double)(w1->wakeups - w0->wakeups),
		   "count", NULL, "voluntary context switches");
	report_add("idle_parent_cpu", (double)(p1->cpu_ns - p0->cpu_ns) / 1e3,
		   "us", NULL, "over %.1f s", secs);
	report_add("idle_parent_wakeups", (double)(p1->wakeups - p0->wakeups),
		   "count", NULL, "voluntary context switches");
	report_add("rss_parent", (double)p1->rss_kb, "KiB", NULL,
		   "anon %ld, file %ld; PSS %ld", p1->anon_kb, p1->file_kb,
		   p1->pss_kb);
	report_add("rss_worker", (double)w1->rss_kb, "KiB", NULL,
		   "anon %ld, file %ld, shmem %ld; PSS %ld", w1->anon_kb,
		   w1->file_kb, w1->shmem_kb, w1->pss_kb);
}

/** run_idle() - a fresh daemon, one guest and one client, all silent */
void run_idle(void)
{
	struct proc_sample w0, w1, p0, p1;
	struct dut d;
	struct guest g;
	pid_t worker;
	double t0;
	int fd;

	report_section("idle: one guest and one client connected, silent");
	dut_up(&d, BENCH_UDS, 1, "idle", NULL, NULL);
	fd = client_up(&d, 0);
	guest_up(&g, &d, 0, BENCH_RX_BUF, fd);
	bench_sleep_ms(SETTLE_MS);
	worker = dut_worker(&d, 0);
	bench_note("idle: %u s", bench_opts->idle_s);
	t0 = bench_now();
	if (proc_sample(worker, &w0) < 0 || proc_sample(d.pid, &p0) < 0)
		bench_die("the daemon is gone");
	bench_sleep_ms(bench_opts->idle_s * 1000);
	if (proc_sample(worker, &w1) < 0 || proc_sample(d.pid, &p1) < 0)
		bench_die("the daemon is gone");
	report_idle(&w0, &w1, &p0, &p1, bench_now() - t0);
	if (d.threaded)
		bench_note("no worker processes: the daemon counts as both");
	guest_close(&g);
	close(fd);
	dut_stop(&d);
}
