/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * run_g2c.c - guest -> client throughput for each tx chain size.
 *
 * The main figure is a paced guest (never more than --window bytes ahead
 * of the client, so the daemon need not drop anything) against plain
 * socket writes of the chain size: what the console delivers. A second,
 * unpaced run floods the daemon and reports what it takes from the guest
 * and what it loses doing so.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend_runs.h"
#include "cost.h"
#include "dut.h"
#include "report.h"
#include "run_common.h"
#include "stream.h"

/* The paced rounds of one chain size, summed. */
struct g2c_totals {
	uint64_t sent, got, chains;
	double secs; /* first chain to last byte at the client */
	double base_secs; /* the baseline's rounds */
	uint64_t base_bytes;
	double best_secs; /* the socket at its best write size */
	uint64_t best_bytes;
	struct worker_cost cost;
};

/* The write size at which a plain socket goes fastest here: its limit. */
#define BEST_WRITE (64u << 10)

/* Guest buffers hold one chain, and at least an rx buffer. */
static uint32_t buf_for(uint32_t chunk)
{
	return chunk < BENCH_RX_BUF ? BENCH_RX_BUF : chunk;
}

/* Add one paced round to the totals. */
static void add_round(struct g2c_totals *t, const struct g2c_stream *s)
{
	t->sent += s->tx.bytes;
	t->got += s->sink.got;
	t->chains += s->tx.chains;
	t->secs += s->sink.t_last - s->tx.t_start;
}

/* The paced rounds and their baseline: the main figures. */
static void report_paced(enum bench_backend b, uint32_t chunk,
			 const struct g2c_totals *t)
{
	const struct worker_cost *c = &t->cost;
	double cpu = (double)(c->b.cpu_ns - c->a.cpu_ns) / 1e9;
	uint64_t wakes = c->b.wakeups - c->a.wakeups;
	char name[64], base[64];

	snprintf(base, sizeof(base), "%s_stream_%u", kind_name(b), chunk);
	report_add(base, mbps(t->base_bytes, t->base_secs), "MB/s", NULL,
		   "baseline: write() of %u B, read() of %u KiB", chunk,
		   BENCH_CLIENT_READ >> 10);
	snprintf(name, sizeof(name), "g2c_%s_%u", backend_name(b), chunk);
	report_add(name, mbps(t->got, t->secs), "MB/s", base,
		   "guest at most %llu KiB ahead; %.2f%% lost",
		   (unsigned long long)(bench_opts->window >> 10),
		   100.0 * (double)(t->sent - t->got) / (double)t->sent);
	/* Against the socket's own limit, whatever the chain size. */
	snprintf(base, sizeof(base), "%s_stream_best_for_%u", kind_name(b),
		 chunk);
	report_add(base, mbps(t->best_bytes, t->best_secs), "MB/s", NULL,
		   "baseline: write() of %u KiB, the best size, in the same rounds", BEST_WRITE >> 10);
	snprintf(name, sizeof(name), "g2c_%s_%u_vs_best", backend_name(b),
		 chunk);
	report_add(name, mbps(t->got, t->secs), "MB/s", base,
		   "the same transfer, against the plain socket at its best write size");
	snprintf(name, sizeof(name), "g2c_%s_%u_syscalls", backend_name(b),
		 chunk);
	report_add(name, cost_syscalls_per(c, t->chains), "per chain", NULL,
		   "%s; %.4f write-class/chain; %.1f chains/wake-up",
		   c->syscalls >= 0 ? "all syscalls (perf)"
				    : "read+write calls only",
		   (double)(c->b.syscw - c->a.syscw) / (double)t->chains,
		   wakes ? (double)t->chains / (double)wakes : NAN);
	snprintf(name, sizeof(name), "g2c_%s_%u_worker_cpu", backend_name(b),
		 chunk);
	report_add(name, 100.0 * cpu / t->secs, "% CPU", NULL,
		   "%.0f ns of worker CPU per chain",
		   cpu * 1e9 / (double)t->chains);
}

