/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * run_echo.c - echo latency: the client sends one byte, the guest sends
 * it back on tx at once; p50, p99 and max of the round trips, next to a
 * plain eventfd+socket ping-pong over the same four hops.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend_runs.h"
#include "client.h"
#include "cost.h"
#include "dut.h"
#include "guest.h"
#include "report.h"
#include "run_common.h"

#define ECHO_WARMUP(n) ((n) / 20 + 1)

struct echo_job {
	struct guest *g;
	bool stop;
	uint64_t echoed;
	int rc;
};

/* The guest thread of the echo runs. */
static void *echo_main(void *arg)
{
	struct echo_job *j = arg;

	j->rc = guest_echo(j->g, &j->stop, &j->echoed);
	return NULL;
}

/* qsort() order for round trips. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* p50, p99 and max of @n round trips, as results named @prefix_*. */
static void report_latency(const char *prefix, const char *base_prefix,
			   uint64_t *rtt, unsigned int n, const char *note)
{
	const char *tag[] = {"p50", "p99", "max"};
	size_t at[3] = {n / 2, (size_t)n * 99 / 100, n - 1};
	double v[3];

	qsort(rtt, n, sizeof(*rtt), cmp_u64);
	for (unsigned int i = 0; i < 3; i++)
		v[i] = (double)rtt[at[i]] / 1e3;
	for (unsigned int i = 0; i < 3; i++) {
		char name[64], base[64];

		snprintf(name, sizeof(name), "%s_%s", prefix, tag[i]);
		if (base_prefix)
			snprintf(base, sizeof(base), "%s_%s", base_prefix,
				 tag[i]);
		report_add(name, v[i], "us", base_prefix ? base : NULL, "%s",
			   note);
	}
}

/*
 * Alternate baseline and daemon rounds, @n round trips each in all;
 * @cost is what the worker did meanwhile (it idles in baseline rounds).
 */
static void echo_rounds(struct dut *d, int fd, uint64_t *rtt,
			uint64_t *base_rtt, struct worker_cost *cost)
{
	unsigned int n = bench_opts->echoes, rounds = bench_opts->rounds;
	unsigned int done = 0;
	struct guest g;
	struct echo_job j = {&g, false, 0, 0};
	pthread_t t;
	int r;

	guest_up(&g, d, 0, BENCH_RX_BUF, fd);
	pthread_create(&t, NULL, echo_main, &j);
	r = client_ping(fd, ECHO_WARMUP(n), NULL);
	cost_begin(cost, dut_worker(d, 0));
	for (unsigned int i = 0; i < rounds && r == 0; i++) {
		unsigned int k = (n - done) / (rounds - i);

		if (baseline_pingpong(kind_of(d->backend), k, base_rtt + done) <
		    0)
			bench_die("the baseline ping-pong lost a byte");
		r = client_ping(fd, k, rtt + done);
		done += k;
	}
	cost_end(cost, dut_worker(d, 0));
	__atomic_store_n(&j.stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	if (r < 0 || j.rc < 0) {
		dut_show_log(d);
		bench_die("echo: a byte did not come back within 5 s");
	}
	guest_close(&g);
}

/** run_echo() - echo round trips against plain ping-pong round trips */
void run_echo(struct dut *d, int fd)
{
	enum bench_backend b = d->backend;
	unsigned int n = bench_opts->echoes;
	uint64_t *rtt = calloc(n, sizeof(*rtt));
	uint64_t *base_rtt = calloc(n, sizeof(*base_rtt));
	char name[64], base[64];
	struct worker_cost cost;

	if (!rtt || !base_rtt)
		bench_die("out of memory");
	bench_note("%s: %u echoes, %u rounds against plain eventfd+%s",
		   backend_name(b), n, bench_opts->rounds, kind_name(b));
	echo_rounds(d, fd, rtt, base_rtt, &cost);
	snprintf(base, sizeof(base), "%s_pingpong", kind_name(b));
	report_latency(base, NULL, base_rtt, n,
		       "baseline: socket, epoll relay process, eventfd, "
		       "poll guest");
	snprintf(name, sizeof(name), "echo_%s", backend_name(b));
	report_latency(name, base, rtt, n,
		       "client -> daemon -> guest -> daemon -> client");
	snprintf(name, sizeof(name), "echo_%s_syscalls", backend_name(b));
	report_add(name, cost_syscalls_per(&cost, n), "per echo", NULL,
		   "%s in the worker (the plain relay makes 6); %.2f "
		   "wake-ups per echo",
		   cost.syscalls >= 0 ? "all syscalls" : "read+write calls",
		   (double)(cost.b.wakeups - cost.a.wakeups) / n);
	free(rtt);
	free(base_rtt);
}
