/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * run_c2g.c - client -> guest throughput: the client writes, the guest
 * keeps 4 KiB receive buffers posted and copies out what lands in them.
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>

#include "backend_runs.h"
#include "client.h"
#include "dut.h"
#include "guest.h"
#include "report.h"
#include "run_common.h"

struct drain_job {
	struct guest *g;
	uint64_t total;
	int client_fd;
	bool stop;
	uint64_t got;
	double t_last;
	int rc;
};

/* The guest side; unblocks the writer if the daemon stalls. */
static void *drain_main(void *arg)
{
	struct drain_job *j = arg;

	j->rc = guest_drain_rx(j->g, j->total, &j->stop, &j->got, &j->t_last);
	if (j->rc < 0)
		shutdown(j->client_fd, SHUT_RDWR);
	return NULL;
}

/* Write @bytes from the client into @g; seconds until all arrived. */
static double c2g_transfer(struct dut *d, struct guest *g, int fd,
			   uint64_t bytes)
{
	struct drain_job j = {g, bytes, fd, false, 0, 0, 0};
	pthread_t t;
	double t0;

	pthread_create(&t, NULL, drain_main, &j);
	t0 = bench_now();
	if (client_write_all(fd, bytes, BENCH_CLIENT_WRITE) < 0)
		__atomic_store_n(&j.stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	if (j.rc < 0 || j.got < bytes) {
		dut_show_log(d);
		bench_die("client -> guest: %llu of %llu bytes arrived",
			  (unsigned long long)j.got, (unsigned long long)bytes);
	}
	return j.t_last - t0;
}

/** run_c2g() - rounds of client -> guest against plain-socket rounds */
void run_c2g(struct dut *d, int fd)
{
	enum bench_backend b = d->backend;
	unsigned int rounds = bench_opts->rounds;
	uint64_t per = bench_opts->xfer_bytes / rounds;
	double secs = 0, base_secs = 0;
	char name[64], base[64];
	struct guest g;

	bench_note("%s: client -> guest, %u rounds against plain %s",
		   backend_name(b), rounds, kind_name(b));
	guest_up(&g, d, 0, BENCH_RX_BUF, fd);
	for (unsigned int r = 0; r < rounds; r++) {
		base_secs += baseline_stream(kind_of(b), 1, per,
					     BENCH_CLIENT_WRITE, BENCH_RX_BUF);
		secs += c2g_transfer(d, &g, fd, per);
	}
	guest_close(&g);
	snprintf(base, sizeof(base), "%s_stream_c2g", kind_name(b));
	report_add(base, mbps(per * rounds, base_secs), "MB/s", NULL,
		   "baseline: write() of %u KiB, read() of %u KiB",
		   BENCH_CLIENT_WRITE >> 10, BENCH_RX_BUF >> 10);
	snprintf(name, sizeof(name), "c2g_%s", backend_name(b));
	report_add(name, mbps(per * rounds, secs), "MB/s", base,
		   "%u KiB rx buffers, client writes %u KiB",
		   BENCH_RX_BUF >> 10, BENCH_CLIENT_WRITE >> 10);
}
