/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * run_common.c - what the measurements share: starting the daemon,
 * connecting guests and clients, the worker's cost, one guest -> client
 * transfer; and one backend's whole set of measurements.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "runs.h"

#define READY_TIMEOUT_S 10.0
#define SYNC_TIMEOUT_MS 5000
#define SINK_IDLE_MS	200 /* quiet this long after the guest: done */

const char *backend_name(enum bench_backend b)
{
	return b == BENCH_NETWORK ? "network" : "uds";
}

/* The plain socket that compares with @b's console connection. */
const char *kind_name(enum bench_backend b)
{
	return b == BENCH_NETWORK ? "tcp" : "unix";
}

/* The plain socket type of @b's baselines. */
enum sock_kind kind_of(enum bench_backend b)
{
	return b == BENCH_NETWORK ? SOCK_KIND_TCP : SOCK_KIND_UNIX;
}

/* Throughput in MB/s (10^6 bytes a second). */
double mbps(uint64_t bytes, double secs)
{
	return secs > 0 ? (double)bytes / secs / BENCH_MB : NAN;
}

/**
 * start_daemon() - start a daemon and wait until every socket is served
 * @t_bound, @t_ready:	seconds until connectable and served; may be NULL
 */
void start_daemon(struct daemon *d, enum bench_backend b, unsigned int count,
		  const char *tag, double *t_bound, double *t_ready)
{
	double bound, ready;

	daemon_start(d, b, count, tag);
	if (daemon_wait_ready(d, READY_TIMEOUT_S, &bound, &ready) < 0) {
		daemon_show_log(d);
		if (d->pid == 0)
			bench_die("the daemon exited at start (its log is "
				  "above)");
		bench_die("the daemon did not serve its %u socket(s) within "
			  "%.0f s",
			  count, READY_TIMEOUT_S);
	}
	daemon_find_workers(d);
	if (b == BENCH_NETWORK)
		bench_note("daemon pid %d, consoles on TCP ports %u..%u",
			   (int)d->pid, d->port, d->port + count - 1);
	if (t_bound)
		*t_bound = bound;
	if (t_ready)
		*t_ready = ready;
}

/* A client on console @i, or die. */
int connect_client(const struct daemon *d, unsigned int i)
{
	int fd = client_connect(d, i, READY_TIMEOUT_S);

	if (fd < 0) {
		daemon_show_log(d);
		bench_die("cannot connect to console %u: %s", i,
			  strerror(errno));
	}
	return fd;
}

/**
 * guest_up() - connect guest @i and check both directions with one echo,
 * so that the client is known to be attached before anything is measured
 */
void guest_up(struct guest *g, const struct daemon *d, unsigned int i,
	      uint32_t buf_size, int client_fd)
{
	char path[BENCH_SOCK_PATH];
	uint8_t c = '!';

	daemon_vu_path(d, i, path, sizeof(path));
	if (guest_open(g, path, bench_opts->queue_size, buf_size) < 0) {
		daemon_show_log(d);
		bench_die("guest %u could not connect", i);
	}
	if (write(client_fd, &c, 1) != 1 ||
	    guest_echo_once(g, SYNC_TIMEOUT_MS) < 0 ||
	    read_byte(client_fd, SYNC_TIMEOUT_MS) != c) {
		daemon_show_log(d);
		bench_die("console %u: a byte did not make the round trip", i);
	}
}

/* --- the worker's cost ---------------------------------------------- */

/** cost_begin() - start counting; with perf, every system call */
void cost_begin(struct worker_cost *c, pid_t worker)
{
	c->perf = -1;
	c->syscalls = -1;
	snprintf(c->perf_out, sizeof(c->perf_out), "%s/worker.perf",
		 bench_opts->tmpdir);
	if (bench_opts->use_perf == 1)
		c->perf = perf_start(worker, c->perf_out);
	proc_sample(worker, &c->a);
}

/* Stop counting; the difference is the cost. */
void cost_end(struct worker_cost *c, pid_t worker)
{
	proc_sample(worker, &c->b);
	if (c->perf > 0)
		c->syscalls = perf_stop(c->perf, c->perf_out);
}

/* System calls per @n things (chains); read+write calls without perf. */
double cost_syscalls_per(const struct worker_cost *c, uint64_t n)
{
	uint64_t rw = (c->b.syscr - c->a.syscr) + (c->b.syscw - c->a.syscw);

	if (!n)
		return NAN;
	return (c->syscalls >= 0 ? (double)c->syscalls : (double)rw) /
	       (double)n;
}

/* --- one guest -> client transfer ----------------------------------- */

/**
 * g2c_transfer() - stream @bytes from @s's guest (this thread) to its
 * client (a thread of its own)
 * @paced:	keep the guest a window ahead of the client; else flood
 *
 * With s->go set, the guest waits there first, to start with the others.
 */
void g2c_transfer(struct g2c_stream *s, uint64_t bytes, bool paced)
{
	uint64_t window = bench_opts->window, least = 2 * (uint64_t)s->chunk;
	pthread_t t;
	int rc;

	/* At least two chains ahead, or a paced guest could never send. */
	flow_init(&s->flow, window < least ? least : window);
	s->done = false;
	s->sink = (struct sink){.fd = s->fd,
				.expect = bytes,
				.source_done = &s->done,
				.idle_ms = SINK_IDLE_MS,
				.flow = paced ? &s->flow : NULL};
	pthread_create(&t, NULL, sink_main, &s->sink);
	if (s->go)
		pthread_barrier_wait(s->go);
	rc = guest_stream_tx(&s->g, bytes, s->chunk, paced ? &s->flow : NULL,
			     &s->tx);
	__atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	flow_fini(&s->flow);
	if (rc < 0)
		bench_die("guest -> client, %u B chains: the daemon stopped "
			  "taking them (%s)",
			  s->chunk, s->g.fe.err);
}

/* --- one backend ---------------------------------------------------- */

/** run_backend() - throughput both ways and echo latency over @b */
void run_backend(enum bench_backend b)
{
	struct proc_sample ps;
	struct daemon d;
	char name[64];
	int fd;

	report_section(b == BENCH_NETWORK
			       ? "network backend (TCP 127.0.0.1) vs plain TCP"
			       : "uds backend (unix socket) vs plain unix");
	start_daemon(&d, b, 1, backend_name(b), NULL, NULL);
	fd = connect_client(&d, 0);
	if (bench_group("g2c"))
		run_g2c(&d, fd);
	if (bench_group("c2g"))
		run_c2g(&d, fd);
	if (bench_group("echo"))
		run_echo(&d, fd);
	if (proc_sample(daemon_worker(&d, 0), &ps) == 0) {
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
	daemon_stop(&d);
}