/* The unpaced run: what the daemon takes, what it drops. */
static void report_flood(enum bench_backend b, uint32_t chunk,
			 const struct g2c_stream *s,
			 const struct worker_cost *c)
{
	double cpu = (double)(c->b.cpu_ns - c->a.cpu_ns);
	char name[64];

	snprintf(name, sizeof(name), "g2c_%s_%u_flood", backend_name(b), chunk);
	report_add(name, mbps(s->tx.bytes, s->tx.t_end - s->tx.t_start), "MB/s",
		   NULL,
		   "unpaced guest; %.0f of %.0f MB reached the client; "
		   "worker %.0f ns/chain",
		   (double)s->sink.got / BENCH_MB,
		   (double)s->tx.bytes / BENCH_MB, cpu / (double)s->tx.chains);
	snprintf(name, sizeof(name), "g2c_%s_%u_flood_lost", backend_name(b),
		 chunk);
	report_add(name,
		   100.0 * (double)(s->tx.bytes - s->sink.got) /
			   (double)s->tx.bytes,
		   "%", NULL, "of the unpaced guest's output, dropped");
}

/* Paced rounds against baseline rounds, then one flood, for @chunk. */
static void g2c_size(struct dut *d, int fd, uint32_t chunk)
{
	unsigned int rounds = bench_opts->rounds;
	uint64_t per = bench_opts->xfer_bytes / rounds / chunk * chunk;
	enum bench_backend b = d->backend;
	pid_t worker = dut_worker(d, 0);
	struct g2c_stream s = {.fd = fd, .chunk = chunk};
	struct g2c_totals t;

	memset(&t, 0, sizeof(t));
	if (per == 0)
		per = chunk;
	bench_note("%s: guest -> client, %u B chains, %u rounds against "
		   "plain %s",
		   backend_name(b), chunk, rounds, kind_name(b));
	guest_up(&s.g, d, 0, buf_for(chunk), fd);
	cost_begin(&t.cost, worker);
	for (unsigned int r = 0; r < rounds; r++) {
		t.base_secs += baseline_stream(kind_of(b), 1, per, chunk,
					       BENCH_CLIENT_READ);
		t.base_bytes += per;
		t.best_secs += baseline_stream(kind_of(b), 1, per, BEST_WRITE,
					       BENCH_CLIENT_READ);
		t.best_bytes += per;
		g2c_transfer(&s, per, true);
		add_round(&t, &s);
	}
	cost_end(&t.cost, worker);
	report_paced(b, chunk, &t);
	if (!bench_opts->flood) {
		guest_close(&s.g);
		return;
	}
	bench_note("%s: guest -> client, %u B chains, unpaced", backend_name(b),
		   chunk);
	cost_begin(&t.cost, worker);
	g2c_transfer(&s, per * rounds, false);
	cost_end(&t.cost, worker);
	report_flood(b, chunk, &s, &t.cost);
	guest_close(&s.g);
}

/*
 * g2c_watcher() - the same paced transfer of 4 KiB chains, alternating
 * rounds without and with a second client connected that never reads (a
 * stalled watcher): it must not slow the writer
 */
static void g2c_watcher(struct dut *d, int fd)
{
	const uint32_t chunk = 4096;
	unsigned int rounds = bench_opts->rounds;
	uint64_t per = bench_opts->xfer_bytes / rounds / chunk * chunk;
	enum bench_backend b = d->backend;
	struct g2c_stream s = {.fd = fd, .chunk = chunk};
	struct g2c_totals alone, watched;
	char name[64], base[64];

	memset(&alone, 0, sizeof(alone));
	memset(&watched, 0, sizeof(watched));
	if (per == 0)
		per = chunk;
	bench_note("%s: guest -> client, %u B chains, with and without a watcher that never reads", backend_name(b), chunk);
	guest_up(&s.g, d, 0, buf_for(chunk), fd);
	for (unsigned int r = 0; r < rounds; r++) {
		int lazy;

		g2c_transfer(&s, per, true);
		add_round(&alone, &s);
		lazy = client_up(d, 0);
		g2c_transfer(&s, per, true);
		add_round(&watched, &s);
		close(lazy);
	}
	guest_close(&s.g);
	snprintf(base, sizeof(base), "g2c_%s_%u_alone", backend_name(b), chunk);
	report_add(base, mbps(alone.got, alone.secs), "MB/s", NULL,
		   "the writer alone, rounds alternating with the next");
	snprintf(name, sizeof(name), "g2c_%s_%u_stalled_watcher",
		 backend_name(b), chunk);
	report_add(name, mbps(watched.got, watched.secs), "MB/s", base,
		   "the writer, with a watcher connected that never reads; %.2f%% lost",
		   100.0 * (double)(watched.sent - watched.got) /
			   (double)watched.sent);
}

/** run_g2c() - guest -> client at every chain size of --sizes */
void run_g2c(struct dut *d, int fd)
{
	for (unsigned int i = 0; i < bench_opts->nsizes; i++)
		g2c_size(d, fd, bench_opts->sizes[i]);
	g2c_watcher(d, fd);
}
