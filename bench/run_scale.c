/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * run_scale.c - many sockets: how soon all of them are served, what the
 * daemon then weighs, and throughput with several guests streaming at
 * once against as many plain socket pairs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dut.h"
#include "procstat.h"
#include "report.h"
#include "run_common.h"
#include "runs.h"
#include "stream.h"

#define MAX_STREAMS 64
#define CHUNK	    4096u

/* Memory of the parent and every worker, summed. */
static void report_memory(const struct dut *d)
{
	unsigned int workers = d->threaded ? 0 : d->count;
	long rss = 0, pss = 0, max = 0;
	struct proc_sample s;
	char name[64];

	for (unsigned int i = 0; i < workers; i++) {
		if (proc_sample(dut_worker(d, i), &s) < 0)
			continue;
		rss += s.rss_kb;
		pss += s.pss_kb;
		if (s.rss_kb > max)
			max = s.rss_kb;
	}
	if (proc_sample(d->pid, &s) == 0) {
		rss += s.rss_kb;
		pss += s.pss_kb;
	}
	snprintf(name, sizeof(name), "scale_%u_rss_total", d->count);
	report_add(name, (double)rss, "KiB", NULL,
		   "parent + %u workers; largest worker %ld KiB", workers, max);
	snprintf(name, sizeof(name), "scale_%u_pss_total", d->count);
	report_add(name, (double)pss, "KiB", NULL, "shared pages counted once");
}

struct parallel {
	struct g2c_stream *s;
	uint64_t bytes;
};

/* One streaming guest's thread. */
static void *stream_main(void *arg)
{
	struct parallel *p = arg;

	g2c_transfer(p->s, p->bytes, true);
	return NULL;
}

/* One round: every stream sends @per bytes at once; seconds it took. */
static double parallel_round(struct g2c_stream *s, unsigned int n, uint64_t per,
			     uint64_t *got)
{
	struct parallel p[MAX_STREAMS];
	pthread_t t[MAX_STREAMS];
	pthread_barrier_t go;
	double t0 = 0, t_end = 0;

	pthread_barrier_init(&go, NULL, n + 1);
	for (unsigned int i = 0; i < n; i++) {
		s[i].go = &go;
		p[i] = (struct parallel){&s[i], per};
		pthread_create(&t[i], NULL, stream_main, &p[i]);
	}
	pthread_barrier_wait(&go);
	/* From the first guest's start: this thread may run late. */
	for (unsigned int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		if (i == 0 || s[i].tx.t_start < t0)
			t0 = s[i].tx.t_start;
		*got += s[i].sink.got;
		if (s[i].sink.t_last > t_end)
			t_end = s[i].sink.t_last;
	}
	pthread_barrier_destroy(&go);
	return t_end - t0;
}

/* @n guests streaming 4 KiB chains at once, against @n plain pairs. */
static void scale_streams(struct dut *d, unsigned int n)
{
	unsigned int rounds = bench_opts->rounds;
	uint64_t per = bench_opts->xfer_bytes / n / rounds / CHUNK * CHUNK;
	struct g2c_stream *s = calloc(n, sizeof(*s));
	double secs = 0, base_secs = 0;
	char name[64], base[64];
	uint64_t got = 0;

	if (!s)
		bench_die("out of memory");
	if (per == 0)
		per = CHUNK;
	bench_note("scale: %u guests streaming at once, %u rounds against "
		   "%u plain unix pairs",
		   n, rounds, n);
	for (unsigned int i = 0; i < n; i++) {
		s[i].fd = client_up(d, i);
		s[i].chunk = CHUNK;
		guest_up(&s[i].g, d, i, BENCH_RX_BUF, s[i].fd);
	}
	for (unsigned int r = 0; r < rounds; r++) {
		base_secs += baseline_stream(SOCK_KIND_UNIX, n, per, CHUNK,
					     BENCH_CLIENT_READ);
		secs += parallel_round(s, n, per, &got);
	}
	for (unsigned int i = 0; i < n; i++) {
		guest_close(&s[i].g);
		close(s[i].fd);
	}
	snprintf(base, sizeof(base), "unix_stream_4096_x%u", n);
	report_add(base, mbps(per * n * rounds, base_secs), "MB/s", NULL,
		   "baseline: %u socket pairs at once, 4 KiB writes", n);
	snprintf(name, sizeof(name), "scale_%u_g2c_uds_4096_x%u", d->count, n);
	report_add(name, mbps(got, secs), "MB/s", base,
		   "aggregate; each guest at most %llu KiB ahead; %.2f%% lost",
		   (unsigned long long)(bench_opts->window >> 10),
		   100.0 * (1.0 - (double)got / (double)(per * n * rounds)));
	free(s);
}

/** run_scale() - start-up time, memory and throughput with many sockets */
void run_scale(void)
{
	unsigned int n = bench_opts->scale_sockets;
	unsigned int streams = bench_opts->scale_streams;
	double bound, ready;
	struct dut d;
	char name[64];

	report_section("scale: many sockets (uds backend)");
	bench_note("scale: %u sockets", n);
	dut_up(&d, BENCH_UDS, n, "scale", &bound, &ready);
	snprintf(name, sizeof(name), "scale_%u_bound", n);
	report_add(name, bound, "s", NULL, "all sockets connectable");
	snprintf(name, sizeof(name), "scale_%u_ready", n);
	report_add(name, ready, "s", NULL,
		   "every worker answered GET_FEATURES");
	report_memory(&d);
	if (streams > n)
		streams = n;
	if (streams > MAX_STREAMS)
		streams = MAX_STREAMS;
	if (streams)
		scale_streams(&d, streams);
	dut_stop(&d);
}
